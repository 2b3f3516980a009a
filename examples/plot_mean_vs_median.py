"""
Squared vs absolute error: the mean and the median
===================================================

A regression loss decides *which* summary of the conditional distribution of ``y`` the
network learns. With an identity output, squared error is the Gaussian likelihood and its
minimiser is the conditional **mean**; absolute error is the Laplace likelihood and its
minimiser is the conditional **median**. When the noise is skewed by outliers the two are
far apart, and only the loss tells the network which one you want. This example plants
outliers in a controlled way, so that both targets are known exactly.
"""

# %%
# Data with one-sided outliers
# ----------------------------
# ``y = sin(x) + noise``. Most of the noise is a narrow Gaussian (standard deviation 0.2),
# but 20% of the samples are outliers pushed *up* by a uniform amount between 3 and 6.
# For this mixture the conditional mean and median are ``sin(x)`` plus a constant offset
# that we can compute: the outliers add ``0.2 * 4.5 = 0.9`` to the mean, but they move the
# median only to the 62.5% quantile of the narrow Gaussian, about ``0.2 * 0.32 = 0.064``
# (the median has half of all samples below it, all of them inliers: 0.5 / 0.8 = 62.5% of
# the inliers).
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import train_test_split

from sknnloss import MLPRegressor

rng = np.random.default_rng(0)
n_samples = 4000
outlier_share, outlier_low, outlier_high, inlier_sd = 0.2, 3.0, 6.0, 0.2

x = rng.uniform(-3, 3, n_samples)
noise = rng.normal(0, inlier_sd, n_samples)
is_outlier = rng.random(n_samples) < outlier_share
noise[is_outlier] += rng.uniform(outlier_low, outlier_high, is_outlier.sum())
y = np.sin(x) + noise
X = x[:, np.newaxis]

mean_offset = outlier_share * (outlier_low + outlier_high) / 2
median_offset = inlier_sd * norm.ppf(0.5 / (1 - outlier_share))
print(f"true offset of the conditional mean   above sin(x): {mean_offset:.3f}")
print(f"true offset of the conditional median above sin(x): {median_offset:.3f}")

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# Two networks, two losses
# ------------------------
# The networks are identical (two tanh layers, Adam, same seed); only ``loss`` differs.
# ``output_activation="auto"`` picks the identity output for both, the canonical pair.
models = {}
for loss in ["squared_error", "absolute_error"]:
    models[loss] = MLPRegressor(
        loss=loss, hidden_layer_sizes=(32, 32), activation="tanh", solver="adam",
        learning_rate_init=0.003, n_iter_no_change=20, max_iter=500, random_state=0,
    ).fit(X_train, y_train)

grid = np.linspace(-3, 3, 301)[:, np.newaxis]
print(f"\n{'loss':<16} {'epochs':>6} {'fitted offset':>14} {'test MSE':>9} {'test MAE':>9}")
for loss, model in models.items():
    offset = np.mean(model.predict(grid) - np.sin(grid[:, 0]))
    y_pred = model.predict(X_test)
    print(f"{loss:<16} {model.n_iter_:>6} {offset:>14.3f} "
          f"{mean_squared_error(y_test, y_pred):>9.3f} "
          f"{mean_absolute_error(y_test, y_pred):>9.3f}")

# %%
# The "fitted offset" is the fitted curve minus ``sin(x)``, averaged over ``x``. The
# squared-error network lands close to the mean's offset, the absolute-error network near
# the median's, an order of magnitude lower. Each network also wins on the metric that
# matches its own loss: the lowest test MSE belongs to the mean, the lowest test MAE to
# the median. Neither is "more correct" — they answer different questions. Use the mean
# for totals (expected cost, expected demand), the median for a typical value that a few
# wild samples should not drag around.
#
# On the left, the fits over the data; on the right, the noise distribution itself
# (``y - sin(x)``) with its mean and median marked.
fig, (ax_fit, ax_noise) = plt.subplots(
    1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
ax_fit.scatter(x[~is_outlier], y[~is_outlier], s=4, color="0.7", label="inliers")
ax_fit.scatter(x[is_outlier], y[is_outlier], s=4, color="tab:red", alpha=0.4,
               label="outliers")
ax_fit.plot(grid, np.sin(grid) + mean_offset, "k--", lw=1, label="true mean")
ax_fit.plot(grid, np.sin(grid) + median_offset, "k:", lw=1.5, label="true median")
ax_fit.plot(grid, models["squared_error"].predict(grid), color="tab:blue", lw=2,
            label="squared error fit")
ax_fit.plot(grid, models["absolute_error"].predict(grid), color="tab:green", lw=2,
            label="absolute error fit")
ax_fit.set(xlabel="x", ylabel="y", title="Same network, two losses")
ax_fit.legend(loc="upper left", fontsize="small", ncol=2)

# The right panel is the noise distribution itself (``y - sin(x)``), with its mean and
# median marked: the two vertical offsets the networks learned on the left.
ax_noise.hist(y - np.sin(x), bins=80, color="0.6")
ax_noise.axvline(mean_offset, color="tab:blue", lw=2, label=f"mean {mean_offset:.2f}")
ax_noise.axvline(median_offset, color="tab:green", lw=2,
                 label=f"median {median_offset:.2f}")
ax_noise.set(xlabel="y - sin(x)", ylabel="samples", title="The noise")
ax_noise.legend(fontsize="small")
fig.tight_layout()

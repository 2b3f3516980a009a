"""
Prediction bands with the quantile loss
========================================

The pinball (quantile) loss with quantile ``q`` is minimised by the conditional
``q``-quantile of the target, so a handful of networks, one per quantile, draw a prediction
band whose width follows the noise wherever it is. This example fits five of them on data
whose noise grows with ``x`` and checks the bands the honest way: by counting how many
held-out targets fall inside.
"""

# %%
# Data with noise that grows with x
# ---------------------------------
# ``y = 2 sin(x) + (0.2 + 0.15 x) * eps`` with Gaussian ``eps``, for ``x`` in [0, 10]: the
# spread at ``x = 10`` is more than eight times that at ``x = 0``. A constant-width band
# (mean plus or minus a multiple of the residual standard deviation) would be too wide on
# the left and too narrow on the right. The true quantiles are known here, which is why
# the data are synthetic: we can draw them next to the fitted ones.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from sknnloss import MLPRegressor
from sknnloss.losses import Quantile


def true_quantile(x, q):
    return 2 * np.sin(x) + (0.2 + 0.15 * x) * norm.ppf(q)


rng = np.random.default_rng(0)
n_samples = 3000
x = rng.uniform(0, 10, n_samples)
y = 2 * np.sin(x) + (0.2 + 0.15 * x) * rng.standard_normal(n_samples)
X = x[:, np.newaxis] / 5  # inputs of order one suit the tanh units
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=1 / 3, random_state=0)

# %%
# One network per quantile
# ------------------------
# ``loss="quantile"`` alone means ``Quantile(quantile=0.5)``, the median. For the other
# quantiles pass the loss object; its ``quantile`` parameter is then a nested parameter of
# the estimator, ``loss__quantile``, which ``set_params`` (and ``GridSearchCV``) can set on
# clones of one template. The identity output is the canonical pair, chosen by
# ``output_activation="auto"``. The pinball loss is piecewise
# linear, so a stochastic solver with a constant step keeps hopping around the quantile;
# the full-batch L-BFGS solver settles on it. Each network is independent, so nothing
# forces the five curves to stay in order; we count how often they cross.
quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]
template = MLPRegressor(loss=Quantile(), hidden_layer_sizes=(32, 32), activation="tanh",
                        solver="lbfgs", max_iter=500, random_state=0)
models = {q: clone(template).set_params(loss__quantile=q).fit(X_train, y_train)
          for q in quantiles}
print({q: model.loss for q, model in models.items()})
predictions = {q: model.predict(X_test) for q, model in models.items()}

# %%
# Calibration on held-out data
# ----------------------------
# If the ``q`` network estimates the ``q``-quantile, a share ``q`` of the held-out targets
# falls below its prediction. The central bands should then hold 50% (between the 0.25 and
# 0.75 curves) and 90% (between 0.05 and 0.95) of the targets.
print(f"{'quantile':>8} {'iterations':>10} {'share of test targets below':>28}")
below = {}
for q in quantiles:
    below[q] = np.mean(y_test < predictions[q])
    print(f"{q:>8.2f} {models[q].n_iter_:>10} {below[q]:>28.3f}")

coverage_50 = np.mean((y_test >= predictions[0.25]) & (y_test <= predictions[0.75]))
coverage_90 = np.mean((y_test >= predictions[0.05]) & (y_test <= predictions[0.95]))
stacked = np.column_stack([predictions[q] for q in quantiles])
crossing = np.mean(np.any(np.diff(stacked, axis=1) < 0, axis=1))
print(f"\nempirical coverage of the 50% band: {coverage_50:.3f}")
print(f"empirical coverage of the 90% band: {coverage_90:.3f}")
print(f"test points where two quantile curves cross: {crossing:.1%}")

# %%
# The empirical shares track the nominal quantiles to within about two points, the two
# bands hold about the share of held-out targets they promise (50% and 90%), and the
# five curves stay in order on every test point. On the left, the fitted bands (shaded)
# follow the true quantiles (dashed) as they widen; on the right, each network's share of
# targets below its curve is plotted against its nominal quantile: a calibrated set lies
# on the diagonal.
grid = np.linspace(0, 10, 400)
order = np.argsort(X_test[:, 0])
fig, (ax_band, ax_cal) = plt.subplots(
    1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
ax_band.scatter(X_test[:, 0] * 5, y_test, s=3, color="0.6", label="test data")
for (low, high), shade in [((0.05, 0.95), 0.2), ((0.25, 0.75), 0.35)]:
    ax_band.fill_between(X_test[order, 0] * 5, predictions[low][order],
                         predictions[high][order], color="tab:blue", alpha=shade,
                         label=f"fitted {high - low:.0%} band")
    for q in (low, high):
        ax_band.plot(grid, true_quantile(grid, q), "k--", lw=0.8)
ax_band.plot(X_test[order, 0] * 5, predictions[0.5][order], color="tab:blue", lw=2,
             label="fitted median")
ax_band.plot([], [], "k--", lw=0.8, label="true quantiles")
ax_band.set(xlabel="x", ylabel="y", title="Quantile networks on held-out data")
ax_band.legend(loc="lower left", fontsize="small", ncol=2)

ax_cal.plot([0, 1], [0, 1], color="0.5", lw=1)
ax_cal.plot(quantiles, [below[q] for q in quantiles], "o-", color="tab:blue")
ax_cal.set(xlabel="nominal quantile", ylabel="share of test targets below",
           title="Calibration", xlim=(0, 1), ylim=(0, 1), aspect="equal")
fig.tight_layout()

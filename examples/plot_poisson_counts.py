"""
Counts: Poisson deviance with an exp output vs squared error
=============================================================

Counts — claims per policy, visits per day, defects per batch — are non-negative, often
zero, and their spread grows with their mean. The Poisson likelihood describes exactly
that, and its canonical output is ``exp``: the network predicts the *log* of the rate, so
every prediction is positive and effects multiply. This example compares it with squared
error on counts whose true rate is known, and scores the models with the mean Poisson
deviance.
"""

# %%
# Counts with a known rate
# ------------------------
# Five standard normal features; the log-rate is linear in three of them plus an
# interaction, so the rate spans four orders of magnitude, and about half of the counts
# are zero. Because the true rate is known, each model's error in estimating it can be
# measured directly, next to the deviance on observed counts.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_poisson_deviance, mean_squared_error
from sklearn.model_selection import train_test_split

from sknnloss import MLPRegressor

rng = np.random.default_rng(0)
n_samples = 2000
X = rng.standard_normal((n_samples, 5))
rate = np.exp(0.8 * X[:, 0] - 0.6 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] - 0.5)
y = rng.poisson(rate)
print(f"true rate from {rate.min():.3f} to {rate.max():.1f}, median {np.median(rate):.2f}; "
      f"share of zero counts {np.mean(y == 0):.1%}")
X_train, X_test, y_train, y_test, rate_train, rate_test = train_test_split(
    X, y, rate, test_size=0.5, random_state=0)

# %%
# Three pairs
# -----------
# * ``loss="poisson"``: the canonical ``exp`` output, chosen by ``output_activation="auto"``;
# * ``loss="squared_error"`` with its canonical identity output, which can go negative;
# * ``loss="squared_error"`` with a ``softplus`` output, which cannot (one of the pairs
#   ``sknnloss.sensible_pairs("count")`` lists).
pairs = {
    "poisson + exp": dict(loss="poisson"),
    "squared error + identity": dict(loss="squared_error"),
    "squared error + softplus": dict(loss="squared_error", output_activation="softplus"),
}
models, predictions = {}, {}
for name, pair in pairs.items():
    models[name] = MLPRegressor(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=1000, random_state=0,
        **pair,
    ).fit(X_train, y_train)
    predictions[name] = models[name].predict(X_test)

# %%
# Scores
# ------
# The mean Poisson deviance is the Poisson loss made into a score (lower is better); it
# needs positive predictions. The identity output predicts zero or a negative count for
# some test samples, where the deviance is undefined: its deviance is computed with its
# predictions floored at 0.001, and all three models are also compared on the test
# samples where the identity model's prediction is positive. The last two columns are
# squared errors, the score squared error is made for: against the observed counts, and
# against the true rate.
positive = predictions["squared error + identity"] > 0
floor = 1e-3
print(f"\n{'pair':<25} {'output':<9} {'epochs':>6} {'predictions <= 0':>16} "
      f"{'deviance':>8} {'deviance where identity > 0':>27} {'MSE':>6} "
      f"{'MSE to true rate':>16}")
for name, model in models.items():
    pred = predictions[name]
    print(f"{name:<25} {model.out_activation_:<9} {model.n_iter_:>6} {np.sum(pred <= 0):>16} "
          f"{mean_poisson_deviance(y_test, np.maximum(pred, floor)):>8.3f} "
          f"{mean_poisson_deviance(y_test[positive], pred[positive]):>27.3f} "
          f"{mean_squared_error(y_test, pred):>6.3f} "
          f"{mean_squared_error(rate_test, pred):>16.3f}")
print(f"{'true rate (best possible)':<25} {'':<9} {'':>6} {'':>16} "
      f"{mean_poisson_deviance(y_test, rate_test):>8.3f} "
      f"{mean_poisson_deviance(y_test[positive], rate_test[positive]):>27.3f} "
      f"{mean_squared_error(y_test, rate_test):>6.3f} {0:>16.3f}")
print(f"{'constant training mean':<25} {'':<9} {'':>6} {'':>16} "
      f"{mean_poisson_deviance(y_test, np.full_like(rate_test, y_train.mean())):>8.3f}")

# %%
# The Poisson model comes closest to the deviance of the true rate, on all samples and on
# the subset. It also has the smallest squared errors, against the counts and against the
# true rate: squared error is the wrong loss for counts even when squared error is the
# score. It weighs
# every sample alike, so the large, noisy counts dominate its fit, while the Poisson
# deviance scales each residual by the rate it expects. The softplus output removes the
# negative predictions but not that weighting, and stays far behind the Poisson model on
# every score.
#
# The figure shows predicted against true rates on logarithmic axes; predictions below
# 0.001 (for the identity output, all of them zero or negative) are drawn in red at the
# bottom edge. The softplus output gets there too, with tiny positive predictions for
# samples whose true rate is not tiny.
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
limits = (1e-3, 60)
for ax, (name, pred) in zip(axes, predictions.items()):
    shown = pred > limits[0]
    ax.scatter(rate_test[shown], pred[shown], s=5, alpha=0.5)
    ax.scatter(rate_test[~shown], np.full((~shown).sum(), limits[0] * 1.3), s=8,
               color="tab:red", marker="v", label=f"{(~shown).sum()} predictions below "
               f"{limits[0]:g}")
    ax.plot(limits, limits, color="k", lw=1)
    ax.set(xscale="log", yscale="log", xlim=limits, ylim=limits, xlabel="true rate",
           title=name)
    if (~shown).any():
        ax.legend(loc="upper left", fontsize="small")
axes[0].set_ylabel("predicted rate")
fig.tight_layout()

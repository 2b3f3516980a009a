"""
Dying ReLUs, seen in the training diagnostics
==============================================

A ReLU unit whose pre-activation is negative for every input outputs zero and, worse,
passes back a zero gradient: nothing can move its incoming weights any more. It is
*dead*. A large update — typically from a learning rate that is too high — can push many
units there at once. ``history_`` records, for every epoch and hidden layer, the share of
units that were dead (``dead_fraction``) and the share of activations that were
saturated (``saturated_fraction``: a derivative that is not zero but below 0.05). This
example watches both on the digits data set, for a ReLU network at a sensible and at a
too-high learning rate, and for a leaky ReLU at the too-high one.
"""

# %%
# Three runs
# ----------
# The same network (three hidden layers of 64 units) is trained with Adam three times:
# ReLU at the default learning rate of 0.001, ReLU at 0.05, and a leaky ReLU (slope
# 0.01 for negative inputs) at 0.05. ``diagnostics=True`` is the default.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sknnloss import MLPClassifier
from sknnloss.diagnostics import SATURATION_THRESHOLD

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y)

runs = {
    "ReLU, learning rate 0.001": dict(activation="relu", learning_rate_init=0.001),
    "ReLU, learning rate 0.05": dict(activation="relu", learning_rate_init=0.05),
    "leaky ReLU, learning rate 0.05": dict(activation="leaky_relu", learning_rate_init=0.05),
}
models = {
    name: MLPClassifier(hidden_layer_sizes=(64, 64, 64), max_iter=300, random_state=0,
                        **params).fit(X_train, y_train)
    for name, params in runs.items()
}

print(f"saturation threshold: {SATURATION_THRESHOLD}")
print(f"{'run':<31} {'epochs':>6} {'test accuracy':>13} {'dead per layer':>20} "
      f"{'saturated per layer':>20}")
for name, model in models.items():
    dead = model.history_["dead_fraction"][-1]
    saturated = model.history_["saturated_fraction"][-1]
    print(f"{name:<31} {model.n_iter_:>6} {model.score(X_test, y_test):>13.3f} "
          f"{np.array2string(dead, precision=2):>20} "
          f"{np.array2string(saturated, precision=2):>20}")

# %%
# What the numbers say
# --------------------
# At the default learning rate about one unit in ten is dead at the end. At 0.05 the
# dead share jumps within a few epochs, most in the first layer: the network trains on
# with a fraction of its width (here still to a usable accuracy — dead units cost
# capacity, not correctness). The leaky ReLU has no dead units by construction: its
# derivative is 0.01, never 0, for negative inputs. The same too-large steps push most of
# its pre-activations negative, though, and there the small slope counts as *saturated*:
# those units still learn, but a hundred times more slowly. A leaky ReLU keeps the units
# alive; the learning rate is what keeps them useful.
#
# Can a dead unit come back? Its data gradient is zero, so only two things can move it:
# the L2 penalty (``alpha``) on its incoming weights, whose tiny gradient Adam rescales
# to full-size steps, and, beyond the first layer, changes in the layers below it, which
# change its inputs. The largest drop of the dead share from one epoch to the next, per
# layer, shows how much of that happened in each run:
for name, model in models.items():
    drop = np.maximum(-np.diff(model.history_["dead_fraction"], axis=0).min(axis=0), 0)
    print(f"{name:<31} {np.array2string(drop, precision=3)}")

# %%
# The first layer of the ReLU network at 0.05 never recovered a unit: the units it
# lost in the first epochs stayed lost. Deeper layers, and the first layer at the small
# learning rate, see units flicker back and forth near the edge.
#
# The figure shows ``dead_fraction`` (solid) and ``saturated_fraction`` (dashed) per
# hidden layer and epoch. ``history_.to_frame()`` gives the same record as a pandas
# DataFrame, one column per layer, e.g. ``dead_fraction[0]``.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
colors = ["tab:blue", "tab:orange", "tab:green"]
for ax, (name, model) in zip(axes, models.items()):
    epochs = model.history_["epoch"]
    dead = model.history_["dead_fraction"]
    saturated = model.history_["saturated_fraction"]
    for layer, color in enumerate(colors):
        ax.plot(epochs, dead[:, layer], color=color, lw=2, label=f"layer {layer + 1} dead")
        ax.plot(epochs, saturated[:, layer], color=color, lw=1.5, ls="--",
                label=f"layer {layer + 1} saturated")
    ax.set(title=name, xlabel="epoch", ylim=(-0.02, 1.02))
axes[0].set_ylabel("share of units (dead) / activations (saturated)")
axes[0].legend(fontsize="x-small", ncol=2, loc="upper left")
fig.tight_layout()

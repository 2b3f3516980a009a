"""
Vanishing gradients in a deep sigmoid network
==============================================

Backpropagation multiplies the gradient, layer after layer, by the derivative of each
activation. The logistic sigmoid's derivative is at most 0.25, and close to zero once a
unit saturates, so in a deep sigmoid network the gradient that reaches the first layers
can be orders of magnitude smaller than at the output: those layers barely learn. This
example trains the same deep network with sigmoid, tanh and ReLU hidden units on the
digits data set and reads the two symptoms from ``history_``: the gradient norm of every
weight layer and the share of saturated activations in every hidden layer.
"""

# %%
# Three deep networks
# -------------------
# Five hidden layers of 50 units each, trained with Adam at a learning rate of 0.01 for
# at most 30 epochs, a deliberately short budget (so the ConvergenceWarning that says
# training could go on is silenced).
# Only the hidden activation differs. With the default ``diagnostics=True``, every epoch
# records per weight layer the root mean square of the gradient norm
# (``gradient_norm``, six columns here: five hidden layers and the output layer) and per
# hidden layer the share of activations whose derivative is non-zero but below
# ``SATURATION_THRESHOLD`` (``saturated_fraction``, five columns).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknnloss import MLPClassifier
from sknnloss.diagnostics import SATURATION_THRESHOLD

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y)

activations = ["logistic", "tanh", "relu"]
models = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=30 on purpose
    for activation in activations:
        models[activation] = MLPClassifier(
            hidden_layer_sizes=(50,) * 5, activation=activation, learning_rate_init=0.01,
            max_iter=30, random_state=0,
        ).fit(X_train, y_train)

print(f"saturated: derivative non-zero and below {SATURATION_THRESHOLD}")
print(f"{'hidden':<9} {'epochs':>6} {'test accuracy':>13} {'final loss':>10}  gradient norm "
      "per weight layer, epoch 1 (input side first)")
for activation, model in models.items():
    gradient = model.history_["gradient_norm"][0]
    print(f"{activation:<9} {model.n_iter_:>6} {model.score(X_test, y_test):>13.3f} "
          f"{model.loss_curve_[-1]:>10.3f}  "
          f"{np.array2string(gradient, formatter={'float_kind': '{:.1e}'.format})}")

# %%
# Gradients shrink towards the input
# ----------------------------------
# In the first epoch the sigmoid network's gradient shrinks by a factor of about five to
# eight per layer on its way back, so the first layer's gradient is four orders of magnitude
# below the output layer's. Its units are not saturated yet (the table below); the
# factor comes from the sigmoid's derivative, at most 0.25, times weights that are
# initialised small. The tanh and ReLU networks, whose derivatives reach 1, keep their
# gradients within a small factor of each other across all layers.
#
# While its lower layers get almost no gradient, the sigmoid network sits on a plateau:
# its training loss stays near ``log(10) = 2.30``, the loss of guessing. Adam scales each
# parameter's step by that parameter's own gradient history, so the lower layers' weights
# do grow in the end and the gradient gap closes within about ten epochs (top right in
# the figure below); by then the run has lost those epochs, and the next symptom has set
# in.
print(f"\n{'hidden':<9} {'first layer / output layer gradient norm':>42}")
print(f"{'':<9} {'epoch 1':>10} {'epoch 5':>10} {'last epoch':>10}")
for activation, model in models.items():
    ratio = model.history_["gradient_norm"][:, 0] / model.history_["gradient_norm"][:, -1]
    print(f"{activation:<9} {ratio[0]:>10.2e} {ratio[4]:>10.2e} {ratio[-1]:>10.2e}")
print(f"training loss of the sigmoid network, epochs 1 to 6: "
      f"{np.array2string(np.array(models['logistic'].loss_curve_[:6]), precision=3)}")

print(f"\n{'hidden':<9} saturated fraction per hidden layer: epoch 1 -> last epoch")
for activation, model in models.items():
    saturated = model.history_["saturated_fraction"]
    print(f"{activation:<9} {np.array2string(saturated[0], precision=2)} -> "
          f"{np.array2string(saturated[-1], precision=2)}")

# %%
# Saturation sets in as training goes on
# --------------------------------------
# As the sigmoid network's weights grow, a large share of its activations move to the
# flat ends of the sigmoid, where the derivative is below 0.05 — the second symptom, which
# starves the layers below them further. The tanh network saturates too, mostly in its
# deeper layers, but tanh's derivative is 1 at the centre, so the units that are not
# saturated still pass the gradient on undiminished, and it trains. ReLU never
# saturates: its derivative is 0 or 1 (its failure mode is the opposite one, dead units;
# see the dying-ReLU example). At the end of the budget the sigmoid network is far behind
# on the loss and on test accuracy.
#
# In the figure: the gradient norm per layer in the first epoch (top left); the sigmoid
# network's gradient norm per layer over the epochs (top right); the saturated share per
# hidden layer in the last epoch (bottom left); and the training loss (bottom right).
fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
colors = {"logistic": "tab:red", "tanh": "tab:blue", "relu": "tab:green"}
n_weight_layers = models["logistic"].history_["gradient_norm"].shape[1]
layer_names = [f"hidden {i + 1}" for i in range(n_weight_layers - 1)] + ["output"]

ax = axes[0, 0]
for activation, model in models.items():
    ax.semilogy(np.arange(n_weight_layers), model.history_["gradient_norm"][0], "o-",
                color=colors[activation], label=activation)
ax.set_xticks(np.arange(n_weight_layers), layer_names, fontsize="small")
ax.set(ylabel="gradient norm", title="Epoch 1: gradient norm per weight layer")
ax.legend(fontsize="small")

ax = axes[0, 1]
gradient = models["logistic"].history_["gradient_norm"]
shades = plt.cm.Reds(np.linspace(0.35, 1, n_weight_layers))
for layer in range(n_weight_layers):
    ax.semilogy(models["logistic"].history_["epoch"], gradient[:, layer],
                color=shades[layer], label=layer_names[layer])
ax.set(xlabel="epoch", ylabel="gradient norm", title="Sigmoid network, per layer")
ax.legend(fontsize="x-small", ncol=2)

ax = axes[1, 0]
n_hidden = n_weight_layers - 1
for offset, (activation, model) in zip([-0.27, 0, 0.27], models.items()):
    ax.bar(np.arange(n_hidden) + offset, model.history_["saturated_fraction"][-1],
           width=0.27, color=colors[activation], label=activation)
ax.set_xticks(np.arange(n_hidden), layer_names[:-1], fontsize="small")
ax.set(ylabel="share of activations", ylim=(0, 1),
       title=f"Last epoch: saturated (derivative < {SATURATION_THRESHOLD})")
ax.legend(fontsize="small")

ax = axes[1, 1]
for activation, model in models.items():
    ax.semilogy(model.loss_curve_, color=colors[activation], label=activation)
ax.set(xlabel="epoch", ylabel="training loss", title="loss_curve_")
ax.legend(fontsize="small")
fig.tight_layout()

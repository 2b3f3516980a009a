"""
Sigmoid output: binary cross-entropy vs squared error
======================================================

A sigmoid output turns the network's raw score (the logit ``z``) into a probability
``p = sigmoid(z)``. Binary cross-entropy is the Bernoulli likelihood of that probability
and the canonical partner of the sigmoid: its gradient with respect to the logit is simply
``p - y``. Squared error on the same probability is a legal pair too, but its gradient
carries the sigmoid's derivative ``p (1 - p)``, which vanishes exactly when the network is
confidently *wrong* — when it most needs to learn. This example looks at the two
gradients, then at what they do to training on the breast cancer dataset.
"""

# %%
# The gradient with respect to the logit
# --------------------------------------
# Both losses are asked for their gradient at a positive sample (``y = 1``) over a range
# of logits. Binary cross-entropy's canonical activation is the sigmoid, so its own
# ``gradient_raw`` works from the logit directly. Squared error's canonical activation is
# the identity, so its gradient is with respect to the probability, and the sigmoid's
# ``backward`` applies the chain rule — what the estimators do for any non-canonical
# pair. The loss objects average over samples and sum over
# outputs, so the logits are passed as *one sample with many outputs*: the returned
# gradient is then the per-logit gradient, unscaled.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, pairing
from sknnloss.activations import Logistic
from sknnloss.losses import BinaryCrossEntropy, SquaredError

logits = np.linspace(-10, 10, 401)[np.newaxis, :]
positive = np.ones_like(logits)
sigmoid = Logistic()
probabilities = sigmoid.forward(logits)

grad_bce = BinaryCrossEntropy().gradient_raw(positive, logits)
grad_mse = sigmoid.backward(
    logits, probabilities, SquaredError().gradient(positive, probabilities))

print("largest |BCE gradient - (p - y)| over the grid:",
      f"{np.max(np.abs(grad_bce - (probabilities - positive))):.1e}")
print("\ngradient with respect to the logit at a positive sample (y = 1):")
print(f"{'logit':>6} {'p':>8} {'sigmoid + BCE':>14} {'sigmoid + MSE':>14}")
for z in [-8.0, -4.0, 0.0, 4.0]:
    i = np.argmin(np.abs(logits[0] - z))
    print(f"{z:>6.0f} {probabilities[0, i]:>8.4f} {grad_bce[0, i]:>14.4f} "
          f"{grad_mse[0, i]:>14.6f}")

# %%
# At ``z = -8`` the network gives the positive class a probability of 0.0003. The
# cross-entropy gradient is close to -1, its largest possible size: a confidently wrong
# prediction gets the strongest push. The squared-error gradient is about 3000 times
# smaller. On the logarithmic scale on the right, the squared-error gradient falls off
# like ``exp(z)`` as the prediction gets more wrong, while the cross-entropy gradient levels
# off at 1. Near ``z = 0`` the factor ``p (1 - p)`` is close to its maximum, 1/4, so there
# the two differ by a roughly constant factor, which a learning rate absorbs.
fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(10, 3.8))
for ax in (ax_lin, ax_log):
    ax.axvspan(-10, 0, color="tab:red", alpha=0.06)
    ax.set_xlabel("logit z (positive sample)")
ax_lin.plot(logits[0], grad_bce[0], color="tab:blue", lw=2, label="sigmoid + BCE: p - y")
ax_lin.plot(logits[0], grad_mse[0], color="tab:orange", lw=2,
            label="sigmoid + MSE: (p - y) p (1 - p)")
ax_lin.set(ylabel="d loss / d z", title="Gradient with respect to the logit")
ax_lin.text(-9.5, -0.55, "wrong side", color="tab:red")
ax_lin.legend(loc="lower right", fontsize="small")
ax_log.semilogy(logits[0], np.abs(grad_bce[0]), color="tab:blue", lw=2)
ax_log.semilogy(logits[0], np.abs(grad_mse[0]), color="tab:orange", lw=2)
ax_log.set(ylabel="|d loss / d z|", title="Its size, log scale", ylim=(1e-5, 2))
fig.tight_layout()

# %%
# Training from a saturated start
# -------------------------------
# With the usual initialisation the logits start near zero, where the two gradients are
# alike. To start from confidently wrong predictions instead, a custom ``init`` draws the
# weights five times larger than ``1 / sqrt(fan_in)``: the initial logits are large, so
# the predictions that start on the wrong side start there with confidence. The hidden
# layer is ReLU, which cannot saturate, so any difference comes from the output pair. The
# solver is plain gradient descent (``sgd`` without momentum), so the step is the gradient
# itself. The 100 epochs are a deliberate budget, the same for every model, so the
# ConvergenceWarning that says training could go on is silenced.
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter=100 on purpose


def large_init(fan_in, fan_out, random_state, dtype):
    """Gaussian weights with standard deviation 5 / sqrt(fan_in)."""
    return (random_state.standard_normal((fan_in, fan_out)) * 5 / np.sqrt(fan_in)).astype(dtype)


losses = {"BCE": "binary_crossentropy", "MSE": "squared_error"}
inits = {"default": "glorot_uniform", "large": large_init}
models = {}
for init_name, init in inits.items():
    for loss_name, loss in losses.items():
        models[init_name, loss_name] = MLPClassifier(
            hidden_layer_sizes=(32,), activation="relu", loss=loss,
            output_activation="logistic", solver="sgd", learning_rate_init=0.05,
            momentum=0.0, max_iter=100, n_iter_no_change=100, init=init, random_state=0,
        ).fit(X_train, y_train)


def report(models):
    print(f"{'init':<8} {'loss':<4} {'output grad, epoch 1':>21} {'test accuracy':>14} "
          f"{'test log loss':>14} {'train confidently wrong':>24}")
    for (init_name, loss_name), model in models.items():
        p_true = model.predict_proba(X_train)[np.arange(len(y_train)), y_train]
        print(f"{init_name:<8} {loss_name:<4} "
              f"{model.history_['gradient_norm'][0, -1]:>21.3f} "
              f"{accuracy_score(y_test, model.predict(X_test)):>14.3f} "
              f"{log_loss(y_test, model.predict_proba(X_test)):>14.3f} "
              f"{np.mean(p_true < 0.1):>24.1%}")


print(f"\nshare of the majority class in the test set: {np.mean(y_test == 1):.3f}")
print("plain SGD, 100 epochs (confidently wrong: probability of the true class < 0.1)")
report(models)

# %%
# From the default start both pairs train. From the saturated start, cross-entropy still
# gets a large gradient to the output layer (``history_["gradient_norm"]``, last
# column) and recovers; squared error's is two orders of magnitude smaller, and after 100
# epochs a good share of the training set is still confidently misclassified, with test
# accuracy near the share of the majority class and a test log loss far above
# cross-entropy's. The left panels show ``loss_curve_`` of each loss (each on its own
# scale: the two losses are not comparable in value), the right one the output layer's
# gradient norm from ``history_``.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for ax, loss_name in zip(axes[:2], losses):
    for init_name, style, color in [("default", "--", "0.5"), ("large", "-", "k")]:
        ax.semilogy(models[init_name, loss_name].loss_curve_, style, color=color, lw=2,
                    label=f"{init_name} init")
    ax.set(xlabel="epoch", ylabel="training loss", title=f"sigmoid + {loss_name}: loss_curve_")
    ax.legend(fontsize="small")
for loss_name, color in [("BCE", "tab:blue"), ("MSE", "tab:orange")]:
    axes[2].semilogy(models["large", loss_name].history_["gradient_norm"][:, -1],
                     color=color, lw=2, label=f"sigmoid + {loss_name}")
axes[2].set(xlabel="epoch", ylabel="gradient norm", title="Output layer, large init")
axes[2].legend(fontsize="small")
fig.tight_layout()

# %%
# Adaptive optimisers hide much of it
# -----------------------------------
# Adam (the default solver) divides each parameter's step by a running estimate of its
# gradient's size, so a gradient that is small everywhere still gets full-size steps.
# From the same saturated start, both pairs train with Adam; in this run the squared-error
# model even ends with the better test scores.
adam_models = {
    ("large", loss_name): MLPClassifier(
        hidden_layer_sizes=(32,), activation="relu", loss=loss,
        output_activation="logistic", max_iter=100, n_iter_no_change=100,
        init=large_init, random_state=0,
    ).fit(X_train, y_train)
    for loss_name, loss in losses.items()
}
print("\nAdam, 100 epochs")
report(adam_models)

# %%
# So the vanishing factor ``p (1 - p)`` is a problem of the optimiser's step, which Adam
# happens to correct, not of what is minimised. The cross-entropy pair does not need the
# correction: its gradient is ``p - y`` whatever the solver, and its minimiser is the
# Bernoulli maximum likelihood estimate. That is why ``MLPClassifier`` uses it by default
# (``loss="log_loss"`` with ``output_activation="auto"``), and why
# ``sknnloss.pairing("squared_error", "logistic", task="binary")`` attaches a note about
# saturation to the other pair:
print()
print(pairing("squared_error", "logistic", task="binary"))

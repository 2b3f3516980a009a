"""
Margin heads: hinge, squared hinge and modified Huber vs log loss
==================================================================

Not every classification loss is a likelihood. The hinge family asks for a *margin*: the
raw score ``f`` of a sample of class ``t = +-1`` should satisfy ``t f >= 1``, and samples
beyond the margin contribute nothing. These heads keep an identity output, so a
classifier trained with hinge or squared hinge offers ``decision_function`` instead of
``predict_proba``; modified Huber maps its scores to rough probabilities. This example
draws the four decision boundaries on the two-moons problem.
"""

# %%
# Four heads on the same network
# ------------------------------
# Two noisy interleaved half-moons, half for training and half for testing. Each model has
# two hidden ReLU layers of 32 units and is trained with Adam; only ``loss`` changes, and
# ``output_activation="auto"`` gives each its canonical output: the sigmoid for log loss,
# the identity for the three margin losses.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from sknnloss import MLPClassifier

X, y = make_moons(n_samples=600, noise=0.3, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

losses = ["log_loss", "hinge", "squared_hinge", "modified_huber"]
models = {
    loss: MLPClassifier(hidden_layer_sizes=(32, 32), loss=loss, learning_rate_init=0.01,
                        max_iter=1000, random_state=0).fit(X_train, y_train)
    for loss in losses
}

print(f"{'loss':<15} {'output':<9} {'predict_proba':>13} {'decision_function':>17} "
      f"{'test accuracy':>13} {'test log loss':>13} {'p within 1e-6 of 0 or 1':>23} "
      f"{'of them wrong':>13}")
for loss, model in models.items():
    has_proba = hasattr(model, "predict_proba")
    line = (f"{loss:<15} {model.out_activation_:<9} {str(has_proba):>13} "
            f"{str(hasattr(model, 'decision_function')):>17} "
            f"{accuracy_score(y_test, model.predict(X_test)):>13.3f}")
    if has_proba:
        p = model.predict_proba(X_test)[:, 1]
        hard = (p < 1e-6) | (p > 1 - 1e-6)
        wrong = hard & ((p > 0.5) != (y_test == 1))
        line += (f" {log_loss(y_test, p):>13.3f} {np.mean(hard):>23.1%} "
                 f"{wrong.sum():>13d}")
    print(line)

# %%
# The four heads classify about equally well: the accuracies are within half a point of
# each other. They differ in what else they give you. ``hasattr`` tells which
# prediction methods a fitted model has: a margin score is not a probability, so the hinge
# and squared-hinge models have no ``predict_proba``, and the two probability models have
# no ``decision_function``.
#
# Modified Huber's probabilities are ``(clip(f, -1, 1) + 1) / 2``: every sample beyond the
# margin gets a probability of exactly 0 or 1 (kept a machine epsilon away from it, so
# that ``predict_log_proba`` stays finite). Most test points land there, and the few of
# them on the wrong side cost ``-log(eps)``, about 36 nats, each: hence a test log loss
# about four times that of the sigmoid head, for the same accuracy. Use it when you need a
# rough score in [0, 1], not a calibrated probability.
#
# For the margin heads, the share of training samples inside the margin (``|f| < 1``)
# plays the part of the support vectors of an SVM: only those (and the misclassified
# ones) still push on the weights.
for loss in ["hinge", "squared_hinge"]:
    scores = models[loss].decision_function(X_train)
    print(f"{loss:<15} training samples with |f| < 1: {np.mean(np.abs(scores) < 1):.1%}, "
          f"misclassified: {np.mean((scores > 0) != (y_train == 1)):.1%}")

# %%
# Decision boundaries
# -------------------
# For the probability heads the background is ``predict_proba`` (the boundary is the 0.5
# level); for the margin heads it is ``decision_function``, clipped to [-2, 2], with the
# boundary at 0 and the margins at -1 and +1 dashed. The sigmoid head's probability changes
# smoothly across the boundary; modified Huber's reaches 0 or 1 one margin away and stays
# there. Training points of class 0 are white circles, of class 1 black triangles.
xx, yy = np.meshgrid(np.linspace(-2, 3, 250), np.linspace(-1.6, 2.1, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
fig, axes = plt.subplots(2, 2, figsize=(10, 8), sharex=True, sharey=True)
for ax, (loss, model) in zip(axes.ravel(), models.items()):
    if hasattr(model, "predict_proba"):
        surface = model.predict_proba(grid)[:, 1].reshape(xx.shape)
        filled = ax.contourf(xx, yy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.contour(xx, yy, surface, levels=[0.5], colors="k", linewidths=2)
        colorbar_label = "predict_proba"
    else:
        surface = np.clip(model.decision_function(grid), -2, 2).reshape(xx.shape)
        filled = ax.contourf(xx, yy, surface, levels=np.linspace(-2, 2, 11), cmap="RdBu_r")
        ax.contour(xx, yy, surface, levels=[-1, 0, 1], colors="k",
                   linestyles=["--", "-", "--"], linewidths=[1, 2, 1])
        colorbar_label = "decision_function"
    for klass, marker, color in [(0, "o", "white"), (1, "^", "black")]:
        ax.scatter(*X_train[y_train == klass].T, marker=marker, c=color, edgecolors="k",
                   s=14, linewidths=0.5)
    fig.colorbar(filled, ax=ax, label=colorbar_label)
    ax.set_title(f"loss={loss!r}: test accuracy "
                 f"{accuracy_score(y_test, model.predict(X_test)):.3f}")
fig.tight_layout()

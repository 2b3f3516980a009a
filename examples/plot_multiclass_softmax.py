"""
Multiclass heads: softmax with sparse or one-hot targets, and one-vs-rest sigmoids
===================================================================================

For a target with more than two classes, the maximum likelihood pair is a softmax output
with categorical cross-entropy: one output per class, and each row of outputs a probability
distribution. ``MLPClassifier`` offers it in two spellings that compute the same thing,
and a different head altogether: one independent sigmoid per class (one-vs-rest). This
example fits all three on scikit-learn's handwritten digits.
"""

# %%
# Three heads on the digits
# -------------------------
# * ``loss="log_loss"`` (the default) resolves, for a multiclass target, to
#   ``SparseCategoricalCrossEntropy``: the targets stay integer class indices and the loss
#   picks each sample's log-probability by index.
# * ``loss="categorical_crossentropy"`` encodes the targets as one-hot rows first and
#   takes the dot product with the log-probabilities. Useful for soft labels; for hard
#   labels, the same numbers as the sparse form.
# * ``loss="binary_crossentropy"`` on a multiclass target trains one sigmoid per class,
#   each a separate yes/no question ("is it a 3?"). ``predict_proba`` normalises the ten
#   sigmoids of a row to sum to one.
#
# The networks are otherwise identical: one hidden layer of 64 ReLU units, Adam, same seed.
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from sknnloss import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities 0..16 to [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y)

heads = {
    "softmax, sparse targets": "log_loss",
    "softmax, one-hot targets": "categorical_crossentropy",
    "one-vs-rest sigmoids": "binary_crossentropy",
}
models, fit_times = {}, {}
for name, loss in heads.items():
    start = time.perf_counter()
    models[name] = MLPClassifier(
        hidden_layer_sizes=(64,), loss=loss, learning_rate_init=0.01, max_iter=400,
        random_state=0,
    ).fit(X_train, y_train)
    fit_times[name] = time.perf_counter() - start

print(f"{'head':<25} {'loss_function_':<32} {'output':<9} {'epochs':>6} {'fit s':>6} "
      f"{'accuracy':>9} {'log loss':>9}")
for name, model in models.items():
    proba = model.predict_proba(X_test)
    print(f"{name:<25} {model.loss_function_!r:<32} {model.out_activation_:<9} "
          f"{model.n_iter_:>6} {fit_times[name]:>6.2f} "
          f"{accuracy_score(y_test, model.predict(X_test)):>9.4f} "
          f"{log_loss(y_test, proba):>9.4f}")

# %%
# Sparse and one-hot: the same model
# ----------------------------------
# The two softmax spellings follow the same optimisation path: their loss curves and
# their predicted probabilities agree to the last bit printed here. The sparse form skips
# the ``(n_samples, n_classes)`` one-hot matrix, which matters only when there are many
# classes.
sparse = models["softmax, sparse targets"]
one_hot = models["softmax, one-hot targets"]
print("largest difference between the two softmax models:")
curve_gap = np.max(np.abs(np.subtract(sparse.loss_curve_, one_hot.loss_curve_)))
proba_gap = np.max(np.abs(sparse.predict_proba(X_test) - one_hot.predict_proba(X_test)))
print(f"  loss curves:   {curve_gap:.1e}")
print(f"  probabilities: {proba_gap:.1e}")

# %%
# One-vs-rest: ten questions, not one distribution
# ------------------------------------------------
# The one-vs-rest head scores about as well here. Its ten sigmoids, though, are
# trained independently, and nothing makes them sum to one. The raw outputs are
# recomputed below from the fitted weights (``coefs_`` and ``intercepts_``; ReLU hidden
# layer, sigmoid output) to see by how much they miss before ``predict_proba`` normalises
# them.
ovr = models["one-vs-rest sigmoids"]
hidden = np.maximum(X_test @ ovr.coefs_[0] + ovr.intercepts_[0], 0)
sigmoids = expit(hidden @ ovr.coefs_[1] + ovr.intercepts_[1])
assert np.allclose(sigmoids / sigmoids.sum(axis=1, keepdims=True), ovr.predict_proba(X_test))
row_sums = sigmoids.sum(axis=1)
print("sum of the ten one-vs-rest sigmoids per test digit:")
print(f"  min {row_sums.min():.3f}, median {np.median(row_sums):.3f}, "
      f"max {row_sums.max():.3f}; {np.mean(np.abs(row_sums - 1) > 0.1):.1%} of the "
      "rows are off by more than 0.1")

# %%
# Nine rows in ten sum to within 0.1 of one — on easy digits one sigmoid is near one and
# the rest near zero — but on the hard digits the independent questions can all say "no"
# or several say "yes". The figure shows the test digits on which the softmax model is
# least sure: the image, the softmax distribution and the normalised one-vs-rest
# probabilities (the true class in green). The two heads mostly see the same few classes
# competing, but on cases this hard they often rank them differently.
hardest = np.argsort(sparse.predict_proba(X_test).max(axis=1))[:5]
fig, axes = plt.subplots(2, len(hardest), figsize=(12, 4.6),
                         gridspec_kw={"height_ratios": [1, 1.2]})
classes = np.arange(10)
for column, i in enumerate(hardest):
    axes[0, column].imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    axes[0, column].set_title(
        f"true {y_test[i]}, softmax says {sparse.predict(X_test[i:i + 1])[0]}",
        fontsize="small")
    axes[0, column].axis("off")
    ax = axes[1, column]
    colors = ["tab:green" if c == y_test[i] else "tab:blue" for c in classes]
    ax.bar(classes - 0.2, sparse.predict_proba(X_test[i:i + 1])[0], width=0.4,
           color=colors, label="softmax")
    ax.bar(classes + 0.2, ovr.predict_proba(X_test[i:i + 1])[0], width=0.4,
           color=colors, alpha=0.45, hatch="//", label="one-vs-rest (normalised)")
    ax.set_xticks(classes)
    ax.set_ylim(0, 1)
    ax.tick_params(labelsize="small")
axes[1, 0].set_ylabel("probability")
axes[1, 0].legend(fontsize="x-small", loc="upper left")
fig.tight_layout()

# %%
# The histogram shows the raw one-vs-rest row sums over the whole test set.
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.hist(row_sums, bins=40, color="tab:blue")
ax.axvline(1, color="k", lw=1)
ax.set(xlabel="sum of the ten sigmoids", ylabel="test digits", yscale="log",
       title="One-vs-rest outputs before normalisation")
fig.tight_layout()

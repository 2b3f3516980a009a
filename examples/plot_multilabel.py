"""
Multi-label classification: one sigmoid per label
==================================================

In a multi-label problem each sample can carry any number of labels at once: a document
about sport *and* politics, an image with a dog *and* a cat. The maximum likelihood head
is one independent Bernoulli per label: a sigmoid output per label with binary
cross-entropy. ``MLPClassifier`` trains it when ``y`` is a 0/1 indicator matrix. This
example scores it label by label, and shows what goes wrong with a softmax head, which
makes the labels compete for one unit of probability.
"""

# %%
# A multi-label data set
# ----------------------
# ``make_multilabel_classification`` draws 2000 documents with five labels: each has two
# labels on average, and some have none or all five. ``y`` is a ``(n_samples, 5)``
# indicator matrix.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, PairingWarning

X, Y = make_multilabel_classification(
    n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=0)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print("labels per sample (all data), 0 to 5:", np.bincount(Y.sum(axis=1), minlength=6))

# %%
# The sigmoid head
# ----------------
# With the default ``loss="log_loss"`` and ``output_activation="auto"``, an indicator
# matrix gets five sigmoid outputs and binary cross-entropy summed over them.
# ``predict_proba`` returns one probability per label and ``predict`` thresholds each at
# 0.5, independently.
params = dict(hidden_layer_sizes=(32,), alpha=1.0, learning_rate_init=0.01, max_iter=500,
              random_state=0)
sigmoid_head = MLPClassifier(**params).fit(X_train, Y_train)
print(f"loss {sigmoid_head.loss_function_!r}, output {sigmoid_head.out_activation_!r}, "
      f"{sigmoid_head.n_outputs_} outputs")

Y_pred = sigmoid_head.predict(X_test)
Y_proba = sigmoid_head.predict_proba(X_test)
precision, recall, f1, support = precision_recall_fscore_support(Y_test, Y_pred)
auc = roc_auc_score(Y_test, Y_proba, average=None)
print(f"\n{'label':>5} {'prevalence':>10} {'precision':>9} {'recall':>7} {'F1':>6} "
      f"{'ROC AUC':>8}")
for label in range(Y.shape[1]):
    print(f"{label:>5} {Y_test[:, label].mean():>10.3f} {precision[label]:>9.3f} "
          f"{recall[label]:>7.3f} {f1[label]:>6.3f} {auc[label]:>8.3f}")

# %%
# Each label is a binary problem of its own, so each gets its own scores. The ROC AUC is
# threshold-free: it only asks whether positive samples get higher probabilities than
# negative ones for that label.
#
# The softmax head
# ----------------
# A softmax output over the five labels forces each row of outputs to sum to one: the
# labels compete. ``MLPClassifier`` trains the pair but warns (a ``PairingWarning``),
# because it cannot represent two labels that are both certainly on.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", PairingWarning)
    softmax_head = MLPClassifier(output_activation="softmax", **params).fit(
        X_train, Y_train)
for warning in caught:
    if issubclass(warning.category, PairingWarning):
        print(f"PairingWarning: {warning.message}")
Y_pred_softmax = softmax_head.predict(X_test)

# %%
# Scores side by side
# -------------------
# Several summary scores, then the number of labels each head switches on per sample.
# With a softmax, at most one label of a row can exceed the 0.5 threshold, so no sample
# ever gets two labels, whatever the truth.
print(f"\n{'head':<8} {'micro F1':>8} {'macro F1':>8} {'Hamming loss':>12} "
      f"{'exact match':>11}")
for name, predicted in [("sigmoid", Y_pred), ("softmax", Y_pred_softmax)]:
    print(f"{name:<8} {f1_score(Y_test, predicted, average='micro'):>8.3f} "
          f"{f1_score(Y_test, predicted, average='macro'):>8.3f} "
          f"{hamming_loss(Y_test, predicted):>12.3f} "
          f"{accuracy_score(Y_test, predicted):>11.3f}")

counts = {
    "truth": np.bincount(Y_test.sum(axis=1), minlength=6),
    "sigmoid head": np.bincount(Y_pred.sum(axis=1), minlength=6),
    "softmax head": np.bincount(Y_pred_softmax.sum(axis=1), minlength=6),
}
print("\nlabels per test sample, 0 to 5:")
for name, count in counts.items():
    print(f"  {name:<13} {count}")
print(f"test samples with at most one label: {np.mean(Y_test.sum(axis=1) <= 1):.1%}")

# %%
# The sigmoid head beats the softmax head on every label's F1, and its label counts
# roughly follow the truth, while the softmax head never predicts more than one label.
# Its "exact match" score (all five labels right) is not as far behind only because
# rows with no label or a single label, the only rows it can get right, are common in
# this data set. The pairing is the
# problem, not the loss: keep binary cross-entropy with one sigmoid per label.
f1_softmax = f1_score(Y_test, Y_pred_softmax, average=None)
labels = np.arange(Y.shape[1])
fig, (ax_f1, ax_count) = plt.subplots(1, 2, figsize=(11, 3.8))
ax_f1.bar(labels - 0.2, f1, width=0.4, label="sigmoid head")
ax_f1.bar(labels + 0.2, f1_softmax, width=0.4, label="softmax head")
ax_f1.set(xlabel="label", ylabel="F1 on the test set", title="Per-label F1", ylim=(0, 1),
          xticks=labels)
ax_f1.legend(fontsize="small")
n_labels = np.arange(6)
for offset, (name, count) in zip([-0.27, 0, 0.27], counts.items()):
    ax_count.bar(n_labels + offset, count, width=0.27, label=name,
                 color={"truth": "0.5"}.get(name))
ax_count.set(xlabel="labels switched on", ylabel="test samples",
             title="Labels per sample", xticks=n_labels)
ax_count.legend(fontsize="small")
fig.tight_layout()

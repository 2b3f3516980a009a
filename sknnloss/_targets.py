"""Turning class labels into what a loss consumes, and network outputs back into labels.

Three encodings, chosen by the loss's ``target_kind``:

* ``"class_index"`` (sparse categorical cross-entropy): integer class indices of shape
  ``(n_samples,)`` — never a one-hot matrix;
* ``"distribution"`` (categorical cross-entropy): one-hot rows ``(n_samples, n_classes)``;
* anything else (binary cross-entropy, hinge, squared error...): 0/1 indicator columns — one
  column for a binary target, one per label for multi-label, one per class (one-vs-rest) for
  multiclass.
"""

import numpy as np
from sklearn.utils.multiclass import type_of_target, unique_labels

__all__ = ["ClassEncoder"]

INDEX_KINDS = ("class_index",)
ONE_HOT_KINDS = ("distribution",)


class ClassEncoder:
    """Labels of a classifier: the classes, the target type and the encodings.

    Parameters
    ----------
    classes : ndarray
        Sorted class labels (``arange(n_labels)`` for multi-label targets).
    target_type : {"binary", "multiclass", "multilabel-indicator"}
    """

    def __init__(self, classes, target_type):
        self.classes = np.asarray(classes)
        self.target_type = target_type

    @classmethod
    def from_targets(cls, y, classes=None):
        """Build the encoder from training labels (and the ``classes`` of ``partial_fit``)."""
        target_type = type_of_target(y, input_name="y")
        if target_type == "multilabel-indicator":
            return cls(np.arange(y.shape[1]), target_type)
        if classes is None:
            classes = unique_labels(y)
        else:
            classes = unique_labels(np.asarray(classes))
        target_type = "binary" if len(classes) <= 2 else "multiclass"
        return cls(classes, target_type)

    @property
    def multilabel(self):
        return self.target_type == "multilabel-indicator"

    def n_outputs(self, target_kind):
        """Number of network outputs a loss of ``target_kind`` needs."""
        if self.target_type == "binary" and target_kind not in INDEX_KINDS + ONE_HOT_KINDS:
            return 1
        return len(self.classes)

    def check_labels(self, y):
        """Raise if ``y`` holds labels outside ``classes`` (e.g. in ``partial_fit``)."""
        if self.multilabel:
            if y.ndim != 2 or y.shape[1] != len(self.classes):
                raise ValueError(
                    f"The model was fitted on multi-label targets with {len(self.classes)} "
                    f"labels; got y of shape {y.shape}."
                )
            return
        unseen = np.setdiff1d(unique_labels(y), self.classes)
        if len(unseen):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes}. "
                f"'y' has the unseen labels {unseen}. Pass every class in `classes=` on the "
                "first call to partial_fit."
            )

    def encode(self, y, target_kind, dtype):
        """Encode labels ``y`` for a loss of ``target_kind``."""
        if self.multilabel:
            if target_kind in INDEX_KINDS + ONE_HOT_KINDS:
                raise ValueError(
                    "A multi-label target needs one independent output per label; a softmax "
                    "loss picks one class per sample. Use loss='log_loss' "
                    "(binary cross-entropy, one sigmoid per label) or 'hinge'."
                )
            return np.asarray(y, dtype=dtype)
        index = np.searchsorted(self.classes, y)
        if target_kind in INDEX_KINDS:
            return index.astype(np.intp, copy=False)
        n_classes = len(self.classes)
        if self.n_outputs(target_kind) == 1:
            return index.astype(dtype).reshape(-1, 1)
        encoded = np.zeros((len(index), n_classes), dtype=dtype)
        encoded[np.arange(len(index)), index] = 1
        return encoded

    def decode(self, y_pred, threshold):
        """Labels from network outputs: a threshold per column, or the argmax of each row."""
        if self.multilabel:
            return (y_pred > threshold).astype(int)
        if y_pred.shape[1] == 1:
            return self.classes[(y_pred[:, 0] > threshold).astype(np.intp)]
        return self.classes[np.argmax(y_pred, axis=1)]

    def probabilities(self, y_pred, kind):
        """``predict_proba`` from outputs that are probabilities (``kind`` of the activation)."""
        if self.multilabel:
            return y_pred
        if y_pred.shape[1] == 1:
            p = y_pred[:, 0]
            return np.column_stack([1 - p, p])
        if kind == "simplex":
            return y_pred
        # One independent probability per class (one-vs-rest): normalise each row.
        total = y_pred.sum(axis=1, keepdims=True)
        uniform = total <= 0
        if np.any(uniform):
            y_pred = np.where(uniform, 1.0, y_pred)
            total = y_pred.sum(axis=1, keepdims=True)
        return y_pred / total

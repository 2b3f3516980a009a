"""Pairing guidance: which output activations and losses belong together, and why.

A loss is the negative log-likelihood of a distribution once composed with its *canonical*
output activation (the inverse link): identity + squared error is the Gaussian, logistic +
binary cross-entropy the Bernoulli, softmax + categorical cross-entropy the multinomial, exp +
Poisson deviance the Poisson. Other pairs still train through the chain rule, but some
saturate, some cannot reach the targets and some cannot work at all.
:func:`pairing` says which; :func:`sensible_pairs` lists the pairs worth a grid search.
"""

from dataclasses import dataclass, field

import numpy as np

from .activations import get_activation
from .losses import get_loss

__all__ = ["Pairing", "PairingWarning", "pairing", "sensible_pairs", "TASKS"]

#: The tasks :func:`pairing` and :func:`sensible_pairs` know.
TASKS = ("regression", "positive", "count", "binary", "multiclass", "multilabel")
_CLASSIFICATION = ("binary", "multiclass", "multilabel")
_MARGIN_KINDS = ("sign",)


class PairingWarning(UserWarning):
    """An output activation and loss that cannot work well together for the target at hand."""


@dataclass(frozen=True)
class Pairing:
    """What :func:`pairing` found out about a (loss, output activation) pair.

    Attributes
    ----------
    loss, output_activation : str
        The pair, as given (names or reprs).
    canonical : bool
        Whether the output activation is the loss's canonical one (the fused, stable gradient
        ``y_pred - y_true`` applies).
    distribution : str or None
        The likelihood the pair corresponds to, when it is canonical.
    estimates : str or None
        What the prediction estimates.
    notes : tuple of str
        Known weaknesses that still let the pair train (e.g. saturation).
    warnings : tuple of str
        Problems that keep the pair from working well for the task; the estimators emit a
        :class:`PairingWarning` at fit.
    errors : tuple of str
        Reasons the pair cannot work at all for the task; the estimators raise at fit.
    """

    loss: str
    output_activation: str
    canonical: bool
    distribution: str | None
    estimates: str | None
    notes: tuple = field(default_factory=tuple)
    warnings: tuple = field(default_factory=tuple)
    errors: tuple = field(default_factory=tuple)

    @property
    def ok(self):
        """True when the pair has neither warnings nor errors."""
        return not self.warnings and not self.errors

    def __str__(self):
        kind = "canonical" if self.canonical else "non-canonical (chain rule)"
        lines = [f"{self.loss} + {self.output_activation} output: {kind}"]
        if self.distribution:
            lines.append(f"  likelihood: {self.distribution}")
        if self.estimates:
            lines.append(f"  estimates: {self.estimates}")
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


def _name(obj):
    return obj if isinstance(obj, str) else repr(obj)


def _range(activation):
    return getattr(activation, "output_range", (-np.inf, np.inf))


def pairing(loss, output_activation="auto", task=None, y=None):
    """Say whether a (loss, output activation) pair is canonical, what it models and its pitfalls.

    Parameters
    ----------
    loss : str or Loss
        A loss name or object (``"log_loss"`` is resolved from ``task``).
    output_activation : str or Activation, default="auto"
        ``"auto"`` is the loss's canonical activation.
    task : {"regression", "positive", "count", "binary", "multiclass", "multilabel"}, default=None
        What the targets are; without it only task-independent facts are reported.
    y : array-like, default=None
        Regression targets, to check them against the output's range.

    Returns
    -------
    Pairing

    Examples
    --------
    >>> from sknnloss import pairing
    >>> pairing("squared_error", "logistic", task="binary").notes[0][:40]
    'a sigmoid output with a loss other than '
    >>> pairing("log_loss", task="multiclass").distribution
    'categorical (multinomial)'
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; pass one of {TASKS} or None.")
    target_type = {"multiclass": "multiclass", "multilabel": "multilabel-indicator"}.get(
        task, "binary")
    loss_obj = get_loss(loss, target_type=target_type)
    canonical_name = getattr(loss_obj, "canonical_activation", None)
    canonical_act = get_activation(canonical_name) if canonical_name is not None else None
    if isinstance(output_activation, str) and output_activation == "auto":
        if canonical_act is None:
            raise ValueError(f"{loss_obj!r} names no canonical_activation; pass one.")
        activation = canonical_act
    else:
        activation = get_activation(output_activation)
    canonical = canonical_act is not None and type(activation) is type(canonical_act)
    kind = getattr(loss_obj, "target_kind", "real")
    low, high = _range(activation)
    act_name = getattr(activation, "name", None) or _name(activation)
    notes, warnings, errors = [], [], []

    probabilities_out = getattr(activation, "gives_probabilities", None)
    # A probability loss: the likelihood of its canonical output's probabilities.
    probability_loss = getattr(canonical_act, "gives_probabilities", None) is not None
    if probability_loss and not (low >= 0 and high <= 1):
        warnings.append(
            f"{_name(loss)} compares probabilities, but the {act_name} output ranges over "
            f"[{low}, {high}]: predictions outside [0, 1] are clipped and get no gradient. "
            f"Use output_activation='{canonical_name}'."
        )
    if isinstance(activation, type(get_activation("logistic"))) and not probability_loss:
        notes.append(
            "a sigmoid output with a loss other than cross-entropy saturates: the gradient is "
            "multiplied by a(1 - a), which vanishes when the prediction is confidently wrong. "
            "binary_crossentropy with the same output does not."
        )
    if kind in _MARGIN_KINDS and low >= 0:
        warnings.append(
            f"{_name(loss)} wants raw scores around -1 and +1, but the {act_name} output cannot "
            "go negative, so the negative class never reaches its margin. Use an identity "
            "(or tanh) output."
        )
    if probabilities_out == "simplex" and probability_loss and kind == "probability":
        notes.append(
            "a softmax output couples the outputs (each row sums to 1) while the loss treats "
            "them as independent probabilities."
        )
    if low >= 0 and kind == "real" and task not in _CLASSIFICATION:
        notes.append(f"the {act_name} output cannot go negative: for non-negative targets only.")
    if kind == "nonnegative" and low < 0:
        warnings.append(
            f"{_name(loss)} needs positive predictions, but the {act_name} output can be "
            f"negative or zero; those are floored. Use output_activation='{canonical_name}'."
        )

    if task in ("regression", "positive", "count") and kind in ("sign", "class_index"):
        errors.append(
            f"{_name(loss)} is a classification loss; a regression target needs a regression "
            "loss such as 'squared_error', 'absolute_error' or 'poisson'."
        )
    if task == "multilabel":
        if probabilities_out == "simplex":
            warnings.append(
                "a softmax output forces one winner per sample (each row sums to 1), but a "
                "multi-label target can have several labels on at once. Use one sigmoid per "
                "label (output_activation='logistic', loss='binary_crossentropy')."
            )
        if kind in ("class_index", "distribution"):
            errors.append(
                f"{_name(loss)} models one class per sample; a multi-label target needs one "
                "independent output per label (loss='binary_crossentropy' or 'hinge')."
            )
    if task == "binary" and probabilities_out == "simplex" and kind not in (
            "class_index", "distribution"):
        errors.append(
            "a softmax over the single output of a binary target is always 1. Use "
            "output_activation='logistic' (or loss='sparse_categorical_crossentropy' for two "
            "softmax outputs)."
        )
    if y is not None:
        y = np.asarray(y, dtype=float)
        if y.size and (y.min() < low or y.max() > high):
            warnings.append(
                f"the targets span [{y.min():.4g}, {y.max():.4g}], but the {act_name} output "
                f"only reaches [{low}, {high}]: targets outside it cannot be fitted. Scale the "
                "targets or use an output activation that covers them."
            )

    return Pairing(
        loss=_name(loss),
        output_activation=_name(output_activation) if output_activation != "auto"
        else f"auto ({act_name})",
        canonical=canonical,
        distribution=getattr(loss_obj, "distribution", None) if canonical else None,
        estimates=getattr(loss_obj, "estimates", None),
        notes=tuple(notes),
        warnings=tuple(warnings),
        errors=tuple(errors),
    )


_SENSIBLE = {
    "regression": [("squared_error", "identity"), ("absolute_error", "identity"),
                   ("huber", "identity"), ("log_cosh", "identity")],
    "positive": [("gamma", "exp"), ("tweedie", "exp"), ("squared_error", "softplus"),
                 ("absolute_error", "softplus"), ("poisson", "exp")],
    "count": [("poisson", "exp"), ("tweedie", "exp"), ("squared_error", "softplus")],
    "binary": [("log_loss", "logistic"), ("focal", "logistic"), ("hinge", "identity"),
               ("squared_hinge", "identity"), ("modified_huber", "identity")],
    "multiclass": [("log_loss", "softmax"), ("categorical_hinge", "identity"),
                   ("binary_crossentropy", "logistic"), ("hinge", "identity"),
                   ("focal", "logistic")],
    "multilabel": [("binary_crossentropy", "logistic"), ("focal", "logistic"),
                   ("hinge", "identity"), ("squared_hinge", "identity"),
                   ("modified_huber", "identity")],
}


def sensible_pairs(task, prefix=""):
    """The (loss, output activation) pairs worth trying for a task, as a ``param_grid``.

    Parameters
    ----------
    task : {"regression", "positive", "count", "binary", "multiclass", "multilabel"}
        ``"positive"``: positive real targets; ``"count"``: non-negative counts.
    prefix : str, default=""
        Prepended to the parameter names, e.g. ``"mlpclassifier__"`` inside a pipeline.

    Returns
    -------
    param_grid : list of dict
        One grid per pair, ``{prefix + "loss": [loss], prefix + "output_activation": [act]}``,
        ready for :class:`~sklearn.model_selection.GridSearchCV` (add more keys, such as the
        hidden ``activation``, to each dict as needed).

    Examples
    --------
    >>> from sknnloss import sensible_pairs
    >>> sensible_pairs("binary")[0]
    {'loss': ['log_loss'], 'output_activation': ['logistic']}
    """
    if task not in _SENSIBLE:
        raise ValueError(f"Unknown task {task!r}; pass one of {TASKS}.")
    return [{f"{prefix}loss": [loss], f"{prefix}output_activation": [activation]}
            for loss, activation in _SENSIBLE[task]]

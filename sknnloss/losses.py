"""Loss functions: the protocol, the built-ins with their canonical output activations, ``get_loss``.

A loss compares targets ``y_true`` with predictions. Two spaces are kept apart, in names as in
docstrings:

* ``y_pred`` — the prediction in output space, after the output activation;
* ``raw`` — the network's raw output, before the output activation.

Every loss knows its ``canonical_activation``: the output activation (inverse link) for which
the loss is the negative log-likelihood of a distribution. Composed with it, the gradient with
respect to ``raw`` is simply ``y_pred - y_true`` and can be computed stably from ``raw``
(log-sum-exp, log-sigmoid). The estimators use the canonical activation by default
(``output_activation="auto"``) and then call the fused raw-space methods; any other output
activation is composed by the chain rule.

Scaling convention, shared by every built-in: the per-sample loss is **summed over outputs**
and the value is the **weighted mean over samples**,
``sum_i w_i * sum_k l(y_true[i, k], y_pred[i, k]) / sum_i w_i`` (``w_i = 1`` without
sample weights). Gradients are the exact derivatives of that value.

Writing a loss: subclass :class:`Loss` and implement ``pointwise_loss`` and
``pointwise_gradient`` (per sample, unweighted); the base class provides the weighted means, the
raw-space composition with ``canonical_activation`` and ``check_target``. Override
``pointwise_loss_gradient_raw`` for a fused, stable canonical form.
"""

import numpy as np
from scipy.special import expit, logsumexp, xlogy
from sklearn.base import BaseEstimator

from .activations import EXP_RAW_MAX, get_activation

__all__ = [
    "Loss",
    "SquaredError",
    "AbsoluteError",
    "Poisson",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "SparseCategoricalCrossEntropy",
    "Hinge",
    "get_loss",
    "LOSS_ALIASES",
]


def _log_clip(dtype):
    """Smallest probability used inside ``log`` for output-space cross-entropies."""
    return np.finfo(dtype).eps


class Loss(BaseEstimator):
    """Base class of all losses.

    Class attributes describe the loss to the estimators:

    ``canonical_activation``
        Name of the output activation for which this loss is a negative log-likelihood.
    ``target_kind``
        What the targets are: ``"real"`` (any real number), ``"nonnegative"``,
        ``"probability"`` (each output in [0, 1]: 0/1 labels or frequencies), ``"sign"``
        (binary labels given as 0/1 or -1/+1, a classification margin), ``"class_index"``
        (integer class indices, shape ``(n_samples,)``) or ``"distribution"`` (each row a
        probability distribution, e.g. one-hot). The classifier encodes its labels accordingly.
    """

    canonical_activation = "identity"
    target_kind = "real"

    # -- what a subclass implements -------------------------------------------------------
    def pointwise_loss(self, y_true, y_pred):
        """Per-sample loss, summed over outputs, unweighted: shape ``(n_samples,)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement pointwise_loss(y_true, y_pred)."
        )

    def pointwise_gradient(self, y_true, y_pred, out=None):
        """Derivative of each sample's loss with respect to ``y_pred`` (same shape)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement pointwise_gradient(y_true, y_pred, out=None)."
        )

    def check_target(self, y_true):
        """Raise ``ValueError`` if ``y_true`` is outside this loss's domain; else return None."""

    # -- derived: fused value and gradient ------------------------------------------------
    def pointwise_loss_gradient(self, y_true, y_pred, out=None):
        """Per-sample losses and their gradients with respect to ``y_pred``."""
        return self.pointwise_loss(y_true, y_pred), self.pointwise_gradient(
            y_true, y_pred, out=out
        )

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        """Per-sample losses and gradients with respect to ``raw``, through the canonical activation.

        The base class composes ``pointwise_loss_gradient`` with the activation's ``backward``;
        built-ins override it with a fused form that stays finite for any finite ``raw``.
        """
        activation = get_activation(self.canonical_activation)
        y_pred = activation.forward(raw)
        loss, grad_pred = self.pointwise_loss_gradient(y_true, y_pred)
        return loss, activation.backward(raw, y_pred, grad_pred, out=out)

    # -- the public, weighted-mean API ----------------------------------------------------
    def loss_gradient(self, y_true, y_pred, sample_weight=None, out=None):
        """Weighted-mean loss and its gradient with respect to ``y_pred``.

        Parameters
        ----------
        y_true : ndarray
            Targets, of the shape this loss takes (see ``target_kind``).
        y_pred : ndarray of shape (n_samples, n_outputs)
            Predictions in output space.
        sample_weight : ndarray of shape (n_samples,), default=None
            Non-negative weights.
        out : ndarray of shape (n_samples, n_outputs), default=None
            Where to write the gradient.

        Returns
        -------
        value : float
        gradient : ndarray of shape (n_samples, n_outputs)
        """
        loss, grad = self.pointwise_loss_gradient(y_true, y_pred, out=out)
        return _weighted(loss, grad, sample_weight)

    def loss_gradient_raw(self, y_true, raw, sample_weight=None, out=None):
        """Weighted-mean loss and its gradient with respect to ``raw`` (canonical activation).

        Same parameters as :meth:`loss_gradient`, with ``raw`` the pre-activation output.
        """
        loss, grad = self.pointwise_loss_gradient_raw(y_true, raw, out=out)
        return _weighted(loss, grad, sample_weight)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Weighted mean over samples of the per-sample loss (``y_pred`` in output space)."""
        return _weighted_mean(self.pointwise_loss(y_true, y_pred), sample_weight)

    def gradient(self, y_true, y_pred, sample_weight=None):
        """Gradient of ``self(y_true, y_pred, sample_weight)`` with respect to ``y_pred``."""
        return self.loss_gradient(y_true, y_pred, sample_weight)[1]

    def loss_from_raw(self, y_true, raw, sample_weight=None):
        """The loss of ``canonical_activation(raw)``, computed stably from ``raw``."""
        return self.loss_gradient_raw(y_true, raw, sample_weight)[0]

    def gradient_raw(self, y_true, raw, sample_weight=None):
        """Gradient of :meth:`loss_from_raw` with respect to ``raw``."""
        return self.loss_gradient_raw(y_true, raw, sample_weight)[1]


def _weighted_mean(loss, sample_weight):
    if sample_weight is None:
        return float(loss.mean())
    total = sample_weight.sum()
    # Normalise the weights first: loss @ w could overflow or lose precision for extreme w.
    return float(loss @ (sample_weight / total)) if total > 0 else 0.0


def _weighted(loss, grad, sample_weight):
    """Turn per-sample losses and gradients into the weighted mean and its gradient (in place)."""
    if sample_weight is None:
        grad /= loss.shape[0]
        return float(loss.mean()), grad
    total = sample_weight.sum()
    if total == 0:
        grad.fill(0)
        return 0.0, grad
    scale = (sample_weight / total).astype(grad.dtype, copy=False)
    grad *= scale.reshape((-1,) + (1,) * (grad.ndim - 1))
    return float(loss @ scale), grad


def _check_finite_real(loss, y_true):
    if not np.all(np.isfinite(y_true)):
        raise ValueError(f"{loss!r} needs finite targets; y contains NaN or infinity.")


class SquaredError(Loss):
    """Half squared error ``l = 1/2 (y_true - y_pred)^2``, summed over outputs.

    Canonical pair: identity output — the Gaussian likelihood; the prediction estimates the
    conditional **mean**. Gradient ``y_pred - y_true``. Aliases: ``"squared_error"``,
    ``"mse"``. The value equals scikit-learn's MLPRegressor loss for a single output (for
    several outputs scikit-learn averages over outputs; its gradient, like ours, sums).

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import SquaredError
    >>> SquaredError()(np.array([[1.0]]), np.array([[3.0]]))
    2.0
    """

    canonical_activation = "identity"
    target_kind = "real"

    def pointwise_loss(self, y_true, y_pred):
        diff = y_pred - y_true
        return 0.5 * np.einsum("ij,ij->i", diff, diff)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.subtract(y_pred, y_true, out=out)

    def pointwise_loss_gradient(self, y_true, y_pred, out=None):
        grad = np.subtract(y_pred, y_true, out=out)
        return 0.5 * np.einsum("ij,ij->i", grad, grad), grad

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        return self.pointwise_loss_gradient(y_true, raw, out=out)

    def check_target(self, y_true):
        _check_finite_real(self, y_true)


class AbsoluteError(Loss):
    """Absolute error ``l = |y_true - y_pred|``, summed over outputs.

    Canonical pair: identity output — the Laplace likelihood; the prediction estimates the
    conditional **median**, robust to outliers. (Sub)gradient ``sign(y_pred - y_true)``
    (0 where they are equal). Aliases: ``"absolute_error"``, ``"mae"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import AbsoluteError
    >>> AbsoluteError()(np.array([[1.0]]), np.array([[3.0]]))
    2.0
    """

    canonical_activation = "identity"
    target_kind = "real"

    def pointwise_loss(self, y_true, y_pred):
        return np.abs(y_pred - y_true).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        out = np.subtract(y_pred, y_true, out=out)
        return np.sign(out, out=out)

    def pointwise_loss_gradient(self, y_true, y_pred, out=None):
        diff = np.subtract(y_pred, y_true, out=out)
        loss = np.abs(diff).sum(axis=1)
        return loss, np.sign(diff, out=diff)

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        return self.pointwise_loss_gradient(y_true, raw, out=out)

    def check_target(self, y_true):
        _check_finite_real(self, y_true)


class Poisson(Loss):
    """Half Poisson deviance ``l = y_true log(y_true / y_pred) - y_true + y_pred``.

    Canonical pair: exp output (log link) — the Poisson likelihood for **counts** (and
    non-negative rates); the prediction estimates the conditional mean. From ``raw``:
    ``l = exp(raw) - y_true raw + (y_true log y_true - y_true)``, gradient
    ``exp(raw) - y_true``. The same value as scikit-learn's MLPRegressor(loss="poisson").
    ``raw`` is capped at :data:`~sknnloss.activations.EXP_RAW_MAX` like the exp activation;
    in output space ``y_pred`` is floored at machine epsilon inside the log, so a zero
    prediction (e.g. from a softplus output) gives a finite loss. Targets must be
    non-negative.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Poisson
    >>> Poisson()(np.array([[2.0]]), np.array([[2.0]]))
    0.0
    """

    canonical_activation = "exp"
    target_kind = "nonnegative"

    def pointwise_loss(self, y_true, y_pred):
        # y_pred is floored at eps inside the log (as the cross-entropies clip), so a zero
        # prediction, e.g. from a softplus output, gives a large but finite loss.
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        return (xlogy(y_true, y_true) - xlogy(y_true, p) - y_true + y_pred).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        out = np.divide(y_true, p, out=out)
        out[y_pred != p] = 0  # the floored log is flat there: only the "+ y_pred" term remains
        np.subtract(1, out, out=out)
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        capped = np.minimum(raw, EXP_RAW_MAX)
        y_pred = np.exp(capped)
        loss = (y_pred - y_true * capped + xlogy(y_true, y_true) - y_true).sum(axis=1)
        grad = np.subtract(y_pred, y_true, out=out)
        grad[raw > EXP_RAW_MAX] = 0
        return loss, grad

    def check_target(self, y_true):
        _check_finite_real(self, y_true)
        if np.any(y_true < 0):
            raise ValueError(
                f"{self!r} needs non-negative targets (counts or rates); the smallest "
                f"target is {np.min(y_true)}. Use loss='squared_error' for real-valued targets."
            )


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy ``l = -(y log p + (1 - y) log(1 - p))``, summed over outputs.

    Canonical pair: logistic (sigmoid) output — the Bernoulli likelihood, one independent
    probability per output: binary targets (one output) and multi-label targets (one output
    per label). From ``raw``: ``l = softplus(raw) - y raw`` (log-sigmoid, exact for any
    ``raw``), gradient ``sigmoid(raw) - y``. Targets are 0/1 labels or frequencies in [0, 1].
    In output space ``p`` is clipped to ``[eps, 1 - eps]`` as scikit-learn does.
    Aliases: ``"binary_crossentropy"``, ``"binary_log_loss"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import BinaryCrossEntropy
    >>> round(BinaryCrossEntropy()(np.array([[1.0]]), np.array([[0.5]])), 4)
    0.6931
    """

    canonical_activation = "logistic"
    target_kind = "probability"

    def pointwise_loss(self, y_true, y_pred):
        eps = _log_clip(y_pred.dtype)
        p = np.clip(y_pred, eps, 1 - eps)
        return -(xlogy(y_true, p) + xlogy(1 - y_true, 1 - p)).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        eps = _log_clip(y_pred.dtype)
        p = np.clip(y_pred, eps, 1 - eps)
        out = np.subtract(p, y_true, out=out)
        out /= p * (1 - p)
        out[(y_pred != p)] = 0  # the clipped region is flat
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        # softplus(raw) - y raw = log(1 + exp(raw)) - y raw
        loss = (np.logaddexp(0, raw) - y_true * raw).sum(axis=1)
        grad = expit(raw, out=out)
        grad -= y_true
        return loss, grad

    def check_target(self, y_true):
        _check_finite_real(self, y_true)
        if np.any((y_true < 0) | (y_true > 1)):
            raise ValueError(
                f"{self!r} needs targets in [0, 1] (0/1 labels or frequencies); got values "
                f"from {np.min(y_true)} to {np.max(y_true)}."
            )


class CategoricalCrossEntropy(Loss):
    """Categorical cross-entropy ``l = -sum_k y_k log p_k`` for one-hot or soft targets.

    Canonical pair: softmax output — the multinomial likelihood. Targets are rows of shape
    ``(n_samples, n_classes)``: one-hot labels, or distributions (each row summing to 1).
    From ``raw``: ``l = logsumexp(raw) sum_k y_k - sum_k y_k raw_k`` (log-sum-exp, exact for
    any ``raw``), gradient ``softmax(raw) sum_k y_k - y``. Output-space ``p`` is clipped to
    ``[eps, 1]`` inside the log. Use :class:`SparseCategoricalCrossEntropy` for integer
    labels: it never builds the one-hot matrix. Alias: ``"categorical_crossentropy"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import CategoricalCrossEntropy
    >>> y_true = np.array([[1.0, 0.0, 0.0]])
    >>> round(CategoricalCrossEntropy()(y_true, np.array([[0.42, 0.34, 0.24]])), 4)
    0.8675
    """

    canonical_activation = "softmax"
    target_kind = "distribution"

    def pointwise_loss(self, y_true, y_pred):
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        return -xlogy(y_true, p).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        out = np.divide(y_true, p, out=out)
        np.negative(out, out=out)
        out[y_pred != p] = 0
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        lse = logsumexp(raw, axis=1)
        mass = y_true.sum(axis=1)
        loss = lse * mass - np.einsum("ij,ij->i", y_true, raw)
        grad = np.subtract(raw, lse[:, np.newaxis], out=out)
        np.exp(grad, out=grad)
        grad *= mass[:, np.newaxis]
        grad -= y_true
        return loss, grad

    def check_target(self, y_true):
        _check_finite_real(self, y_true)
        if y_true.ndim != 2 or np.any(y_true < 0):
            raise ValueError(
                f"{self!r} needs non-negative target rows of shape (n_samples, n_classes) "
                "(one-hot labels or distributions); for integer labels use "
                "'sparse_categorical_crossentropy'."
            )


class SparseCategoricalCrossEntropy(Loss):
    """Categorical cross-entropy for integer class indices: ``l = -log p[y]``.

    Canonical pair: softmax output — the multinomial likelihood. Targets are integer class
    indices of shape ``(n_samples,)``, so no ``n_samples x n_classes`` one-hot matrix is ever
    built. From ``raw``: ``l = logsumexp(raw) - raw[y]``, gradient ``softmax(raw) - onehot(y)``
    computed in place. This is what ``loss="log_loss"`` means for a multiclass target.
    Alias: ``"sparse_categorical_crossentropy"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import SparseCategoricalCrossEntropy
    >>> y_pred = np.array([[0.42, 0.34, 0.24]])
    >>> round(SparseCategoricalCrossEntropy()(np.array([0]), y_pred), 4)
    0.8675
    """

    canonical_activation = "softmax"
    target_kind = "class_index"

    @staticmethod
    def _rows(y_true):
        return np.arange(y_true.shape[0]), np.asarray(y_true, dtype=np.intp)

    def pointwise_loss(self, y_true, y_pred):
        rows, cols = self._rows(y_true)
        return -np.log(np.maximum(y_pred[rows, cols], _log_clip(y_pred.dtype)))

    def pointwise_gradient(self, y_true, y_pred, out=None):
        rows, cols = self._rows(y_true)
        out = np.zeros_like(y_pred) if out is None else out
        out.fill(0)
        picked = y_pred[rows, cols]
        clipped = np.maximum(picked, _log_clip(y_pred.dtype))
        out[rows, cols] = np.where(picked == clipped, -1.0 / clipped, 0.0)
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        rows, cols = self._rows(y_true)
        lse = logsumexp(raw, axis=1)
        loss = lse - raw[rows, cols]
        grad = np.subtract(raw, lse[:, np.newaxis], out=out)
        np.exp(grad, out=grad)
        grad[rows, cols] -= 1
        return loss, grad

    def check_target(self, y_true):
        if y_true.ndim != 1 or not np.issubdtype(np.asarray(y_true).dtype, np.integer):
            raise ValueError(
                f"{self!r} needs integer class indices of shape (n_samples,); got an array "
                f"of shape {np.shape(y_true)} and dtype {np.asarray(y_true).dtype}. For "
                "one-hot rows use 'categorical_crossentropy'."
            )
        if y_true.size and y_true.min() < 0:
            raise ValueError(f"{self!r} needs class indices >= 0; got {y_true.min()}.")


class Hinge(Loss):
    """Hinge loss ``l = max(0, 1 - t y_pred)`` with ``t = +1`` for the positive label, else -1.

    A margin loss, not a likelihood: its canonical output is the identity (a raw score), its
    natural outputs are not probabilities, so a classifier trained with it offers
    ``decision_function`` instead of ``predict_proba``. Targets are 0/1 or -1/+1 labels, one
    column per binary problem (binary, multi-label, or one-vs-rest multiclass). Subgradient
    ``-t`` where the margin ``t y_pred < 1``, else 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Hinge
    >>> Hinge()(np.array([[1.0]]), np.array([[0.25]]))
    0.75
    """

    canonical_activation = "identity"
    target_kind = "sign"

    @staticmethod
    def _sign(y_true):
        return np.where(y_true > 0, 1.0, -1.0).astype(
            y_true.dtype if np.issubdtype(y_true.dtype, np.floating) else np.float64,
            copy=False,
        )

    def pointwise_loss(self, y_true, y_pred):
        margin = self._sign(y_true) * y_pred
        return np.maximum(0, 1 - margin).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        t = self._sign(y_true)
        out = np.negative(t, out=out)
        out[t * y_pred >= 1] = 0
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        return self.pointwise_loss_gradient(y_true, raw, out=out)

    def check_target(self, y_true):
        values = np.unique(y_true)
        if not (np.isin(values, [0, 1]).all() or np.isin(values, [-1, 1]).all()):
            raise ValueError(
                f"{self!r} needs binary labels coded 0/1 or -1/+1; got values "
                f"{values[:10].tolist()}."
            )


#: Every string accepted by :func:`get_loss`, mapped to its class: scikit-learn's names and
#: Keras'. ``"log_loss"`` is resolved from the target type (see :func:`get_loss`).
LOSS_ALIASES = {
    "squared_error": SquaredError,
    "mse": SquaredError,
    "absolute_error": AbsoluteError,
    "mae": AbsoluteError,
    "poisson": Poisson,
    "binary_crossentropy": BinaryCrossEntropy,
    "binary_log_loss": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossEntropy,
    "hinge": Hinge,
}

_REQUIRED_METHODS = ("__call__", "gradient")


def get_loss(loss, target_type=None):
    """Resolve a loss given by name or as an object.

    Parameters
    ----------
    loss : str or Loss
        One of :data:`LOSS_ALIASES`, ``"log_loss"``, or an object with the loss protocol
        (returned unchanged).
    target_type : {"binary", "multiclass", "multilabel-indicator"}, default=None
        Resolves ``"log_loss"``: binary cross-entropy for binary and multi-label targets, sparse
        categorical cross-entropy for multiclass targets (binary when None).

    Returns
    -------
    loss : Loss

    Examples
    --------
    >>> from sknnloss.losses import get_loss
    >>> get_loss("log_loss", target_type="multiclass")
    SparseCategoricalCrossEntropy()
    """
    if isinstance(loss, str):
        if loss == "log_loss":
            if target_type == "multiclass":
                return SparseCategoricalCrossEntropy()
            return BinaryCrossEntropy()
        try:
            return LOSS_ALIASES[loss]()
        except KeyError:
            raise ValueError(
                f"Unknown loss {loss!r}. Pass one of {sorted([*LOSS_ALIASES, 'log_loss'])} "
                "or a Loss object."
            ) from None
    missing = [m for m in _REQUIRED_METHODS if not callable(getattr(loss, m, None))]
    if missing:
        raise TypeError(
            f"{loss!r} is not a loss: it lacks {missing}. Pass a loss name or an object "
            "implementing __call__(y_true, y_pred, sample_weight=None) and "
            "gradient(y_true, y_pred, sample_weight=None) (subclass sknnloss.losses.Loss "
            "and implement pointwise_loss and pointwise_gradient)."
        )
    return loss

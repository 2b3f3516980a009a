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

import math

import numpy as np
from scipy.special import expit, xlogy
from sklearn.base import BaseEstimator

from .activations import EXP_RAW_MAX, _row_sums, get_activation

__all__ = [
    "Loss",
    "SquaredError",
    "AbsoluteError",
    "Poisson",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "SparseCategoricalCrossEntropy",
    "Hinge",
    "Huber",
    "Quantile",
    "LogCosh",
    "Gamma",
    "Tweedie",
    "Focal",
    "SquaredHinge",
    "ModifiedHuber",
    "CategoricalHinge",
    "KLDivergence",
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
    ``distribution``, ``estimates``
        The likelihood behind the loss and what its prediction estimates, in words.
    ``target_kind``
        What the targets are: ``"real"`` (any real number), ``"nonnegative"``,
        ``"probability"`` (each output in [0, 1]: 0/1 labels or frequencies), ``"sign"``
        (binary labels given as 0/1 or -1/+1, a classification margin), ``"class_index"``
        (integer class indices, shape ``(n_samples,)``) or ``"distribution"`` (each row a
        probability distribution, e.g. one-hot). The classifier encodes its labels accordingly.
    """

    canonical_activation = "identity"
    target_kind = "real"
    #: The likelihood the loss is the negative log of, with its canonical activation (or None).
    distribution = None
    #: What the prediction estimates, in words (used by :func:`sknnloss.pairing`).
    estimates = None

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
        """Raise ``ValueError`` if ``y_true`` is outside this loss's domain; else return None.

        The base class rejects non-finite targets; subclasses add their domain's limits.
        """
        _check_finite_real(self, y_true)

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
        With an identity canonical activation ``raw`` is the prediction itself.
        """
        if self.canonical_activation in ("identity", "linear"):
            return self.pointwise_loss_gradient(y_true, raw, out=out)
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


def _softmax_logsumexp(raw, out=None, row_scale=None):
    """Row-wise ``logsumexp(raw)`` and ``softmax(raw)`` (written into ``out``) from one pass of
    exponentials: the row maximum is subtracted first, so nothing overflows.

    With ``row_scale`` (a number, or one per row) the probabilities come out multiplied by it,
    in the same pass that normalises them.

    The shift is each row's own maximum, though a reduction along short rows is slow in numpy
    (9 us on 200 x 10, against about 1 us for the maximum of the whole batch): with one shift for
    the batch, a row far below the batch maximum gets ``logsumexp = log(sum) + shift`` with
    ``log(sum)`` large and negative, and the cancellation costs it up to ~100 ulps, enough to
    make the cross-entropy of a confident row slightly negative. With the row's own maximum
    every sum is in ``[1, n_columns]``, so the log-sum-exp is never below the row maximum.
    """
    row_max = np.maximum.reduce(raw, axis=1)
    out = np.subtract(raw, row_max[:, np.newaxis], out=out)
    np.exp(out, out=out)
    total = _row_sums(out)
    factor = np.reciprocal(total) if row_scale is None else np.divide(row_scale, total)
    out *= factor[:, np.newaxis]
    np.log(total, out=total)
    total += row_max
    return total, out


#: The largest spread of logits (batch maximum minus smallest target logit) for which the
#: cross-entropy shifts each row by its target's logit (see :func:`_softmax_from_target`).
_TARGET_SHIFT_LIMIT = 64.0
_SHIFT_LIMITS = {}  # the limit per dtype: np.finfo costs microseconds on every batch


def _softmax_from_target(raw, rows, cols, picked, out=None, row_scale=None):
    """Row-wise cross-entropy ``logsumexp(raw) - picked`` and its gradient
    ``row_scale * (softmax(raw) - onehot)`` (written into ``out``), each row shifted by its
    target's logit ``picked = raw[rows, cols]`` instead of its maximum. Returns None, having
    written nothing, when the logits are too far apart for it, not finite where it matters,
    or empty: the caller then shifts by the row maxima.

    The target's own term is ``exp(0) = 1``. Kept out of the sum ``s`` of the others, the
    cross-entropy is ``log1p(s)`` and the target's gradient ``-row_scale s / (1 + s)``: exact
    for confident rows, where ``log(1 + s)`` loses ``s`` below the dtype's resolution at 1
    and ``p - 1`` cancels; never negative. And no reduction along the short rows, which
    numpy does slowly (9 us for the row maxima of 200 x 10; the check here is two
    whole-array reductions of about 1 us each).

    The check keeps the batch maximum minus the smallest target logit (an upper bound of
    every shifted logit) below :data:`_TARGET_SHIFT_LIMIT`, and below half the log of the
    dtype's largest number (44 in float32): no sum overflows and no normalising factor
    leaves the normal range. Rounding ``raw - picked`` (half an ulp of the spread) costs the
    largest probabilities a relative error of up to half an ulp of the spread, where the
    row maximum's shift is exact near the maximum; the limit bounds that to about 35 ulps
    of the dtype (measured: 4e-6 in float32, 8e-15 in float64), a few ulps at the spreads
    of most batches.
    """
    if raw.size == 0:
        return None
    limit = _SHIFT_LIMITS.get(raw.dtype)
    if limit is None:
        limit = min(_TARGET_SHIFT_LIMIT, 0.5 * math.log(float(np.finfo(raw.dtype).max)))
        _SHIFT_LIMITS[raw.dtype] = limit
    spread = float(np.maximum.reduce(raw, axis=None)) - float(np.minimum.reduce(picked))
    if not spread < limit:  # also nan, +inf, and a target at -inf
        return None
    out = np.subtract(raw, picked[:, np.newaxis], out=out)
    np.exp(out, out=out)
    out[rows, cols] = 0  # the target's term, 1, stays out of the sum
    others = _row_sums(out)
    loss = np.log1p(others)
    total = others + 1
    # The target's -s, scaled with the rest of its row by row_scale / (1 + s) below.
    out[rows, cols] = np.negative(others, out=others)
    factor = np.reciprocal(total, out=total) if row_scale is None else np.divide(
        row_scale, total, out=total)
    out *= factor[:, np.newaxis]
    return loss, out


_ARANGE = np.arange(0)


def _arange(n):
    """``np.arange(n)`` as a read-only view of a shared array, grown when needed: row indices
    for fancy indexing, without an allocation on every training batch."""
    global _ARANGE
    rows = _ARANGE
    if rows.shape[0] < n:
        rows = np.arange(max(n, 2 * rows.shape[0]))
        rows.flags.writeable = False
        _ARANGE = rows
    return rows[:n]


def _row_weights(sample_weight, n_samples, dtype):
    """What each row's loss is multiplied by in the weighted mean: ``1 / n_samples``, or the
    sample weights divided by their sum (None when they sum to zero)."""
    if sample_weight is None:
        return dtype.type(1.0 / n_samples)
    total = sample_weight.sum()
    if total == 0:
        return None
    return (sample_weight / total).astype(dtype, copy=False)


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
    scale = _row_weights(sample_weight, loss.shape[0], grad.dtype)
    if scale is None:
        grad.fill(0)
        return 0.0, grad
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

    distribution = "Gaussian"
    estimates = "the conditional mean"
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

    distribution = "Laplace"
    estimates = "the conditional median"
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



class Poisson(Loss):
    """Half Poisson deviance ``l = y_true log(y_true / y_pred) - y_true + y_pred``.

    Canonical pair: exp output (log link) — the Poisson likelihood for **counts** (and
    non-negative rates); the prediction estimates the conditional mean. From ``raw``:
    ``l = exp(raw) - y_true raw + (y_true log y_true - y_true)``, gradient
    ``exp(raw) - y_true``. The same value as scikit-learn's MLPRegressor(loss="poisson").
    Beyond ``|raw| = EXP_RAW_MAX`` (50) the loss continues along its tangent, so it stays
    finite for any raw with a gradient that still points back; in output space ``y_pred``
    is floored at machine epsilon inside the log, so a zero prediction (e.g. from a
    softplus output) gives a finite loss. Targets must be non-negative.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Poisson
    >>> Poisson()(np.array([[2.0]]), np.array([[2.0]]))
    0.0
    """

    distribution = "Poisson"
    estimates = "the conditional mean of counts or rates"
    canonical_activation = "exp"
    target_kind = "nonnegative"

    def pointwise_loss(self, y_true, y_pred):
        # y_pred is floored at eps (as the cross-entropies clip), so a zero prediction, e.g.
        # from a softplus output, gives a large but finite loss; below the floor (an output
        # that can go negative) the loss is flat, never lower than at the floor.
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        return (xlogy(y_true, y_true) - xlogy(y_true, p) - y_true + p).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        out = np.divide(y_true, p, out=out)
        np.subtract(1, out, out=out)
        out[y_pred != p] = 0  # flat below the floor
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        loss, grad = _log_link(
            raw,
            lambda r: np.exp(r) - y_true * r + xlogy(y_true, y_true) - y_true,
            lambda r: np.exp(r) - y_true,
        )
        if out is None:
            return loss, grad
        np.copyto(out, grad)
        return loss, out

    def check_target(self, y_true):
        _check_finite_real(self, y_true)
        if np.any(y_true < 0):
            raise ValueError(
                f"{self!r} needs non-negative targets (counts or rates); the smallest "
                f"target is {np.min(y_true)}. Use loss='squared_error' for real-valued targets."
            )


class Huber(Loss):
    """Huber loss: ``1/2 r^2`` for ``|r| <= delta``, else ``delta (|r| - delta / 2)``.

    ``r = y_pred - y_true``, summed over outputs. Quadratic near the target and linear in the
    tails: a compromise between the mean (squared error) and the median (absolute error),
    robust to outliers. Canonical output: identity. Gradient ``clip(r, -delta, delta)``.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from quadratic to linear, in units of the target.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Huber
    >>> Huber(delta=1.0)(np.array([[0.0], [0.0]]), np.array([[0.5], [3.0]]))
    1.3125
    """

    distribution = None
    estimates = "a robust location between the conditional mean and median"
    canonical_activation = "identity"
    target_kind = "real"

    def __init__(self, delta=1.0):
        self.delta = delta

    def _delta(self):
        if not self.delta > 0:
            raise ValueError(f"Huber(delta={self.delta!r}): pass a positive delta.")
        return self.delta

    def pointwise_loss(self, y_true, y_pred):
        delta = self._delta()
        abs_r = np.abs(y_pred - y_true)
        quadratic = np.minimum(abs_r, delta)
        return (0.5 * quadratic * quadratic + delta * (abs_r - quadratic)).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        delta = self._delta()
        out = np.subtract(y_pred, y_true, out=out)
        return np.clip(out, -delta, delta, out=out)



class Quantile(Loss):
    """Quantile (pinball) loss ``l = max(q r, (q - 1) r)`` with ``r = y_true - y_pred``.

    Canonical pair: identity output; the prediction estimates the conditional **quantile**
    ``q`` (the median for ``q = 0.5``, where the loss is half the absolute error).
    Gradient ``-q`` where ``y_true > y_pred``, else ``1 - q``. Aliases: ``"quantile"``,
    ``"pinball"``.

    Parameters
    ----------
    quantile : float in (0, 1), default=0.5

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Quantile
    >>> Quantile(quantile=0.9)(np.array([[1.0], [1.0]]), np.array([[0.0], [2.0]]))
    0.5
    """

    distribution = "asymmetric Laplace"
    estimates = "a conditional quantile (the `quantile` parameter)"
    canonical_activation = "identity"
    target_kind = "real"

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def _q(self):
        if not 0 < self.quantile < 1:
            raise ValueError(
                f"Quantile(quantile={self.quantile!r}): pass a value strictly between 0 and 1."
            )
        return self.quantile

    def pointwise_loss(self, y_true, y_pred):
        q = self._q()
        r = y_true - y_pred
        return np.maximum(q * r, (q - 1) * r).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        q = self._q()
        return _where_into(y_true > y_pred, -q, 1 - q, out, y_pred)



class LogCosh(Loss):
    """Log-cosh loss ``l = log(cosh(y_pred - y_true))``, summed over outputs.

    Like ``r^2 / 2`` for small residuals and ``|r| - log 2`` for large ones: a smooth,
    robust regression loss. Computed as ``|r| + log1p(exp(-2|r|)) - log 2``, exact for any
    residual. Canonical output: identity. Gradient ``tanh(r)``. Alias: ``"log_cosh"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import LogCosh
    >>> round(LogCosh()(np.array([[0.0]]), np.array([[1.0]])), 4)
    0.4338
    """

    distribution = None
    estimates = "a robust location, close to the mean for small residuals"
    canonical_activation = "identity"
    target_kind = "real"

    def pointwise_loss(self, y_true, y_pred):
        abs_r = np.abs(y_pred - y_true)
        log_2 = abs_r.dtype.type(np.log(2))
        return (abs_r + np.log1p(np.exp(-2 * abs_r)) - log_2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        out = np.subtract(y_pred, y_true, out=out)
        return np.tanh(out, out=out)



def _log_link(raw, value, gradient, cap=EXP_RAW_MAX):
    """Evaluate a log-link loss from ``raw``, continued linearly outside ``|raw| <= cap``.

    ``value(r)`` and ``gradient(r)`` are evaluated at ``r = clip(raw, -cap, cap)``; beyond the
    cap the loss follows its tangent, so value and gradient stay finite and consistent for any
    raw. Returns the per-sample loss (summed over outputs) and the gradient.
    """
    r = np.clip(raw, -cap, cap)
    grad = gradient(r)
    loss = value(r)
    excess = raw - r
    if np.any(excess):
        loss = loss + grad * excess
    return loss.sum(axis=1), grad


def _tweedie_value(y_true, y_pred, power):
    """Half Tweedie deviance in output space (``y_pred > 0``), zero at ``y_pred = y_true``."""
    if power == 0:
        return 0.5 * (y_true - y_pred) ** 2
    if power == 1:
        return xlogy(y_true, y_true) - xlogy(y_true, y_pred) - y_true + y_pred
    if power == 2:
        return np.log(y_pred / y_true) + y_true / y_pred - 1
    one, two = 1 - power, 2 - power
    first = np.maximum(y_true, 0) ** two / (one * two) if power < 2 else y_true ** two / (one * two)
    return first - y_true * y_pred**one / one + y_pred**two / two


class Tweedie(Loss):
    """Half Tweedie deviance with a log link (exp output), for ``power`` p <= 0 or p >= 1.

    ``l = y^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p)``, ``mu = exp(raw)``
    (the limits at p = 1 and p = 2 are the Poisson and Gamma deviances), zero at
    ``mu = y``: scikit-learn's ``HalfTweedieLoss`` plus its constant. Gradient with respect
    to ``raw``: ``mu^(2-p) - y mu^(1-p)``. For 1 < p < 2 it models non-negative targets with
    exact zeros (compound Poisson-Gamma: insurance claims, rainfall). ``raw`` beyond
    ``+-EXP_RAW_MAX / max(1, |1 - p|, |2 - p|)`` continues the loss linearly, so it stays
    finite for any raw, in float32 too.

    Parameters
    ----------
    power : float, default=1.5
        0: normal, 1: Poisson, (1, 2): compound Poisson-Gamma, 2: Gamma, 3: inverse Gaussian.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Tweedie
    >>> Tweedie(power=1.5)(np.array([[2.0]]), np.array([[2.0]]))
    0.0
    """

    distribution = "Tweedie"
    estimates = "the conditional mean of non-negative targets"
    canonical_activation = "exp"
    target_kind = "nonnegative"

    def __init__(self, power=1.5):
        self.power = power

    def _power(self):
        p = self.power
        if 0 < p < 1:
            raise ValueError(
                f"Tweedie(power={p!r}): no Tweedie distribution exists for 0 < power < 1; "
                "pass power <= 0 or power >= 1."
            )
        return p

    def pointwise_loss(self, y_true, y_pred):
        p = self._power()
        if p == 1:
            return Poisson.pointwise_loss(self, y_true, y_pred)
        mu = np.maximum(y_pred, _log_clip(y_pred.dtype))
        return _tweedie_value(y_true, mu, p).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        p = self._power()
        if p == 1:
            return Poisson.pointwise_gradient(self, y_true, y_pred, out=out)
        mu = np.maximum(y_pred, _log_clip(y_pred.dtype))
        # d/dmu = mu^-p (mu - y)
        out = np.subtract(mu, y_true, out=out)
        out *= mu ** (-p)
        out[y_pred != mu] = 0  # the floored loss is flat there
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        p = self._power()
        # exp(r (2 - p)) and exp(r (1 - p)) must not overflow: shrink the cap for large |p|.
        cap = EXP_RAW_MAX / max(1.0, abs(1 - p), abs(2 - p))
        loss, grad = _log_link(
            raw,
            lambda r: _tweedie_value(y_true, np.exp(r), p),
            lambda r: np.exp(r * (2 - p)) - y_true * np.exp(r * (1 - p)),
            cap=cap,
        )
        if out is None:
            return loss, grad
        np.copyto(out, grad)
        return loss, out

    def check_target(self, y_true):
        _check_finite_real(self, y_true)
        p = self._power()
        if p >= 2 and np.any(y_true <= 0):
            raise ValueError(
                f"{self!r} needs positive targets (power >= 2); the smallest target is "
                f"{np.min(y_true)}."
            )
        if 1 <= p < 2 and np.any(y_true < 0):
            raise ValueError(
                f"{self!r} needs non-negative targets; the smallest target is {np.min(y_true)}."
            )


class Gamma(Tweedie):
    """Half Gamma deviance ``l = log(mu / y) + y / mu - 1`` with a log link (exp output).

    Canonical pair: exp output — the Gamma likelihood for **positive, right-skewed** targets
    (amounts, durations) whose spread grows with the mean. From ``raw``:
    ``l = raw + y exp(-raw) - log y - 1``, gradient ``1 - y exp(-raw)``; continued linearly
    beyond ``+-EXP_RAW_MAX``. The Tweedie deviance with power 2. Targets must be positive.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Gamma
    >>> Gamma()(np.array([[2.0]]), np.array([[2.0]]))
    0.0
    """

    distribution = "Gamma"
    estimates = "the conditional mean of positive targets"

    def __init__(self):
        pass

    power = 2


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy ``l = -(y log p + (1 - y) log(1 - p))``, summed over outputs.

    Canonical pair: logistic (sigmoid) output — the Bernoulli likelihood, one independent
    probability per output: binary targets (one output) and multi-label targets (one output
    per label). From ``raw``: ``l = softplus(raw) - y raw`` (log-sigmoid, exact for any
    ``raw``), gradient ``sigmoid(raw) - y``. Targets are 0/1 labels or frequencies in [0, 1].
    In output space ``p`` is clipped to ``[eps, 1 - eps]`` as scikit-learn does.
    Aliases: ``"binary_crossentropy"``, ``"binary_log_loss"``.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        Targets are replaced by ``y (1 - label_smoothing) + label_smoothing / 2`` (as Keras
        does), which keeps the network from pushing its raw outputs to infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import BinaryCrossEntropy
    >>> round(BinaryCrossEntropy()(np.array([[1.0]]), np.array([[0.5]])), 4)
    0.6931
    """

    distribution = "Bernoulli"
    estimates = "the probability of each label"
    canonical_activation = "logistic"
    target_kind = "probability"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _smooth(self, y_true):
        return _smooth_labels(self, y_true, 0.5)

    def pointwise_loss(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        eps = _log_clip(y_pred.dtype)
        p = np.clip(y_pred, eps, 1 - eps)
        return -(xlogy(y_true, p) + xlogy(1 - y_true, 1 - p)).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        y_true = self._smooth(y_true)
        eps = _log_clip(y_pred.dtype)
        p = np.clip(y_pred, eps, 1 - eps)
        out = np.subtract(p, y_true, out=out)
        out /= p * (1 - p)
        out[(y_pred != p)] = 0  # the clipped region is flat
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        y_true = self._smooth(y_true)
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


def _smooth_labels(loss, y_true, uniform):
    """``y (1 - eps) + eps * uniform`` for ``eps = loss.label_smoothing`` (``y`` if 0)."""
    eps = loss.label_smoothing
    if not 0 <= eps < 1:
        raise ValueError(
            f"{type(loss).__name__}(label_smoothing={eps!r}): pass a value in [0, 1)."
        )
    if eps == 0:
        return y_true
    return y_true * (1 - eps) + eps * uniform


class CategoricalCrossEntropy(Loss):
    """Categorical cross-entropy ``l = -sum_k y_k log p_k`` for one-hot or soft targets.

    Canonical pair: softmax output — the multinomial likelihood. Targets are rows of shape
    ``(n_samples, n_classes)``: one-hot labels, or distributions (each row summing to 1).
    From ``raw``: ``l = logsumexp(raw) sum_k y_k - sum_k y_k raw_k`` (log-sum-exp, exact for
    any ``raw``), gradient ``softmax(raw) sum_k y_k - y``. Output-space ``p`` is clipped to
    ``[eps, 1]`` inside the log. Use :class:`SparseCategoricalCrossEntropy` for integer
    labels: it never builds the one-hot matrix. Alias: ``"categorical_crossentropy"``.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        Targets are replaced by ``y (1 - label_smoothing) + label_smoothing / n_classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import CategoricalCrossEntropy
    >>> y_true = np.array([[1.0, 0.0, 0.0]])
    >>> round(CategoricalCrossEntropy()(y_true, np.array([[0.42, 0.34, 0.24]])), 4)
    0.8675
    """

    distribution = "categorical (multinomial)"
    estimates = "the class probabilities"
    canonical_activation = "softmax"
    target_kind = "distribution"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _smooth(self, y_true):
        return _smooth_labels(self, y_true, 1.0 / y_true.shape[1])

    def pointwise_loss(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        return -xlogy(y_true, p).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        y_true = self._smooth(y_true)
        p = np.maximum(y_pred, _log_clip(y_pred.dtype))
        out = np.divide(y_true, p, out=out)
        np.negative(out, out=out)
        out[y_pred != p] = 0
        return out

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        y_true = self._smooth(y_true)
        mass = y_true.sum(axis=1)
        loss = -np.einsum("ij,ij->i", y_true, raw)
        lse, grad = _softmax_logsumexp(raw, out)
        loss += lse * mass
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

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        The same smoothing as :class:`CategoricalCrossEntropy`'s, still without a one-hot
        matrix: ``l = logsumexp(raw) - (1 - eps) raw[y] - eps mean(raw)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import SparseCategoricalCrossEntropy
    >>> y_pred = np.array([[0.42, 0.34, 0.24]])
    >>> round(SparseCategoricalCrossEntropy()(np.array([0]), y_pred), 4)
    0.8675
    """

    distribution = "categorical (multinomial)"
    estimates = "the class probabilities"
    canonical_activation = "softmax"
    target_kind = "class_index"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _rows(self, y_true, n_classes):
        """Row and column indices of the target classes, checked against ``n_classes``."""
        y_true = np.asarray(y_true)
        cols = y_true.astype(np.intp, copy=False)
        # One reduction checks the range on every training batch: viewed as unsigned, a
        # negative index is larger than any class count.
        if y_true.ndim != 1 or (cols.size and (
                np.maximum.reduce(cols.view(np.uintp)) >= n_classes
                or (y_true.dtype.kind != "i" and np.any(cols != y_true)))):
            self.check_target(y_true, n_classes=n_classes)
        return _arange(y_true.shape[0]), cols

    def _eps(self):
        return _smooth_labels(self, 0.0, 1.0)  # validates; equals label_smoothing

    def pointwise_loss(self, y_true, y_pred):
        rows, cols = self._rows(y_true, y_pred.shape[1])
        clip = _log_clip(y_pred.dtype)
        loss = -np.log(np.maximum(y_pred[rows, cols], clip))
        eps = self._eps()
        if eps:  # only smoothing needs every class's log-probability
            loss = (1 - eps) * loss - eps * np.log(np.maximum(y_pred, clip)).mean(axis=1)
        return loss

    def pointwise_gradient(self, y_true, y_pred, out=None):
        rows, cols = self._rows(y_true, y_pred.shape[1])
        eps = self._eps()
        clip = _log_clip(y_pred.dtype)
        out = np.zeros_like(y_pred) if out is None else out
        if eps:
            p = np.maximum(y_pred, clip)
            np.divide(-eps / y_pred.shape[1], p, out=out)
            out[y_pred != p] = 0  # the clipped log is flat there
        else:
            out.fill(0)
        picked = y_pred[rows, cols]
        clipped = np.maximum(picked, clip)
        out[rows, cols] -= np.where(picked == clipped, (1 - eps) / clipped, 0.0)
        return out

    def loss_gradient_raw(self, y_true, raw, sample_weight=None, out=None):
        # The training loop's call: the weighting of the mean is folded into the softmax
        # normalisation, which saves a pass over the (possibly very wide) output.
        rows, cols = self._rows(y_true, raw.shape[1])
        return self._fused_mean(rows, cols, self._eps(), raw, sample_weight, out)

    def _loss_gradient_raw_checked(self, y_true, raw, sample_weight=None, out=None):
        """:meth:`loss_gradient_raw` for a 1-D integer ``y_true`` known to hold only
        indices in ``[0, raw.shape[1])``, unchecked (a negative one would wrap): the
        estimators' label encoder makes them so, and the training loop calls this on every
        batch without the per-call check (a reduction that costs several microseconds per
        batch once the matrix products have cooled the caches)."""
        eps = self.label_smoothing
        if eps != 0:  # checked as in loss_gradient_raw; 0, the default, needs no check
            eps = self._eps()
        return self._fused_mean(_arange(y_true.shape[0]), y_true, eps, raw, sample_weight, out)

    def _fused_mean(self, rows, cols, eps, raw, sample_weight, out):
        weights = _row_weights(sample_weight, raw.shape[0], raw.dtype)
        if weights is None:  # all weights zero: nothing to learn from
            grad = np.empty_like(raw) if out is None else out
            grad.fill(0)
            return 0.0, grad
        loss, grad = self._per_row(rows, cols, eps, raw, out, row_scale=weights)
        if sample_weight is None:  # not loss.mean(): its Python-level overhead shows here
            return float(np.add.reduce(loss)) * float(weights), grad
        return float(loss @ weights), grad

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        rows, cols = self._rows(y_true, raw.shape[1])
        return self._per_row(rows, cols, self._eps(), raw, out)

    def _per_row(self, rows, cols, eps, raw, out, row_scale=None):
        """Each row's cross-entropy (smoothed by ``eps``) from the logits ``raw``, and its
        gradient times ``row_scale`` (a number or one per row; None for 1) in ``out``."""
        picked = raw[rows, cols]
        # Before the softmax, which may be written over raw (out=raw).
        smoothing = eps * (picked - raw.mean(axis=1)) if eps else None
        shifted = _softmax_from_target(raw, rows, cols, picked, out, row_scale=row_scale)
        scale = 1.0 if row_scale is None else row_scale
        if shifted is None:
            loss, grad = _softmax_logsumexp(raw, out, row_scale=row_scale)
            loss -= picked
            grad[rows, cols] -= scale
        else:
            loss, grad = shifted
        if eps:
            loss += smoothing
            grad -= (eps / raw.shape[1]) * (scale if np.ndim(scale) == 0
                                             else scale[:, np.newaxis])
            grad[rows, cols] += eps * scale
        return loss, grad

    def check_target(self, y_true, n_classes=None):
        """Raise ``ValueError`` unless ``y_true`` holds integer class indices of shape
        ``(n_samples,)``, each in ``[0, n_classes)`` (``n_classes``: the number of outputs,
        when known)."""
        y_true = np.asarray(y_true)
        if y_true.ndim != 1 or not np.issubdtype(y_true.dtype, np.integer):
            raise ValueError(
                f"{self!r} needs integer class indices of shape (n_samples,); got an array "
                f"of shape {np.shape(y_true)} and dtype {y_true.dtype}. For "
                "one-hot rows use 'categorical_crossentropy'."
            )
        if y_true.size and y_true.min() < 0:
            raise ValueError(f"{self!r} needs class indices >= 0; got {y_true.min()}.")
        if n_classes is not None and y_true.size and y_true.max() >= n_classes:
            raise ValueError(
                f"{self!r} got the class index {y_true.max()} for predictions of "
                f"{n_classes} classes; class indices must lie in [0, {n_classes - 1}]."
            )


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

    distribution = None
    estimates = "a decision margin (no probabilities)"
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

    def check_target(self, y_true):
        values = np.unique(y_true)
        if not (np.isin(values, [0, 1]).all() or np.isin(values, [-1, 1]).all()):
            raise ValueError(
                f"{self!r} needs binary labels coded 0/1 or -1/+1; got values "
                f"{values[:10].tolist()}."
            )


class SquaredHinge(Hinge):
    """Squared hinge ``l = max(0, 1 - t y_pred)^2``, ``t = +-1`` from the label.

    A smooth margin loss (the squared hinge of linear SVMs): canonical output identity,
    ``decision_function`` instead of ``predict_proba``. Gradient ``-2 t max(0, 1 - t y_pred)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import SquaredHinge
    >>> SquaredHinge()(np.array([[1.0]]), np.array([[0.5]]))
    0.25
    """

    distribution = None
    estimates = "a decision margin (no probabilities)"

    def pointwise_loss(self, y_true, y_pred):
        slack = np.maximum(0, 1 - self._sign(y_true) * y_pred)
        return (slack * slack).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        t = self._sign(y_true)
        out = np.multiply(t, y_pred, out=out)
        np.subtract(1, out, out=out)
        np.maximum(out, 0, out=out)
        out *= -2 * t
        return out


class ModifiedHuber(Hinge):
    """Modified Huber ``l = max(0, 1 - z)^2`` for ``z = t y_pred >= -1``, else ``-4 z``.

    The smooth margin loss of scikit-learn's ``SGDClassifier(loss="modified_huber")``: robust
    to outliers, and it yields probability estimates ``(clip(y_pred, -1, 1) + 1) / 2``, so a
    classifier trained with it keeps ``predict_proba``. Unlike scikit-learn's, the estimates
    are kept within [eps, 1 - eps], so ``predict_log_proba`` stays finite. Canonical output:
    identity.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import ModifiedHuber
    >>> ModifiedHuber()(np.array([[1.0]]), np.array([[-3.0]]))
    12.0
    """

    distribution = None
    estimates = "a decision margin, with rough probabilities"

    gives_probabilities = "independent"

    def probabilities(self, y_pred):
        """Per-output probabilities ``(clip(y_pred, -1, 1) + 1) / 2``, kept in [eps, 1 - eps]."""
        eps = np.finfo(y_pred.dtype).eps
        return np.clip((np.clip(y_pred, -1, 1) + 1) / 2, eps, 1 - eps)

    def pointwise_loss(self, y_true, y_pred):
        z = self._sign(y_true) * y_pred
        slack = np.maximum(0, 1 - z)
        return np.where(z >= -1, slack * slack, -4 * z).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        t = self._sign(y_true)
        z = t * y_pred
        grad = np.where(z >= -1, -2 * t * np.maximum(0, 1 - z), -4 * t)
        if out is None:
            return grad.astype(y_pred.dtype, copy=False)
        np.copyto(out, grad, casting="same_kind")
        return out


class Focal(Loss):
    """Binary focal loss ``l = -(y (1-p)^g log p + (1-y) p^g log(1-p))``, ``p = sigmoid(raw)``.

    Binary cross-entropy with each sample down-weighted by how well it is already classified
    (Lin et al., 2017): with ``gamma > 0`` training focuses on hard examples, which helps with
    imbalanced data. ``gamma = 0`` is binary cross-entropy. Canonical output: logistic; the
    fused form works from log-sigmoids, exact for any raw. (Class balancing, the ``alpha`` of
    the paper, is the estimators' job: sample or class weights.) Aliases: ``"focal"``,
    ``"binary_focal_crossentropy"``.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import Focal
    >>> round(Focal(gamma=2.0)(np.array([[1.0]]), np.array([[0.5]])), 4)
    0.1733
    """

    distribution = None
    estimates = "a probability per label, reweighted towards hard samples (less calibrated)"
    canonical_activation = "logistic"
    target_kind = "probability"

    def __init__(self, gamma=2.0):
        self.gamma = gamma

    def _gamma(self):
        if not self.gamma >= 0:
            raise ValueError(f"Focal(gamma={self.gamma!r}): pass gamma >= 0.")
        return self.gamma

    def _terms(self, y_true, p, q, log_p, log_q):
        """Loss and d loss / d raw from p, q = 1 - p and their logs."""
        g = self._gamma()
        q_g, p_g = q**g, p**g
        loss = -(y_true * q_g * log_p + (1 - y_true) * p_g * log_q)
        grad = y_true * (g * p * q_g * log_p - q_g * q) + (1 - y_true) * (
            p_g * p - g * p_g * q * log_q
        )
        return loss.sum(axis=1), grad

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        p, q = expit(raw), expit(-raw)
        loss, grad = self._terms(y_true, p, q, -np.logaddexp(0, -raw), -np.logaddexp(0, raw))
        if out is None:
            return loss, grad
        np.copyto(out, grad)
        return loss, out

    def _output_space(self, y_true, y_pred):
        eps = _log_clip(y_pred.dtype)
        p = np.clip(y_pred, eps, 1 - eps)
        loss, grad_raw = self._terms(y_true, p, 1 - p, np.log(p), np.log1p(-p))
        grad = grad_raw / (p * (1 - p))  # d raw / d p of the logistic link
        grad[y_pred != p] = 0  # the clipped region is flat
        return loss, grad

    def pointwise_loss(self, y_true, y_pred):
        return self._output_space(y_true, y_pred)[0]

    def pointwise_gradient(self, y_true, y_pred, out=None):
        grad = self._output_space(y_true, y_pred)[1]
        if out is None:
            return grad
        np.copyto(out, grad)
        return out

    check_target = BinaryCrossEntropy.check_target


class CategoricalHinge(Loss):
    """Categorical (multiclass) hinge ``l = max(0, 1 + max_{k != y} f_k - f_y)`` on raw scores.

    Crammer and Singer's margin loss with one-hot targets: the true class's score must beat
    every other by a margin of 1 (the rival is taken among the other classes only, so the
    loss does not change when every score shifts by a constant). Canonical output:
    identity, so a classifier trained with it offers ``decision_function`` (argmax) instead
    of ``predict_proba``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import CategoricalHinge
    >>> CategoricalHinge()(np.array([[1.0, 0.0, 0.0]]), np.array([[2.0, 1.5, 0.0]]))
    0.5
    """

    distribution = None
    estimates = "a multiclass decision margin (no probabilities)"
    canonical_activation = "identity"
    target_kind = "distribution"

    def _parts(self, y_true, y_pred):
        positive = np.einsum("ij,ij->i", y_true, y_pred)
        # The best-scoring class other than the target's (Keras multiplies by 1 - y_true
        # instead, which lets the target's own zero compete when every score is negative).
        rival = np.argmax(np.where(y_true > 0, -np.inf, y_pred), axis=1)
        negative = y_pred[np.arange(len(rival)), rival]
        return np.maximum(0, 1 + negative - positive), rival

    def pointwise_loss(self, y_true, y_pred):
        return self._parts(y_true, y_pred)[0]

    def pointwise_gradient(self, y_true, y_pred, out=None):
        loss, rival = self._parts(y_true, y_pred)
        active = (loss > 0).astype(y_pred.dtype)[:, np.newaxis]
        out = np.multiply(y_true, -active, out=out)
        rows = np.arange(len(rival))
        out[rows, rival] += active[:, 0] * (1 - y_true[rows, rival])
        return out

    def check_target(self, y_true):
        CategoricalCrossEntropy.check_target(self, y_true)


class KLDivergence(CategoricalCrossEntropy):
    """Kullback-Leibler divergence ``l = sum_k y_k log(y_k / p_k)`` from target distributions.

    Categorical cross-entropy minus the targets' entropy: the same gradients, but zero when
    the prediction matches the target distribution. Canonical output: softmax. Targets are
    rows of probabilities (soft labels, e.g. from a teacher model). Aliases:
    ``"kl_divergence"``, ``"kld"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.losses import KLDivergence
    >>> KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))
    0.0
    """

    distribution = "categorical (multinomial)"
    estimates = "the target distribution"

    def __init__(self):
        pass

    label_smoothing = 0.0

    def pointwise_loss(self, y_true, y_pred):
        return super().pointwise_loss(y_true, y_pred) + xlogy(y_true, y_true).sum(axis=1)

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        loss, grad = super().pointwise_loss_gradient_raw(y_true, raw, out=out)
        return loss + xlogy(y_true, y_true).sum(axis=1), grad


def _where_into(condition, x, y, out, like):
    """``np.where(condition, x, y)`` in the dtype of ``like``, written into ``out`` if given."""
    result = np.where(condition, x, y).astype(like.dtype, copy=False)
    if out is None:
        return result
    np.copyto(out, result)
    return out


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
    "huber": Huber,
    "quantile": Quantile,
    "pinball": Quantile,
    "log_cosh": LogCosh,
    "gamma": Gamma,
    "tweedie": Tweedie,
    "focal": Focal,
    "binary_focal_crossentropy": Focal,
    "squared_hinge": SquaredHinge,
    "modified_huber": ModifiedHuber,
    "categorical_hinge": CategoricalHinge,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
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

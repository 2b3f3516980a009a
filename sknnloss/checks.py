"""Checks for user-defined activations and losses: protocol, shapes, finiteness, gradients.

Before training with an activation or loss you wrote, run :func:`check_activation` or
:func:`check_loss` on it: each raises an error that names the object, the method and what is
wrong (a missing method, a wrong output shape, a non-finite value, a derivative that disagrees
with finite differences), and returns None when everything holds.
"""

import pickle

import numpy as np
from sklearn.base import clone

from .activations import get_activation
from .losses import get_loss

__all__ = ["check_activation", "check_loss"]

_FD_STEP = 1e-6
_FD_RTOL = 1e-5
_KINK_GAP = 1e-3


def _relative_error(a, b):
    scale = max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)
    return np.linalg.norm(a - b) / scale


def _check_array(obj, method, result, shape):
    result = np.asarray(result)
    if result.shape != shape:
        raise ValueError(
            f"{obj!r}.{method} returned an array of shape {result.shape}; expected {shape}."
        )
    if not np.all(np.isfinite(result)):
        raise ValueError(f"{obj!r}.{method} returned nan or inf for finite inputs.")
    return result


def _check_params_protocol(obj):
    if not hasattr(obj, "get_params"):
        return
    try:
        copy = clone(obj)
        copy.set_params(**obj.get_params())
        pickle.loads(pickle.dumps(obj))
        repr(obj)
    except Exception as exc:  # noqa: BLE001 - report any failure with the object's name
        raise TypeError(
            f"{type(obj).__name__} cannot be cloned or pickled ({type(exc).__name__}: {exc}); "
            "store "
            "every __init__ argument unchanged as an attribute of the same name, as "
            "scikit-learn estimators do."
        ) from exc


def _away_from_kinks(rng, shape, kinks=(0.0,), low=-3.0, high=3.0):
    z = rng.uniform(low, high, size=shape)
    for kink in kinks:
        near = np.abs(z - kink) < _KINK_GAP
        z[near] += 2 * _KINK_GAP
    return z


def require_trainable_methods(activation, where):
    """Raise ``TypeError`` if a trainable activation lacks a method training needs."""
    for method in ("n_params", "init_params", "param_gradient"):
        if not callable(getattr(activation, method, None)):
            raise TypeError(
                f"{where} says it is trainable but lacks {method}(); see "
                "sknnloss.activations.PReLU."
            )


def check_activation(activation, n_units=4, random_state=0):
    """Check that an activation follows the protocol and that its derivative is right.

    Checks ``forward`` (shape, finiteness, ``out=``, input left untouched), ``backward``
    against central finite differences of ``forward``, and for trainable activations
    ``n_params``, ``init_params`` and ``param_gradient``; and that the object clones and
    pickles (so it works in ``GridSearchCV`` and saved models).

    Parameters
    ----------
    activation : str or Activation
    n_units : int, default=4
    random_state : int, default=0

    Raises
    ------
    TypeError
        Missing methods, or an object that cannot be cloned or pickled.
    ValueError
        Wrong shapes, non-finite outputs, or derivatives that disagree with finite
        differences (the message gives the relative error).

    Examples
    --------
    >>> from sknnloss.activations import Tanh
    >>> from sknnloss.checks import check_activation
    >>> check_activation(Tanh())
    """
    activation = get_activation(activation)
    _check_params_protocol(activation)
    rng = np.random.RandomState(random_state)
    shape = (6, n_units)
    z = _away_from_kinks(rng, shape)
    kwargs = {}
    if getattr(activation, "trainable", False):
        require_trainable_methods(activation, repr(activation))
        n_params = int(activation.n_params(n_units))
        params = _check_array(activation, "init_params",
                              activation.init_params(n_units, np.float64), (n_params,))
        kwargs = {"params": params + rng.uniform(-0.1, 0.1, size=n_params)}

    z_before = z.copy()
    a = _check_array(activation, "forward", activation.forward(z, **kwargs), shape)
    if not np.array_equal(z, z_before):
        raise ValueError(f"{activation!r}.forward changed its input z; write to out= only.")
    out = np.empty(shape)
    returned = activation.forward(z, out=out, **kwargs)
    if not np.allclose(out, a) or not np.allclose(returned, a):
        raise ValueError(f"{activation!r}.forward(z, out=...) must write the result to out.")

    # backward is the gradient of sum(grad_a * forward(z)) with respect to z.
    grad_a = rng.normal(size=shape)
    grad_z = _check_array(activation, "backward",
                          activation.backward(z, a.copy(), grad_a.copy(), **kwargs), shape)
    _compare_with_differences(
        activation, "backward", lambda z_: np.sum(grad_a * activation.forward(z_, **kwargs)),
        z, grad_z)
    if kwargs:
        params = kwargs["params"]
        analytic = _check_array(
            activation, "param_gradient",
            activation.param_gradient(z, a, grad_a, params), params.shape)
        _compare_with_differences(
            activation, "param_gradient",
            lambda p: np.sum(grad_a * activation.forward(z, params=p)), params, analytic)


def _example_targets(loss, rng, n_samples, n_outputs):
    kind = getattr(loss, "target_kind", "real")
    if kind == "class_index":
        return rng.randint(0, n_outputs, size=n_samples)
    if kind == "distribution":
        return np.eye(n_outputs)[rng.randint(0, n_outputs, size=n_samples)]
    if kind in ("probability", "sign"):
        return rng.randint(0, 2, size=(n_samples, n_outputs)).astype(float)
    if kind == "nonnegative":
        return rng.uniform(0.5, 3.0, size=(n_samples, n_outputs))
    return rng.normal(size=(n_samples, n_outputs))


def check_loss(loss, y_true=None, raw=None, random_state=0):
    """Check that a loss follows the protocol and that its gradients are right.

    Checks ``__call__`` (a finite float), ``gradient`` (shape, finiteness, agreement with
    central finite differences of ``__call__`` in output space), the raw-space forms against
    finite differences and against the composition with ``canonical_activation``, the
    weighting (uniform sample weights change nothing), and that the object clones and pickles.

    Parameters
    ----------
    loss : str or Loss
    y_true : ndarray, default=None
        Targets to check with; by default drawn to match the loss's ``target_kind``.
    raw : ndarray of shape (n_samples, n_outputs), default=None
        Raw outputs to check at; by default random values in [-2, 2].
    random_state : int, default=0

    Raises
    ------
    TypeError
        Missing methods, or an object that cannot be cloned or pickled.
    ValueError
        Non-float values, wrong shapes, non-finite outputs, or gradients that disagree with
        finite differences (the message gives the relative error).

    Examples
    --------
    >>> from sknnloss.losses import Huber
    >>> from sknnloss.checks import check_loss
    >>> check_loss(Huber(delta=0.5))
    """
    loss = get_loss(loss)
    _check_params_protocol(loss)
    rng = np.random.RandomState(random_state)
    n_samples, n_outputs = 5, 3
    if raw is None:
        raw = rng.uniform(-2, 2, size=(n_samples, n_outputs))
    n_samples, n_outputs = raw.shape
    if y_true is None:
        y_true = _example_targets(loss, rng, n_samples, n_outputs)
    canonical = getattr(loss, "canonical_activation", None)
    activation = get_activation(canonical) if canonical is not None else get_activation("identity")
    y_pred = activation.forward(raw)

    value = loss(y_true, y_pred)
    if not isinstance(value, (float, np.floating)) or not np.isfinite(value):
        raise ValueError(f"{loss!r}(y_true, y_pred) must return a finite float; got {value!r}.")
    weights = np.full(n_samples, 2.5)
    weighted = loss(y_true, y_pred, weights)
    if not np.isclose(weighted, value, rtol=1e-10):
        raise ValueError(
            f"{loss!r}: uniform sample weights changed the value ({weighted} vs {value}); the "
            "value must be the weighted mean over samples."
        )

    grad = _check_array(loss, "gradient", loss.gradient(y_true, y_pred), y_pred.shape)
    _compare_with_differences(loss, "gradient", lambda p: loss(y_true, p), y_pred, grad)

    if callable(getattr(loss, "loss_from_raw", None)):
        raw_value = loss.loss_from_raw(y_true, raw)
        if not np.isclose(raw_value, value, rtol=1e-8, atol=1e-12):
            raise ValueError(
                f"{loss!r}.loss_from_raw(y, raw) = {raw_value} but loss(y, "
                f"{activation!r}.forward(raw)) = {value}: the raw-space form must equal the "
                "composition with canonical_activation."
            )
        raw_grad = _check_array(loss, "gradient_raw", loss.gradient_raw(y_true, raw),
                                raw.shape)
        _compare_with_differences(loss, "gradient_raw",
                                  lambda r: loss.loss_from_raw(y_true, r), raw, raw_grad)


def _compare_with_differences(obj, method, function, point, analytic):
    numeric = np.empty_like(point, dtype=float)
    for index in np.ndindex(point.shape):
        step = np.zeros_like(point, dtype=float)
        step[index] = _FD_STEP
        numeric[index] = (function(point + step) - function(point - step)) / (2 * _FD_STEP)
    error = _relative_error(analytic, numeric)
    if error > _FD_RTOL:
        raise ValueError(
            f"{obj!r}.{method} disagrees with central finite differences: relative error "
            f"{error:.2e} (tolerance {_FD_RTOL:.0e}). Check it against the function it "
            "differentiates (away from kinks, where finite differences are meaningless)."
        )

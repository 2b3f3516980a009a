"""Input validation beyond scikit-learn's ``validate_data``, and the checks that keep a fit
from ending silently wrong (issue #7; docs/user_guide/robustness.rst).

scikit-learn's own checks (``validate_data``, ``_check_sample_weight``,
``check_classification_targets``) already reject nan/inf, empty, 1-D and mismatched inputs
with clear messages; the functions here cover what they let through:

* ``check_target_input``: sparse targets are densified, and the regressor rejects string /
  categorical targets before scikit-learn tries to turn them into floats;
* ``check_classifier_target``: 2-D targets that are not a 0/1 indicator matrix;
* ``check_sample_weight``: scikit-learn's check, plus weights beyond the range of the training
  dtype (float32 input);
* ``check_validation_split``: an early-stopping split that cannot be made, said before
  ``train_test_split`` fails;
* ``check_protocol``: calls every user-defined activation and loss once on a few synthetic
  rows, exactly as the training loop will call them, so a missing method, a wrong signature,
  a wrong shape or dtype, nan output or an ignored ``out=`` argument is reported at fit naming
  the object, instead of as a numpy traceback from inside the training loop or a silently
  wrong model. Built-in activations and losses are not probed (their own tests cover them);
  ``sknnloss.checks`` has the full checkers, derivatives included;
* ``check_input_scale`` and ``check_training_progress``: warnings for badly scaled inputs and
  targets, and for learning rates far too high or too low, which scikit-learn's stopping rule
  ends silently;
* ``check_fitted_outputs``: finite weights whose outputs overflow are an error, a training
  loss that overflows a warning.
"""

import inspect
import math
import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight

from ._network import output_only
from ._solvers import DivergenceWarning
from .activations import ACTIVATION_ALIASES, Activation
from .checks import require_trainable_methods
from .losses import LOSS_ALIASES

__all__ = [
    "check_target_input",
    "check_classifier_target",
    "check_sample_weight",
    "check_protocol",
    "check_input_scale",
    "check_training_progress",
    "check_validation_split",
    "check_fitted_outputs",
]

_BUILTIN_ACTIVATIONS = frozenset(ACTIVATION_ALIASES.values())
_BUILTIN_LOSSES = frozenset(LOSS_ALIASES.values())
#: Rows of the synthetic probe batch.
PROBE_ROWS = 4


# -- targets --------------------------------------------------------------------------------
def check_target_input(estimator, y):
    """Targets as given to fit / partial_fit, before ``validate_data``.

    Sparse targets (e.g. from ``MultiLabelBinarizer(sparse_output=True)``) are densified: the
    losses work on dense arrays. A regressor (``estimator._validate_y_numeric``) rejects
    non-numeric targets with a message saying what to pass.
    """
    if y is None:
        return y
    if sparse.issparse(y):
        return y.toarray()
    if not getattr(estimator, "_validate_y_numeric", False):
        return y
    name = type(estimator).__name__
    dtype = getattr(y, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype):
        # pandas extension dtypes: categories, strings, nullable numbers.
        kind = getattr(dtype, "kind", None)
        if kind in ("O", "U", "S", None) or str(dtype) == "category":
            values = np.asarray(y)
            _check_numeric_values(values, name, str(dtype))
        return y
    if dtype is None and not hasattr(y, "__array_namespace__"):
        try:
            values = np.asarray(y)
        except ValueError:
            return y  # ragged nested lists: validate_data explains
        _check_numeric_values(values, name, str(values.dtype))
        return y
    if dtype is not None and dtype.kind in "OUSV":
        _check_numeric_values(np.asarray(y), name, str(dtype))
    return y


def _check_numeric_values(values, name, dtype_name):
    if values.dtype.kind in "biufc":
        return
    if values.dtype.kind == "O" and not any(isinstance(v, (str, bytes)) for v in values.flat):
        try:
            values.astype(np.float64)  # numbers (or None: validate_data reports the nan)
            return
        except (TypeError, ValueError):
            pass
    example = next(
        (v for v in values.flat if isinstance(v, (str, bytes)) or not _is_number(v)),
        values.flat[0] if values.size else None,
    )
    if isinstance(example, np.generic):
        example = example.item()
    raise ValueError(
        f"{name} needs numeric targets; y has dtype {dtype_name} (e.g. the value "
        f"{example!r}). For class labels use MLPClassifier; for numbers stored as text "
        "convert them first, e.g. y.astype(float)."
    )


def _is_number(value):
    return isinstance(value, (numbers.Number, np.number)) and not isinstance(value, bool)


def check_classifier_target(y, name):
    """``check_classification_targets``, with a clear message for 2-D targets.

    A 2-D target must be a multi-label indicator matrix of 0s and 1s. scikit-learn calls a
    matrix of other integers 'multiclass-multioutput' and one of other numbers
    'continuous-multioutput' (or, for exactly two distinct integers such as 1/2 or -1/+1,
    'multilabel-indicator' too); none of them is a label indicator matrix.
    """
    y_type = type_of_target(y, input_name="y")
    if y_type in ("multiclass-multioutput", "continuous-multioutput", "multilabel-indicator"):
        values = np.unique(y)
        if y_type == "multilabel-indicator" and np.isin(values, [0, 1]).all():
            return
        shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:10])
        more = ", ..." if len(values) > 10 else ""
        hint = {
            "multilabel-indicator":
                f" Recode it, e.g. (y == {shown.split(', ')[-1]}).astype(int) if that value "
                "means the label applies.",
            "multiclass-multioutput":
                " Multi-output multiclass targets are not supported: fit one classifier per "
                "column, e.g. with sklearn.multioutput.MultiOutputClassifier.",
            "continuous-multioutput":
                " For real-valued targets use MLPRegressor.",
        }[y_type]
        raise ValueError(
            f"Unknown label type: {y_type}. {name} takes class labels of shape (n_samples,) "
            "or a multi-label indicator matrix of shape (n_samples, n_labels) holding only 0 "
            f"and 1; this y of shape {np.shape(y)} holds the values [{shown}{more}].{hint}"
        )
    check_classification_targets(y)


# -- sample weights -------------------------------------------------------------------------
def check_sample_weight(sample_weight, X):
    """scikit-learn's ``_check_sample_weight`` (finite, non-negative, one per sample, not all
    zero), in ``X.dtype``; weights too large for that dtype (float32) are an error, not inf."""
    if sample_weight is None:
        return None
    if X.dtype != np.float64:
        sample_weight = _check_float32_range(sample_weight, X)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                         ensure_non_negative=True)
    if not np.any(sample_weight):  # scikit-learn < 1.8 lets all-zero weights through
        raise ValueError(
            "Sample weights must contain at least one non-zero number: with every weight 0 "
            "there is nothing to learn from."
        )
    return sample_weight


def _check_float32_range(sample_weight, X):
    """The weights in float64, after checking they fit the range of ``X.dtype``."""
    checked = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                   ensure_non_negative=True)
    limit = float(np.finfo(X.dtype).max)
    largest = float(checked.max()) if checked.size else 0.0
    if largest > limit:
        raise ValueError(
            f"sample_weight holds values up to {largest:.3g}, beyond the range of "
            f"{X.dtype} (max {limit:.3g}), the dtype X is trained in. Rescale the "
            "weights (only their ratios matter to the loss) or pass X as float64."
        )
    return checked


# -- the early-stopping split ----------------------------------------------------------------
def check_validation_split(n_samples, validation_fraction, stratify):
    """Raise a clear error before ``train_test_split`` when the early-stopping validation split
    cannot be made: too few samples held out (fewer than 2) or left to train on, or, for a
    stratified split (``stratify``: the labels), a class with a single sample or more classes
    than samples on one side."""
    n_val = math.ceil(validation_fraction * n_samples)
    n_train = n_samples - n_val
    split = (f"early_stopping holds out validation_fraction={validation_fraction} of the "
             f"{n_samples} training samples: {n_val} for validation, {n_train} for training")
    advice = ("Change 'validation_fraction' (it holds out ceil(validation_fraction * "
              "n_samples) samples), use more data, or set early_stopping=False.")
    if n_val < 2 or n_train < 1:
        raise ValueError(f"The validation set is too small: {split}; validation needs at least "
                         f"2 samples and training at least 1. {advice}")
    if stratify is None:
        return
    classes, counts = np.unique(stratify, return_counts=True)
    if counts.min() < 2 or n_val < len(classes) or n_train < len(classes):
        rarest = classes[np.argmin(counts)]
        rarest = rarest.item() if isinstance(rarest, np.generic) else rarest
        raise ValueError(
            f"The validation set is too small: {split}, stratified by class, so both sides "
            f"need a sample of each of the {len(classes)} classes: at least {len(classes)} "
            f"samples on each side and 2 of every class (class {rarest!r} has "
            f"{counts.min()}). {advice}"
        )


# -- scale and training progress: warnings, not errors ---------------------------------------
#: Largest feature magnitude (and target spread) beyond which a fit warns; and below which.
SCALE_HIGH = 1e5
SCALE_LOW = 1e-4
#: A regressor's real-valued target with a standard deviation below this warns: its loss is
#: tiny in absolute terms, and the stopping rules are absolute.
TARGET_SCALE_LOW = 1e-2
#: A fresh stochastic fit stopped by the no-improvement rule with a relative loss decrease
#: below this warns that the weights barely moved.
MIN_RELATIVE_PROGRESS = 1e-3


def check_input_scale(estimator, X, y, loss):
    """Warn (``UserWarning``) when X, or a regressor's real-valued target, is far from unit
    scale: an MLP then trains poorly or not at all (saturated or dead units, a step size that
    does not fit, a loss below the tolerance), often without any other sign. ``y`` is None
    for the classifier."""
    name = type(estimator).__name__
    if sparse.issparse(X):
        largest = float(abs(X).max()) if X.nnz else 0.0
    else:
        largest = float(max(X.max(), -X.min())) if X.size else 0.0
    advice = ("Standardise the features, e.g. make_pipeline(StandardScaler(), "
              f"{name}(...)).")
    if largest > SCALE_HIGH:
        warnings.warn(
            f"X has features reaching {largest:.3g} in magnitude: an MLP trains poorly on "
            "features far from unit scale (saturated or dead units, steps that do not fit the "
            f"weights). {advice}",
            UserWarning,
            stacklevel=5,
        )
    elif 0 < largest < SCALE_LOW:
        warnings.warn(
            f"Every feature of X is below {largest:.3g} in magnitude: the network barely sees "
            "the inputs (the gradients of the first layer vanish), so it may learn a constant. "
            f"{advice}",
            UserWarning,
            stacklevel=5,
        )
    if y is None or getattr(loss, "target_kind", "real") != "real" or y.shape[0] < 2:
        return
    spread = float(np.max(np.std(y, axis=0)))
    target_advice = ("Scale the target, e.g. TransformedTargetRegressor(regressor=..., "
                     "transformer=StandardScaler()).")
    if spread > SCALE_HIGH:
        warnings.warn(
            f"The target y has a standard deviation of {spread:.3g}: the output layer needs "
            f"weights of that size, which the solvers reach slowly if at all. {target_advice}",
            UserWarning,
            stacklevel=5,
        )
    elif 0 < spread < TARGET_SCALE_LOW:
        warnings.warn(
            f"The target y has a standard deviation of only {spread:.3g}: the loss is tiny in "
            f"absolute terms, and the stopping rules are absolute (tol={estimator.tol}, and "
            "scipy's own tolerances), so training stops long before the model fits. "
            f"{target_advice}",
            UserWarning,
            stacklevel=5,
        )


def check_training_progress(estimator):
    """After a fresh fit with 'sgd' or 'adam': warn (``ConvergenceWarning``) when training
    never lowered the loss below the first epoch's, or stopped early having barely lowered
    it; the learning rate is then likely far too high or too low. scikit-learn's stopping
    rule ends both silently."""
    n_iter = getattr(estimator, "n_iter_", 0)
    curve = list(getattr(estimator, "loss_curve_", []))[-n_iter:] if n_iter else []
    if len(curve) < 2 or not np.all(np.isfinite(curve)) or curve[0] == 0:
        return
    first, best, last = curve[0], min(curve[1:]), curve[-1]
    rate = estimator.learning_rate_init
    if best >= first and last > first:
        warnings.warn(
            f"Training never lowered the loss below its first epoch's ({first:.4g}); it ended "
            f"at {last:.4g} after {len(curve)} epochs. learning_rate_init={rate} is likely too "
            "high for this activation/loss pair (or the inputs are badly scaled): lower it, "
            "scale the inputs (e.g. StandardScaler), or bound the steps with max_grad_norm.",
            ConvergenceWarning,
            stacklevel=5,
        )
        return
    progress = (first - best) / abs(first)
    if len(curve) < estimator.max_iter and progress < MIN_RELATIVE_PROGRESS:
        warnings.warn(
            f"Training stopped after {len(curve)} epochs having lowered the loss by only "
            f"{progress:.2g} (relative; from {first:.6g} to {best:.6g}): the weights barely "
            f"moved. learning_rate_init={rate} is likely too small (or the hidden units are "
            "saturated or dead, or the inputs badly scaled): raise it, or scale the inputs.",
            ConvergenceWarning,
            stacklevel=5,
        )


#: Training rows on which the fitted network's output is checked.
OUTPUT_CHECK_ROWS = 64


def check_fitted_outputs(estimator, X):
    """After training: raise ``ValueError`` when the fitted weights, though finite, overflow
    the network's output on (the first rows of) the training data, since such a model would
    predict inf or nan; warn (``DivergenceWarning``) when the final training loss is not
    finite although the outputs are (the loss itself overflows, e.g. in float32).

    The stochastic solvers catch a diverging epoch and restore earlier weights, but a step in
    the last epoch can leave weights whose products overflow (exp units in float32, say); the
    scipy solvers stop where the objective stops being finite."""
    network, params = estimator._network, estimator._params
    X_probe = X[:OUTPUT_CHECK_ROWS]
    with np.errstate(all="ignore"):
        raw, y_pred = network.forward(params, X_probe)
    if not (np.all(np.isfinite(raw)) and np.all(np.isfinite(y_pred))):
        raise ValueError(
            "Training ended with weights that overflow the network's output on the training "
            f"data (inf or nan for {int(np.sum(~np.all(np.isfinite(raw), axis=1)))} of the "
            f"first {X_probe.shape[0]} samples, in {params.dtype}): the model cannot predict. "
            "The learning rate is likely too high for this activation/loss pair, or the inputs "
            "are badly scaled: lower learning_rate_init, scale the inputs (e.g. "
            "StandardScaler), bound the steps with max_grad_norm, or train in float64."
        )
    loss = getattr(estimator, "loss_", None)
    if loss is not None and not np.isfinite(loss):
        warnings.warn(
            f"Training ended with a non-finite training loss (loss_={loss}) although the "
            f"network's outputs are finite: the loss overflows {params.dtype} at these "
            f"weights (solver={estimator.solver!r} could not make progress from them). The "
            "weights are kept, but they are likely untrained. Train in float64, scale the "
            "inputs and targets, or choose activations that cannot blow up (exp units "
            "stacked on exp units, say).",
            DivergenceWarning,
            stacklevel=5,
        )


# -- the protocol probe ---------------------------------------------------------------------
def _probe_values(n_rows, n_units, dtype, scale=2.0):
    """Deterministic inputs in [-scale, scale], none at the kink 0."""
    z = np.linspace(-scale, scale, n_rows * n_units).reshape(n_rows, n_units)
    z[np.abs(z) < 1e-3] = 0.125 * scale
    return z.astype(dtype)


def _describe(obj):
    """``repr(obj)`` when the object has its own (a parameter object), else its type."""
    if type(obj).__repr__ is object.__repr__:
        return f"<{type(obj).__name__} object>"
    return repr(obj)


def _call(obj, where, method, signature, *args, **kwargs):
    function = getattr(obj, method, None)
    if not callable(function):
        raise TypeError(
            f"{where} has no method {method}{signature}, which the training loop calls."
        )
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(
            f"{where}: {method} cannot be called as {method}{signature} ({exc}). The training "
            "loop calls it with exactly these arguments; accept them (out=None included)."
        ) from exc
    except ValueError:  # no signature available (e.g. a builtin): just call it
        pass
    with np.errstate(all="ignore"):
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report any failure naming the object
            raise ValueError(
                f"{where}: {method}{signature} raised {type(exc).__name__} ({exc}) on a probe "
                f"batch of {args[0].shape[0]} finite rows."
            ) from exc


def _check_result(result, where, call, shape, dtype=None):
    if not isinstance(result, np.ndarray):
        raise TypeError(
            f"{where}.{call} returned {type(result).__name__}; it must return a numpy array of "
            f"shape {shape}."
        )
    if result.shape != shape:
        raise ValueError(
            f"{where}.{call} returned an array of shape {result.shape}; expected {shape}, the "
            "shape of its input."
        )
    if result.dtype.kind != "f" or (dtype is not None and result.dtype != dtype):
        expected = dtype if dtype is not None else "a floating dtype"
        raise TypeError(
            f"{where}.{call} returned an array of dtype {result.dtype}; expected {expected}, "
            "the dtype of its input (float32 input is trained in float32)."
        )
    if not np.all(np.isfinite(result)):
        raise ValueError(f"{where}.{call} returned nan or inf for finite inputs in [-2, 2].")
    return result


def _probe_activation(activation, where, n_units, dtype):
    z = _probe_values(PROBE_ROWS, n_units, dtype)
    shape = z.shape
    kwargs = {}
    if getattr(activation, "trainable", False):
        require_trainable_methods(activation, where)
        kwargs = {"params": np.asarray(activation.init_params(n_units, dtype))}

    out = np.empty_like(z)
    a = _call(activation, where, "forward", "(z, out=...)", z.copy(), out=out, **kwargs)
    _check_result(a, where, "forward(z, out=...)", shape, dtype)
    if not np.array_equal(out, a):
        raise ValueError(
            f"{where}.forward(z, out=out) did not write its result into out. The training "
            "loop reads out: write the result there and return it (e.g. "
            "return np.tanh(z, out=out))."
        )
    plain = _call(activation, where, "forward", "(z)", z.copy(), **kwargs)
    _check_result(plain, where, "forward(z)", shape)
    in_place = z.copy()
    in_place = _call(activation, where, "forward", "(z, out=z)", in_place, out=in_place,
                     **kwargs)
    _check_result(in_place, where, "forward(z, out=z)", shape, dtype)
    if not np.allclose(in_place, a, rtol=1e-5, atol=1e-6):
        raise ValueError(
            f"{where}.forward(z, out=z) (in place, as predict calls it) gives a different "
            "result from forward(z, out=other_array): it overwrites z while still reading "
            "it. Compute what you need from z before writing into out."
        )
    grad_a = _probe_values(PROBE_ROWS, n_units, dtype, scale=1.0)
    if getattr(type(activation), "backward", None) is Activation.backward:
        # Activation.backward multiplies by derivative(z, a): a wrong shape would broadcast.
        slope = np.asarray(_call(activation, where, "derivative", "(z, a)", z.copy(),
                                 a.copy()))
        if slope.dtype.kind not in "biuf":
            raise TypeError(f"{where}.derivative(z, a) returned an array of dtype "
                            f"{slope.dtype}; it must return numbers.")
        _check_result(slope.astype(float), where, "derivative(z, a)", shape)
    grad_z = _call(activation, where, "backward", "(z, a, grad_a, out=...)", z.copy(),
                   a.copy(), grad_a, out=np.empty_like(z), **kwargs)
    _check_result(grad_z, where, "backward(z, a, grad_a, out=...)", shape, dtype)
    if output_only(activation):
        _probe_output_only(activation, where, a, grad_a, grad_z, kwargs)


def _probe_output_only(activation, where, a, grad_a, grad_z, kwargs):
    """An activation with ``derivative_from_output = True`` is called with ``z=None`` in
    training (its pre-activation was overwritten by its output): check that it copes."""
    advice = (f"{where} sets derivative_from_output = True, so the training loop overwrites z "
              "with the output and calls backward(None, a, grad_a); ")
    try:
        with np.errstate(all="ignore"):
            from_output = activation.backward(None, a.copy(), grad_a.copy(),
                                              out=np.empty_like(a), **kwargs)
    except Exception as exc:  # noqa: BLE001 - report any failure naming the object
        raise ValueError(
            advice + f"that call raised {type(exc).__name__} ({exc}). Compute the derivative "
            "from a alone, or set derivative_from_output = False."
        ) from exc
    if (not isinstance(from_output, np.ndarray) or from_output.shape != a.shape
            or not np.allclose(from_output, grad_z, rtol=1e-5, atol=1e-6)):
        raise ValueError(
            advice + "its result differs from backward(z, a, grad_a). Compute the derivative "
            "from a alone, or set derivative_from_output = False."
        )


def _check_value(value, where, call):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise TypeError(
            f"{where}.{call} returned {value!r} ({type(value).__name__}) as the loss value; it "
            "must return a float (the weighted mean over samples)."
        )
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "fiu":
        raise TypeError(
            f"{where}.{call} returned an array of shape {np.shape(value)} as the loss value; "
            "it must return a float (the weighted mean over samples, e.g. "
            "float(np.average(per_sample, weights=sample_weight)))."
        )
    if not np.isfinite(float(value)):
        raise ValueError(
            f"{where}.{call} returned {float(value)} as the loss value for finite predictions "
            "and valid targets; it must be finite."
        )


def _check_gradient(grad, where, call, shape):
    grad = np.asarray(grad)
    if grad.dtype.kind not in "fiu":
        raise TypeError(
            f"{where}.{call} returned a gradient of dtype {grad.dtype}; it must be a numeric "
            "array."
        )
    if grad.shape != shape:
        raise ValueError(
            f"{where}.{call} returned a gradient of shape {grad.shape}; expected {shape}, the "
            "shape of the network output (n_samples, n_outputs)."
        )
    if not np.all(np.isfinite(grad)):
        raise ValueError(
            f"{where}.{call} returned a gradient with nan or inf for finite predictions and "
            "valid targets."
        )


def _probe_loss(loss, where, fused, output_activation, y, sample_weight, n_outputs, dtype):
    n_rows = min(PROBE_ROWS, y.shape[0])
    y_probe = y[:n_rows]
    sw = None if sample_weight is None else sample_weight[:n_rows]
    raw = _probe_values(n_rows, n_outputs, dtype, scale=1.0)
    shape = raw.shape
    if fused:
        prediction, methods = raw, ("loss_gradient_raw", "loss_from_raw", "gradient_raw")
    else:
        with np.errstate(all="ignore"):
            prediction = np.asarray(output_activation.forward(raw))
        methods = ("loss_gradient", "__call__", "gradient")
    fused_method, value_method, grad_method = methods
    args = "(y_true, raw, sample_weight" if fused else "(y_true, y_pred, sample_weight"
    if callable(getattr(loss, fused_method, None)):
        call = f"{fused_method}{args}, out=...)"
        result = _call(loss, where, fused_method, f"{args}, out=...)", y_probe, prediction,
                       sw, out=np.empty(shape, dtype))
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(
                f"{where}.{call} returned {type(result).__name__}; it must return the pair "
                "(value, gradient)."
            )
        value, grad = result
        _check_value(value, where, call)
        _check_gradient(grad, where, call, shape)
        return
    value = _call(loss, where, value_method, f"{args})", y_probe, prediction, sw)
    _check_value(value, where, f"{value_method}{args})")
    grad = _call(loss, where, grad_method, f"{args})", y_probe, prediction, sw)
    _check_gradient(grad, where, f"{grad_method}{args})", shape)


def check_protocol(hidden_activations, hidden_sizes, output_activation, loss, fused, y,
                   sample_weight, n_outputs, dtype):
    """Probe every user-defined activation and loss on a few synthetic rows, as training calls
    them; raise ``TypeError`` / ``ValueError`` naming the object and what is wrong.

    Parameters
    ----------
    hidden_activations : list of Activation
        One per hidden layer (resolved objects).
    hidden_sizes : list of int
    output_activation : Activation
    loss : Loss
    fused : bool
        Whether training calls the loss's raw-space methods.
    y : ndarray
        The encoded targets (the probe uses their first rows: a valid target).
    sample_weight : ndarray or None
    n_outputs : int
    dtype : numpy dtype
        The training dtype.
    """
    dtype = np.dtype(dtype)
    seen = set()
    for layer, (activation, units) in enumerate(zip(hidden_activations, hidden_sizes), 1):
        if type(activation) in _BUILTIN_ACTIVATIONS or (id(activation), units) in seen:
            continue
        seen.add((id(activation), units))
        where = f"activation={_describe(activation)} (hidden layer {layer})"
        _probe_activation(activation, where, units, dtype)
    if type(output_activation) not in _BUILTIN_ACTIVATIONS:
        where = f"output_activation={_describe(output_activation)}"
        _probe_activation(output_activation, where, n_outputs, dtype)
    if type(loss) not in _BUILTIN_LOSSES or type(output_activation) not in _BUILTIN_ACTIVATIONS:
        _probe_loss(loss, f"loss={_describe(loss)}", fused, output_activation, y, sample_weight,
                    n_outputs, dtype)

"""ONNX export of ``MLPClassifier`` and ``MLPRegressor`` through skl2onnx.

Importing this module registers converters for both estimators with skl2onnx's converter
registry (see ``register()``), so that ``skl2onnx.to_onnx`` converts a fitted sknnloss model
on its own, or inside a scikit-learn ``Pipeline`` / ``ColumnTransformer`` whose other steps
skl2onnx converts::

    import sknnloss.onnx  # registers the converters (idempotent)
    from skl2onnx import to_onnx

    onx = to_onnx(model, X[:1].astype(np.float32))            # a model alone
    onx = to_onnx(pipeline, df[:1], options={"zipmap": False})  # a pipeline on a DataFrame

It needs the optional dependencies: ``pip install "sknnloss[onnx]"`` (skl2onnx, onnx, and
onnxruntime to run the models).

The graph computes exactly what ``predict`` and ``predict_proba`` compute: the affine layers,
every hidden activation (one per layer when ``activation`` is a list; PReLU with its trained
slopes from ``activation_params_``), the output activation, then the estimator's head.

- ``MLPRegressor`` has one output, ``variable``, of shape (n_samples, n_outputs), also for a
  single output, where ``predict`` returns shape (n_samples,): skl2onnx's convention for
  regressors.
- ``MLPClassifier`` has two outputs, like scikit-learn's classifiers in skl2onnx. ``label`` is
  ``predict``: shape (n_samples,), int64 for integer, boolean or integer-valued float labels,
  string for string labels; for a multi-label target the 0/1 indicator matrix (int64, shape
  (n_samples, n_labels)). ``probabilities`` is ``predict_proba``, shape (n_samples,
  n_classes) or (n_samples, n_labels): ``[1 - p, p]`` for a binary sigmoid, the softmax rows,
  the one-vs-rest sigmoids normalised to sum to 1, the modified Huber estimates. A head
  without ``predict_proba`` (hinge, squared hinge, categorical hinge, or any output that is
  not a probability) puts ``decision_function`` there instead: one column per class (or
  label), and ``[-d, d]`` for a binary target with score ``d``.

By default skl2onnx wraps the classifier's second output in a ``ZipMap`` (one
``{label: value}`` dictionary per sample); ``options={"zipmap": False}`` keeps the tensor,
``"columns"`` gives one output per class, and ``options={"nocl": True}`` gives class indices
instead of labels. ONNX's ``ZipMap`` takes float32 only, so a float64 classifier graph needs
``zipmap=False``.

The graph computes in the dtype of its input: a float32 sample gives a float32 graph (weights
rounded to float32), a float64 sample a float64 graph (weights and constants in float64), as
skl2onnx does for scikit-learn's MLPs and preprocessing steps. A model fitted and exported in
the same dtype agrees with ``predict`` and ``predict_proba`` to a few units in the last place
(about 1e-6 relative in float32, 1e-13 in float64); a float64 model exported as a float32
graph agrees to float32 precision only.

Every built-in activation of ``sknnloss.activations`` is exported exactly (names in
``SUPPORTED_ACTIVATIONS``): Identity, Logistic, Tanh, ReLU, LeakyReLU, PReLU, ELU, SELU, GELU
(the exact erf form and the tanh approximation), SiLU, Softplus, Softsign, HardSigmoid, Mish,
ReLU6, Softmax and Exp (capped at ``EXP_RAW_MAX``, as ``predict`` caps it). Nothing is
approximated: an activation of your own (even a subclass of a built-in), a loss of your own
with a ``probabilities`` method raise ``NotImplementedError`` at conversion, naming what is
not supported. Batch normalisation (``batch_norm=True``) is folded into the affine layer
before it, using the running statistics as ``predict`` does; dropout does nothing at
inference and leaves no trace in the graph.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> import sknnloss.onnx  # registers the converters
>>> from sknnloss import MLPRegressor
>>> X = np.random.RandomState(0).normal(size=(50, 3)).astype(np.float32)
>>> y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
>>> model = MLPRegressor(hidden_layer_sizes=(8,), activation="gelu", solver="lbfgs",
...                      max_iter=500, random_state=0).fit(X, y)
>>> onx = to_onnx(model, X[:1])
>>> session = ort.InferenceSession(onx.SerializeToString(),
...                                providers=["CPUExecutionProvider"])
>>> pred = session.run(None, {"X": X})[0]
>>> pred.shape
(50, 1)
>>> bool(np.allclose(pred[:, 0], model.predict(X), rtol=1e-5, atol=1e-6))
True
"""

from numbers import Integral

import numpy as np

try:
    import skl2onnx
    from onnx import TensorProto
except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in the tests
    raise ImportError(
        "sknnloss.onnx needs the optional ONNX dependencies (skl2onnx, onnx, and onnxruntime "
        'to run the exported models). Install them with: pip install "sknnloss[onnx]"'
    ) from exc

try:
    from skl2onnx import update_registered_converter
    # A private helper: the one skl2onnx's own classifier parser uses to append ZipMap. A
    # skl2onnx without it fails here, with the message below.
    from skl2onnx._parse import _apply_zipmap
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int32TensorType,
        Int64TensorType,
        StringTensorType,
    )
except ImportError as exc:  # pragma: no cover - depends on the installed skl2onnx
    raise ImportError(
        f"sknnloss.onnx does not work with skl2onnx {skl2onnx.__version__}: {exc}. Install "
        'a supported version with: pip install "sknnloss[onnx]"'
    ) from exc

from sklearn.utils.validation import check_is_fitted

from ._network import BN_EPSILON
from ._classes import MLPClassifier, MLPRegressor, _output_probability_kind
from ._onnx_ops import SUPPORTED_ACTIVATIONS, GraphBuilder, check_activation, emit_activation
from .losses import ModifiedHuber

__all__ = ["register", "SUPPORTED_ACTIVATIONS"]

_CLASSIFIER_ALIAS = "SknnlossMLPClassifier"
_REGRESSOR_ALIAS = "SknnlossMLPRegressor"
_INPUT_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType,
                BooleanTensorType)

_registered = False


def register():
    """Register the converters of MLPClassifier and MLPRegressor with skl2onnx.

    Called when ``sknnloss.onnx`` is imported; calling it again does nothing. Afterwards
    ``skl2onnx.to_onnx`` (and ``convert_sklearn``) converts both estimators, alone or in
    pipelines. The classifier accepts skl2onnx's options ``zipmap`` (True, the default;
    False; or "columns") and ``nocl`` (False, the default; True for class indices
    ``0..n_classes - 1`` instead of the labels).

    Returns
    -------
    None
    """
    global _registered
    if _registered:
        return
    update_registered_converter(
        MLPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor,
    )
    update_registered_converter(
        MLPClassifier, _CLASSIFIER_ALIAS, _classifier_shapes, _convert_classifier,
        parser=_parse_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )
    _registered = True


# -- the network --------------------------------------------------------------------------------
def _affine_layers(model):
    """The affine map of every layer, as ``[(coef, intercept), ...]`` (hidden layers, then the
    output layer); ``a_next = a @ coef + intercept``.

    The one place the export reads the weights: a normalisation folded into the affine maps
    (e.g. batch normalisation at inference) belongs here. Dropout does nothing at inference.
    """
    layers = [(np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64))
              for coef, intercept in zip(model.coefs_, model.intercepts_)]
    if getattr(model._network, "batch_norm", False):
        # Prediction-mode batch normalisation is an affine map per unit, folded into the
        # layer before it: (x W + b - mean) * s + shift with s = scale / sqrt(var + eps)
        # is x (W s) + ((b - mean) s + shift).
        for i, (scale, shift, mean, var) in enumerate(zip(
                model.bn_scales_, model.bn_shifts_, model.bn_running_means_,
                model.bn_running_vars_)):
            coef, intercept = layers[i]
            factor = np.asarray(scale, np.float64) / np.sqrt(
                np.asarray(var, np.float64) + BN_EPSILON)
            layers[i] = (coef * factor, (intercept - mean) * factor + shift)
    return layers


def _hidden_activations(model):
    """Per hidden layer, ``(activation, trained parameters or None)`` of the fitted network."""
    network = model._network
    return list(zip(network.hidden_activations, model.activation_params_))


def _output_activation(model):
    return model._network.output_activation


def _check_network(model):
    """Raise unless every layer of the fitted model has an exact ONNX form."""
    check_is_fitted(model)
    _affine_layers(model)
    for i, (activation, _) in enumerate(_hidden_activations(model), start=1):
        check_activation(activation, f"hidden layer {i} of {type(model).__name__}")
    check_activation(_output_activation(model),
                     f"the output layer of {type(model).__name__}")


def _forward(builder, model, x):
    """The network's prediction ``output_activation(raw)`` for the input variable ``x``."""
    layers = _affine_layers(model)
    a = x
    for (coef, intercept), (activation, params) in zip(layers[:-1],
                                                        _hidden_activations(model)):
        z = builder.affine(a, coef.astype(builder.dtype), intercept.astype(builder.dtype))
        a = emit_activation(builder, activation, z, params)
    coef, intercept = layers[-1]
    raw = builder.affine(a, coef.astype(builder.dtype), intercept.astype(builder.dtype))
    return emit_activation(builder, _output_activation(model), raw)


# -- types ----------------------------------------------------------------------------------------
def _check_input(operator):
    """Check the operator's input and return the float dtype of the graph."""
    if len(operator.inputs) != 1:
        raise RuntimeError(
            f"{type(operator.raw_operator).__name__} takes one input tensor; the ONNX "
            f"operator has {len(operator.inputs)}. Concatenate the features first (e.g. in "
            "a ColumnTransformer)."
        )
    variable = operator.inputs[0]
    model = operator.raw_operator
    check_is_fitted(model)
    if not isinstance(variable.type, _INPUT_TYPES):
        raise TypeError(
            f"{type(model).__name__} takes a numeric tensor in ONNX; its input "
            f"{variable.onnx_name!r} has type {variable.type!r}. Encode non-numeric columns "
            "first (e.g. OneHotEncoder in a ColumnTransformer)."
        )
    shape = variable.type.shape
    if (shape is not None and len(shape) == 2 and isinstance(shape[1], Integral)
            and shape[1] != model.n_features_in_):
        raise ValueError(
            f"{type(model).__name__} was fitted on {model.n_features_in_} features; its "
            f"ONNX input {variable.onnx_name!r} has {shape[1]} columns."
        )
    return np.float64 if isinstance(variable.type, DoubleTensorType) else np.float32


def _tensor_type(dtype, shape):
    return (DoubleTensorType if dtype == np.float64 else FloatTensorType)(shape)


def _graph_input(builder, operator):
    """The input variable, cast to the dtype of the graph if needed."""
    variable = operator.inputs[0]
    if builder.dtype == np.float32 and isinstance(variable.type, FloatTensorType):
        return variable.full_name
    if builder.dtype == np.float64 and isinstance(variable.type, DoubleTensorType):
        return variable.full_name
    return builder.cast(variable.full_name, builder.proto)


# -- regressor ------------------------------------------------------------------------------------
def _regressor_shapes(operator):
    """Output ``variable``: (n_samples, n_outputs) in the dtype of the graph."""
    dtype = _check_input(operator)
    model = operator.raw_operator
    _check_network(model)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].set_type(_tensor_type(dtype, [n, model.n_outputs_]))


def _convert_regressor(scope, operator, container):
    """``predict`` of MLPRegressor, shaped (n_samples, n_outputs)."""
    model = operator.raw_operator
    _check_network(model)
    builder = GraphBuilder(scope, container, _check_input(operator))
    y_pred = _forward(builder, model, _graph_input(builder, operator))
    builder.identity(y_pred, output=operator.outputs[0].full_name)


# -- classifier -----------------------------------------------------------------------------------
class _ClassifierHead:
    """What ``predict`` and ``predict_proba`` do with the network output of a fitted
    MLPClassifier, read from the model (see ``_classes.py`` and ``_targets.py``)."""

    def __init__(self, model, nocl=False):
        _check_network(model)
        self.multilabel = model._encoder.multilabel
        self.threshold = float(model._decision_threshold)
        self.classes = np.asarray(model.classes_)
        self.n_network_outputs = int(model.n_outputs_)
        self.kind = _output_probability_kind(model)  # "independent", "simplex" or None
        loss = model.loss_function_
        self.loss_probabilities = callable(getattr(loss, "probabilities", None))
        if self.loss_probabilities and type(loss) is not ModifiedHuber:
            raise NotImplementedError(
                f"Cannot export MLPClassifier with loss {loss!r} to ONNX: the loss turns the "
                "outputs into probabilities with its own `probabilities` method, which has no "
                "ONNX form; sknnloss.onnx knows that of ModifiedHuber only."
            )
        # predict_proba and decision_function have one column per class (or label).
        self.n_columns = len(self.classes)
        if self.multilabel:
            self.labels, self.label_type = None, Int64TensorType
        else:
            self.labels, self.label_type = _label_values(
                np.arange(len(self.classes)) if nocl else self.classes)

    def label_shape(self, n):
        return [n, len(self.classes)] if self.multilabel else [n]


def _classifier_head(scope, model):
    """The head of ``model``, with the conversion's ``nocl`` option."""
    return _ClassifierHead(model, nocl=scope.get_options(model, dict(nocl=False))["nocl"])


def _label_values(classes):
    """The class labels as ONNX stores them: int64 or strings."""
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64), Int64TensorType
    values = classes.tolist()
    if classes.dtype.kind == "f" or all(isinstance(v, (Integral, float)) and
                                        not isinstance(v, bool) for v in values):
        as_int = np.asarray(values).astype(np.int64)
        if np.array_equal(as_int, np.asarray(values, dtype=np.float64)):
            return as_int, Int64TensorType
        raise ValueError(
            f"Cannot export MLPClassifier with classes_={classes!r} to ONNX: float labels "
            "must be integer-valued (they become int64 labels, as skl2onnx does). Encode the "
            "labels as integers or strings."
        )
    if all(isinstance(v, str) for v in values):
        return classes, StringTensorType
    raise TypeError(
        f"Cannot export MLPClassifier with classes_={classes!r} to ONNX: class labels must "
        "all be integers or all strings."
    )


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Declare the classifier's outputs: ``label`` and ``probabilities``, then skl2onnx's
    ZipMap unless ``options={"zipmap": False}``."""
    head = _classifier_head(scope, model)
    operator = scope.declare_local_operator(_CLASSIFIER_ALIAS, model)
    operator.inputs = inputs
    input_type = inputs[0].type
    value_type = DoubleTensorType() if isinstance(input_type, DoubleTensorType) else (
        FloatTensorType())
    label = scope.declare_local_variable("label", head.label_type())
    scores = scope.declare_local_variable("probabilities", value_type)
    operator.outputs.extend([label, scores])
    zipmap = scope.get_options(model, dict(zipmap=True))["zipmap"]
    if zipmap is False:
        return operator.outputs
    outputs = _apply_zipmap(zipmap, scope, model, input_type, operator.outputs)
    if head.multilabel:
        # ZipMap passes the label through: the indicator matrix, not one label per sample.
        outputs[0].set_type(Int64TensorType([None, len(head.classes)]))
    return outputs


def _classifier_shapes(operator):
    """Outputs ``label`` (n_samples,) or (n_samples, n_labels) and ``probabilities``
    (n_samples, n_classes) in the dtype of the graph."""
    dtype = _check_input(operator)
    if len(operator.outputs) != 2:
        raise RuntimeError(
            f"MLPClassifier's ONNX operator has outputs label and probabilities; got "
            f"{len(operator.outputs)} outputs."
        )
    head = _classifier_head(operator.scope_inst, operator.raw_operator)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].set_type(head.label_type(head.label_shape(n)))
    operator.outputs[1].set_type(_tensor_type(dtype, [n, head.n_columns]))


def _convert_classifier(scope, operator, container):
    """``predict`` and ``predict_proba`` (or ``decision_function``) of MLPClassifier."""
    model = operator.raw_operator
    head = _classifier_head(scope, model)
    dtype = _check_input(operator)
    zipmap = scope.get_options(model, dict(zipmap=True))["zipmap"]
    if dtype == np.float64 and zipmap is not False:
        raise ValueError(
            "This converts MLPClassifier to a float64 graph (the input is float64), and "
            "ONNX's ZipMap, which skl2onnx adds to classifiers by default, accepts float32 "
            "only. Pass options={'zipmap': False} to to_onnx (for a pipeline, "
            "options={id(classifier): {'zipmap': False}} or {'zipmap': False}), or convert "
            "with a float32 sample to get a float32 graph."
        )
    builder = GraphBuilder(scope, container, dtype)
    y_pred = _forward(builder, model, _graph_input(builder, operator))
    _emit_labels(builder, head, y_pred, operator.outputs[0].full_name)
    if head.kind is not None:
        _emit_probabilities(builder, head, y_pred, operator.outputs[1].full_name)
    else:
        _emit_scores(builder, head, y_pred, operator.outputs[1].full_name)


def _emit_labels(builder, head, y_pred, output):
    """``ClassEncoder.decode``: a threshold per column, or the argmax of each row."""
    if head.multilabel:
        builder.cast(builder.greater(y_pred, head.threshold), TensorProto.INT64, output=output)
        return
    if head.n_network_outputs == 1:
        positive = builder.cast(builder.greater(y_pred, head.threshold), TensorProto.INT64)
        index = builder.node("Reshape", positive, builder.int64_constant([-1], "shape"))
    else:
        index = builder.node("ArgMax", y_pred, axis=1, keepdims=0)
    if head.label_type is StringTensorType:
        labels = builder.string_constant(head.labels, "classes")
    else:
        labels = builder.int64_constant(head.labels, "classes")
    builder.node("Gather", labels, index, output=output, axis=0)


def _emit_probabilities(builder, head, y_pred, output):
    """``predict_proba``: ``ClassEncoder.probabilities`` of the (loss-mapped) outputs."""
    p = y_pred
    if head.loss_probabilities:  # ModifiedHuber: clip((clip(y, -1, 1) + 1) / 2, eps, 1 - eps)
        eps = np.finfo(builder.dtype).eps
        p = builder.clip(builder.div(builder.add(builder.clip(p, -1.0, 1.0), 1.0), 2.0),
                         float(eps), float(builder.dtype.type(1) - eps))
    if head.multilabel or (head.n_network_outputs > 1 and head.kind == "simplex"):
        builder.identity(p, output=output)
    elif head.n_network_outputs == 1:
        builder.node("Concat", builder.sub(1.0, p), p, output=output, axis=1)
    else:  # one-vs-rest probabilities, normalised; a row summing to <= 0 becomes uniform
        uniform = builder.less_equal(builder.reduce("ReduceSum", p), 0.0)
        p = builder.where(uniform, 1.0, p)
        builder.node("Div", p, builder.reduce("ReduceSum", p), output=output)


def _emit_scores(builder, head, y_pred, output):
    """``decision_function``, laid out as one column per class (``[-d, d]`` if binary)."""
    if head.multilabel:
        builder.node("Sub", y_pred, builder.constant(head.threshold), output=output)
        return
    if head.n_network_outputs == 1:
        score = builder.sub(y_pred, head.threshold)
    elif len(head.classes) == 2:
        first = builder.node("Slice", y_pred, builder.int64_constant([0], "start"),
                             builder.int64_constant([1], "end"),
                             builder.int64_constant([1], "axis"))
        second = builder.node("Slice", y_pred, builder.int64_constant([1], "start"),
                              builder.int64_constant([2], "end"),
                              builder.int64_constant([1], "axis"))
        score = builder.sub(second, first)
    else:
        builder.identity(y_pred, output=output)
        return
    builder.node("Concat", builder.unary("Neg", score), score, output=output, axis=1)


register()

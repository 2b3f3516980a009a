"""ONNX export (sknnloss.onnx): onnxruntime reproduces predict / predict_proba.

Tolerances: 1e-5 relative for float32 graphs, 1e-9 for float64 graphs. Entries that are
near zero by cancellation (a regression output summing terms of both signs) are compared with
an absolute floor of a tenth of that, scaled by the largest entry.
"""

import importlib
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("skl2onnx", reason="ONNX export needs the extra: pip install 'sknnloss[onnx]'")
ort = pytest.importorskip(
    "onnxruntime", reason="ONNX export tests need the extra: pip install 'sknnloss[onnx]'"
)
pd = pytest.importorskip("pandas")

import onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import sknnloss.onnx  # noqa: E402
from sknnloss import MLPClassifier, MLPRegressor, PairingWarning  # noqa: E402
from sknnloss.activations import (  # noqa: E402
    ELU,
    GELU,
    SELU,
    Activation,
    Exp,
    HardSigmoid,
    Identity,
    LeakyReLU,
    Logistic,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from sknnloss.losses import Loss, ModifiedHuber  # noqa: E402

RTOL = {np.float32: 1e-5, np.float64: 1e-9}
DTYPES = [np.float32, np.float64]
N_TRAIN, N_TEST = 40, 20

NUMERIC = ["bill_length", "bill_depth", "body_mass"]
CATEGORICAL = ["island", "sex"]


# -- helpers ------------------------------------------------------------------------------------
def _session(onx):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _run(onx, X):
    """Outputs of the ONNX model for a matrix (one input) or a DataFrame (one per column)."""
    session = _session(onx)
    if isinstance(X, pd.DataFrame):
        feeds = {}
        for column in X.columns:
            values = X[[column]].to_numpy()
            feeds[column] = values.astype(object if column in CATEGORICAL else values.dtype)
    else:
        feeds = {session.get_inputs()[0].name: X}
    return session.run(None, feeds)


def _assert_close(actual, expected, dtype):
    expected = np.asarray(expected)
    rtol = RTOL[dtype]
    scale = max(float(np.abs(expected).max()), 1.0)
    assert actual.dtype == dtype
    assert actual.shape == expected.shape
    assert_allclose(actual, expected, rtol=rtol, atol=0.1 * rtol * scale)


def _data(dtype, seed=0):
    """A small penguin-like table, the same rows as a standardised numeric matrix, and a
    latent score (n, 3) that the targets are made from."""
    rng = np.random.RandomState(seed)
    n = N_TRAIN + N_TEST
    z = rng.normal(size=(n, 3))
    island = rng.randint(3, size=n)
    sex = rng.randint(2, size=n)
    frame = pd.DataFrame({
        "bill_length": (44 + 5 * z[:, 0]).astype(dtype),
        "bill_depth": (17 + 2 * z[:, 1]).astype(dtype),
        "body_mass": (4200 + 800 * z[:, 2]).astype(dtype),
        "island": np.array(["Biscoe", "Dream", "Torgersen"], dtype=object)[island],
        "sex": np.array(["female", "male"], dtype=object)[sex],
    })
    score = np.column_stack([
        z[:, 0] - z[:, 1] + 0.8 * (island == 1) - 0.4,
        z[:, 2] + sex - 0.5,
        z[:, 1] * z[:, 0] - (island == 2) + 0.3,
    ])
    return frame, z.astype(dtype), score


def _target(kind, score):
    first = score[:, 0] > 0
    winner = np.argmax(score, axis=1)
    return {
        "real": score[:, 0],
        "real3": score,
        "count": np.floor(np.exp(score[:, 0] / 2)),
        "positive": np.exp(score[:, 0] / 2),
        "binary-int": np.array([3, 7])[first.astype(int)],
        "binary-str": np.array(["Adelie", "Gentoo"], dtype=object)[first.astype(int)],
        "binary-bool": first,
        "multiclass-int": np.array([10, 20, 30])[winner],
        "multiclass-str": np.array(["Adelie", "Chinstrap", "Gentoo"], dtype=object)[winner],
        "multiclass-float": winner.astype(np.float64),
        "multilabel": (score > 0).astype(int),
    }[kind]


def _pipeline(model, dtype):
    preprocess = ColumnTransformer([
        ("num", StandardScaler(), NUMERIC),
        ("cat", OneHotEncoder(dtype=dtype, sparse_output=False, handle_unknown="ignore"),
         CATEGORICAL),
    ])
    return Pipeline([("preprocess", preprocess), ("mlp", model)])


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PairingWarning)
        return model.fit(X, y)


def _fit_case(estimator, params, target, dtype, in_pipeline):
    """Fit a tiny model, alone (numeric matrix) or in a pipeline (mixed table); return the
    fitted estimator (model or pipeline), the held-out rows and the model itself."""
    frame, matrix, score = _data(dtype)
    y = _target(target, score)
    if y.dtype.kind == "f":
        y = y.astype(dtype)
    model = estimator(**{"hidden_layer_sizes": (4, 3), "solver": "lbfgs", "max_iter": 5,
                         "random_state": 0, **params})
    X = frame if in_pipeline else matrix
    fitted = _pipeline(model, dtype) if in_pipeline else model
    _fit(fitted, X[:N_TRAIN], y[:N_TRAIN])
    return fitted, X[N_TRAIN:], model


def _expected_scores(model, fitted, X):
    """What the classifier's second output holds: predict_proba, or else decision_function
    laid out one column per class (``[-d, d]`` for a binary target)."""
    if hasattr(model, "predict_proba"):
        return fitted.predict_proba(X)
    scores = fitted.decision_function(X)
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _check_export(fitted, X, model, dtype):
    """Convert, run with onnxruntime and compare with predict / predict_proba."""
    classifier = isinstance(model, MLPClassifier)
    onx = to_onnx(fitted, X[:1], options={"zipmap": False} if classifier else None)
    onnx.checker.check_model(onx, full_check=True)
    if fitted is model:  # (skl2onnx's float32 ColumnTransformer fails strict inference)
        onnx.shape_inference.infer_shapes(onx, strict_mode=True)
    outputs = _run(onx, X)
    if not classifier:
        (prediction,) = outputs
        expected = fitted.predict(X)
        _assert_close(prediction, expected.reshape(len(X), -1), dtype)
        return onx
    label, scores = outputs
    expected_label = fitted.predict(X)
    if expected_label.dtype == object:
        expected_label = expected_label.astype(str)
    elif expected_label.dtype.kind in "biuf":
        assert label.dtype == np.int64
        expected_label = expected_label.astype(np.int64)
    assert_array_equal(label, expected_label)
    _assert_close(scores, _expected_scores(model, fitted, X), dtype)
    return onx


# -- every activation, exactly, over the whole real line -------------------------------------
ELEMENTWISE = [
    Identity(), Logistic(), Tanh(), ReLU(), LeakyReLU(negative_slope=0.1), ELU(alpha=0.7),
    SELU(), GELU(), GELU(approximate="tanh"), SiLU(), Softplus(), Softsign(), HardSigmoid(),
    Mish(), ReLU6(), Exp(),
]
GRID = np.concatenate([-np.geomspace(1e-6, 1e4, 200), [0.0], np.geomspace(1e-6, 1e4, 200),
                       np.linspace(-40, 40, 400)]).reshape(-1, 3)


def _unit_network(dtype, hidden, output, n_units=3):
    """A 3-3-3 regressor whose weights are identity matrices and intercepts 0, so that its
    prediction is ``output(hidden(X))`` exactly."""
    X = np.random.RandomState(0).normal(size=(6, n_units)).astype(dtype)
    model = _fit(MLPRegressor(hidden_layer_sizes=(n_units,), activation=hidden,
                              output_activation=output, solver="lbfgs", max_iter=1,
                              random_state=0), X, X)
    eye = np.eye(n_units, dtype=dtype)
    model.coefs_ = [eye, eye]
    model.intercepts_ = [np.zeros(n_units, dtype), np.zeros(n_units, dtype)]
    return model


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("position", ["hidden", "output"])
@pytest.mark.parametrize("activation", ELEMENTWISE + [Softmax()], ids=repr)
def test_activation_matches_forward_on_the_real_line(activation, position, dtype):
    """Each activation's graph equals its ``forward`` elementwise (relative error, down to the
    smallest normal number) on [-1e4, 1e4], tails included, as hidden and output layer."""
    X = GRID.astype(dtype)
    hidden, output = (activation, "identity") if position == "hidden" else ("identity",
                                                                            activation)
    model = _unit_network(dtype, hidden, output)
    expected = activation.forward(X.copy())
    assert_allclose(model.predict(X), expected, rtol=1e-15)  # the network is the activation
    (prediction,) = _run(to_onnx(model, X[:1]), X)
    assert prediction.dtype == dtype
    assert_allclose(prediction, expected, rtol=RTOL[dtype], atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_prelu_uses_the_trained_slope_of_each_unit(dtype):
    X = GRID.astype(dtype)
    model = _unit_network(dtype, PReLU(), "identity")
    slopes = np.array([0.25, -0.5, 2.0], dtype=dtype)
    model.activation_params_[0] = slopes
    expected = np.where(X > 0, X, slopes * X)
    assert_allclose(model.predict(X), expected, rtol=1e-15)
    (prediction,) = _run(to_onnx(model, X[:1]), X)
    assert_allclose(prediction, expected, rtol=RTOL[dtype], atol=np.finfo(dtype).tiny)


# -- every activation in a trained network, alone and in a pipeline -------------------------
ACTIVATIONS = [
    "identity", "logistic", "tanh", "relu", LeakyReLU(negative_slope=0.2), "prelu",
    ELU(alpha=0.5), "selu", "gelu", GELU(approximate="tanh"), "silu", "softplus", "softsign",
    "hard_sigmoid", "mish", "relu6", "softmax", "exp",
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_trained_network_with_each_activation(activation, in_pipeline, dtype):
    """A two-output regressor with this activation in both hidden layers (alone), or in the
    first, followed by tanh (per-layer activations, in a pipeline)."""
    layers = [activation, "tanh"] if in_pipeline else activation
    fitted, X, model = _fit_case(MLPRegressor, {"activation": layers}, "real3", dtype,
                                 in_pipeline)
    if activation == "prelu":  # trained slopes, not the initial 0.25
        assert not np.allclose(model.activation_params_[0], 0.25)
    _check_export(fitted, X, model, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_per_layer_activations_with_prelu_in_the_middle(dtype):
    fitted, X, model = _fit_case(
        MLPClassifier, {"hidden_layer_sizes": (4, 3, 3),
                        "activation": ["gelu", "prelu", LeakyReLU(0.3)]},
        "multiclass-str", dtype, in_pipeline=False)
    assert model.activation_params_[0] is None and model.activation_params_[1] is not None
    _check_export(fitted, X, model, dtype)


# -- every output head ------------------------------------------------------------------------
# name: (estimator, parameters, target, what the classifier's second output holds)
HEADS = {
    "regression-identity": (MLPRegressor, {}, "real", None),
    "regression-identity-3-outputs": (MLPRegressor, {}, "real3", None),
    "regression-exp-poisson": (MLPRegressor, {"loss": "poisson"}, "count", None),
    "regression-softplus": (MLPRegressor, {"output_activation": "softplus"}, "positive", None),
    "regression-relu": (MLPRegressor, {"output_activation": "relu"}, "positive", None),
    "binary-logistic-int-labels": (MLPClassifier, {}, "binary-int", "proba"),
    "binary-logistic-str-labels": (MLPClassifier, {}, "binary-str", "proba"),
    "binary-hard-sigmoid": (MLPClassifier, {"output_activation": "hard_sigmoid"},
                            "binary-int", "proba"),
    "binary-softmax-2-outputs": (MLPClassifier, {"loss": "categorical_crossentropy"},
                                 "binary-str", "proba"),
    "binary-squared-error-bool-labels": (MLPClassifier, {"loss": "squared_error"},
                                         "binary-bool", "scores"),
    "binary-hinge": (MLPClassifier, {"loss": "hinge"}, "binary-int", "scores"),
    "binary-modified-huber": (MLPClassifier, {"loss": "modified_huber"}, "binary-str",
                              "proba"),
    "binary-categorical-hinge": (MLPClassifier, {"loss": "categorical_hinge"}, "binary-int",
                                 "scores"),
    "multiclass-softmax-str-labels": (MLPClassifier, {}, "multiclass-str", "proba"),
    "multiclass-softmax-float-labels": (MLPClassifier, {}, "multiclass-float", "proba"),
    "multiclass-one-vs-rest-sigmoid": (MLPClassifier, {"loss": "binary_crossentropy"},
                                       "multiclass-int", "proba"),
    "multiclass-squared-hinge": (MLPClassifier, {"loss": "squared_hinge"}, "multiclass-str",
                                 "scores"),
    "multiclass-modified-huber": (MLPClassifier, {"loss": "modified_huber"},
                                  "multiclass-int", "proba"),
    "multiclass-categorical-hinge": (MLPClassifier, {"loss": "categorical_hinge"},
                                     "multiclass-str", "scores"),
    "multilabel-logistic": (MLPClassifier, {}, "multilabel", "proba"),
    "multilabel-hinge": (MLPClassifier, {"loss": "hinge"}, "multilabel", "scores"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("head", list(HEADS))
def test_each_head(head, in_pipeline, dtype):
    estimator, params, target, second_output = HEADS[head]
    fitted, X, model = _fit_case(estimator, {"activation": "tanh", **params}, target, dtype,
                                 in_pipeline)
    if second_output is not None:
        assert hasattr(model, "predict_proba") == (second_output == "proba")
    onx = _check_export(fitted, X, model, dtype)
    outputs = {o.name: o.type.tensor_type for o in onx.graph.output}
    proto = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    if estimator is MLPRegressor:
        # skl2onnx's regressor convention: (n_samples, n_outputs), also for one output
        assert [d.dim_value for d in outputs["variable"].shape.dim][1:] == [model.n_outputs_]
        assert outputs["variable"].elem_type == proto
    else:
        assert outputs["probabilities"].elem_type == proto



@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_one_vs_rest_rows_of_zeros_become_uniform(dtype):
    """Hard sigmoids can all be 0: predict_proba makes such a row uniform."""
    fitted, X, model = _fit_case(
        MLPClassifier, {"loss": "binary_crossentropy", "output_activation": "hard_sigmoid"},
        "multiclass-str", dtype, in_pipeline=False)
    # Classes 0 and 2 are always 0; class 1 is 0 on some rows only.
    coef = np.zeros_like(model.coefs_[-1])
    coef[:, 1] = 100 * model.coefs_[-1][:, 1]
    model.coefs_[-1] = coef
    model.intercepts_[-1] = np.array([-100.0, 0.0, -100.0], dtype=dtype)
    proba = model.predict_proba(X)
    uniform = np.all(proba == proba.dtype.type(1) / 3, axis=1)
    assert 0 < uniform.sum() < len(X)
    assert_array_equal(proba[~uniform, 1], 1)
    _check_export(model, X, model, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("target", ["binary-str", "multiclass-int"])
def test_modified_huber_probabilities_are_clipped(target, dtype):
    """Scores beyond +-1 give probabilities eps and 1 - eps (of the dtype), not 0 and 1."""
    fitted, X, model = _fit_case(MLPClassifier, {"loss": "modified_huber"}, target, dtype,
                                 in_pipeline=False)
    model.coefs_[-1] = model.coefs_[-1] * 50
    proba = model.predict_proba(X)
    eps = np.finfo(dtype).eps
    assert proba.min() <= 2 * eps and proba.max() >= 1 - 2 * eps
    onx = _check_export(model, X, model, dtype)
    _, onnx_proba = _run(onx, X)
    assert_allclose(onnx_proba, proba, rtol=RTOL[dtype], atol=0)  # eps stays eps


# -- dropout and batch normalisation ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_dropout_changes_nothing_at_inference(dtype):
    fitted, X, model = _fit_case(MLPRegressor, {"activation": "relu", "dropout": 0.3,
                                                "solver": "adam", "max_iter": 3},
                                 "real3", dtype, in_pipeline=True)
    _check_export(fitted, X, model, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
def test_batch_norm_is_folded_into_the_affine_layers(dtype, solver, in_pipeline):
    fitted, X, model = _fit_case(
        MLPClassifier, {"batch_norm": True, "activation": ["tanh", "relu"],
                        "hidden_layer_sizes": (6, 5), "solver": solver, "max_iter": 15},
        "multiclass-str", dtype, in_pipeline=in_pipeline)
    # Training moved the statistics and the trained scale away from the identity, so the
    # folding is really exercised.
    assert not np.allclose(model.bn_running_means_[0], 0)
    assert not np.allclose(model.bn_scales_[1], 1)
    _check_export(fitted, X, model, dtype)


# -- dtypes -------------------------------------------------------------------------------------
def test_float32_model_converted_with_float64_sample_is_exact_in_float64():
    """predict on float64 input computes in float64 with the float32 weights; so does the
    float64 graph."""
    fitted, X, model = _fit_case(MLPClassifier, {"activation": "gelu"}, "multiclass-str",
                                 np.float32, in_pipeline=False)
    X64 = X.astype(np.float64)
    onx = to_onnx(model, X64[:1], options={"zipmap": False})
    assert onx.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    label, proba = _run(onx, X64)
    assert_array_equal(label, model.predict(X64))
    _assert_close(proba, model.predict_proba(X64), np.float64)


def test_float64_model_converted_with_float32_sample_has_float32_precision():
    fitted, X, model = _fit_case(MLPRegressor, {"activation": "silu"}, "real3", np.float64,
                                 in_pipeline=False)
    X32 = X.astype(np.float32)
    (prediction,) = _run(to_onnx(model, X32[:1]), X32)
    assert prediction.dtype == np.float32
    _assert_close(prediction, model.predict(X32).astype(np.float32), np.float32)


# -- classifier outputs: zipmap -----------------------------------------------------------------
@pytest.mark.parametrize("target", ["multiclass-str", "binary-int", "multilabel"])
def test_default_zipmap_gives_one_dictionary_per_sample(target):
    fitted, X, model = _fit_case(MLPClassifier, {}, target, np.float32, in_pipeline=True)
    label, dictionaries = _run(to_onnx(fitted, X[:1]), X)
    assert_array_equal(label, fitted.predict(X))
    proba = fitted.predict_proba(X)
    assert isinstance(dictionaries, list) and len(dictionaries) == len(X)
    keys = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    assert list(dictionaries[0]) == keys
    values = np.array([[row[k] for k in keys] for row in dictionaries], dtype=np.float32)
    _assert_close(values, proba, np.float32)


def test_zipmap_columns_gives_one_output_per_class():
    fitted, X, model = _fit_case(MLPClassifier, {}, "multiclass-str", np.float32, False)
    outputs = _run(to_onnx(model, X[:1], options={"zipmap": "columns"}), X)
    assert len(outputs) == 1 + len(model.classes_)
    _assert_close(np.column_stack(outputs[1:]), model.predict_proba(X), np.float32)


def test_nocl_gives_class_indices():
    fitted, X, model = _fit_case(MLPClassifier, {}, "multiclass-str", np.float32, False)
    label, proba = _run(to_onnx(model, X[:1], options={"zipmap": False, "nocl": True}), X)
    assert_array_equal(model.classes_[label], model.predict(X))
    _assert_close(proba, model.predict_proba(X), np.float32)


def test_zipmap_on_a_float64_graph_raises():
    fitted, X, model = _fit_case(MLPClassifier, {}, "binary-str", np.float64, False)
    with pytest.raises(ValueError, match=r"ZipMap.*float32 only.*'zipmap': False"):
        to_onnx(model, X[:1])


# -- errors -------------------------------------------------------------------------------------
class _ScaledTanh(Activation):
    """A user-defined activation: no ONNX form."""

    def forward(self, z, out=None):
        return np.multiply(np.tanh(z / 2), 2, out=out)

    def derivative(self, z, a, out=None):
        return np.subtract(1, (a / 2) ** 2, out=out)


class _SharpReLU(ReLU):
    """A subclass of a built-in: it may redefine forward, so it is not exported as ReLU."""


@pytest.mark.parametrize("where", ["hidden", "output"])
@pytest.mark.parametrize("activation", [_ScaledTanh(), _SharpReLU()], ids=repr)
def test_user_defined_activation_raises_a_clear_error(activation, where):
    X, y = np.random.RandomState(0).normal(size=(20, 2)), np.arange(20.0)
    params = {"activation": activation} if where == "hidden" else {
        "output_activation": activation}
    model = _fit(MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2, **params),
                 X, y)
    layer = "hidden layer 1" if where == "hidden" else "the output layer"
    message = (rf"Cannot export the activation {type(activation).__name__}\(\) of {layer} "
               r"of MLPRegressor to ONNX.*Identity, Logistic, Tanh, ReLU, LeakyReLU, PReLU, "
               r"ELU, SELU, GELU, SiLU, Softplus, Softsign, HardSigmoid, Mish, ReLU6, Softmax, "
               r"Exp\. Nothing approximate is exported")
    with pytest.raises(NotImplementedError, match=message):
        to_onnx(model, X[:1].astype(np.float32))
    pipeline = _fit(Pipeline([("scale", StandardScaler()), ("mlp", clone(model))]), X, y)
    with pytest.raises(NotImplementedError, match=message):
        to_onnx(pipeline, X[:1].astype(np.float32))
    if isinstance(activation, ReLU):
        with pytest.raises(NotImplementedError, match="subclasses the built-in ReLU"):
            to_onnx(model, X[:1].astype(np.float32))


def test_user_defined_activation_in_a_classifier_raises():
    X = np.random.RandomState(0).normal(size=(20, 2))
    model = _fit(MLPClassifier(hidden_layer_sizes=(3,), activation=_ScaledTanh(),
                               solver="lbfgs", max_iter=2), X, X[:, 0] > 0)
    with pytest.raises(NotImplementedError, match="_ScaledTanh.*hidden layer 1 of MLPClassifier"):
        to_onnx(model, X[:1].astype(np.float32))


def test_user_defined_loss_probabilities_raise():
    class _MyHuber(ModifiedHuber):
        pass

    X = np.random.RandomState(0).normal(size=(20, 2))
    model = _fit(MLPClassifier(hidden_layer_sizes=(3,), loss=_MyHuber(), solver="lbfgs",
                               max_iter=2), X, X[:, 0] > 0)
    assert hasattr(model, "predict_proba")
    with pytest.raises(NotImplementedError, match="own `probabilities` method"):
        to_onnx(model, X[:1].astype(np.float32))


class _HalfSquared(Loss):
    """A user-defined loss: the graph does not depend on it."""

    canonical_activation = "identity"
    target_kind = "real"

    def pointwise_loss(self, y_true, y_pred):
        return 0.5 * ((y_pred - y_true) ** 2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.subtract(y_pred, y_true, out=out)


@pytest.mark.parametrize("estimator, target", [(MLPRegressor, "real3"),
                                               (MLPClassifier, "multilabel")])
def test_loss_of_your_own_without_probabilities_exports(estimator, target):
    fitted, X, model = _fit_case(estimator, {"loss": _HalfSquared()}, target, np.float64,
                                 in_pipeline=False)
    _check_export(fitted, X, model, np.float64)


def test_unfitted_model_and_wrong_width_raise():
    X = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(NotFittedError):
        to_onnx(MLPRegressor(), X)
    model = _fit(MLPRegressor(hidden_layer_sizes=(2,), solver="lbfgs", max_iter=2),
                 np.random.RandomState(0).normal(size=(10, 3)), np.arange(10.0))
    with pytest.raises(ValueError, match="fitted on 3 features; its ONNX input 'X' has 4"):
        to_onnx(model, np.zeros((1, 4), dtype=np.float32))


@pytest.mark.parametrize("opset", [13, 17])
def test_older_opsets(opset):
    """ReduceMax takes its axes as an attribute before opset 18."""
    fitted, X, model = _fit_case(MLPClassifier, {"activation": "softmax"}, "multiclass-str",
                                 np.float32, False)
    onx = to_onnx(model, X[:1], options={"zipmap": False}, target_opset=opset)
    assert {o.domain: o.version for o in onx.opset_import}[""] <= opset
    label, proba = _run(onx, X)
    assert_array_equal(label, model.predict(X))
    _assert_close(proba, model.predict_proba(X), np.float32)
    with pytest.raises(ValueError, match="opset 13 or later"):
        to_onnx(model, X[:1], options={"zipmap": False}, target_opset=12)


# -- registration -------------------------------------------------------------------------------
def test_register_is_idempotent():
    from skl2onnx._supported_operators import sklearn_operator_name_map

    assert sklearn_operator_name_map[MLPClassifier] == "SknnlossMLPClassifier"
    assert sklearn_operator_name_map[MLPRegressor] == "SknnlossMLPRegressor"
    sknnloss.onnx.register()
    sknnloss.onnx.register()
    assert sklearn_operator_name_map[MLPRegressor] == "SknnlossMLPRegressor"
    fitted, X, model = _fit_case(MLPRegressor, {}, "real", np.float32, False)
    _check_export(fitted, X, model, np.float32)


def test_missing_skl2onnx_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "sknnloss.onnx")
    with pytest.raises(ImportError, match=r'pip install "sknnloss\[onnx\]"'):
        importlib.import_module("sknnloss.onnx")

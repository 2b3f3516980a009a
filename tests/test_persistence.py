"""Saving and loading fitted models (sknnloss.persistence): pickle and skops round trips keep
predictions bitwise, the fitted state holds no private object, skops loads a model trusting
sknnloss's public types only, and training continues after loading exactly as it would have."""

import copy
import importlib
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss._solvers import SGD, Adam
from sknnloss.activations import LeakyReLU, PReLU
from sknnloss.diagnostics import TrainingHistory
from sknnloss.persistence import trusted_types

from .user_defined import PseudoHuber, ScaledTanh

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = ["lbfgs", "cg", "bfgs", "sgd", "adam"]
STOCHASTIC = ["sgd", "adam"]
#: Where a public, documented sknnloss type lives (in that module's __all__).
PUBLIC_MODULES = ["sknnloss", "sknnloss.activations", "sknnloss.losses", "sknnloss.diagnostics"]
USER_DEFINED = {f"{cls.__module__}.{cls.__name__}" for cls in (ScaledTanh, PseudoHuber)}


def _skops():
    return pytest.importorskip("skops.io", reason="the skops tests need skops "
                               "(pip install 'sknnloss[skops]')")


# --- the data and the configurations every round trip is checked on -----------------------

def _multiclass(labels=None):
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y if labels is None else np.asarray(labels)[y]


def _multilabel():
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3,
                                          random_state=0)
    return StandardScaler().fit_transform(X), Y


def _regression(n_targets):
    X, y = make_regression(n_samples=60, n_features=4, n_targets=n_targets, noise=0.1,
                           random_state=0)
    return StandardScaler().fit_transform(X), y / y.std()


def _binary():
    X, y = _multiclass()
    return X, (y == 0).astype(int)


# name -> (estimator class, parameters, data); every one is fitted with every solver.
CONFIGS = {
    "multiclass-softmax": (MLPClassifier, dict(), _multiclass),
    "per-layer-activations-prelu": (
        MLPClassifier, dict(hidden_layer_sizes=(5, 4), activation=[PReLU(), "tanh"]),
        _multiclass),
    "one-vs-rest-string-labels": (
        MLPClassifier, dict(loss="binary_crossentropy", activation=LeakyReLU(0.1)),
        lambda: _multiclass(labels=["cat", "cow", "dog"])),
    "binary-hinge": (MLPClassifier, dict(loss="hinge", activation="gelu"), _binary),
    "multilabel": (MLPClassifier, dict(), _multilabel),
    "multi-output-regression": (MLPRegressor, dict(loss="huber"), lambda: _regression(2)),
    "user-defined": (
        MLPRegressor, dict(activation=ScaledTanh(scale=1.5), loss=PseudoHuber(delta=0.5)),
        lambda: _regression(1)),
}


def _fit(name, solver, **extra):
    estimator, params, data = CONFIGS[name]
    X, y = data()
    params = dict(dict(hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0),
                  **params, **extra)
    return estimator(**params).fit(X, y), X, y


def _outputs(model, X):
    """Everything a user reads from a fitted model, for bitwise comparisons."""
    out = {"predict": model.predict(X), "coefs": model.coefs_, "intercepts": model.intercepts_}
    for method in ("predict_proba", "decision_function"):
        if hasattr(model, method):
            out[method] = getattr(model, method)(X)
    return out


def _assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        values_a = a[key] if isinstance(a[key], list) else [a[key]]
        values_b = b[key] if isinstance(b[key], list) else [b[key]]
        for x, y in zip(values_a, values_b, strict=True):
            assert x.dtype == y.dtype, key
            assert_array_equal(x, y, strict=True, err_msg=key)


def _skops_round_trip(model):
    sio = _skops()
    data = sio.dumps(model)
    trusted = trusted_types() + sorted(USER_DEFINED & set(sio.get_untrusted_types(data=data)))
    return sio.loads(data, trusted=trusted)


def _pickle_round_trip(model):
    return pickle.loads(pickle.dumps(model))


ROUND_TRIPS = {"pickle": _pickle_round_trip, "skops": _skops_round_trip,
               "deepcopy": copy.deepcopy}


def _is_public(type_name):
    """Whether ``module.Name`` is a type some public sknnloss module exports."""
    module_name, _, class_name = type_name.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    for public in PUBLIC_MODULES:
        module = importlib.import_module(public)
        if class_name in getattr(module, "__all__", ()) and getattr(module, class_name) is cls:
            return True
    return False


# --- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", CONFIGS)
def test_round_trip_keeps_predictions_bitwise(name, solver, round_trip):
    model, X, _ = _fit(name, solver)
    restored = ROUND_TRIPS[round_trip](model)
    _assert_bitwise_equal(_outputs(restored, X), _outputs(model, X))
    # The weights are still views into one flat vector: editing them changes the model.
    assert all(np.shares_memory(c, restored._params) for c in restored.coefs_)
    restored.coefs_[-1][...] = 0
    restored.intercepts_[-1][...] = 0
    score = next(m for m in ("predict_proba", "decision_function", "predict")
                 if hasattr(model, m))
    assert not np.array_equal(getattr(restored, score)(X), getattr(model, score)(X))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", CONFIGS)
def test_fitted_state_is_plain(name, solver):
    """Every attribute of a fitted model is a builtin, a numpy object, or an object the user
    handed in (a public activation, loss or the training history): nothing private."""
    model, _, _ = _fit(name, solver)
    allowed = (TrainingHistory, ScaledTanh, PseudoHuber, np.ndarray, np.generic,
               np.random.RandomState, str, bytes, int, float, bool, type(None))

    def check(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                check(item, f"{path}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                check(item, f"{path}[{i}]")
        else:
            cls = type(value)
            public = cls.__module__.startswith("sknnloss") and _is_public(
                f"{cls.__module__}.{cls.__name__}")
            assert public or isinstance(value, allowed), (path, cls)

    check(vars(model), type(model).__name__)
    for private in ("_optimizer", "_network", "_encoder"):
        assert private not in vars(model)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", CONFIGS)
def test_skops_reports_only_public_sknnloss_types(name, solver):
    sio = _skops()
    model, X, _ = _fit(name, solver)
    data = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=data))
    for type_name in untrusted - USER_DEFINED:
        assert type_name.startswith("sknnloss."), type_name
        assert _is_public(type_name), type_name
        assert type_name in trusted_types(), type_name
    assert not any(private in type_name for type_name in untrusted
                   for private in ("_network", "_solvers", "_targets", "_base"))
    expected_user_types = USER_DEFINED if name == "user-defined" else set()
    assert untrusted & USER_DEFINED == expected_user_types
    if not expected_user_types:  # loads trusting sknnloss's own types, nothing else
        restored = sio.loads(data, trusted=trusted_types())
        _assert_bitwise_equal(_outputs(restored, X), _outputs(model, X))


def test_trusted_types_are_public_sknnloss_types():
    names = trusted_types()
    assert names == sorted(set(names))
    assert all(_is_public(name) for name in names)
    for name in ["sknnloss.activations.ReLU", "sknnloss.activations.PReLU",
                 "sknnloss.losses.SquaredError", "sknnloss.losses.SparseCategoricalCrossEntropy",
                 "sknnloss.diagnostics.TrainingHistory", "sknnloss._classes.MLPClassifier",
                 "sknnloss._classes.MLPRegressor"]:
        assert name in names
    # Base classes are never stored, and nothing private is listed.
    assert "sknnloss.activations.Activation" not in names
    assert "sknnloss.losses.Loss" not in names
    assert not any(part in name for name in names
                   for part in ("_network", "_solvers", "_targets", "_base"))


def test_user_defined_objects_stay_untrusted():
    sio = _skops()
    from skops.io.exceptions import UntrustedTypesFoundException

    model, X, _ = _fit("user-defined", "adam")
    data = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=data))
    assert USER_DEFINED <= untrusted
    assert not USER_DEFINED & set(trusted_types())
    with pytest.raises(UntrustedTypesFoundException, match="ScaledTanh|PseudoHuber"):
        sio.loads(data, trusted=trusted_types())
    # Reviewed and trusted by the user: loads.
    restored = sio.loads(data, trusted=trusted_types() + sorted(USER_DEFINED))
    assert isinstance(restored.activation, ScaledTanh) and restored.activation.scale == 1.5
    assert_array_equal(restored.predict(X), model.predict(X), strict=True)


def test_scikit_learn_mlp_is_flagged_but_ours_is_not():
    """The contrast that motivates the plain fitted state: scikit-learn's adam MLP keeps a
    private optimizer object, which skops reports."""
    sio = _skops()
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    X, y = _multiclass()
    theirs = SklearnMLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    assert any("_stochastic_optimizers" in name
               for name in sio.get_untrusted_types(data=sio.dumps(theirs)))
    ours = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    assert set(sio.get_untrusted_types(data=sio.dumps(ours))) <= set(trusted_types())


# --- continuing after loading -------------------------------------------------------------

def _continue(model, X, y, n_calls=3):
    for _ in range(n_calls):
        model.partial_fit(X, y)
    return model


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("name", CONFIGS)
def test_partial_fit_after_loading_continues_bitwise(name, solver, round_trip):
    model, X, y = _fit(name, solver)
    restored = ROUND_TRIPS[round_trip](model)
    _continue(model, X, y)
    _continue(restored, X, y)
    assert_array_equal(restored._params, model._params, strict=True)
    assert restored.loss_curve_ == model.loss_curve_
    assert restored.t_ == model.t_
    _assert_bitwise_equal(_outputs(restored, X), _outputs(model, X))
    assert_array_equal(restored.history_["loss"], model.history_["loss"])


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.5,
             n_iter_no_change=1, tol=10.0),  # the rate is divided by 5 before saving
        dict(solver="sgd", learning_rate="invscaling", power_t=np.float64(0.3),
             nesterovs_momentum=False),
        dict(solver="adam", beta_1=0.8, learning_rate_init=0.01),
    ],
    ids=["sgd-adaptive", "sgd-invscaling", "adam"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_state_survives_loading(params, dtype, round_trip):
    """The optimizer's moments, step count and current learning rate are saved, also in
    float32, and partial_fit after loading is bitwise the partial_fit of the original."""
    X, y = _multiclass()
    X = X.astype(dtype)
    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=8, random_state=0, **params)
    model.fit(X, y)
    state = model._optimizer_state
    if params.get("learning_rate") == "adaptive":
        assert state["learning_rate"] < params["learning_rate_init"]
    restored = ROUND_TRIPS[round_trip](model)
    for key, value in state.items():
        assert type(restored._optimizer_state[key]) is type(value), key
        assert_array_equal(restored._optimizer_state[key], value, strict=True)
    _continue(model, X, y)
    _continue(restored, X, y)
    assert restored._params.dtype == dtype
    assert_array_equal(restored._params, model._params, strict=True)


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
def test_partial_fit_only_model_continues_after_loading(round_trip):
    """A model trained by partial_fit alone (no fit) keeps its classes and its optimizer."""
    X, y = _multiclass(labels=["cat", "cow", "dog"])
    model = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", random_state=0)
    model.partial_fit(X[:30], y[:30], classes=["cat", "cow", "dog"])
    restored = ROUND_TRIPS[round_trip](model)
    model.partial_fit(X[30:], y[30:])
    restored.partial_fit(X[30:], y[30:])
    assert_array_equal(restored._params, model._params, strict=True)
    assert_array_equal(restored.classes_, model.classes_)
    with pytest.raises(ValueError, match="classes not in"):
        restored.partial_fit(X, np.where(y == "cat", "emu", y))


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_fit_after_loading_continues_bitwise(solver, round_trip):
    model, X, y = _fit("per-layer-activations-prelu", solver, warm_start=True)
    restored = ROUND_TRIPS[round_trip](model)
    model.fit(X, y)
    restored.fit(X, y)
    assert_array_equal(restored._params, model._params, strict=True)
    assert restored.loss_curve_ == model.loss_curve_


def test_optimizer_rebuilt_from_state_dict_steps_identically():
    """SGD and Adam rebuilt from their state_dict() take the same steps as the originals."""
    rng = np.random.RandomState(0)
    grads = rng.normal(size=(6, 10))
    for make in (lambda: SGD(10, np.float64, 0.1, "invscaling", 0.9, True, 0.5),
                 lambda: Adam(10, np.float64, 0.01)):
        original, params = make(), np.zeros(10)
        for grad in grads[:3]:
            original.update(params, grad.copy())  # update() uses the gradient as scratch
        original.iteration_ends(3)
        state = copy.deepcopy(original.state_dict())
        rebuilt, rebuilt_params = type(original).from_state_dict(state), params.copy()
        for grad in grads[3:]:
            original.update(params, grad.copy())
            rebuilt.update(rebuilt_params, grad.copy())
        assert_array_equal(rebuilt_params, params, strict=True)
        assert rebuilt.learning_rate == original.learning_rate


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_batch_norm_and_dropout_models_round_trip(solver, round_trip):
    """Batch normalisation's running statistics live in the flat vector, and dropout's masks
    come from random_state: both survive loading, and training continues identically."""
    extra = dict(dropout=0.2) if solver in STOCHASTIC else {}
    model, X, y = _fit("per-layer-activations-prelu", solver, batch_norm=True, **extra)
    restored = ROUND_TRIPS[round_trip](model)
    _assert_bitwise_equal(_outputs(restored, X), _outputs(model, X))
    if round_trip == "skops":
        sio = _skops()
        assert set(sio.get_untrusted_types(data=sio.dumps(model))) <= set(trusted_types())
    if solver in STOCHASTIC:
        _continue(model, X, y)
        _continue(restored, X, y)
        assert_array_equal(restored._params, model._params, strict=True)

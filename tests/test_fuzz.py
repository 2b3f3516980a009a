"""Property-based fuzzing of the estimators (issue #7), with hypothesis.

Random shapes, dtypes (float32 / float64), dense and sparse (CSR / CSC) inputs, tasks
(binary, multiclass, multi-label; real, positive and count regression), activation/loss pairs
(``sknnloss.sensible_pairs`` of the task, by name or alias, with the canonical
``output_activation='auto'`` too), hidden activations (every alias), solvers and
hyper-parameters. The properties:

* ``fit`` succeeds, or raises one of the documented errors (``DOCUMENTED_ERRORS``);
* predictions are finite and of the right shape and dtype; ``predict_proba`` rows sum to 1
  for single-label targets; ``decision_function`` is finite;
* ``clone`` + refit with the same ``random_state`` gives bitwise identical weights;
* pickling round-trips the predictions exactly.

Budget. Each property runs ``max_examples`` examples, ``deadline=None`` (fit times vary with
the machine's load). The default, for CI, is 25 examples per property (the ``sknnloss-ci``
hypothesis profile, derandomised so CI runs are reproducible). For a longer hunt, set the
environment variable ``SKNNLOSS_FUZZ_EXAMPLES``; the ``sknnloss-fuzz`` profile then runs that
many examples per property, with random seeds and hypothesis' example database::

    SKNNLOSS_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py -n 0 -q

The profiles are applied to this module's tests only (``@FUZZ``), not loaded globally, so the
other test modules keep their own hypothesis settings.
"""

import os
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.base import clone

from sknnloss import MLPClassifier, MLPRegressor, sensible_pairs
from sknnloss.activations import ACTIVATION_ALIASES
from sknnloss.losses import LOSS_ALIASES

CI_EXAMPLES = 25
_requested = os.environ.get("SKNNLOSS_FUZZ_EXAMPLES", "").strip()

settings.register_profile(
    "sknnloss-ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
settings.register_profile(
    "sknnloss-fuzz",
    max_examples=int(_requested) if _requested else CI_EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
PROFILE = "sknnloss-fuzz" if _requested else "sknnloss-ci"
FUZZ = settings(settings.get_profile(PROFILE))

#: The errors fit may raise on valid random input, each documented (robustness.rst): too few
#: samples (or samples of a class) to hold out an early-stopping validation split; training
#: that ends with weights which overflow (a step too large for an exp unit in float32, say).
DOCUMENTED_ERRORS = [
    r"The validation set is too small: early_stopping holds out",
    r"Training ended with weights that overflow the network's output",
    r"Solver produced non-finite parameter weights",
]

SOLVERS = ["lbfgs", "cg", "bfgs", "sgd", "adam"]
CLASSIFICATION = ["binary", "multiclass", "multilabel"]
REGRESSION = ["regression", "positive", "count"]

# Aliases of the same loss (e.g. 'mse' for 'squared_error'), to fuzz the names too.
_LOSS_NAMES = {}
for _name, _cls in LOSS_ALIASES.items():
    _LOSS_NAMES.setdefault(_cls, []).append(_name)


def _aliases(loss):
    if loss == "log_loss":
        return ["log_loss"]
    return _LOSS_NAMES[LOSS_ALIASES[loss]]


_ACTIVATION_NAMES = {}
for _name, _cls in ACTIVATION_ALIASES.items():
    _ACTIVATION_NAMES.setdefault(_cls, []).append(_name)


@st.composite
def problems(draw):
    """An estimator (unfitted) and data it should be able to fit."""
    task = draw(st.sampled_from(CLASSIFICATION + REGRESSION))
    grid = draw(st.sampled_from(sensible_pairs(task)))
    loss = draw(st.sampled_from(_aliases(grid["loss"][0])))
    output = grid["output_activation"][0]
    output = draw(st.sampled_from(
        ["auto", *_ACTIVATION_NAMES[ACTIVATION_ALIASES[output]]]))
    solver = draw(st.sampled_from(SOLVERS))
    n_layers = draw(st.integers(1, 2))
    hidden = tuple(draw(st.lists(st.integers(1, 6), min_size=n_layers, max_size=n_layers)))
    activation = draw(st.sampled_from(sorted(ACTIVATION_ALIASES)))
    params = {
        "hidden_layer_sizes": hidden,
        "activation": activation,
        "solver": solver,
        "loss": loss,
        "output_activation": output,
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1.0])),
        "max_iter": draw(st.integers(1, 8)),
        "random_state": draw(st.integers(0, 2**31 - 1)),
    }
    if solver in ("sgd", "adam"):
        params["batch_size"] = draw(st.sampled_from(["auto", 1, 7]))
        params["learning_rate_init"] = draw(st.sampled_from([1e-3, 1e-1]))
        params["early_stopping"] = draw(st.booleans())
    if task in CLASSIFICATION:
        estimator = MLPClassifier(**params)
    else:
        estimator = MLPRegressor(**params)

    n_samples = draw(st.integers(4, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    layout = draw(st.sampled_from(["dense", "csr", "csc"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if layout != "dense":
        X[rng.uniform(size=X.shape) < 0.5] = 0.0
    X = X.astype(dtype)
    signal = X[:, 0].astype(np.float64)

    if task == "binary":
        y = np.arange(n_samples) % 2
        labels = draw(st.sampled_from([None, ("no", "yes"), (-1, 1), (1.0, 3.0)]))
        if labels is not None:
            y = np.asarray(labels)[y]
    elif task == "multiclass":
        n_classes = draw(st.integers(3, min(6, n_samples)))
        y = np.arange(n_samples) % n_classes
    elif task == "multilabel":
        n_labels = draw(st.integers(2, 4))
        y = (rng.uniform(size=(n_samples, n_labels)) < 0.5).astype(int)
        y[0], y[1] = 0, 1  # every label takes both values
    elif task == "regression":
        n_outputs = draw(st.integers(1, 3))
        y = signal[:, None] + rng.normal(size=(n_samples, n_outputs))
        y = y[:, 0] if n_outputs == 1 else y
    elif task == "positive":
        y = np.exp(0.5 * signal) + 0.1
    else:
        y = rng.poisson(np.exp(0.5 * signal)).astype(float)
    if y.ndim == 1:
        y = rng.permutation(y)
    if layout != "dense":
        X = getattr(sparse, f"{layout}_matrix")(X)
    return estimator, X, y, task


def _documented(exc):
    return isinstance(exc, ValueError) and any(
        re.search(pattern, str(exc)) for pattern in DOCUMENTED_ERRORS)


def _fit(estimator, X, y):
    """Fit, under the test suite's rules (RuntimeWarning is an error), quietly otherwise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return estimator.fit(X, y)
        except ValueError as exc:
            if _documented(exc):
                assume(False)  # a valid outcome; this example says nothing more
            raise


def _outputs(model, X):
    """Every prediction method's output, in a dict."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outputs = {"predict": model.predict(X)}
        for method in ("predict_proba", "decision_function"):
            if hasattr(model, method):
                outputs[method] = getattr(model, method)(X)
    return outputs


@FUZZ
@given(problems())
def test_fit_succeeds_and_predictions_are_finite(problem):
    estimator, X, y, task = problem
    model = _fit(estimator, X, y)
    n_samples = X.shape[0]
    assert all(np.all(np.isfinite(c)) for c in model.coefs_)
    assert model.coefs_[0].dtype == X.dtype  # float32 input trains in float32
    outputs = _outputs(model, X)
    prediction = outputs["predict"]
    if isinstance(model, MLPRegressor):
        assert prediction.shape == y.shape
        assert prediction.dtype == X.dtype
        assert np.all(np.isfinite(prediction))
        if model.out_activation_ == "exp":
            assert np.all(prediction >= 0)  # exp may underflow to 0, never below
        return
    if task == "multilabel":
        assert prediction.shape == y.shape
        assert np.isin(prediction, [0, 1]).all()
    else:
        assert prediction.shape == (n_samples,)
        assert prediction.dtype == np.asarray(y).dtype
        assert np.isin(prediction, model.classes_).all()
    n_columns = y.shape[1] if task == "multilabel" else len(model.classes_)
    if "predict_proba" in outputs:
        proba = outputs["predict_proba"]
        assert proba.shape == (n_samples, n_columns)
        assert proba.dtype == X.dtype
        assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
        if task != "multilabel":
            tolerance = 1e-5 if X.dtype == np.float32 else 1e-12
            assert np.allclose(proba.sum(axis=1), 1.0, rtol=0, atol=tolerance)
            # The most probable class is the predicted one.
            assert_array_equal(model.classes_[np.argmax(proba, axis=1)], prediction)
    if "decision_function" in outputs:
        scores = outputs["decision_function"]
        expected = (n_samples,) if task == "binary" else (n_samples, n_columns)
        assert scores.shape == expected
        assert np.all(np.isfinite(scores))


@FUZZ
@given(problems())
def test_clone_and_refit_gives_identical_weights(problem):
    estimator, X, y, _ = problem
    first = _fit(estimator, X, y)
    second = _fit(clone(estimator), X, y)
    assert_array_equal(second._params, first._params)
    assert second.n_iter_ == first.n_iter_
    assert second.loss_curve_ == first.loss_curve_
    for method, value in _outputs(first, X).items():
        assert_array_equal(_outputs(second, X)[method], value, err_msg=method)


@FUZZ
@given(problems())
def test_pickle_round_trip_predicts_exactly(problem):
    estimator, X, y, _ = problem
    model = _fit(estimator, X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert type(restored) is type(model)
    assert_array_equal(restored._params, model._params)
    before = _outputs(model, X)
    after = _outputs(restored, X)
    assert before.keys() == after.keys()
    for method, value in before.items():
        assert_array_equal(after[method], value, err_msg=method)
        assert after[method].dtype == value.dtype


def test_budget_comes_from_the_environment():
    # The module's profile: the CI default, or SKNNLOSS_FUZZ_EXAMPLES examples per property.
    expected = int(_requested) if _requested else CI_EXAMPLES
    assert FUZZ.max_examples == expected
    assert FUZZ.deadline is None
    if not _requested:
        assert FUZZ.derandomize  # CI runs are reproducible


@pytest.mark.parametrize("task", CLASSIFICATION + REGRESSION)
def test_every_sensible_pair_name_is_fuzzed(task):
    # Every loss of sensible_pairs (and its aliases) resolves: the fuzzer can draw them all.
    for grid in sensible_pairs(task):
        for name in _aliases(grid["loss"][0]):
            assert name == "log_loss" or name in LOSS_ALIASES
        assert grid["output_activation"][0] in ACTIVATION_ALIASES

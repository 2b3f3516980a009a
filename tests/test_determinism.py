"""Determinism (issue #7): the same data and the same integer ``random_state`` give bitwise
identical weights, run after run, for every solver; and the same predictions whether
``cross_validate`` / ``cross_val_predict`` run in this process (``n_jobs=1``) or in two loky
worker processes (``n_jobs=2``).

What is and is not bitwise reproducible (also in docs/user_guide/robustness.rst):

* bitwise: the same machine, library versions (numpy, scipy, BLAS, scikit-learn, sknnloss),
  input dtype and BLAS thread count, with an integer ``random_state``: across runs, across
  processes (pickling, loky workers) and across ``n_jobs``;
* not bitwise: across machines, BLAS builds or BLAS thread counts (a matrix product may sum in
  a different order and differ in the last bits, and the optimiser then follows a slightly
  different path); and with ``random_state=None`` or a ``RandomState`` instance, which ``fit``
  consumes (refitting the same estimator draws new weights).

The ``n_jobs`` tests pin BLAS to one thread in this process and in the workers (joblib's
``inner_max_num_threads``), so that both sides compute with the same thread count.
"""

import warnings

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_predict, cross_validate
from threadpoolctl import threadpool_limits

from sknnloss import MLPClassifier, MLPRegressor

SOLVERS = ["lbfgs", "cg", "bfgs", "sgd", "adam"]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def problem(estimator, n_samples=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 5))
    signal = X[:, 0] - X[:, 1] * X[:, 2]
    if estimator is MLPClassifier:
        return X, np.digitize(signal, [-0.5, 0.5])  # three classes
    return X, signal


def make(estimator, solver, **params):
    params = {"hidden_layer_sizes": (7, 5), "max_iter": 15, "random_state": 0,
              "solver": solver, **params}
    return estimator(**params)


def fitted_state(model):
    return model._params.copy(), list(model.loss_curve_), model.n_iter_


def assert_same_fit(a, b):
    params_a, curve_a, n_iter_a = fitted_state(a)
    params_b, curve_b, n_iter_b = fitted_state(b)
    assert_array_equal(params_a, params_b)  # bitwise: assert_array_equal has no tolerance
    assert curve_a == curve_b
    assert n_iter_a == n_iter_b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_same_seed_same_weights_across_runs(estimator, solver, dtype):
    X, y = problem(estimator)
    X = X.astype(dtype)
    runs = [make(estimator, solver).fit(X, y) for _ in range(3)]
    for run in runs[1:]:
        assert_same_fit(run, runs[0])
    # Refitting the same object is a fresh run too.
    refit = runs[0].fit(X, y)
    assert_same_fit(refit, runs[1])
    # A different seed does give different weights (the seed is really used).
    other = make(estimator, solver, random_state=1).fit(X, y)
    assert not np.array_equal(other._params, runs[0]._params)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("options", [
    {"early_stopping": True},
    {"batch_size": 16, "shuffle": True},
    {"learning_rate": "adaptive", "nesterovs_momentum": False},
    {"max_grad_norm": 0.5, "restore_best_weights": True},
])
def test_seeded_randomness_of_the_stochastic_solvers_is_reproducible(solver, options):
    # Shuffling, the early-stopping split and the minibatches all come from random_state.
    X, y = problem(MLPClassifier, n_samples=120)
    first = make(MLPClassifier, solver, **options).fit(X, y)
    second = clone(first).fit(X, y)
    assert_same_fit(first, second)
    if options.get("early_stopping"):
        assert first.validation_scores_ == second.validation_scores_


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_partial_fit_sequences_are_reproducible(estimator, solver):
    X, y = problem(estimator)
    kwargs = {"classes": np.unique(y)} if estimator is MLPClassifier else {}
    models = []
    for _ in range(2):
        model = make(estimator, solver)
        for batch in np.array_split(np.arange(len(y)), 5):
            model.partial_fit(X[batch], y[batch], **kwargs)
        models.append(model)
    assert_same_fit(*models)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_and_dense_runs_are_each_reproducible(solver):
    X, y = problem(MLPRegressor)
    X[np.abs(X) < 0.5] = 0.0
    for container in (np.asarray, sparse.csr_matrix, sparse.csc_matrix):
        a = make(MLPRegressor, solver).fit(container(X), y)
        b = make(MLPRegressor, solver).fit(container(X), y)
        assert_same_fit(a, b)


def test_a_randomstate_instance_is_consumed_by_fit():
    # Documented: only an integer seed makes refits reproducible.
    X, y = problem(MLPClassifier)
    model = make(MLPClassifier, "adam", random_state=np.random.RandomState(0))
    first = model.fit(X, y)._params.copy()
    second = model.fit(X, y)._params.copy()
    assert not np.array_equal(first, second)
    # clone copies the instance's state, so two clones of an unfitted model agree.
    template = make(MLPClassifier, "adam", random_state=np.random.RandomState(0))
    assert_array_equal(clone(template).fit(X, y)._params, clone(template).fit(X, y)._params)


def _cross_validation(estimator, X, y, n_jobs, **kwargs):
    """cross_validate and cross_val_predict with BLAS pinned to one thread everywhere."""
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    with threadpool_limits(limits=1), \
            parallel_config(backend="loky", inner_max_num_threads=1), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = cross_validate(estimator, X, y, cv=cv, n_jobs=n_jobs,
                                 return_estimator=True, **kwargs)
        methods = ["predict"] + [m for m in ("predict_proba", "decision_function")
                                 if hasattr(estimator, m)]
        predictions = {m: cross_val_predict(estimator, X, y, cv=cv, n_jobs=n_jobs, method=m)
                       for m in methods}
    return results, predictions


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator, params", [
    (MLPClassifier, {}),
    (MLPClassifier, {"loss": "hinge", "activation": "tanh"}),
    (MLPRegressor, {}),
])
def test_n_jobs_1_and_2_give_bitwise_equal_results(estimator, params, solver):
    X, y = problem(estimator)
    model = make(estimator, solver, **params)
    serial, serial_predictions = _cross_validation(model, X, y, n_jobs=1)
    parallel, parallel_predictions = _cross_validation(model, X, y, n_jobs=2)
    assert_array_equal(parallel["test_score"], serial["test_score"])
    for a, b in zip(serial["estimator"], parallel["estimator"]):
        assert_same_fit(a, b)
    assert serial_predictions.keys() == parallel_predictions.keys()
    for method, values in serial_predictions.items():
        assert_array_equal(parallel_predictions[method], values, err_msg=method)

"""Thread safety of prediction (issue #7): one fitted model, called from several threads at
once with different inputs, gives exactly what serial calls give.

Prediction allocates its own arrays on every call (``Network.forward``); the training buffers
of the objective are never used by ``predict``, ``predict_proba`` or ``decision_function``.
These tests would catch a work array shared across calls: concurrent calls with inputs of
different values and sizes would then overwrite each other's intermediate results.
"""

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import PReLU

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_THREADS = 8
REPEATS = 6  # each input is predicted this many times, interleaved with the others


def _data(seed, n_features=6, n_rows=300):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, n_features))
    return X, X[:, 0] - X[:, 1] * X[:, 2]


def _models():
    X, signal = _data(0)
    labels = np.digitize(signal, [-0.5, 0.5])
    yield "softmax-classifier", MLPClassifier(
        hidden_layer_sizes=(32, 16), max_iter=30, random_state=0).fit(X, labels)
    yield "hinge-classifier", MLPClassifier(
        hidden_layer_sizes=(16,), activation="tanh", loss="hinge", max_iter=30,
        random_state=0).fit(X, labels)
    yield "binary-prelu-classifier", MLPClassifier(
        hidden_layer_sizes=(16,), activation=PReLU(), solver="lbfgs", max_iter=30,
        random_state=0).fit(X, labels > 0)
    yield "multilabel-classifier", MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(
        X, np.c_[labels == 0, labels == 2].astype(int))
    yield "regressor", MLPRegressor(
        hidden_layer_sizes=(32, 16), solver="lbfgs", max_iter=30, random_state=0).fit(
        X, signal)
    yield "float32-regressor", MLPRegressor(
        hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(
        X.astype(np.float32), np.c_[signal, -signal])


@lru_cache(maxsize=None)
def _fitted():
    return dict(_models())


NAMES = ["softmax-classifier", "hinge-classifier", "binary-prelu-classifier",
         "multilabel-classifier", "regressor", "float32-regressor"]


def _inputs(model):
    """Inputs of different values and sizes (1 to 300 rows, and 17,000 rows that are
    predicted in blocks shared between threads), dense and sparse."""
    dtype = model.coefs_[0].dtype
    inputs = []
    for seed, n_rows in zip(range(1, 14), [1, 2, 7, 50, 300, 3, 120, 9, 64, 11, 200, 5, 17_000]):
        X, _ = _data(seed, n_rows=max(300, n_rows))
        X = X[:n_rows].astype(dtype)
        if seed % 4 == 0:
            X[np.abs(X) < 0.7] = 0.0
            X = sparse.csr_matrix(X)
        inputs.append(X)
    return inputs


def _methods(model):
    return [m for m in ("predict", "predict_proba", "decision_function") if hasattr(model, m)]


@pytest.mark.parametrize("name", NAMES)
def test_concurrent_predictions_equal_serial_ones(name):
    model = _fitted()[name]
    inputs = _inputs(model)
    methods = _methods(model)
    serial = {(m, i): getattr(model, m)(X) for m in methods for i, X in enumerate(inputs)}

    # Every (method, input) pair REPEATS times, interleaved so that calls of different sizes
    # overlap.
    jobs = [(m, i) for _ in range(REPEATS) for i in range(len(inputs)) for m in methods]
    rng = np.random.RandomState(0)
    jobs = [jobs[k] for k in rng.permutation(len(jobs))]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(lambda job: getattr(model, job[0])(inputs[job[1]]), jobs))

    for (method, i), result in zip(jobs, results):
        expected = serial[(method, i)]
        assert result.shape == expected.shape
        assert_array_equal(result, expected, err_msg=f"{method} on input {i}")


def test_predictions_while_another_model_trains():
    # Training one model (its objective's buffers in use) does not disturb the predictions of
    # another model of the same configuration, nor do its predictions disturb the training:
    # the trained weights equal those of a fit with no predictions running.
    assert sorted(_fitted()) == sorted(NAMES)
    X, y = _data(0)
    labels = (y > 0).astype(int)
    fitted = MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X, labels)
    inputs = _inputs(fitted)
    expected = [fitted.predict_proba(X_i) for X_i in inputs]
    reference = MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=1).fit(
        X, labels)

    def predict_many():
        return [[fitted.predict_proba(X_i) for X_i in inputs] for _ in range(REPEATS)]

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(predict_many) for _ in range(2)]
        trained = pool.submit(
            MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=1).fit, X, labels)
        rounds = [round_ for future in futures for round_ in future.result()]
        trained = trained.result()
    for round_ in rounds:
        for result, want in zip(round_, expected):
            assert_array_equal(result, want)
    assert_array_equal(trained._params, reference._params)

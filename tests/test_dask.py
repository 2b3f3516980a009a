"""Beyond one machine: a grid search spread over a dask.distributed cluster through joblib's
dask backend, and out-of-core training through partial_fit with dask-ml's Incremental.

The cluster listens on the loopback interface only. Its workers are threads of the test
process (quick to start), but they talk to the scheduler and the client over TCP, so every task
and every result, estimators included, is pickled on the way, as between machines.
"""

import logging

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import LeakyReLU

da = pytest.importorskip("dask.array", reason="the dask tests need dask "
                         "(pip install 'sknnloss[dask]')")
distributed = pytest.importorskip("distributed", reason="the dask tests need distributed "
                                  "(pip install 'sknnloss[dask]')")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers", reason="the dask tests need "
                                       "dask-ml (pip install 'sknnloss[dask]')")
joblib = pytest.importorskip("joblib")  # installed with scikit-learn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_SAMPLES, CHUNK = 400, 100  # four chunks


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers on tcp://127.0.0.1, closed after the module's tests.

    BLAS is limited to one thread meanwhile, as dask's worker processes limit it: two
    workers each running a multi-threaded BLAS on tiny matrices only oversubscribe the cores.
    """
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR,
        # No dashboard; the scheduler's small HTTP server (health checks) would otherwise
        # claim port 8787, which two test processes (pytest -n 2) both want.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    client = distributed.Client(cluster)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(n_samples=N_SAMPLES, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    # One target: dask-ml's Incremental takes y as one-dimensional chunks.
    X, y = make_regression(n_samples=N_SAMPLES, n_features=6, noise=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y / y.std()


def test_grid_search_on_a_dask_cluster_matches_the_serial_search(client, classification):
    X, y = classification
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=20, random_state=0),
        {"activation": ["tanh", LeakyReLU(negative_slope=0.2)], "loss": ["log_loss", "hinge"]},
        cv=3,
    )
    serial = clone(search).fit(X, y)
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_backend("dask"):
            spread = clone(search).set_params(n_jobs=-1).fit(X, y)
    assert tasks.data, "no task ran on the cluster"
    # Parameter objects are compared by value: each search holds its own clones.
    assert repr(spread.best_params_) == repr(serial.best_params_)
    assert repr(spread.cv_results_["params"]) == repr(serial.cv_results_["params"])
    assert spread.best_score_ == serial.best_score_
    for key in serial.cv_results_:
        if "test_score" in key:
            assert_array_equal(spread.cv_results_[key], serial.cv_results_[key], err_msg=key)
    assert_array_equal(spread.predict(X), serial.predict(X))


def _by_hand(estimator, X, y, n_passes, **fit_params):
    """partial_fit on each chunk in order, n_passes times: what Incremental should do."""
    model = clone(estimator)
    for _ in range(n_passes):
        for start in range(0, len(X), CHUNK):
            model.partial_fit(X[start:start + CHUNK], y[start:start + CHUNK], **fit_params)
    return model


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_incremental_out_of_core_equals_partial_fit_chunk_by_chunk(client, request, task,
                                                                   solver):
    X, y = request.getfixturevalue(task)
    X_dask = da.from_array(X, chunks=(CHUNK, X.shape[1]))
    y_dask = da.from_array(y, chunks=CHUNK)
    assert X_dask.numblocks[0] == N_SAMPLES // CHUNK > 1
    if task == "classification":
        estimator = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, random_state=0,
                                  learning_rate_init=0.01)
        fit_params = {"classes": np.unique(y)}
    else:
        estimator = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, random_state=0,
                                 learning_rate_init=0.01)
        fit_params = {}

    incremental = dask_ml_wrappers.Incremental(estimator, shuffle_blocks=False)
    incremental.fit(X_dask, y_dask, **fit_params)  # one pass over the chunks
    incremental.partial_fit(X_dask, y_dask, **fit_params)  # a second pass, continuing
    trained = incremental.estimator_
    expected = _by_hand(estimator, X, y, n_passes=2, **fit_params)

    assert trained.t_ == expected.t_ == 2 * N_SAMPLES
    assert_array_equal(trained._params, expected._params, strict=True)
    assert trained.loss_curve_ == expected.loss_curve_
    predicted = incremental.predict(X_dask)
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), expected.predict(X))

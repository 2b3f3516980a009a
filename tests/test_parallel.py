"""Prediction on several threads (``sknnloss._parallel``).

Large predictions are cut into row blocks that several threads take in turn, with numpy's
BLAS limited to one thread while they run. What a user relies on: the same predictions as on
one thread, every row predicted exactly once, errors raised as usual, the user's BLAS thread
limit respected and put back afterwards, also when predictions overlap.
"""

import multiprocessing
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sknnloss import MLPClassifier, MLPRegressor, _network, _parallel
from sknnloss.activations import Activation, PReLU, get_activation

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _numpy_blas_threads():
    blas = _parallel._numpy_blas()
    assert blas is not None, "numpy's BLAS is not visible to threadpoolctl"
    return [lib.num_threads for lib in blas.lib_controllers]


@pytest.fixture
def many_cores(monkeypatch):
    """As if the process could run on 4 cores (the CI machine may have fewer), and with
    threads from 4 blocks on (inputs of a few thousand rows keep the tests fast)."""
    monkeypatch.setattr(_parallel, "_available_cores", lambda: 4)
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_BLOCKS", 4)


@pytest.fixture
def spread(monkeypatch):
    """Every prediction block takes a little longer (sleeping, without the GIL), so that the
    helper threads surely get blocks; yields the set of threads that computed blocks."""
    threads = set()
    original = _network.Network._forward_block

    def slow_block(self, *args, **kwargs):
        threads.add(threading.get_ident())
        time.sleep(0.002)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_network.Network, "_forward_block", slow_block)
    return threads


@pytest.fixture
def spy(monkeypatch):
    """The thread counts of the :func:`run_blocks` calls the network made."""
    calls = []

    def recording(*args, **kwargs):
        calls.append(_parallel.run_blocks(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(_network, "run_blocks", recording)
    return calls


@pytest.mark.parametrize("n_threads", [1, 2, 3, 5])
@pytest.mark.parametrize("n_rows", [1, 999, 1000, 1001, 4000, 10_001])
def test_every_block_runs_once_in_order_of_rows(monkeypatch, n_threads, n_rows):
    monkeypatch.setattr(_parallel, "prediction_threads", lambda n_blocks: min(n_threads, n_blocks))
    seen, workers = [], []
    lock = threading.Lock()

    def make_worker():
        workers.append(threading.get_ident())

        def worker(start, stop):
            with lock:
                seen.append((start, stop))
        return worker

    used = _parallel.run_blocks(n_rows, 1000, make_worker)
    n_blocks = -(-n_rows // 1000)
    assert used == min(n_threads, n_blocks)
    assert sorted(seen) == [(s, min(s + 1000, n_rows)) for s in range(0, n_rows, 1000)]
    assert 1 <= len(workers) <= used  # one worker per thread that got a block
    assert len(set(workers)) == len(workers)
    assert _parallel._state["active"] == 0


def test_thread_count_follows_blas_cores_and_blocks(monkeypatch):
    monkeypatch.setattr(_parallel, "_available_cores", lambda: 4)
    assert _parallel.MIN_PARALLEL_BLOCKS == 16
    with threadpool_limits(limits=3, user_api="blas"):
        assert _parallel.prediction_threads(_parallel.MIN_PARALLEL_BLOCKS - 1) == 1
        assert _parallel.prediction_threads(_parallel.MIN_PARALLEL_BLOCKS) == 3
        assert _parallel.prediction_threads(100) == 3
    with threadpool_limits(limits=8, user_api="blas"):
        assert _parallel.prediction_threads(100) == 4  # the cores
    with threadpool_limits(limits=1, user_api="blas"):
        # A user's limit of one BLAS thread (or OMP_NUM_THREADS=1) keeps prediction serial.
        assert _parallel.prediction_threads(100) == 1
        assert _parallel.run_blocks(10_000, 100, lambda: (lambda start, stop: None)) == 1


_PROBE = {"seen": [], "calls": 0, "fail_on_call": None, "lock": threading.Lock()}


class _Probe(Activation):
    """tanh that records numpy's BLAS thread limit while it runs, and fails on a given call."""

    name = "probe"

    def forward(self, z, out=None):
        with _PROBE["lock"]:
            _PROBE["seen"].append(tuple(_numpy_blas_threads()))
            _PROBE["calls"] += 1
            fail = _PROBE["calls"] == _PROBE["fail_on_call"]
        if fail:
            raise FloatingPointError("probe: failing on purpose")
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        return np.subtract(1.0, np.square(a, out=out), out=out)


def test_blas_runs_on_one_thread_during_and_is_put_back_after(many_cores, spy):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    model = MLPRegressor(hidden_layer_sizes=(7,), activation=_Probe(), solver="lbfgs",
                         max_iter=5, random_state=0).fit(X, X[:, 0])
    X_big = rng.normal(size=(5000, 5))
    with threadpool_limits(limits=2, user_api="blas"):
        _PROBE.update(seen=[], calls=0, fail_on_call=None)
        expected = model.predict(X_big)
        assert spy[-1] == 2
        assert _PROBE["calls"] == 5  # one per block of 1024 rows
        assert set(_PROBE["seen"]) == {tuple(1 for _ in _numpy_blas_threads())}
        assert set(_numpy_blas_threads()) == {2}

        # An error in one block: raised from predict, the limit put back, nothing running.
        _PROBE.update(calls=0, fail_on_call=3)
        try:
            with pytest.raises(FloatingPointError, match="failing on purpose"):
                model.predict(X_big)
        finally:
            _PROBE["fail_on_call"] = None
        assert _PROBE["calls"] <= 5
        assert set(_numpy_blas_threads()) == {2}
        assert _parallel._state["active"] == 0
        # And the next prediction is whole again.
        assert_array_equal(model.predict(X_big), expected)


def test_overlapping_predictions_put_the_limit_back(many_cores):
    # Eight threads predict at once, each call itself on two threads: the calls enter and
    # leave the one-thread limit in every order, and the user's limit of 2 comes back.
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 6))
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(
        X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
    inputs = [rng.normal(size=(n, 6)) for n in (4100, 6000, 300, 9000, 5000, 4096, 20, 7000)]
    with threadpool_limits(limits=1, user_api="blas"):
        expected = [model.predict_proba(X_i) for X_i in inputs]
    with threadpool_limits(limits=2, user_api="blas"):
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(3):
                got = list(pool.map(model.predict_proba, inputs))
                for g, e in zip(got, expected):
                    assert_array_equal(g, e)
        assert set(_numpy_blas_threads()) == {2}
    assert _parallel._state["active"] == 0 and _parallel._state["limiter"] is None


@lru_cache(maxsize=None)
def _model(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return dict(_models())[name]


def _models():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(400, 6))
    labels = np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])
    yield "softmax", MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=30,
                                   random_state=0).fit(X, labels)
    yield "batch-norm", MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, max_iter=30,
                                      random_state=0).fit(X, labels)
    yield "prelu-binary", MLPClassifier(hidden_layer_sizes=(16,), activation=PReLU(),
                                        solver="lbfgs", max_iter=30, random_state=0).fit(
        X, labels > 0)
    yield "hinge", MLPClassifier(hidden_layer_sizes=(16,), loss="hinge", max_iter=30,
                                 random_state=0).fit(X, labels)
    yield "regressor-float32", MLPRegressor(hidden_layer_sizes=(16,), max_iter=30,
                                            random_state=0).fit(
        X.astype(np.float32), np.c_[X[:, 0], X[:, 1] * X[:, 2]])


@pytest.mark.parametrize("name", ["softmax", "batch-norm", "prelu-binary", "hinge",
                                  "regressor-float32"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_threads_predict_exactly_what_one_thread_predicts(many_cores, spy, spread, name, fmt):
    model = _model(name)
    rng = np.random.RandomState(3)
    X = rng.normal(size=(5 * 1024 + 17, 6)).astype(model.coefs_[0].dtype)
    if fmt != "dense":
        X[np.abs(X) < 0.8] = 0.0
        X = getattr(sparse, f"{fmt}_matrix")(X)
    methods = [m for m in ("predict", "predict_proba", "decision_function")
               if hasattr(model, m)]
    with threadpool_limits(limits=1, user_api="blas"):
        serial = {m: getattr(model, m)(X) for m in methods}
    assert set(spy) == {1}
    spy.clear()
    spread.clear()
    with threadpool_limits(limits=3, user_api="blas"):
        for m in methods:
            assert_array_equal(getattr(model, m)(X), serial[m], err_msg=m)
    assert set(spy) == {3}
    assert len(spread) >= 2  # the helpers did compute blocks


def _predict_in_child(queue):
    X = np.random.RandomState(0).normal(size=(6000, 3))
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
        X[:100], X[:100, 0])
    queue.put(model.predict(X).shape)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_prediction_in_a_forked_child_after_threads_were_used(many_cores):
    # The parent's helper threads do not exist in a forked child; the child starts its own.
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
        np.eye(3), [0.0, 1.0, 2.0])
    with threadpool_limits(limits=2, user_api="blas"):
        model.predict(np.zeros((6000, 3)))
    assert _parallel._state["pool"] is not None
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_predict_in_child, args=(queue,))
    child.start()
    shape = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert shape == (6000,)


def test_helper_threads_do_take_blocks(monkeypatch):
    # Each thread waits on its first block until a second thread has one too: the call
    # finishes only if two threads really share the blocks (else the barrier breaks).
    monkeypatch.setattr(_parallel, "prediction_threads", lambda n_blocks: 2)
    barrier = threading.Barrier(2, timeout=30)
    threads = []

    def make_worker():
        threads.append(threading.get_ident())
        barrier.wait()
        return lambda start, stop: None

    assert _parallel.run_blocks(10_000, 100, make_worker) == 2
    assert len(set(threads)) == 2


class _Exp(Activation):
    """exp: overflows for large pre-activations (warning or error per numpy's errstate)."""

    name = "exp_probe"

    def forward(self, z, out=None):
        return np.exp(z, out=out)

    def derivative(self, z, a, out=None):
        return np.copyto(out, a) if out is not None else a.copy()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_helpers_follow_the_callers_errstate(many_cores, spread):
    # The helper threads take the caller's numpy error handling (a context variable from
    # numpy 2.0 on, per thread before): an overflow the caller silences is silent in every
    # block, one it turns into an error is raised whichever thread met it, and its error
    # callback hears from every thread.
    network = _network.Network([2, 3, 1], [_Exp()], get_activation("identity"))
    params = network.initialize(np.random.RandomState(0), np.float64)
    coefs, _ = network.unpack(params)
    coefs[0][...] = 1.0
    X = np.full((6000, 2), 500.0)  # exp(1000) overflows in every row
    with threadpool_limits(limits=2, user_api="blas"):
        with np.errstate(over="ignore", invalid="ignore"):
            _, y = network.forward(params, X)
        assert len(spread) >= 2
        assert not np.isfinite(y).any()
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            network.forward(params, X)
        heard = set()
        with np.errstate(over="call", invalid="ignore",
                         call=lambda kind, flag: heard.add(threading.get_ident())):
            spread.clear()
            network.forward(params, X)
        assert len(spread) >= 2 and heard == spread
    assert _parallel._state["active"] == 0


def test_error_state_left_on_a_helper_thread_does_not_outlive_its_call(monkeypatch):
    # A worker that changes numpy's error handling on a helper thread (np.seterr and
    # np.seterrcall; per thread on numpy 1.x) must not hand it to the next call's blocks.
    monkeypatch.setattr(_parallel, "prediction_threads", lambda n_blocks: 2)
    caller = threading.get_ident()
    seen, lock = [], threading.Lock()

    def make_worker(body):
        def worker(start, stop):
            time.sleep(0.005)  # so that the helper surely takes blocks
            with lock:
                seen.append((threading.get_ident(), np.geterr()["over"], np.geterrcall()))
            body()
        return lambda: worker

    def leave_state():
        if threading.get_ident() != caller:
            np.seterr(over="raise")
            np.seterrcall(print)

    _parallel.run_blocks(20, 1, make_worker(leave_state))
    seen.clear()
    with np.errstate(over="warn", call=None):
        _parallel.run_blocks(20, 1, make_worker(lambda: None))
        expected = ("warn", None)
    assert len({thread for thread, *_ in seen}) == 2
    assert {tuple(state) for _, *state in seen} == {expected}


def test_prediction_while_the_interpreter_shuts_down(monkeypatch, many_cores, spy):
    # At exit, concurrent.futures refuses new work: the calling thread takes every block.
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    monkeypatch.setattr(_parallel, "_helpers", lambda: pool)
    model = _model("softmax")
    X = np.random.RandomState(4).normal(size=(5000, 6))
    with threadpool_limits(limits=1, user_api="blas"):
        expected = model.predict_proba(X)
    with threadpool_limits(limits=2, user_api="blas"):
        assert_array_equal(model.predict_proba(X), expected)
    assert spy[-1] == 2 and _parallel._state["active"] == 0


def _report_state(queue):
    queue.put((_parallel._state["active"], _parallel._state["limiter"] is None,
               _numpy_blas_threads()))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_fork_during_a_prediction_leaves_the_child_unlimited():
    # The parent is inside a prediction (BLAS limited to one thread) when it forks: the
    # child has no prediction running, so its BLAS limit is the one from before.
    with threadpool_limits(limits=2, user_api="blas"):
        _parallel._enter_single_threaded_blas()
        try:
            assert set(_numpy_blas_threads()) == {1}
            context = multiprocessing.get_context("fork")
            queue = context.Queue()
            child = context.Process(target=_report_state, args=(queue,))
            child.start()
            active, no_limiter, blas_threads = queue.get(timeout=60)
            child.join(timeout=60)
        finally:
            _parallel._exit_single_threaded_blas()
        assert set(_numpy_blas_threads()) == {2}
    assert child.exitcode == 0
    assert (active, no_limiter, set(blas_threads)) == (0, True, {2})

"""scikit-learn's callback framework (sklearn.callback, 1.9+) on both estimators."""

import importlib.util

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.datasets import load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HAS_CALLBACKS = importlib.util.find_spec("sklearn.callback") is not None
needs_callbacks = pytest.mark.skipif(
    not HAS_CALLBACKS,
    reason=f"scikit-learn {sklearn.__version__} has no sklearn.callback (new in 1.9): this is "
    "the lower-bound CI job; test_set_callbacks_without_the_framework covers it there",
)


def _data(estimator):
    if estimator is MLPClassifier:
        return load_iris(return_X_y=True)
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


class StopAfter:
    """A user's callback: stops after ``n`` steps, or once the epoch's diagnostics show a
    dead unit, reading them from ``history_``."""

    def __init__(self, n=None, on_dead_units=False):
        self.n, self.on_dead_units, self.seen = n, on_dead_units, []

    def setup(self, estimator, context):
        self.seen = []

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name not in ("epoch", "iteration"):
            return False
        self.seen.append(context.task_id)
        if self.on_dead_units:
            return bool(np.any(estimator.history_["dead_fraction"][-1] > 0))
        return len(self.seen) >= self.n


@needs_callbacks
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_progress_bar_and_scoring_monitor(estimator, solver, capsys):
    from sklearn.callback import ProgressBar, ScoringMonitor

    X, y = _data(estimator)
    scoring = "accuracy" if estimator is MLPClassifier else "r2"
    monitor = ScoringMonitor(scoring=scoring)
    model = estimator(hidden_layer_sizes=(8,), solver=solver, max_iter=6, random_state=0)
    model.set_callbacks(ProgressBar(), monitor).fit(X, y)
    rows = monitor.get_logs().data
    steps = [row for row in rows if row["task_name"] in ("epoch", "iteration")]
    assert len(steps) == model.n_iter_
    assert [row["task_id"] for row in steps] == list(range(model.n_iter_))
    # The monitor scored a snapshot of each step: the last one is the final model's score.
    assert steps[-1][scoring] == pytest.approx(model.score(X, y))
    assert all(np.isfinite(row[scoring]) for row in steps)
    captured = capsys.readouterr()
    assert f"{estimator.__name__} - fit" in captured.out + captured.err


@needs_callbacks
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs", "cg"])
def test_user_callback_stops_training(solver):
    X, y = _data(MLPRegressor)
    stopper = StopAfter(n=3)
    model = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=50, random_state=0)
    model.set_callbacks(stopper).fit(X, y)
    assert model.n_iter_ == 3
    assert len(model.loss_curve_) == 3
    assert np.all(np.isfinite(model.predict(X)))


@needs_callbacks
def test_user_callback_reads_the_epoch_diagnostics():
    X, y = load_iris(return_X_y=True)
    stopper = StopAfter(on_dead_units=True)
    clf = MLPClassifier(hidden_layer_sizes=(30,), max_iter=100, learning_rate_init=0.1,
                        random_state=0).set_callbacks(stopper)
    clf.fit(X, y)
    dead = clf.history_["dead_fraction"]
    assert np.any(dead[-1] > 0)  # stopped on the first epoch with a dead unit...
    assert not np.any(dead[:-1] > 0)  # ...and not before
    assert clf.n_iter_ == len(stopper.seen) < 100


@needs_callbacks
def test_callbacks_observe_without_changing_the_fit():
    from sklearn.callback import ScoringMonitor

    X, y = load_iris(return_X_y=True)
    plain = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    watched = MLPClassifier(max_iter=5, random_state=0).set_callbacks(
        ScoringMonitor(scoring="accuracy")).fit(X, y)
    for a, b in zip(plain.coefs_, watched.coefs_):
        assert_array_equal(a, b)


@needs_callbacks
def test_partial_fit_runs_one_epoch_task():
    X, y = load_iris(return_X_y=True)
    stopper = StopAfter(n=10)
    clf = MLPClassifier(random_state=0).set_callbacks(stopper)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert stopper.seen == [0]  # set up anew for each call, one epoch each


def test_set_callbacks_without_the_framework():
    if HAS_CALLBACKS:
        from sklearn.callback import CallbackSupportMixin

        assert isinstance(MLPClassifier(), CallbackSupportMixin)
        with pytest.raises(TypeError, match="FitCallback"):
            MLPClassifier().set_callbacks(object())
    else:
        with pytest.raises(RuntimeError, match=r"scikit-learn 1\.9"):
            MLPClassifier().set_callbacks(StopAfter(n=1))

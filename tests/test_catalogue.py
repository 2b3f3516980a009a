"""The catalogue inside the estimators: trainable PReLU with every solver, user-defined objects
everywhere a built-in goes, margin heads, and a grid search over activation/loss pairs."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor, sensible_pairs
from sknnloss.activations import PReLU
from sknnloss.losses import Quantile

from .user_defined import PseudoHuber, ScaledTanh

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("solver", ["lbfgs", "cg", "bfgs", "sgd", "adam"])
def test_prelu_slopes_train_with_every_solver(cancer, solver):
    X, y = cancer
    clf = MLPClassifier(hidden_layer_sizes=(6, 4), activation=PReLU(init=0.25), solver=solver,
                        max_iter=30, random_state=0).fit(X, y)
    slopes = clf.activation_params_
    assert [s.shape for s in slopes] == [(6,), (4,)]
    assert all(np.shares_memory(s, clf._params) for s in slopes)
    for s in slopes:
        assert not np.allclose(s, 0.25)
    assert clf.score(X, y) > 0.9
    # The slopes are part of the model: changing them changes predictions.
    before = clf.predict_proba(X)
    clf.activation_params_[0][:] = 0.0
    assert not np.allclose(clf.predict_proba(X), before)


def test_activation_params_without_trainable_activation(cancer):
    X, y = cancer
    clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5).fit(X, y)
    assert clf.activation_params_ == [None]
    with pytest.raises(ValueError, match="no trainable activation parameters"):
        clf.activation_params_[0] = np.ones(3)


def test_prelu_slopes_survive_pickle_and_warm_start(cancer):
    X, y = cancer
    clf = MLPClassifier(hidden_layer_sizes=(5,), activation="prelu", max_iter=5,
                        warm_start=True, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.activation_params_[0], clf.activation_params_[0])
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    slopes = clf.activation_params_[0].copy()
    clf.fit(X, y)  # continues from the trained slopes
    assert not np.allclose(clf.activation_params_[0], slopes)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam", "cg"])
def test_user_defined_objects_work_with_every_solver(solver):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(8,), activation=ScaledTanh(scale=2.0),
                       loss=PseudoHuber(delta=1.0), solver=solver, max_iter=100,
                       learning_rate_init=0.01, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.3
    copy = clone(reg)
    assert copy.activation.scale == 2.0 and copy.loss.delta == 1.0
    restored = pickle.loads(pickle.dumps(reg))
    assert_array_equal(restored.predict(X), reg.predict(X))


def test_user_defined_parameters_are_grid_searchable():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    search = GridSearchCV(
        MLPRegressor(hidden_layer_sizes=(5,), activation=ScaledTanh(), loss=PseudoHuber(),
                     solver="lbfgs", max_iter=50, random_state=0),
        {"activation__scale": [1.0, 3.0], "loss__delta": [10.0, 50.0]}, cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {"activation__scale", "loss__delta"}


def test_grid_search_over_activations_and_pairs_in_a_pipeline():
    """4 hidden activations x 4 (loss, output activation) pairs, cross-validated on a tabular
    dataset behind a scaler."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,),
                                                          solver="lbfgs", max_iter=100,
                                                          alpha=1e-2, random_state=0))
    grid = [dict(entry, mlpclassifier__activation=["relu", "tanh", "gelu", PReLU()])
            for entry in sensible_pairs("binary", prefix="mlpclassifier__")[:4]]
    search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
    results = search.cv_results_
    assert len(results["params"]) == 16
    # Every combination learns this problem well, and the best one generalises.
    assert np.min(results["mean_test_score"]) > 0.9
    assert search.best_score_ > 0.95
    assert search.score(X_test, y_test) > 0.93


def test_margin_heads():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # Categorical hinge: scores, no probabilities; argmax decides.
    clf = MLPClassifier(loss="categorical_hinge", solver="lbfgs", max_iter=200,
                        random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    scores = clf.decision_function(X)
    assert scores.shape == (150, 3)
    assert_array_equal(clf.predict(X), clf.classes_[scores.argmax(axis=1)])
    assert clf.score(X, y) > 0.9
    # Binary with two outputs: one score per sample, positive means classes_[1].
    binary = (y == 2).astype(int)
    clf = MLPClassifier(loss="categorical_hinge", solver="lbfgs", max_iter=100,
                        random_state=0).fit(X, binary)
    scores = clf.decision_function(X)
    assert scores.shape == (150,)
    assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    # Modified Huber keeps probabilities (finite logs), squared hinge does not.
    mh = MLPClassifier(loss="modified_huber", solver="lbfgs", max_iter=100,
                       random_state=0).fit(X, binary)
    proba = mh.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1)
    assert np.all(np.isfinite(mh.predict_log_proba(X)))
    assert_array_equal(mh.predict(X), mh.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert not hasattr(MLPClassifier(loss="squared_hinge"), "predict_proba")


def test_quantile_regression_brackets_the_targets():
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(400, 1))
    y = X[:, 0] + rng.normal(scale=0.5, size=400)
    fits = {q: MLPRegressor(loss=Quantile(quantile=q), hidden_layer_sizes=(10,),
                            solver="lbfgs", max_iter=300, random_state=0).fit(X, y)
            for q in (0.1, 0.9)}
    low, high = fits[0.1].predict(X), fits[0.9].predict(X)
    coverage = np.mean((y >= low) & (y <= high))
    assert 0.72 < coverage < 0.88  # nominal 80%
    assert np.all(high > low)


def test_poisson_gamma_tweedie_regressors_stay_positive():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 3))
    mean = np.exp(0.3 * X[:, 0] + 0.5)
    counts = rng.poisson(mean)
    amounts = rng.gamma(shape=2.0, scale=mean / 2.0)
    for loss, y in [("poisson", counts), ("gamma", amounts), ("tweedie", counts * 1.5)]:
        reg = MLPRegressor(loss=loss, hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200,
                           alpha=1.0, random_state=0).fit(X, y)
        assert reg.out_activation_ == "exp"
        prediction = reg.predict(X)
        assert np.all(prediction > 0)
        assert np.corrcoef(prediction, mean)[0, 1] > 0.9

"""pairing() and sensible_pairs(): the guidance, and how the estimators act on it."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.model_selection import GridSearchCV

from sknnloss import MLPClassifier, MLPRegressor, PairingWarning, pairing, sensible_pairs
from sknnloss.pairing import TASKS


@pytest.mark.parametrize(
    "loss, activation, task, distribution, estimates",
    [
        ("squared_error", "auto", "regression", "Gaussian", "mean"),
        ("absolute_error", "identity", "regression", "Laplace", "median"),
        ("poisson", "auto", "count", "Poisson", "mean of counts"),
        ("log_loss", "auto", "binary", "Bernoulli", "probability"),
        ("log_loss", "softmax", "multiclass", "categorical", "class probabilities"),
        ("binary_crossentropy", "sigmoid", "multilabel", "Bernoulli", "probability"),
    ],
)
def test_canonical_pairs_name_their_likelihood(loss, activation, task, distribution,
                                               estimates):
    verdict = pairing(loss, activation, task=task)
    assert verdict.canonical and verdict.ok
    assert distribution in verdict.distribution
    assert estimates in verdict.estimates
    assert "canonical" in str(verdict)


def test_known_problems():
    saturating = pairing("squared_error", "logistic", task="binary")
    assert not saturating.canonical and saturating.ok
    assert any("saturates" in note for note in saturating.notes)

    assert any("one winner" in w
               for w in pairing("binary_crossentropy", "softmax", task="multilabel").warnings)
    assert any("clipped" in w for w in pairing("binary_crossentropy", "identity").warnings)
    assert any("cannot go negative" in n
               for n in pairing("squared_error", "relu", task="regression").notes)
    assert any("targets span" in w
               for w in pairing("squared_error", "relu", task="regression",
                                y=[-2.0, 3.0]).warnings)
    assert any("margin" in w for w in pairing("hinge", "relu", task="binary").warnings)
    assert pairing("hinge", task="regression").errors
    assert pairing("sparse_categorical_crossentropy", task="multilabel").errors
    assert pairing("log_loss", "softmax", task="binary").errors


@pytest.mark.parametrize("task", TASKS)
def test_sensible_pairs_are_all_fine(task):
    grid = sensible_pairs(task)
    assert len(grid) >= 3
    for entry in grid:
        assert pairing(entry["loss"][0], entry["output_activation"][0], task=task).ok


def test_unknown_task_raises():
    with pytest.raises(ValueError, match="Unknown task"):
        sensible_pairs("ranking")
    with pytest.raises(ValueError, match="Unknown task"):
        pairing("squared_error", task="ranking")


def test_sensible_pairs_drop_into_grid_search_with_prefix():
    X, y = load_iris(return_X_y=True)
    grid = [dict(entry, activation=["tanh"])
            for entry in sensible_pairs("multiclass")]
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs",
                                        max_iter=50, random_state=0), grid, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == len(grid)
    assert search.best_score_ > 0.8
    assert "mlpclassifier__loss" in sensible_pairs("binary", prefix="mlpclassifier__")[0]


def test_estimator_warns_once_for_a_pair_that_cannot_work():
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    clf = MLPClassifier(loss="binary_crossentropy", output_activation="softmax",
                        solver="lbfgs", max_iter=20)
    with pytest.warns(PairingWarning, match="one winner") as record:
        clf.fit(X, Y)
    assert sum(issubclass(w.category, PairingWarning) for w in record) == 1
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    with pytest.warns(PairingWarning, match="targets span"):
        MLPRegressor(output_activation="relu", solver="lbfgs", max_iter=20).fit(X, X[:, 0])


def test_estimator_raises_for_an_impossible_pair():
    X, y = load_iris(return_X_y=True)
    binary = (y > 0).astype(int)
    with pytest.raises(ValueError, match="softmax over the single output"):
        MLPClassifier(output_activation="softmax").fit(X, binary)


def test_no_warning_for_canonical_defaults():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PairingWarning)
        MLPClassifier(solver="lbfgs", max_iter=10).fit(X, y)
        MLPRegressor(solver="lbfgs", max_iter=10).fit(X, X[:, 0])

"""Training a practitioner can steer and see: class weights, best-weight restore with a chosen
metric, divergence, verbose progress and the per-epoch history."""

import pickle
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_classification
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss._solvers import SGD, Adam, DivergenceWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(n_samples=2000, weights=[0.95], flip_y=0.02, random_state=0)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "focal", "squared_error"])
def test_balanced_class_weight_raises_minority_recall(imbalanced, loss):
    X_train, X_test, y_train, y_test = imbalanced
    params = dict(hidden_layer_sizes=(16,), loss=loss, max_iter=100, random_state=0)
    plain = MLPClassifier(**params).fit(X_train, y_train)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X_train, y_train)
    plain_recall = recall_score(y_test, plain.predict(X_test))
    balanced_recall = recall_score(y_test, balanced.predict(X_test))
    assert balanced_recall >= plain_recall + 0.05


def test_class_weight_equals_sample_weight(imbalanced):
    X_train, _, y_train, _ = imbalanced
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    by_class = MLPClassifier(class_weight={0: 1.0, 1: 4.0}, **params).fit(X_train, y_train)
    by_sample = MLPClassifier(**params).fit(X_train, y_train,
                                             sample_weight=np.where(y_train == 1, 4.0, 1.0))
    assert_allclose(by_class.coefs_[0], by_sample.coefs_[0])
    # Both combine: class weights multiply the sample weights.
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, size=len(y_train))
    both = MLPClassifier(class_weight={0: 1.0, 1: 4.0}, **params).fit(
        X_train, y_train, sample_weight=sample_weight)
    product = MLPClassifier(**params).fit(
        X_train, y_train, sample_weight=sample_weight * np.where(y_train == 1, 4.0, 1.0))
    assert_allclose(both.coefs_[0], product.coefs_[0])


def test_class_weight_in_partial_fit():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(class_weight={0: 1.0, 1: 2.0, 2: 3.0}, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    weighted = MLPClassifier(random_state=0).partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=np.array([1.0, 2.0, 3.0])[y])
    assert_allclose(clf.coefs_[0], weighted.coefs_[0])
    with pytest.raises(ValueError, match="compute_class_weight"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_class_weight_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="equal").fit(X, y)
    with pytest.raises(ValueError, match="not in class_weight|classes"):
        MLPClassifier(class_weight={0: 1.0, 7: 2.0}, max_iter=2).fit(X, y)
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match="multi-label"):
        MLPClassifier(class_weight="balanced").fit(X, Y)


def test_early_stopping_restores_the_best_validation_weights_for_a_chosen_metric():
    X, y = make_classification(n_samples=600, weights=[0.8], flip_y=0.1, random_state=1)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), early_stopping=True,
                        scoring="balanced_accuracy", learning_rate_init=0.01, max_iter=60,
                        n_iter_no_change=8, random_state=0).fit(X, y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert np.argmax(clf.validation_scores_) < len(clf.validation_scores_) - 1, (
        "the test needs a run whose last epoch is not its best")
    # Re-draw the validation split exactly as fit did and rescore the restored model.
    rng = np.random.RandomState(0)
    rng.uniform(size=sum(c.size + i.size for c, i in zip(clf.coefs_, clf.intercepts_)))
    _, val_idx = train_test_split(np.arange(len(y)), random_state=rng, test_size=0.1,
                                  stratify=y)
    assert clf.history_["validation_score"][-1] == clf.validation_scores_[-1]
    rescored = balanced_accuracy_score(y[val_idx], clf.predict(X[val_idx]))
    assert rescored == pytest.approx(clf.best_validation_score_)


def test_restore_best_weights_on_the_training_loss_plateau():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    params = dict(hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=0.2,
                  momentum=0.95, max_iter=40, n_iter_no_change=40, random_state=0)
    last = MLPRegressor(**params).fit(X, y)  # scikit-learn's default: the last weights
    best = MLPRegressor(restore_best_weights=True, **params).fit(X, y)
    assert_allclose(last.loss_curve_, best.loss_curve_)
    best_epoch = int(np.argmin(best.loss_curve_))
    assert best_epoch < len(best.loss_curve_) - 1, "the run needs a last epoch that is not best"
    assert not np.allclose(last.coefs_[0], best.coefs_[0])
    # The restored weights are those after the best epoch: replaying that many epochs gives them.
    replay = MLPRegressor(**dict(params, max_iter=best_epoch + 1)).fit(X, y)
    assert_allclose(best.coefs_[0], replay.coefs_[0])


def test_restore_best_weights_false_keeps_the_last_validation_weights():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(early_stopping=True, max_iter=30, n_iter_no_change=3, random_state=0,
                  learning_rate_init=0.05)
    restored = MLPClassifier(**params).fit(X, y)
    kept = MLPClassifier(restore_best_weights=False, **params).fit(X, y)
    assert_allclose(restored.validation_scores_, kept.validation_scores_)
    if np.argmax(kept.validation_scores_) != len(kept.validation_scores_) - 1:
        assert not np.allclose(restored.coefs_[0], kept.coefs_[0])


# Adam's steps are bounded by the learning rate, so it needs a rate at which the weights
# themselves overflow the network's output.
@pytest.mark.parametrize("solver, learning_rate_init", [("sgd", 1e6), ("adam", 1e200)])
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_huge_learning_rate_ends_with_a_warning_and_finite_predictions(
        estimator, solver, learning_rate_init):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = estimator(hidden_layer_sizes=(20, 20), solver=solver,
                      learning_rate_init=learning_rate_init, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy overflow noise either
        with pytest.warns(DivergenceWarning, match="learning rate is likely too high"):
            model.fit(X, y)
    assert np.all(np.isfinite(model._params))
    prediction = model.predict(X)
    assert np.all(np.isfinite(prediction.astype(float)))
    assert len(model.loss_curve_) == model.n_iter_
    assert all(np.isfinite(model.loss_curve_))


def test_verbose_levels(capsys):
    X, y = load_iris(return_X_y=True)
    MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""

    MLPClassifier(max_iter=3, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    pattern = r"Epoch (\d)/3, loss \d+\.\d{6}, learning rate 0\.001, \d+\.\d\ds"
    for number, line in enumerate(lines, start=1):
        match = re.fullmatch(pattern, line)
        assert match and int(match.group(1)) == number, line

    MLPClassifier(max_iter=3, verbose=2, early_stopping=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all("validation score" in line and "step norm" in line for line in lines)


def test_history_records_every_epoch():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    history = clf.history_
    assert len(history) == 5
    assert history.keys()[:6] == ["epoch", "loss", "validation_score", "learning_rate",
                                  "elapsed", "step_norm"]
    assert_array_equal(history["epoch"], np.arange(1, 6))
    assert_allclose(history["loss"], clf.loss_curve_)
    assert np.all(np.isnan(history["validation_score"]))
    assert np.all(np.diff(history["elapsed"]) >= 0)
    assert np.all(history["step_norm"] > 0)
    with pytest.raises(KeyError, match="columns"):
        history["dead"]
    # It accumulates over partial_fit calls, like loss_curve_, and pickles.
    clf.partial_fit(X, y)
    assert len(clf.history_) == 6
    assert len(pickle.loads(pickle.dumps(clf)).history_) == 6
    pd = pytest.importorskip("pandas")
    frame = clf.history_.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == list(range(1, 7))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flat_vector_optimizers_take_sklearns_steps(dtype):
    # The steps of scikit-learn's own optimizers, which work on a list of arrays. Adam keeps
    # unnormalised moments and SGD reuses the gradient as scratch space: the same updates.
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    rng = np.random.RandomState(0)
    start = rng.normal(size=12).astype(dtype)
    grads = rng.normal(scale=[[1e-3] * 6 + [10.0] * 6], size=(8, 12)).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    cases = [
        (lambda: Adam(12, dtype, 0.01, 0.8, 0.99, 1e-6),
         lambda p: AdamOptimizer(p, 0.01, 0.8, 0.99, 1e-6)),
        (lambda: SGD(12, dtype, 0.1, "constant", 0.9, True),
         lambda p: SGDOptimizer(p, 0.1, "constant", 0.9, True)),
        (lambda: SGD(12, dtype, 0.1, "constant", 0.5, False),
         lambda p: SGDOptimizer(p, 0.1, "constant", 0.5, False)),
    ]
    for ours_factory, theirs_factory in cases:
        ours, params = ours_factory(), start.copy()
        theirs_params = [start[:5].copy(), start[5:].copy()]
        theirs = theirs_factory(theirs_params)
        for grad in grads:
            ours.update(params, grad.copy())
            theirs.update_params(theirs_params, [grad[:5].copy(), grad[5:].copy()])
            assert_allclose(params, np.concatenate(theirs_params), rtol=rtol)
        if isinstance(ours, Adam):
            assert_allclose(ours.m, np.concatenate(theirs.ms), rtol=rtol)
            assert_allclose(ours.v, np.concatenate(theirs.vs), rtol=rtol)
            assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-12)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["coefficient", "running statistic"])
def test_a_weight_turning_non_finite_in_the_last_step_of_an_epoch_is_caught(
        monkeypatch, where, value):
    # The batch losses are all finite: only the check at the end of the epoch can see it,
    # in a trained weight or in batch normalisation's running statistics (the last entries).
    X, y = load_iris(return_X_y=True)  # 150 rows: three batches of 50 per epoch
    params = dict(hidden_layer_sizes=(5,), batch_size=50, random_state=0,
                  batch_norm=where == "running statistic")
    after_one_epoch = MLPClassifier(max_iter=1, **params).fit(X, y)._params
    update, calls = Adam.update, []

    def poisoned_update(self, weights, grad):
        update(self, weights, grad)
        calls.append(None)
        if len(calls) == 6:  # the last batch of the second epoch
            weights[0 if where == "coefficient" else -1] = value

    monkeypatch.setattr(Adam, "update", poisoned_update)
    model = MLPClassifier(max_iter=3, **params)
    with pytest.warns(DivergenceWarning, match="Training diverged in epoch 2"):
        model.fit(X, y)
    assert model.n_iter_ == 1 and len(calls) == 6
    assert_allclose(model._params, after_one_epoch, rtol=0, atol=0)


def test_huge_but_finite_weights_are_not_taken_for_divergence(monkeypatch):
    # Their step's squared norm overflows to inf; only non-finite weights are divergence.
    X, y = load_iris(return_X_y=True)
    update, calls = Adam.update, []

    def huge_update(self, weights, grad):
        update(self, weights, grad)
        calls.append(None)
        if len(calls) == 6:  # the last batch of the second epoch
            weights[0], weights[1] = 1e200, -1e200

    monkeypatch.setattr(Adam, "update", huge_update)
    model = MLPClassifier(hidden_layer_sizes=(5,), batch_size=50, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        model.fit(X, y)
    assert model.n_iter_ == 2
    assert np.isfinite(model.history_["step_norm"][0])
    assert model.history_["step_norm"][1] == np.inf

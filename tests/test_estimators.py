"""Behaviour of MLPClassifier and MLPRegressor that a scikit-learn user relies on, checked
against scikit-learn's own MLP on the same data and seed where one exists."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import Identity, LeakyReLU, Logistic
from sknnloss.losses import BinaryCrossEntropy, SparseCategoricalCrossEntropy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled_split(loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# --- parity with scikit-learn's MLP --------------------------------------------------------


@pytest.mark.parametrize(
    "loader, ours, theirs",
    [
        (load_digits, MLPClassifier, SklearnMLPClassifier),
        (load_breast_cancer, MLPClassifier, SklearnMLPClassifier),
        (load_diabetes, MLPRegressor, SklearnMLPRegressor),
    ],
)
def test_default_parameters_score_like_sklearn(loader, ours, theirs):
    """Held-out accuracy / R^2 with default parameters is within 2 points of scikit-learn's."""
    X_train, X_test, y_train, y_test = _scaled_split(loader)
    score = ours(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    reference = theirs(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    assert abs(score - reference) <= 0.02, (score, reference)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_same_seed_follows_sklearn_optimisation_path(solver):
    """Same data, architecture and seed: the same iterations and the same loss as scikit-learn."""
    X_train, _, y_train, _ = _scaled_split(load_iris)
    params = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=30, random_state=1)
    ours = MLPClassifier(**params).fit(X_train, y_train)
    theirs = SklearnMLPClassifier(**params).fit(X_train, y_train)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-8)
    if solver != "lbfgs":
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-8)
        assert ours.t_ == theirs.t_
    for ours_coef, their_coef in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(ours_coef, their_coef, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "schedule",
    [
        dict(learning_rate="constant", nesterovs_momentum=False),
        dict(learning_rate="invscaling", learning_rate_init=0.5),
        dict(learning_rate="adaptive", learning_rate_init=0.2, n_iter_no_change=2),
        dict(momentum=0.0),
    ],
)
def test_sgd_schedules_follow_sklearn(schedule):
    X_train, _, y_train, _ = _scaled_split(load_iris)
    params = dict(hidden_layer_sizes=(6,), solver="sgd", max_iter=40, random_state=0,
                  **schedule)
    ours = MLPRegressor(**params).fit(X_train, y_train)
    theirs = SklearnMLPRegressor(**params).fit(X_train, y_train)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-8)


@pytest.mark.parametrize("solver", ["cg", "bfgs"])
def test_other_scipy_methods_train(solver):
    X_train, X_test, y_train, y_test = _scaled_split(load_breast_cancer)
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver=solver, max_iter=100,
                        random_state=0).fit(X_train, y_train)
    assert clf.n_iter_ >= 1
    assert clf.loss_ < 0.3
    assert clf.loss_curve_[-1] <= clf.loss_curve_[0]
    assert clf.score(X_test, y_test) > 0.9


def test_lbfgs_honours_max_fun():
    X_train, _, y_train, _ = _scaled_split(load_digits)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = MLPClassifier(solver="lbfgs", max_fun=10, random_state=0).fit(X_train, y_train)
    assert clf.n_iter_ <= 10


@pytest.mark.parametrize("message, shown", [
    ("ABNORMAL: ", "(status=2): ABNORMAL. The line search"),
    (b"ABNORMAL_TERMINATION_IN_LNSRCH", "(status=2): ABNORMAL_TERMINATION_IN_LNSRCH. The line"),
    ("", "(status=2): no reason given by scipy. The line search"),
])
def test_line_search_failure_warning_reads_well(monkeypatch, message, shown):
    # scipy's message varies between versions (bytes before 1.15, a bare "ABNORMAL: " after);
    # the warning keeps what scipy said, without stray punctuation, and the advice.
    import scipy.optimize

    original = scipy.optimize.minimize

    def failing(*args, **kwargs):
        result = original(*args, **kwargs)
        result.status, result.message = 2, message
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", failing)
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning) as record:
        MLPClassifier(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    text = str(record[0].message)
    assert text.startswith("lbfgs failed to converge after 3 iteration(s)"), text
    assert shown in text, text


def test_regressor_poisson_follows_sklearn():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    params = dict(loss="poisson", hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50,
                  random_state=0)
    ours = MLPRegressor(**params).fit(X, y)
    theirs = SklearnMLPRegressor(**params).fit(X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)


def test_fitted_attributes_match_sklearn_names_and_types():
    X, y = load_iris(return_X_y=True)
    ours = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    theirs = SklearnMLPClassifier(max_iter=5, random_state=0).fit(X, y)
    for name in ["coefs_", "intercepts_", "loss_", "loss_curve_", "best_loss_", "n_iter_",
                 "t_", "n_layers_", "n_outputs_", "out_activation_", "classes_",
                 "n_features_in_", "validation_scores_", "best_validation_score_"]:
        theirs_value = getattr(theirs, name)
        expected = float if isinstance(theirs_value, float) else type(theirs_value)
        assert isinstance(getattr(ours, name), expected), name
    assert ours.out_activation_ == "softmax"
    assert ours.n_layers_ == 3 and ours.n_outputs_ == 3
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]


def test_constructor_parameters_match_sklearn():
    for ours, theirs, extra in [
        (MLPClassifier(), SklearnMLPClassifier(),
         {"loss", "output_activation", "class_weight", "scoring", "restore_best_weights",
          "diagnostics", "init", "max_grad_norm", "dropout", "batch_norm"}),
        (MLPRegressor(), SklearnMLPRegressor(),
         {"output_activation", "scoring", "restore_best_weights", "diagnostics", "init",
          "max_grad_norm", "dropout", "batch_norm"}),
    ]:
        our_params, their_params = ours.get_params(), theirs.get_params()
        assert set(our_params) - set(their_params) == extra
        for name, value in their_params.items():
            assert our_params[name] == value, name


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = MLPClassifier(solver="lbfgs", max_iter=20, random_state=0).fit(X, y)
    assert_array_equal(clf.feature_names_in_, X.columns)
    assert isinstance(X, pd.DataFrame)


# --- behaviours scikit-learn users rely on -------------------------------------------------


def test_lbfgs_fits_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    for activation in ["tanh", "relu", "logistic"]:
        clf = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, solver="lbfgs",
                            alpha=1e-5, max_iter=500, random_state=3).fit(X, y)
        assert_array_equal(clf.predict(X), y)


def test_lbfgs_fits_small_regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.99
    assert reg.predict(X).shape == (200,)


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_matches_one_epoch_of_fit_without_shuffling(estimator, solver):
    X, y = (load_iris if estimator is MLPClassifier else load_diabetes)(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if estimator is MLPRegressor:
        y = (y - y.mean()) / y.std()
    params = dict(hidden_layer_sizes=(7,), solver=solver, shuffle=False, random_state=0,
                  batch_size=32)
    fitted = estimator(max_iter=1, **params).fit(X, y)
    partial = estimator(**params)
    kwargs = {"classes": np.unique(y)} if estimator is MLPClassifier else {}
    partial.partial_fit(X, y, **kwargs)
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, partial.coefs_ + partial.intercepts_):
        assert_allclose(a, b)
    assert partial.n_iter_ == fitted.n_iter_ == 1
    assert partial.t_ == fitted.t_ == X.shape[0]


def test_partial_fit_counts_like_sklearn():
    X, y = load_iris(return_X_y=True)
    ours, theirs = MLPClassifier(random_state=0), SklearnMLPClassifier(random_state=0)
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        theirs.partial_fit(X, y, classes=[0, 1, 2])
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert ours.t_ == theirs.t_ == 3 * len(y)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_)


def test_partial_fit_only_for_stochastic_solvers():
    for estimator in [MLPClassifier, MLPRegressor]:
        assert hasattr(estimator(solver="adam"), "partial_fit")
        assert hasattr(estimator(solver="sgd"), "partial_fit")
        lbfgs = estimator(solver="lbfgs")
        assert not hasattr(lbfgs, "partial_fit")
        with pytest.raises(AttributeError, match="partial_fit") as excinfo:
            lbfgs.partial_fit
        assert "stochastic solvers" in str(excinfo.value.__cause__)


def test_partial_fit_errors():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match="classes not in `self.classes_`"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_partial_fit_first_call_may_miss_classes():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(random_state=0).partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (150, 3)


def test_warm_start_continues_from_previous_weights():
    X_train, _, y_train, _ = _scaled_split(load_iris)
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=10, warm_start=True, random_state=0)
    clf.fit(X_train, y_train)
    first_curve = list(clf.loss_curve_)
    clf.fit(X_train, y_train)
    assert clf.n_iter_ == 10
    assert len(clf.loss_curve_) == 20
    assert clf.loss_curve_[:10] == first_curve
    assert clf.loss_curve_[10] < first_curve[-1]
    # The same as 20 epochs at once with scikit-learn, which warm-starts the same way.
    theirs = SklearnMLPClassifier(hidden_layer_sizes=(10,), max_iter=10, warm_start=True,
                                  random_state=0)
    theirs.fit(X_train, y_train).fit(X_train, y_train)
    assert_allclose(clf.loss_curve_, theirs.loss_curve_)


def test_warm_start_with_other_classes_raises():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X[y < 2], y[y < 2])


def test_early_stopping_records_validation_scores_and_restores_best():
    X_train, _, y_train, _ = _scaled_split(load_breast_cancer)
    params = dict(early_stopping=True, max_iter=60, random_state=0, n_iter_no_change=5,
                  learning_rate_init=0.01)
    clf = MLPClassifier(**params).fit(X_train, y_train)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # scikit-learn draws the same (stratified) split for a binary target and restores its best
    # weights too: same scores, same final weights.
    theirs = SklearnMLPClassifier(**params).fit(X_train, y_train)
    assert_allclose(clf.validation_scores_, theirs.validation_scores_)
    for ours_coef, their_coef in zip(clf.coefs_, theirs.coefs_):
        assert_allclose(ours_coef, their_coef, rtol=1e-6, atol=1e-9)


def test_early_stopping_split_is_stratified_for_multiclass(monkeypatch):
    """Unlike scikit-learn (which stratifies binary targets only), every single-label target
    gets a stratified validation split."""
    import sknnloss._base

    splits = []

    def recording_split(*args, **kwargs):
        result = train_test_split(*args, **kwargs)
        splits.append(result)
        return result

    monkeypatch.setattr(sknnloss._base, "train_test_split", recording_split)
    X, y = load_iris(return_X_y=True)
    MLPClassifier(early_stopping=True, validation_fraction=0.2, max_iter=3,
                  random_state=0).fit(X, y)
    (_, val_idx), = splits
    assert_array_equal(np.bincount(y[val_idx]), [10, 10, 10])


def test_n_iter_and_t_count_like_sklearn():
    X, y = make_classification(n_samples=300, random_state=0)
    clf = MLPClassifier(max_iter=7, random_state=0).fit(X, y)
    assert clf.n_iter_ == 7
    assert clf.t_ == 7 * 300
    assert len(clf.loss_curve_) == 7
    early = MLPClassifier(max_iter=7, early_stopping=True, validation_fraction=0.2,
                          random_state=0).fit(X, y)
    assert early.t_ == early.n_iter_ * 240  # training split only


def test_convergence_warning_as_sklearn():
    X, y = load_iris(return_X_y=True)
    for solver in ["adam", "lbfgs"]:
        with pytest.warns(ConvergenceWarning):
            MLPClassifier(solver=solver, max_iter=2).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (10, -1)}, "hidden_layer_sizes"),
        ({"activation": "swishy"}, "activation"),
        ({"loss": "cross_entropy"}, "loss"),
        ({"solver": "newton"}, "solver"),
        ({"output_activation": "square"}, "output_activation"),
        ({"learning_rate_init": 0}, "learning_rate_init"),
        ({"max_iter": 0}, "max_iter"),
        ({"momentum": 2}, "momentum"),
        ({"activation": object()}, "activation"),
    ],
)
def test_invalid_parameters_raise_clear_errors(params, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_classification_loss_on_regressor_raises():
    X, y = make_regression(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="classification loss.*MLPClassifier"):
        MLPRegressor(loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match="non-negative targets"):
        MLPRegressor(loss="poisson").fit(X, y)


def test_single_class_raises():
    X, _ = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, np.zeros(len(X)))


# --- targets and outputs -------------------------------------------------------------------


def test_binary_multiclass_multilabel_outputs():
    X, y = make_classification(n_samples=120, n_classes=3, n_informative=4, random_state=0)
    multi = MLPClassifier(solver="lbfgs", max_iter=50, random_state=0).fit(X, y)
    assert multi.out_activation_ == "softmax"
    assert isinstance(multi.loss_function_, SparseCategoricalCrossEntropy)
    proba = multi.predict_proba(X)
    assert proba.shape == (120, 3)
    assert_allclose(proba.sum(axis=1), 1)
    assert_array_equal(multi.predict(X), multi.classes_[proba.argmax(axis=1)])
    assert_allclose(multi.predict_log_proba(X), np.log(proba))

    labels = np.array(["no", "yes"])[(y > 0).astype(int)]
    binary = MLPClassifier(solver="lbfgs", max_iter=50, random_state=0).fit(X, labels)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1
    proba = binary.predict_proba(X)
    assert proba.shape == (120, 2)
    assert_allclose(proba.sum(axis=1), 1)
    assert_array_equal(binary.predict(X), binary.classes_[(proba[:, 1] > 0.5).astype(int)])

    X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    multilabel = MLPClassifier(solver="lbfgs", max_iter=100, random_state=0).fit(X, Y)
    assert multilabel.out_activation_ == "logistic" and multilabel.n_outputs_ == 4
    proba = multilabel.predict_proba(X)
    assert proba.shape == (100, 4)
    assert_array_equal(multilabel.predict(X), (proba > 0.5).astype(int))
    assert multilabel.score(X, Y) > 0.5


def test_hinge_gives_decision_function_not_probabilities():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(activation="tanh", loss="hinge", max_iter=50, random_state=0)
    assert not hasattr(clf, "predict_proba")
    assert hasattr(clf, "decision_function")
    clf.fit(X, y)
    assert clf.out_activation_ == "identity"
    scores = clf.decision_function(X)
    assert scores.shape == (len(y),)
    assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    assert clf.score(X, y) > 0.95
    assert not hasattr(MLPClassifier(), "decision_function")


def test_one_vs_rest_sigmoid_head_on_multiclass():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(loss="binary_crossentropy", solver="lbfgs", max_iter=200,
                        random_state=0).fit(X, y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1)
    assert clf.score(X, y) > 0.9


def test_categorical_crossentropy_one_hot_equals_sparse():
    X, y = load_iris(return_X_y=True)
    params = dict(solver="lbfgs", max_iter=30, random_state=0)
    sparse_ce = MLPClassifier(loss="sparse_categorical_crossentropy", **params).fit(X, y)
    one_hot = MLPClassifier(loss="categorical_crossentropy", **params).fit(X, y)
    default = MLPClassifier(**params).fit(X, y)
    assert_allclose(one_hot.loss_, sparse_ce.loss_, rtol=1e-10)
    assert_allclose(default.loss_, sparse_ce.loss_, rtol=1e-10)


def test_user_facing_constructions_from_the_issue():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    MLPClassifier(activation="tanh", loss="hinge", max_iter=20).fit(X, y)
    clf = MLPClassifier(activation=LeakyReLU(negative_slope=0.1), loss=BinaryCrossEntropy(),
                        max_iter=20).fit(X, y)
    assert clf.predict_proba(X).shape == (len(y), 2)
    Xr, yr = load_diabetes(return_X_y=True)
    reg = MLPRegressor(loss="absolute_error", output_activation="softplus", solver="lbfgs",
                       max_iter=100, random_state=0).fit(Xr, yr)
    assert (reg.predict(Xr) > 0).all()
    assert reg.out_activation_ == "softplus"


def test_non_canonical_output_trains_through_chain_rule():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(loss="squared_error", output_activation=Logistic(), solver="lbfgs",
                        max_iter=100, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert np.all((clf.predict_proba(X) >= 0) & (clf.predict_proba(X) <= 1))


def test_absolute_error_estimates_median():
    """With a single constant input the network's prediction is the (weighted) median."""
    rng = np.random.RandomState(0)
    y = np.concatenate([rng.normal(size=201), [1e3] * 20])  # heavy outliers
    X = np.ones((len(y), 1))
    fit = dict(hidden_layer_sizes=(2,), solver="lbfgs", max_iter=200, random_state=0, alpha=0)
    median = MLPRegressor(loss="absolute_error", **fit).fit(X, y).predict(X[:1])[0]
    mean = MLPRegressor(loss="squared_error", **fit).fit(X, y).predict(X[:1])[0]
    assert abs(median - np.median(y)) < 1e-3
    assert abs(mean - y.mean()) < 1e-3


def test_multi_output_regression():
    X, Y = make_regression(n_samples=100, n_features=4, n_targets=3, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor(solver="lbfgs", max_iter=300, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (100, 3)
    assert reg.score(X, Y) > 0.9


# --- input handling ------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_sparse_input_equals_dense(estimator):
    X, y = make_classification(n_samples=80, n_features=10, random_state=0)
    X[X < 0.5] = 0
    params = dict(solver="lbfgs", max_iter=20, random_state=0)
    dense = estimator(**params).fit(X, y)
    for container in (sparse.csr_matrix, sparse.csc_matrix):
        sparse_fit = estimator(**params).fit(container(X), y)
        assert_allclose(sparse_fit.predict(container(X)), dense.predict(X), rtol=1e-7)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_input_stays_float32(solver):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    clf = MLPClassifier(solver=solver, max_iter=20, random_state=0).fit(X, y)
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == np.float32
    reg = MLPRegressor(solver=solver, max_iter=20, random_state=0).fit(X, X[:, 0])
    assert reg.predict(X).dtype == np.float32


def test_integer_sample_weights_equal_repetition_with_lbfgs():
    X, y = make_classification(n_samples=40, random_state=0)
    weights = np.random.RandomState(0).randint(0, 3, size=40)
    params = dict(solver="lbfgs", max_iter=30, random_state=0)
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=weights)
    repeated = MLPClassifier(**params).fit(np.repeat(X, weights, axis=0),
                                           np.repeat(y, weights))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6)


def test_negative_sample_weight_raises():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="[Nn]egative"):
        MLPClassifier().fit(X, y, sample_weight=-np.ones(len(y)))


# --- composition with scikit-learn ---------------------------------------------------------


def test_grid_search_over_activation_loss_pairs_in_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,),
                                                          solver="lbfgs", max_iter=50,
                                                          random_state=0))
    grid = {
        "mlpclassifier__activation": ["relu", "tanh", LeakyReLU(0.2)],
        "mlpclassifier__loss": ["log_loss", "hinge", BinaryCrossEntropy()],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 9
    assert search.best_score_ > 0.95
    # Nested parameters of activation objects are grid-searchable too.
    nested = GridSearchCV(
        MLPClassifier(activation=LeakyReLU(), solver="lbfgs", max_iter=20, random_state=0),
        {"activation__negative_slope": [0.01, 0.3]}, cv=2,
    ).fit(StandardScaler().fit_transform(X), y)
    assert nested.best_params_["activation__negative_slope"] in (0.01, 0.3)


def test_clone_does_not_share_or_mutate_parameter_objects():
    activation = LeakyReLU(negative_slope=0.2)
    clf = MLPClassifier(activation=activation, output_activation=Identity(), loss="hinge")
    copy = clone(clf)
    assert copy.activation is not activation
    assert copy.activation.negative_slope == 0.2
    X, y = load_iris(return_X_y=True)
    copy.set_params(max_iter=3).fit(X, y)
    assert activation.get_params() == {"negative_slope": 0.2}


def test_pickle_round_trip_keeps_predictions():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(activation=LeakyReLU(0.1), max_iter=10, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert np.shares_memory(restored.coefs_[0], restored._params)
    # The restored model continues training.
    restored.partial_fit(X, y)
    assert restored.t_ == clf.t_ + len(y)


def test_no_runtime_warnings_on_default_fits():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        MLPClassifier(max_iter=5, random_state=0).fit(X, y).predict_proba(X)


def test_user_output_activation_may_carry_any_name():
    """A user's activation named like no built-in alias is kept as the object."""
    from sknnloss.activations import Identity

    class Shifted(Identity):
        name = "shifted"

    model = MLPRegressor(output_activation=Shifted(), max_iter=5).fit([[0.0], [1.0]],
                                                                      [0.0, 1.0])
    assert isinstance(model.out_activation_, Shifted)
    assert MLPRegressor(max_iter=5).fit([[0.0], [1.0]], [0.0, 1.0]).out_activation_ == (
        "identity")

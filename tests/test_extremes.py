"""Numerical extremes (issue #7): badly scaled inputs and targets, constant features,
duplicated rows, extreme class imbalance, 1000 classes, tiny and huge learning rates.

Training either works or ends with a clear warning, always with finite weights; predictions
are never nan. RuntimeWarning is an error (pytest configuration), so no numpy overflow slips
through either.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss._solvers import DivergenceWarning

SOLVERS = ["lbfgs", "cg", "bfgs", "sgd", "adam"]
ESTIMATORS = [MLPClassifier, MLPRegressor]


def assert_finite_model(model, X):
    """Finite weights; finite predictions of the right shape; probabilities that sum to 1."""
    assert all(np.all(np.isfinite(c)) for c in model.coefs_)
    assert all(np.all(np.isfinite(b)) for b in model.intercepts_)
    prediction = model.predict(X)
    assert prediction.shape[0] == X.shape[0]
    if isinstance(model, MLPRegressor):
        assert np.all(np.isfinite(prediction))
    else:
        assert np.isin(prediction, model.classes_).all()
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
        assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    if hasattr(model, "decision_function"):
        assert np.all(np.isfinite(model.decision_function(X)))


def problem(estimator, n_samples=120, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    signal = X[:, 0] - 0.5 * X[:, 1]
    y = (signal > 0).astype(int) if estimator is MLPClassifier else signal
    return X, y


def make(estimator, solver, **params):
    params = {"hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0, "solver": solver,
              **params}
    return estimator(**params)


# -- badly scaled inputs and targets -----------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("scale, match", [
    (1e6, r"X has features reaching 2\.\d+e\+06 in magnitude"),
    (1e-6, r"Every feature of X is below 2\.\d+e-06 in magnitude"),
])
def test_badly_scaled_inputs_warn_and_stay_finite(estimator, solver, dtype, scale, match):
    X, y = problem(estimator)
    X = (X * scale).astype(dtype)
    with pytest.warns(UserWarning, match=match + ".*StandardScaler"):
        model = make(estimator, solver).fit(X, y)
    assert model.coefs_[0].dtype == dtype
    assert_finite_model(model, X)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_one_huge_feature_among_normal_ones_warns(solver):
    X, y = problem(MLPClassifier)
    X[:, 2] *= 1e7
    with pytest.warns(UserWarning, match="X has features reaching"):
        model = make(MLPClassifier, solver).fit(X, y)
    assert_finite_model(model, X)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale, match", [
    (1e6, r"The target y has a standard deviation of 1\.\d+e\+06"),
    (1e-6, r"The target y has a standard deviation of only 1\.\d+e-06.*the stopping rules "
           r"are absolute \(tol=0\.0001"),
])
def test_badly_scaled_regression_targets_warn_and_stay_finite(solver, scale, match):
    X, y = problem(MLPRegressor)
    with pytest.warns(UserWarning, match=match + ".*TransformedTargetRegressor"):
        model = make(MLPRegressor, solver).fit(X, y * scale)
    assert_finite_model(model, X)


def test_well_scaled_data_gives_no_scale_warning():
    X, y = problem(MLPRegressor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = make(MLPRegressor, "lbfgs", max_iter=500).fit(X, y)
    assert model.score(X, y) > 0.95


def test_the_advice_of_the_target_warning_works():
    # A target scaled by 1e-3 stops training almost at once (absolute stopping rules); the
    # TransformedTargetRegressor the warning suggests trains on the standardised target.
    X, y = problem(MLPRegressor)
    small = y * 1e-3
    with pytest.warns(UserWarning, match="standard deviation of only 0.00119"):
        alone = make(MLPRegressor, "lbfgs", max_iter=500).fit(X, small)
    wrapped = TransformedTargetRegressor(regressor=make(MLPRegressor, "lbfgs", max_iter=500),
                                         transformer=StandardScaler())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrapped.fit(X, small)
    assert wrapped.score(X, small) > 0.95 > alone.score(X, small)


# -- degenerate features and rows ------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_constant_features(estimator, solver):
    X, y = problem(estimator)
    X_const = np.c_[X, np.ones(len(X)), np.zeros(len(X)), np.full(len(X), -3.0)]
    reference = make(estimator, solver, max_iter=200).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(estimator, solver, max_iter=200).fit(X_const, y)
    assert_finite_model(model, X_const)
    # Constant columns carry no information and cost (almost) nothing.
    assert model.score(X_const, y) > reference.score(X, y) - 0.1


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_all_features_constant(estimator, solver, value):
    _, y = problem(estimator)
    X = np.full((len(y), 3), value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(estimator, solver).fit(X, y)
    assert_finite_model(model, X)
    # Every input is the same point: one prediction for all.
    prediction = model.predict(X)
    assert np.all(prediction == prediction[0])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_duplicated_rows(estimator, solver):
    X, y = problem(estimator, n_samples=10)
    X_dup, y_dup = np.repeat(X, 30, axis=0), np.repeat(y, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(estimator, solver).fit(X_dup, y_dup)
    assert_finite_model(model, X_dup)


@pytest.mark.parametrize("solver", ["lbfgs", "cg", "bfgs"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_duplicating_every_row_equals_doubling_the_weights(estimator, solver):
    # Full-batch objective: the weighted mean and the L2 scaling (alpha / sum of weights) are
    # the same, so the solution is the same (up to summation order).
    X, y = problem(estimator, n_samples=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        duplicated = make(estimator, solver).fit(np.r_[X, X], np.r_[y, y])
        weighted = make(estimator, solver).fit(X, y, sample_weight=np.full(len(y), 2.0))
    assert_allclose(duplicated.predict(X).astype(float), weighted.predict(X).astype(float),
                    rtol=1e-6, atol=1e-8)


# -- class imbalance and many classes ----------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_class_imbalance_1_to_1000(solver):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3003, 4))
    y = np.zeros(3003, dtype=int)
    y[:3] = 1
    X[:3] += 3.0  # the minority is separable, but rare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = make(MLPClassifier, solver).fit(X, y)
        balanced = make(MLPClassifier, solver, class_weight="balanced").fit(X, y)
    for model in (plain, balanced):
        assert_finite_model(model, X)
        assert_array_equal(model.classes_, [0, 1])
        assert np.all(model.predict_proba(X)[:, 1] > 0)  # never a hard 0 for the rare class
    # Balancing raises the probability the model gives the rare class on its own samples.
    assert (balanced.predict_proba(X[:3])[:, 1].mean()
            > plain.predict_proba(X[:3])[:, 1].mean())


@pytest.mark.parametrize("solver, loss", [
    ("lbfgs", "log_loss"),
    ("adam", "log_loss"),
    ("sgd", "categorical_crossentropy"),
    ("adam", "hinge"),
    ("adam", "binary_crossentropy"),
])
def test_1000_classes(solver, loss):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 5))
    y = np.arange(1000) * 7  # 1000 distinct labels, not 0..999
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(MLPClassifier, solver, hidden_layer_sizes=(4,), max_iter=2,
                     loss=loss).fit(X, y)
    assert len(model.classes_) == 1000
    assert_array_equal(model.classes_, y)
    assert_finite_model(model, X)
    scores = (model.predict_proba(X) if hasattr(model, "predict_proba")
              else model.decision_function(X))
    assert scores.shape == (1000, 1000)


# -- learning rates ----------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("learning_rate_init", [1e-12, 1e-9])
def test_tiny_learning_rate_warns_that_the_weights_barely_moved(estimator, solver,
                                                               learning_rate_init):
    X, y = problem(estimator)
    with pytest.warns(ConvergenceWarning, match=r"weights barely moved\. "
                                                rf"learning_rate_init={learning_rate_init} is "
                                                "likely too small"):
        model = make(estimator, solver, learning_rate_init=learning_rate_init,
                     max_iter=100).fit(X, y)
    assert model.n_iter_ < 100  # the no-improvement rule ended it
    assert_finite_model(model, X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("learning_rate_init", [1e3, 1e12])
def test_huge_learning_rate_warns_and_stays_finite(estimator, solver, learning_rate_init):
    X, y = problem(estimator)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        model = make(estimator, solver, learning_rate_init=learning_rate_init).fit(X, y)
    messages = [str(w.message) for w in record
                if issubclass(w.category, (ConvergenceWarning, DivergenceWarning))]
    assert any("too high" in m for m in messages), messages
    assert_finite_model(model, X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sensible_learning_rate_gives_no_progress_warning(solver):
    X, y = problem(MLPClassifier)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = make(MLPClassifier, solver, learning_rate_init=0.01, max_iter=300).fit(X, y)
    assert not [w for w in record if "likely too" in str(w.message)]
    assert model.score(X, y) > 0.9


# -- extreme sample weights --------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_sample_weights_spanning_24_orders_of_magnitude(estimator, solver):
    X, y = problem(estimator)
    weights = np.logspace(-12, 12, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(estimator, solver).fit(X, y, sample_weight=weights)
    assert_finite_model(model, X)
    assert np.isfinite(model.loss_)


# -- weights that overflow the output -----------------------------------------------------------
def test_weights_that_overflow_the_output_are_an_error_not_inf_predictions():
    # Found by the fuzzer: exp hidden units in float32; the last sgd step leaves finite weights
    # whose products overflow float32, so every prediction would be inf (and numpy would warn
    # from inside predict). fit says so instead.
    X = np.array([[1.7640524, 0.4001572, 0.978738], [2.2408931, 1.867558, -0.9772779],
                  [0.95008844, -0.1513572, -0.10321885], [0.41059852, 0.14404356, 1.4542735]],
                 dtype=np.float32)
    model = MLPClassifier(activation="exp", alpha=0.0, hidden_layer_sizes=(3, 3), max_iter=2,
                          random_state=0, solver="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="Training ended with weights that overflow the "
                                             r"network's output on the training data \(inf or "
                                             "nan for 4 of the first 4 samples, in float32\\)"):
            model.fit(X, np.array([1, 0, 1, 0]))
        # In float64 the same fit is representable: finite predictions.
        model.fit(X.astype(np.float64), np.array([1, 0, 1, 0]))
    assert_finite_model(model, X.astype(np.float64))


def test_a_loss_that_overflows_at_the_start_warns_and_keeps_finite_weights():
    # Found by the fuzzer: stacked exp units in float32 make the squared error overflow at the
    # initial weights; lbfgs cannot move (before: a numpy overflow warning from inside the
    # objective, and a silent loss_ of nan).
    X = np.array([[1.7640524], [0.4001572], [0.978738], [2.2408931]], dtype=np.float32)
    y = np.array([-0.57712067, 1.92882643, 2.08953592, 3.63161038])
    model = MLPRegressor(activation="exp", alpha=0.0, hidden_layer_sizes=(1, 1), max_iter=1,
                         random_state=4, solver="lbfgs")
    with pytest.warns(DivergenceWarning, match=r"non-finite training loss \(loss_=nan\) "
                                               "although the network's outputs are finite: "
                                               "the loss overflows float32"):
        model.fit(X, y)
    assert_finite_model(model, X)

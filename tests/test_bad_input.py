"""Bad input gets a clear error (issue #7): a ``ValueError`` / ``TypeError`` that says what was
wrong and what to pass, never a numpy traceback from inside the training loop, never a
silently wrong model.

Each case pins the message with ``match=``. The table of cases and messages is in
``docs/user_guide/robustness.rst``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import ACTIVATION_ALIASES, Activation
from sknnloss.losses import (
    BinaryCrossEntropy,
    Hinge,
    Loss,
    SparseCategoricalCrossEntropy,
)

from .user_defined import PseudoHuber, ScaledTanh

ESTIMATORS = [MLPClassifier, MLPRegressor]
SOLVERS = ["lbfgs", "cg", "bfgs", "sgd", "adam"]
STOCHASTIC = ["sgd", "adam"]

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::sknnloss.pairing.PairingWarning",
)


def make(estimator, solver="adam", **params):
    params = {"hidden_layer_sizes": (3,), "max_iter": 3, "random_state": 0, "solver": solver,
              **params}
    return estimator(**params)


def data(estimator, n_samples=30, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if estimator is MLPClassifier:
        y = np.arange(n_samples) % 2
    else:
        y = rng.normal(size=n_samples)
    return X, y


# -- X ----------------------------------------------------------------------------------------
def _with(X, value):
    X = X.copy()
    X[0, 0] = value
    return X


X_CASES = [
    pytest.param(lambda X, y: (_with(X, np.nan), y), "Input X contains NaN", id="nan-X"),
    pytest.param(lambda X, y: (_with(X, np.inf), y), "Input X contains infinity", id="inf-X"),
    pytest.param(lambda X, y: (_with(X, -np.inf), y), "Input X contains infinity",
                 id="neg-inf-X"),
    pytest.param(lambda X, y: (sparse.csr_matrix(_with(X, np.nan)), y),
                 "Input X contains NaN", id="nan-sparse-X"),
    pytest.param(lambda X, y: (X[:0], y[:0]), r"Found array with 0 sample\(s\)",
                 id="empty-X"),
    pytest.param(lambda X, y: (X[:, :0], y), r"Found array with 0 feature\(s\)",
                 id="no-features"),
    pytest.param(lambda X, y: (X[:, 0], y), "Expected 2D array, got 1D array instead",
                 id="1d-X"),
    pytest.param(lambda X, y: (X[:, :, None], y), "Found array with dim 3", id="3d-X"),
    pytest.param(lambda X, y: (X, y[:-1]), "inconsistent numbers of samples: \\[30, 29\\]",
                 id="length-mismatch"),
    pytest.param(lambda X, y: (X + 1j, y), "Complex data not supported", id="complex-X"),
    pytest.param(lambda X, y: (X, _with(y.reshape(-1, 1).astype(float), np.nan)[:, 0]),
                 "Input y contains NaN", id="nan-y"),
    pytest.param(lambda X, y: (X, _with(y.reshape(-1, 1).astype(float), np.inf)[:, 0]),
                 "Input y contains infinity", id="inf-y"),
    pytest.param(lambda X, y: (X, None), "requires y to be passed", id="y-None"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("corrupt, match", X_CASES)
def test_bad_X_or_y_is_rejected_at_fit(estimator, solver, corrupt, match):
    X, y = corrupt(*data(estimator))
    with pytest.raises(ValueError, match=match):
        make(estimator, solver).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("corrupt, match", X_CASES[:4])
def test_bad_X_is_rejected_at_predict(estimator, corrupt, match):
    X, y = data(estimator)
    model = make(estimator).fit(X, y)
    X_bad, _ = corrupt(X, y)
    methods = ["predict"] + [m for m in ("predict_proba", "decision_function")
                             if hasattr(model, m)]
    for method in methods:
        with pytest.raises(ValueError, match=match):
            getattr(model, method)(X_bad)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("corrupt, match", X_CASES[:3])
def test_bad_X_is_rejected_at_partial_fit(estimator, solver, corrupt, match):
    X, y = data(estimator)
    kwargs = {"classes": [0, 1]} if estimator is MLPClassifier else {}
    model = make(estimator, solver).partial_fit(X, y, **kwargs)
    before = model.coefs_[0].copy()
    X_bad, _ = corrupt(X, y)
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X_bad, y)
    assert_array_equal(model.coefs_[0], before)  # the failed call changed nothing


# -- feature count changing between calls -------------------------------------------------------
FEATURES = r"X has 2 features, but {} is expecting 3 features as input"


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_feature_count_change_fit_then_predict(estimator, solver):
    X, y = data(estimator)
    model = make(estimator, solver).fit(X, y)
    with pytest.raises(ValueError, match=FEATURES.format(estimator.__name__)):
        model.predict(X[:, :2])


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", STOCHASTIC)
def test_feature_count_change_fit_then_partial_fit(estimator, solver):
    X, y = data(estimator)
    model = make(estimator, solver).fit(X, y)
    with pytest.raises(ValueError, match=FEATURES.format(estimator.__name__)):
        model.partial_fit(X[:, :2], y)
    kwargs = {"classes": [0, 1]} if estimator is MLPClassifier else {}
    model = make(estimator, solver).partial_fit(X, y, **kwargs)
    with pytest.raises(ValueError, match=FEATURES.format(estimator.__name__)):
        model.partial_fit(X[:, :2], y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_feature_count_change_with_warm_start(estimator, solver):
    X, y = data(estimator)
    model = make(estimator, solver, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=FEATURES.format(estimator.__name__)):
        model.fit(X[:, :2], y)


# -- sample weights ---------------------------------------------------------------------------
def _weights(first, n=30):
    w = np.ones(n)
    w[0] = first
    return w


SAMPLE_WEIGHT_CASES = [
    pytest.param(_weights(np.nan), "Input sample_weight contains NaN", id="nan"),
    pytest.param(_weights(np.inf), "Input sample_weight contains infinity", id="inf"),
    pytest.param(_weights(-1.0), "Negative values in data passed to `sample_weight`",
                 id="negative"),
    pytest.param(np.ones(29), r"sample_weight.shape == \(29,\), expected \(30,\)",
                 id="wrong-length"),
    pytest.param(np.zeros(30), "Sample weights must contain at least one non-zero number",
                 id="all-zero"),
    pytest.param(np.ones((30, 1)), "Sample weights must be 1D array or scalar", id="2d"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sample_weight, match", SAMPLE_WEIGHT_CASES)
def test_bad_sample_weight(estimator, solver, sample_weight, match):
    X, y = data(estimator)
    with pytest.raises(ValueError, match=match):
        make(estimator, solver).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("sample_weight, match", SAMPLE_WEIGHT_CASES[:3])
def test_bad_sample_weight_in_partial_fit(estimator, solver, sample_weight, match):
    X, y = data(estimator)
    kwargs = {"classes": [0, 1]} if estimator is MLPClassifier else {}
    with pytest.raises(ValueError, match=match):
        make(estimator, solver).partial_fit(X, y, sample_weight=sample_weight, **kwargs)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_sample_weight_beyond_float32_range(estimator):
    # Cast to float32 the weights would become inf (an overflow warning, then nan losses).
    X, y = data(estimator)
    with pytest.raises(ValueError, match="sample_weight holds values up to 1e.300, beyond the "
                                         "range of float32"):
        make(estimator).fit(X.astype(np.float32), y, sample_weight=np.full(30, 1e300))
    # float64 X keeps them: only their ratios matter to the loss.
    model = make(estimator).fit(X, y, sample_weight=np.full(30, 1e300))
    assert np.all(np.isfinite(model.coefs_[0]))


# -- early stopping on too little data ---------------------------------------------------------
SPLIT = ("The validation set is too small: early_stopping holds out validation_fraction={} of "
         "the {} training samples: {} for validation, {} for training")


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("n_samples, fraction, n_val", [(10, 0.1, 1), (30, 0.0, 0),
                                                        (30, 0.99, 30)])
def test_early_stopping_split_too_small(estimator, solver, n_samples, fraction, n_val):
    X, y = data(estimator, n_samples=n_samples)
    model = make(estimator, solver, early_stopping=True, validation_fraction=fraction)
    match = SPLIT.format(fraction, n_samples, n_val, n_samples - n_val)
    with pytest.raises(ValueError, match=match + ".*Change 'validation_fraction'"):
        model.fit(X, y)


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_early_stopping_stratified_split_needs_every_class_on_both_sides(solver):
    # Before: scikit-learn's "The test_size = 1 should be greater or equal to the number of
    # classes = 2", or "The least populated class in y has only 1 member".
    X, _ = data(MLPClassifier, n_samples=15)
    y = np.r_[np.zeros(13, dtype=int), 1, 2]
    model = make(MLPClassifier, solver, early_stopping=True)
    with pytest.raises(ValueError, match=SPLIT.format(0.1, 15, 2, 13) + ", stratified by class"
                                         ".*each of the 3 classes.*class 1 has 1"):
        model.fit(X, y)
    X, y = data(MLPClassifier, n_samples=4)
    with pytest.raises(ValueError, match=SPLIT.format(0.5, 4, 2, 2) + ", stratified by class"
                                         ".*at least 3 samples on each side and 2 of every "
                                         r"class \(class 1 has 1\)"):
        make(MLPClassifier, solver, early_stopping=True, validation_fraction=0.5).fit(
            X, np.array([0, 0, 1, 2]))


# -- classifier targets -----------------------------------------------------------------------
def test_single_class():
    X, _ = data(MLPClassifier)
    with pytest.raises(ValueError, match="needs samples of at least two classes to learn "
                                         "from; y holds only one class"):
        make(MLPClassifier).fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="at least two classes"):
        make(MLPClassifier).partial_fit(X, np.zeros(30), classes=[0])


def test_continuous_target_for_the_classifier():
    X, y = data(MLPRegressor)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        make(MLPClassifier).fit(X, y)


TWO_D_LABELS = "holding only 0 and 1; this y of shape \\(30, 2\\) holds the values"


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error", "focal"])
@pytest.mark.parametrize("values, target_type", [
    ((0, 2), "multilabel-indicator"),
    ((1, 2), "multilabel-indicator"),
    ((-1, 1), "multilabel-indicator"),
    ((-1, 0), "multilabel-indicator"),
    ((0, 0.5), "continuous-multioutput"),
])
def test_multilabel_targets_must_be_0_1(loss, values, target_type):
    # A 2-D target is a label indicator matrix: only 0 and 1. Before, {1, 2} or {-1, 1}
    # trained silently with e.g. squared error (and predicted 0/1 columns).
    X, _ = data(MLPClassifier)
    low, high = values
    Y = np.where(np.c_[np.arange(30) % 2, np.arange(30) % 3 == 0], high, low)
    with pytest.raises(ValueError, match=f"Unknown label type: {target_type}. MLPClassifier "
                                         f"takes .*{TWO_D_LABELS}"):
        make(MLPClassifier, loss=loss).fit(X, Y)


def test_multiclass_multioutput_targets():
    X, _ = data(MLPClassifier)
    Y = np.c_[np.arange(30) % 3, np.arange(30) % 2]
    with pytest.raises(ValueError, match="Unknown label type: multiclass-multioutput.*holds "
                                         r"the values \[0, 1, 2\]. Multi-output multiclass "
                                         "targets are not supported.*MultiOutputClassifier"):
        make(MLPClassifier).fit(X, Y)


def test_multilabel_target_with_a_softmax_loss():
    X, _ = data(MLPClassifier)
    Y = np.c_[np.arange(30) % 2, np.arange(30) % 3 == 0].astype(int)
    with pytest.raises(ValueError, match="A multi-label target needs one independent output "
                                         "per label"):
        make(MLPClassifier, loss="sparse_categorical_crossentropy").fit(X, Y)


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_partial_fit_class_errors(solver):
    X, y = data(MLPClassifier)
    with pytest.raises(ValueError, match="classes must be passed on the first call to "
                                         "partial_fit"):
        make(MLPClassifier, solver).partial_fit(X, y)
    model = make(MLPClassifier, solver).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`.*unseen "
                                         r"labels \[2\]"):
        model.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match=r"`classes=\[0, 1, 2\]` is not the same as on the "
                                         "first call"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"unseen labels \['a' 'b'\]"):
        make(MLPClassifier, solver).partial_fit(X, np.where(y, "a", "b"), classes=[0, 1])
    Y = np.c_[y, 1 - y]
    model = make(MLPClassifier, solver).partial_fit(X, Y)
    with pytest.raises(ValueError, match="fitted on multi-label targets with 2 labels; got y "
                                         r"of shape \(30, 3\)"):
        model.partial_fit(X, np.c_[Y, y])


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_warm_start_with_new_classes(solver):
    X, y = data(MLPClassifier)
    model = make(MLPClassifier, solver, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same "
                                         "classes"):
        model.fit(X, y * 2)


def test_class_weight_for_unknown_classes():
    X, y = data(MLPClassifier)
    with pytest.raises(ValueError, match=r"The classes, \[0, 1\], are not in class_weight"):
        make(MLPClassifier, class_weight={5: 1.0}).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_multilabel_target_is_densified(solver):
    # Before: "setting an array element with a sequence" from inside the encoder.
    X, y = data(MLPClassifier)
    Y = np.c_[y, 1 - y, np.arange(30) % 3 == 0].astype(int)
    dense = make(MLPClassifier, solver).fit(X, Y)
    from_sparse = make(MLPClassifier, solver).fit(X, sparse.csr_matrix(Y))
    assert_array_equal(from_sparse.predict(X), dense.predict(X))
    assert_array_equal(from_sparse.coefs_[0], dense.coefs_[0])


# -- regressor targets ------------------------------------------------------------------------
NUMERIC = "MLPRegressor needs numeric targets; y has dtype {} .*For class labels use MLPClassifier"


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("y, dtype", [
    (np.array(["a", "b"] * 15), "<U1"),
    (np.array(["1.5", "2.5"] * 15), "<U3"),
    (np.array([1.0, "a"] * 15, dtype=object), "object"),
    (["a", "b"] * 15, "<U1"),
])
def test_string_targets_for_the_regressor(solver, y, dtype):
    X, _ = data(MLPRegressor)
    with pytest.raises(ValueError, match=NUMERIC.format(dtype)):
        make(MLPRegressor, solver).fit(X, y)


def test_pandas_string_and_categorical_targets_for_the_regressor():
    pd = pytest.importorskip("pandas")
    X, _ = data(MLPRegressor)
    for y in (pd.Series(["a", "b"] * 15), pd.Series(["a", "b"] * 15, dtype="category")):
        with pytest.raises(ValueError, match=NUMERIC.format(".*")):
            make(MLPRegressor).fit(X, y)
    # Numbers stay fine, as objects or as a nullable dtype.
    y = pd.Series(np.arange(30.0), dtype="Float64")
    assert make(MLPRegressor).fit(X, y).predict(X).shape == (30,)
    y_obj = np.arange(30.0).astype(object)
    assert make(MLPRegressor).fit(X, y_obj).predict(X).shape == (30,)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss, target, match", [
    ("poisson", -1.0, r"Poisson\(\) needs non-negative targets \(counts or rates\); the "
                      "smallest target is -1.0"),
    ("gamma", 0.0, r"Gamma\(\) needs positive targets \(power >= 2\); the smallest target is "
                   "0.0"),
    ("gamma", -2.0, r"Gamma\(\) needs positive targets"),
    ("tweedie", -1.0, r"Tweedie\(\) needs non-negative targets; the smallest target is -1.0"),
])
def test_targets_outside_the_loss_domain(solver, loss, target, match):
    X, _ = data(MLPRegressor)
    y = np.linspace(1, 3, 30)
    y[5] = target
    with pytest.raises(ValueError, match=match):
        make(MLPRegressor, solver, loss=loss).fit(X, y)


@pytest.mark.parametrize("loss", ["hinge", "sparse_categorical_crossentropy"])
def test_classification_loss_in_the_regressor(loss):
    X, y = data(MLPRegressor)
    with pytest.raises(ValueError, match=f"loss='{loss}' is a classification loss .*Use "
                                         "MLPClassifier"):
        make(MLPRegressor, loss=loss).fit(X, y)


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_regressor_outputs_change_in_partial_fit(solver):
    X, y = data(MLPRegressor)
    model = make(MLPRegressor, solver).partial_fit(X, y)
    with pytest.raises(ValueError, match=r"fitted with 1 output\(s\); y has 2"):
        model.partial_fit(X, np.c_[y, y])


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_regression_target_is_densified(solver):
    # Before: a TypeError from np.isfinite inside the loss's check_target.
    X, y = data(MLPRegressor)
    Y = np.c_[y, 2 * y]
    dense = make(MLPRegressor, solver).fit(X, Y)
    from_sparse = make(MLPRegressor, solver).fit(X, sparse.csr_matrix(Y))
    assert_allclose(from_sparse.predict(X), dense.predict(X), rtol=0, atol=0)


# -- losses called directly -------------------------------------------------------------------
def test_loss_check_target_messages():
    with pytest.raises(ValueError, match=r"needs targets in \[0, 1\] \(0/1 labels or "
                                         "frequencies\\); got values from 0.0 to 2.0"):
        BinaryCrossEntropy().check_target(np.array([[0.0], [2.0]]))
    with pytest.raises(ValueError, match=r"needs binary labels coded 0/1 or -1/\+1; got "
                                         r"values \[0.0, 2.0\]"):
        Hinge().check_target(np.array([[0.0], [2.0]]))


P = np.full((4, 3), 1 / 3)


@pytest.mark.parametrize("method", ["__call__", "gradient", "loss_from_raw", "gradient_raw"])
@pytest.mark.parametrize("y, match", [
    (np.array([0, 1, 2, 3]), r"got the class index 3 for predictions of 3 classes; class "
                             r"indices must lie in \[0, 2\]"),
    (np.array([0, 1, 2, -1]), "needs class indices >= 0; got -1"),
    (np.array([0.5, 1.0, 2.0, 1.0]), r"needs integer class indices of shape \(n_samples,\); "
                                     "got an array of shape \\(4,\\) and dtype float64"),
    (np.eye(4, 3, dtype=int), r"needs integer class indices of shape \(n_samples,\); got "
                              r"an array of shape \(4, 3\)"),
])
def test_sparse_categorical_crossentropy_indices_outside_the_classes(method, y, match):
    # Before: an IndexError from numpy (index 3), or a silently wrong value (-1 picked the
    # last class, 0.5 was truncated to class 0).
    loss = SparseCategoricalCrossEntropy()
    with pytest.raises(ValueError, match=match):
        getattr(loss, method)(y, P)


def test_sparse_categorical_crossentropy_check_target_with_n_classes():
    loss = SparseCategoricalCrossEntropy()
    assert loss.check_target(np.array([0, 2])) is None
    assert loss.check_target(np.array([0, 2]), n_classes=3) is None
    with pytest.raises(ValueError, match="got the class index 2 for predictions of 2 classes"):
        loss.check_target(np.array([0, 2]), n_classes=2)
    # Integral floats still work in the loss itself (the estimator passes intp indices).
    assert loss(np.array([0.0, 1.0, 2.0, 1.0]), P) == pytest.approx(np.log(3))


# -- activation and loss objects that break the protocol -----------------------------------------
class NoBackward:
    def forward(self, z, out=None):
        return np.tanh(z, out=out)


class WrongShape(Activation):
    def forward(self, z, out=None):
        return np.tanh(z)[:, :1]

    def derivative(self, z, a, out=None):
        return np.ones_like(z)


class IgnoresOut(Activation):
    def forward(self, z, out=None):
        return np.tanh(z)

    def derivative(self, z, a, out=None):
        return 1 - a * a


class NanForward(Activation):
    def forward(self, z, out=None):
        out = np.tanh(z, out=out)
        out[0, 0] = np.nan
        return out

    def derivative(self, z, a, out=None):
        return 1 - a * a


class IntForward(Activation):
    def forward(self, z, out=None):
        return (z > 0).astype(int)

    def derivative(self, z, a, out=None):
        return np.zeros_like(z)


class Float64Backward(Activation):
    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def backward(self, z, a, grad_a, out=None):
        return (grad_a * (1 - a * a)).astype(np.float64)  # ignores out and the dtype


class ListForward(Activation):
    def forward(self, z, out=None):
        return np.tanh(z).tolist()

    def derivative(self, z, a, out=None):
        return 1 - np.asarray(a) ** 2


class NoOutArgument(Activation):
    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1 - a * a


class ScalarDerivative(Activation):
    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        return np.ones((1, 1))  # broadcasts silently in grad_a * derivative


class NanBackward(Activation):
    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def backward(self, z, a, grad_a, out=None):
        return np.full_like(z, np.nan)


class Raises(Activation):
    def forward(self, z, out=None):
        raise RuntimeError("boom")

    def derivative(self, z, a, out=None):
        return 1 - a * a


class NotInPlaceSafe(Activation):
    """``z * sigmoid(z)`` that overwrites ``out`` before reading ``z`` again."""

    def forward(self, z, out=None):
        out = np.negative(z, out=out)
        np.exp(out, out=out)
        out += 1
        np.divide(z, out, out=out)  # wrong when out is z: z was overwritten
        return out

    def derivative(self, z, a, out=None):
        return np.ones_like(z)


class OutputOnlyReadsZ(Activation):
    """Says its derivative needs only the output, but computes it from ``z``."""

    derivative_from_output = True

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        return 1 - np.tanh(z) ** 2


class OutputOnlyDiffers(Activation):
    """Says its derivative needs only the output, but gives another one without ``z``."""

    derivative_from_output = True

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        return np.ones_like(a) if z is None else 1 - a * a


class TrainableWithoutGradient(Activation):
    trainable = True

    def n_params(self, n_units):
        return n_units

    def init_params(self, n_units, dtype):
        return np.ones(n_units, dtype=dtype)

    def forward(self, z, out=None, params=None):
        return np.tanh(z, out=out)

    def backward(self, z, a, grad_a, out=None, params=None):
        return np.multiply(grad_a, 1 - a * a, out=out)


ACTIVATION_CASES = [
    pytest.param(WrongShape(), ValueError, r"\.forward\(z, out=\.\.\.\) returned an array of "
                 r"shape \(4, 1\); expected \(4, 3\)", id="wrong-shape"),
    pytest.param(IgnoresOut(), ValueError, r"\.forward\(z, out=out\) did not write its result "
                 "into out", id="ignores-out"),
    pytest.param(NanForward(), ValueError, r"\.forward\(z, out=\.\.\.\) returned nan or inf "
                 "for finite inputs", id="nan-forward"),
    pytest.param(IntForward(), TypeError, r"returned an array of dtype int64; expected "
                 "float64", id="int-dtype"),
    pytest.param(ListForward(), TypeError, r"\.forward\(z, out=\.\.\.\) returned list; it must "
                 "return a numpy array", id="list-output"),
    pytest.param(NoOutArgument(), TypeError, r"forward cannot be called as forward\(z, "
                 r"out=\.\.\.\) \(got an unexpected keyword argument 'out'\)", id="no-out-arg"),
    pytest.param(ScalarDerivative(), ValueError, r"\.derivative\(z, a\) returned an array of "
                 r"shape \(1, 1\)", id="derivative-shape"),
    pytest.param(NanBackward(), ValueError, r"\.backward\(z, a, grad_a, out=\.\.\.\) returned "
                 "nan or inf", id="nan-backward"),
    pytest.param(Raises(), ValueError, r"forward\(z, out=\.\.\.\) raised RuntimeError "
                 r"\(boom\) on a probe batch", id="raises"),
    pytest.param(NotInPlaceSafe(), ValueError, r"\.forward\(z, out=z\) \(in place, as predict "
                 "calls it\\) gives a different result", id="not-in-place-safe"),
    pytest.param(OutputOnlyReadsZ(), ValueError, r"sets derivative_from_output = True, so the "
                 r"training loop .* calls backward\(None, a, grad_a\); that call raised "
                 "TypeError", id="output-only-reads-z"),
    pytest.param(OutputOnlyDiffers(), ValueError, r"sets derivative_from_output = True.*its "
                 r"result differs from backward\(z, a, grad_a\)", id="output-only-differs"),
    pytest.param(TrainableWithoutGradient(), TypeError, r"says it is trainable but lacks "
                 r"param_gradient\(\)", id="trainable-without-gradient"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("activation, error, match", ACTIVATION_CASES)
def test_broken_hidden_activation_is_named_at_fit(estimator, solver, activation, error, match):
    X, y = data(estimator)
    name = type(activation).__name__
    with pytest.raises(error, match=rf"activation={name}\(\) \(hidden layer 1\).*{match}"):
        make(estimator, solver, activation=activation).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("activation, error, match", ACTIVATION_CASES[:-1])
def test_broken_output_activation_is_named_at_fit(estimator, activation, error, match):
    X, y = data(estimator)
    # Three outputs, as the hidden layer of the cases has three units.
    y = np.arange(30) % 3 if estimator is MLPClassifier else np.c_[y, y, y]
    name = type(activation).__name__
    with pytest.raises(error, match=rf"output_activation={name}\(\).*{match}"):
        make(estimator, output_activation=activation).fit(X, y)


def test_broken_activation_in_a_per_layer_list_is_named_with_its_layer():
    X, y = data(MLPRegressor)
    model = make(MLPRegressor, hidden_layer_sizes=(3, 5), activation=["tanh", WrongShape()])
    with pytest.raises(ValueError, match=r"activation=WrongShape\(\) \(hidden layer 2\).*shape "
                                         r"\(4, 1\); expected \(4, 5\)"):
        model.fit(X, y)
    model.set_params(activation=["tanh", NoBackward()])
    with pytest.raises(TypeError, match=r"is not an activation: it lacks \['backward'\]"):
        model.fit(X, y)


def test_float32_training_needs_float32_activations():
    X, y = data(MLPRegressor)
    with pytest.raises(TypeError, match=r"activation=Float64Backward\(\) \(hidden layer 1\)"
                                        r"\.backward\(z, a, grad_a, out=\.\.\.\) returned an "
                                        "array of dtype float64; expected float32"):
        make(MLPRegressor, activation=Float64Backward()).fit(X.astype(np.float32), y)
    # float64 training is fine with it.
    model = make(MLPRegressor, activation=Float64Backward()).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("parameter, constraint", [
    ("activation", "an object implementing 'forward' and 'backward'"),
    ("output_activation", "an object implementing 'forward' and 'backward'"),
])
def test_activation_without_the_protocol_methods(estimator, parameter, constraint):
    X, y = data(estimator)
    with pytest.raises(ValueError, match=f"The '{parameter}' parameter of {estimator.__name__} "
                                         f"must be .*{constraint}"):
        make(estimator, **{parameter: NoBackward()}).fit(X, y)


class _Squared(Loss):
    def pointwise_loss(self, y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.multiply(y_pred - y_true, 2, out=out)


class NanValue(_Squared):
    def pointwise_loss(self, y_true, y_pred):
        return np.full(y_true.shape[0], np.nan)


class NanGradient(_Squared):
    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.full_like(y_pred, np.nan)


class FlatGradient(_Squared):
    def pointwise_gradient(self, y_true, y_pred, out=None):
        return (y_pred - y_true)[:, 0]


class IntGradient(_Squared):
    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.sign(y_pred - y_true).astype(int)


class ArrayValue:
    """The minimal protocol (__call__ and gradient), returning per-sample values."""

    canonical_activation = "identity"

    def __call__(self, y_true, y_pred, sample_weight=None):
        return (y_true - y_pred) ** 2

    def gradient(self, y_true, y_pred, sample_weight=None):
        return 2 * (y_pred - y_true) / len(y_true)


class StringValue(ArrayValue):
    def __call__(self, y_true, y_pred, sample_weight=None):
        return "small"


class NoSampleWeight(ArrayValue):
    def __call__(self, y_true, y_pred):
        return float(np.mean((y_true - y_pred) ** 2))


class RawWithoutGradient(ArrayValue):
    def loss_from_raw(self, y_true, raw, sample_weight=None):
        return float(np.mean((y_true - raw) ** 2))


class FusedReturnsValueOnly(_Squared):
    def loss_gradient_raw(self, y_true, raw, sample_weight=None, out=None):
        return 0.0


LOSS_CASES = [
    pytest.param(NanValue(), ValueError, r"loss=NanValue\(\)\.loss_gradient_raw\(y_true, raw, "
                 r"sample_weight, out=\.\.\.\) returned nan as the loss value", id="nan-value"),
    pytest.param(NanGradient(), ValueError, r"loss=NanGradient\(\)\..*returned a gradient with "
                 "nan or inf", id="nan-gradient"),
    pytest.param(FlatGradient(), ValueError, r"loss=FlatGradient\(\)\..*returned a gradient of "
                 r"shape \(4,\); expected \(4, 1\)", id="gradient-shape"),
    pytest.param(IntGradient(), ValueError, r"loss=IntGradient\(\): loss_gradient_raw.* raised "
                 "UFuncTypeError", id="int-gradient"),
    pytest.param(ArrayValue(), TypeError, r"loss=<ArrayValue object>\.__call__\(y_true, y_pred, "
                 r"sample_weight\) returned an array of shape \(4, 1\) as the loss value; it "
                 "must return a float", id="array-value"),
    pytest.param(StringValue(), TypeError, r"returned 'small' \(str\) as the loss value",
                 id="str-value"),
    pytest.param(NoSampleWeight(), TypeError, r"loss=<NoSampleWeight object>: __call__ cannot "
                 r"be called as __call__\(y_true, y_pred, sample_weight\)",
                 id="no-sample-weight-arg"),
    pytest.param(RawWithoutGradient(), TypeError, r"has no method gradient_raw\(y_true, raw, "
                 r"sample_weight\)", id="raw-without-gradient"),
    pytest.param(FusedReturnsValueOnly(), TypeError, r"returned float; it must return the pair "
                 r"\(value, gradient\)", id="fused-value-only"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss, error, match", LOSS_CASES)
def test_broken_loss_is_named_at_fit(estimator, solver, loss, error, match):
    X, y = data(estimator)
    with pytest.raises(error, match=match):
        make(estimator, solver, loss=loss).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_loss_without_the_protocol_methods(estimator):
    class NoGradient:
        def __call__(self, y_true, y_pred, sample_weight=None):
            return 0.0

    X, y = data(estimator)
    with pytest.raises(ValueError, match=f"The 'loss' parameter of {estimator.__name__} must "
                                         "be .*an object implementing '__call__' and "
                                         "'gradient'"):
        make(estimator, loss=NoGradient()).fit(X, y)


# -- the probe accepts what works ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_probe_accepts_the_documented_user_defined_objects(dtype, solver):
    X, y = data(MLPRegressor)
    X = X.astype(dtype)
    model = make(MLPRegressor, solver, activation=ScaledTanh(), loss=PseudoHuber(),
                 output_activation=ScaledTanh(scale=5.0)).fit(X, y)
    assert model.predict(X).dtype == dtype
    assert np.all(np.isfinite(model.predict(X)))

    class MinimalLoss(ArrayValue):
        def __call__(self, y_true, y_pred, sample_weight=None):
            return float(np.average(((y_true - y_pred) ** 2).sum(axis=1),
                                    weights=sample_weight))

    model = make(MLPRegressor, solver, loss=MinimalLoss()).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATION_ALIASES))
def test_probe_accepts_every_builtin_activation_as_a_user_subclass(name, dtype):
    # Built-ins are not probed; a user's subclass of each must pass the probe unchanged.
    subclass = type(f"My{ACTIVATION_ALIASES[name].__name__}", (ACTIVATION_ALIASES[name],), {})
    X, y = data(MLPRegressor)
    model = make(MLPRegressor, activation=subclass()).fit(X.astype(dtype), y)
    assert np.all(np.isfinite(model.predict(X.astype(dtype))))


@pytest.mark.parametrize("estimator, loss", [
    (MLPRegressor, "squared_error"), (MLPRegressor, "huber"), (MLPRegressor, "poisson"),
    (MLPRegressor, "gamma"), (MLPRegressor, "quantile"), (MLPClassifier, "log_loss"),
    (MLPClassifier, "hinge"), (MLPClassifier, "modified_huber"), (MLPClassifier, "focal"),
    (MLPClassifier, "categorical_crossentropy"), (MLPClassifier, "categorical_hinge"),
    (MLPClassifier, "sparse_categorical_crossentropy"), (MLPClassifier, "kld"),
])
def test_probe_accepts_every_builtin_loss_as_a_user_subclass(estimator, loss):
    from sknnloss.losses import get_loss

    builtin = get_loss(loss, target_type="multiclass")
    subclass = type(f"My{type(builtin).__name__}", (type(builtin),), {})
    X, y = data(estimator)
    if estimator is MLPClassifier:
        y = np.arange(30) % 3
    else:
        y = np.abs(y) + 0.1
    with_builtin = make(estimator, solver="lbfgs", loss=builtin).fit(X, y)
    with_subclass = make(estimator, solver="lbfgs", loss=subclass(**builtin.get_params())).fit(
        X, y)
    assert_array_equal(with_subclass.coefs_[0], with_builtin.coefs_[0])


def test_probe_changes_nothing_about_training():
    # The probe uses no randomness and no state: the same seed gives the same weights with a
    # built-in activation (not probed) and its probed subclass.
    X, y = data(MLPClassifier)

    class MyTanh(ACTIVATION_ALIASES["tanh"]):
        pass

    with pytest.warns(ConvergenceWarning):
        builtin = make(MLPClassifier, activation="tanh").fit(X, y)
    with pytest.warns(ConvergenceWarning):
        probed = make(MLPClassifier, activation=MyTanh()).fit(X, y)
    assert_array_equal(probed.coefs_[0], builtin.coefs_[0])

"""Losses: gradients against finite differences (output and raw space, weighted), the fused raw
forms against the composition with the canonical activation, numerical stability, hand-checked
values, scikit-learn's metrics, target checks, name resolution and user-defined losses."""

import pickle
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import (
    hinge_loss,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    mean_squared_error,
)

from sknnloss.activations import EXP_RAW_MAX, Exp, Identity, Logistic, Softmax, get_activation
from sknnloss.losses import (
    LOSS_ALIASES,
    AbsoluteError,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Hinge,
    Loss,
    Poisson,
    SparseCategoricalCrossEntropy,
    SquaredError,
    get_loss,
)

# Every built-in class once, default parameters.
LOSSES = [cls() for cls in dict.fromkeys(LOSS_ALIASES.values())]

FD_STEP = 1e-5
FD_RTOL = 1e-6
FD_SETTINGS = settings(max_examples=30, deadline=None)
# Sample weights for the hypothesis tests: zeros and moderate values. Extreme weight scales
# (subnormal, near overflow) are covered by test_weighted_value_invariant_to_weight_scale.
WEIGHTS = st.one_of(st.just(0.0), st.floats(1e-3, 3.0))


def ids(obj):
    return repr(obj)


def relative_error(actual, expected):
    """Norm-based relative error; 0 when both are exactly zero (e.g. hinge beyond the margin)."""
    scale = max(np.linalg.norm(actual), np.linalg.norm(expected))
    return 0.0 if scale == 0 else np.linalg.norm(actual - expected) / scale


def numerical_gradient(f, x, step=FD_STEP):
    """Central differences of the scalar function ``f`` at ``x``, one coordinate at a time."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[idx] += step
        x_minus[idx] -= step
        grad[idx] = (f(x_plus) - f(x_minus)) / (x_plus[idx] - x_minus[idx])
    return grad


def softmax(raw):
    """Reference softmax, independent of the package."""
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- hypothesis strategies: targets and predictions in each loss's domain -------------------
#
# Predictions are built *from* the targets so that the gradient never vanishes everywhere
# (a relative error is meaningless there) and kinks (|y_pred - y_true| = 0 for the absolute
# error, a margin of exactly 1 for the hinge) are at least 1e-2 away, far beyond FD_STEP.


def _floats_array(draw, shape, low, high):
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high)))


def _offsets(draw, shape):
    """Nonzero offsets: magnitudes in [1e-2, 5], random signs."""
    size = _floats_array(draw, shape, 1e-2, 5.0)
    sign = draw(hnp.arrays(np.bool_, shape))
    return np.where(sign, size, -size)


@st.composite
def problems(draw, loss, space):
    """``(y_true, prediction, sample_weight)`` with the prediction in ``space``:
    "output" (``y_pred``) or "raw" (before the canonical activation)."""
    n = draw(st.integers(1, 6))
    multiclass = isinstance(loss, (CategoricalCrossEntropy, SparseCategoricalCrossEntropy))
    k = draw(st.integers(2, 5)) if multiclass else draw(st.integers(1, 4))
    shape = (n, k)

    if isinstance(loss, (SquaredError, AbsoluteError)):
        y_true = _floats_array(draw, shape, -5.0, 5.0)
        pred = y_true + _offsets(draw, shape)
    elif isinstance(loss, Hinge):
        positive = draw(hnp.arrays(np.bool_, shape))
        negative_label = draw(st.sampled_from([0.0, -1.0]))
        y_true = np.where(positive, 1.0, negative_label)
        t = np.where(positive, 1.0, -1.0)
        pred = t * (1.0 + _offsets(draw, shape))  # margin t * pred = 1 + offset
    elif isinstance(loss, Poisson):
        y_true = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 6))).astype(float)
        # Keep y_pred away from y_true: ratio to (y + 0.5) below 0.45 or above 1.1.
        ratio = draw(hnp.arrays(np.float64, shape, elements=st.one_of(
            st.floats(0.1, 0.45), st.floats(1.1, 4.0))))
        pred = (y_true + 0.5) * ratio
        if space == "raw":
            pred = np.log(pred)
    elif isinstance(loss, BinaryCrossEntropy):
        # 0/1 labels and a frequency, probabilities in (0.05, 0.95).
        y_true = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 0.3])))
        p = _floats_array(draw, shape, 0.05, 0.95)
        p = np.where(np.abs(p - y_true) < 1e-2, y_true + 2e-2, p)
        pred = p if space == "output" else np.log(p) - np.log1p(-p)
    else:
        labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
        if isinstance(loss, SparseCategoricalCrossEntropy):
            y_true = labels
        else:
            y_true = np.eye(k)[labels]
            if draw(st.booleans()):  # soft targets
                y_true = 0.8 * y_true + 0.2 / k
                # rows summing to 1, or any total mass (the raw form handles it too)
                y_true *= draw(st.sampled_from([1.0, 0.5, 2.0]))
        if space == "output":
            pred = _floats_array(draw, shape, 0.05, 0.95)
        else:
            pred = _floats_array(draw, shape, -3.0, 3.0)

    sample_weight = None
    if draw(st.booleans()):
        sample_weight = draw(hnp.arrays(np.float64, (n,), elements=WEIGHTS))
    return y_true, pred, sample_weight


def _check_gradients(value_and_grad, value, pointwise, prediction, sample_weight):
    """Weighted value and gradient against finite differences and np.average."""
    loss_value, grad = value_and_grad(prediction)
    numerical = numerical_gradient(value, prediction)
    assert relative_error(grad, numerical) < FD_RTOL
    per_sample = pointwise(prediction)
    if sample_weight is None or sample_weight.sum() > 0:
        assert loss_value == pytest.approx(np.average(per_sample, weights=sample_weight),
                                           rel=1e-12, abs=1e-300)
    else:
        assert loss_value == 0.0
        assert_array_equal(grad, 0.0)
    assert value(prediction) == pytest.approx(loss_value, rel=1e-12, abs=1e-300)


# -- 1. gradients against finite differences ------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
@FD_SETTINGS
@given(data=st.data())
def test_output_space_gradients_match_finite_differences(loss, data):
    y_true, y_pred, sw = data.draw(problems(loss, "output"))
    y_true0, y_pred0 = y_true.copy(), y_pred.copy()

    # Pointwise: sample i's loss depends on row i only, so the gradient of the sum is it.
    numerical = numerical_gradient(lambda p: loss.pointwise_loss(y_true, p).sum(), y_pred)
    assert relative_error(loss.pointwise_gradient(y_true, y_pred), numerical) < FD_RTOL

    # Weighted mean.
    _check_gradients(
        lambda p: loss.loss_gradient(y_true, p, sample_weight=sw),
        lambda p: loss(y_true, p, sample_weight=sw),
        lambda p: loss.pointwise_loss(y_true, p),
        y_pred, sw,
    )
    assert_allclose(loss.gradient(y_true, y_pred, sample_weight=sw),
                    loss.loss_gradient(y_true, y_pred, sample_weight=sw)[1], rtol=1e-15)
    assert_array_equal(y_true, y_true0)
    assert_array_equal(y_pred, y_pred0)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
@FD_SETTINGS
@given(data=st.data())
def test_raw_space_gradients_match_finite_differences(loss, data):
    y_true, raw, sw = data.draw(problems(loss, "raw"))
    y_true0, raw0 = y_true.copy(), raw.copy()

    numerical = numerical_gradient(
        lambda r: loss.pointwise_loss_gradient_raw(y_true, r)[0].sum(), raw)
    assert relative_error(loss.pointwise_loss_gradient_raw(y_true, raw)[1], numerical) < FD_RTOL

    _check_gradients(
        lambda r: loss.loss_gradient_raw(y_true, r, sample_weight=sw),
        lambda r: loss.loss_from_raw(y_true, r, sample_weight=sw),
        lambda r: loss.pointwise_loss_gradient_raw(y_true, r)[0],
        raw, sw,
    )
    assert_allclose(loss.gradient_raw(y_true, raw, sample_weight=sw),
                    loss.loss_gradient_raw(y_true, raw, sample_weight=sw)[1], rtol=1e-15)
    assert_array_equal(y_true, y_true0)
    assert_array_equal(raw, raw0)


def test_poisson_raw_gradient_is_flat_above_the_cap():
    loss = Poisson()
    y = np.array([[0.0, 3.0, 7.0]])
    raw = np.array([[EXP_RAW_MAX + 1.0, EXP_RAW_MAX + 10.0, 1e4]])
    numerical = numerical_gradient(lambda r: loss.loss_from_raw(y, r), raw)
    assert_array_equal(numerical, 0.0)
    assert_array_equal(loss.gradient_raw(y, raw), 0.0)
    capped = np.full_like(raw, EXP_RAW_MAX)
    assert loss.loss_from_raw(y, raw) == pytest.approx(loss.loss_from_raw(y, capped), rel=1e-15)
    # Just below the cap the gradient is exp(raw) - y as usual.
    below = np.array([[EXP_RAW_MAX - 1.0]])
    assert loss.gradient_raw(np.array([[2.0]]), below)[0, 0] == pytest.approx(
        np.exp(EXP_RAW_MAX - 1.0) - 2.0, rel=1e-14)


# -- 2. fused raw forms against the composition with the canonical activation ---------------


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
@FD_SETTINGS
@given(data=st.data())
def test_fused_raw_form_matches_composition(loss, data):
    # Targets from the strategy; raw values over a wider, moderate range.
    y_true, prediction, sw = data.draw(problems(loss, "raw"))
    raw = data.draw(hnp.arrays(np.float64, prediction.shape, elements=st.floats(-15.0, 15.0)))
    activation = get_activation(loss.canonical_activation)

    y_pred = activation.forward(raw)
    assert np.all(np.isfinite(y_pred))
    composed_loss = loss.pointwise_loss(y_true, y_pred)
    composed_grad = activation.backward(raw, y_pred, loss.pointwise_gradient(y_true, y_pred))
    fused_loss, fused_grad = loss.pointwise_loss_gradient_raw(y_true, raw)
    assert_allclose(fused_loss, composed_loss, rtol=1e-6, atol=1e-10)
    assert_allclose(fused_grad, composed_grad, rtol=1e-6, atol=1e-10)

    assert loss.loss_from_raw(y_true, raw, sample_weight=sw) == pytest.approx(
        loss(y_true, y_pred, sample_weight=sw), rel=1e-6, abs=1e-10)
    composed_weighted = loss.loss_gradient(y_true, y_pred, sample_weight=sw)[1]
    composed_weighted = activation.backward(raw, y_pred, composed_weighted)
    assert_allclose(loss.gradient_raw(y_true, raw, sample_weight=sw), composed_weighted,
                    rtol=1e-6, atol=1e-10)


# -- 3. stability over raw values in [-1e4, 1e4] ---------------------------------------------

RAW_EXTREMES = np.array(
    [-1e4, -709.0, -50.0001, -50.0, -1.0, 0.0, 1.0, 50.0, 50.0001, 709.0, 1e4, 1e4]
)


def _extreme_problem(loss, dtype):
    """Raw values spanning [-1e4, 1e4] (both ends exactly), with valid targets."""
    raw = np.vstack([
        RAW_EXTREMES.reshape(3, 4),
        RAW_EXTREMES[::-1].reshape(3, 4),
        np.linspace(-1e4, 1e4, 8).reshape(2, 4),
        np.full((1, 4), 1e4),
        np.full((1, 4), -1e4),
    ])
    n, k = raw.shape
    rng = np.random.default_rng(0)
    if isinstance(loss, SparseCategoricalCrossEntropy):
        y_true = rng.integers(0, k, size=n)
    elif isinstance(loss, CategoricalCrossEntropy):
        y_true = np.eye(k)[rng.integers(0, k, size=n)]
        y_true[::2] = 0.7 * y_true[::2] + 0.3 / k
    elif isinstance(loss, BinaryCrossEntropy):
        y_true = rng.choice([0.0, 1.0, 0.3], size=(n, k))
    elif isinstance(loss, Hinge):
        y_true = rng.choice([0.0, 1.0], size=(n, k))
    elif isinstance(loss, Poisson):
        y_true = rng.choice([0.0, 1.0, 5.0, 1e3], size=(n, k))
    else:
        y_true = rng.uniform(-10, 10, size=(n, k))
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(dtype)
    sample_weight = rng.uniform(0, 2, size=n).astype(dtype)
    return y_true, raw.astype(dtype), sample_weight


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_raw_methods_stable_over_the_whole_range(loss, dtype):
    y_true, raw, sample_weight = _extreme_problem(loss, dtype)
    for sw in (None, sample_weight):
        # Overflow, division by zero and invalid operations raise; underflow to 0 (exp of a
        # very negative raw value) is allowed by the design and is not checked.
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            value = loss.loss_from_raw(y_true, raw, sample_weight=sw)
            grad = loss.gradient_raw(y_true, raw, sample_weight=sw)
            value2, grad2 = loss.loss_gradient_raw(y_true, raw, sample_weight=sw)
            per_sample, per_sample_grad = loss.pointwise_loss_gradient_raw(y_true, raw)
        assert np.isfinite(value) and np.isfinite(value2)
        assert np.all(np.isfinite(grad)) and np.all(np.isfinite(grad2))
        assert np.all(np.isfinite(per_sample)) and np.all(np.isfinite(per_sample_grad))
        assert grad.shape == raw.shape
        assert value == value2


# Predictions on the edge of the output domain, which a non-canonical output activation
# produces once it saturates or underflows (softplus(-1e4) == 0.0, sigmoid(40) == 1.0).
EDGE_PROBLEMS = [
    (Poisson(), np.array([[0.0, 1.0, 5.0, 100.0]] * 2), np.array([[0.0] * 4, [1e-300] * 4])),
    (BinaryCrossEntropy(), np.array([[0.0, 1.0, 0.3]] * 2), np.array([[0.0] * 3, [1.0] * 3])),
    (CategoricalCrossEntropy(), np.eye(3), np.array([[0.0, 1.0, 0.0]] * 3)),
    (SparseCategoricalCrossEntropy(), np.arange(3), np.array([[0.0, 1.0, 0.0]] * 3)),
]


@pytest.mark.parametrize("loss, y_true, y_pred", EDGE_PROBLEMS,
                         ids=[repr(problem[0]) for problem in EDGE_PROBLEMS])
def test_output_space_methods_finite_on_the_domain_edge(loss, y_true, y_pred):
    # Cross-entropies clip p inside the log (as scikit-learn does); every loss must keep its
    # value and gradient finite there, or the chain rule turns them into nan.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        per_sample = loss.pointwise_loss(y_true, y_pred)
        value, grad = loss.loss_gradient(y_true, y_pred)
    assert np.all(np.isfinite(per_sample))
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))


def test_poisson_through_a_softplus_output_stays_finite():
    # "Any other pair works too, through the chain rule": softplus output + Poisson loss. A raw
    # output far below 0 gives y_pred == 0.0 (underflow); the raw gradient must stay finite.
    loss, softplus = Poisson(), get_activation("softplus")
    y_true = np.array([[5.0], [1.0], [0.0]])
    raw = np.array([[-1e4], [-800.0], [-1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y_pred = softplus.forward(raw)
        value, grad_pred = loss.loss_gradient(y_true, y_pred)
        grad_raw = softplus.backward(raw, y_pred, grad_pred)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad_raw))


# -- 4. hand-checked values ------------------------------------------------------------------


def test_cross_entropies_of_a_worked_example():
    y_pred = np.array([[0.42, 0.34, 0.24]])
    expected = -np.log(0.42)
    assert expected == pytest.approx(0.8675, abs=1e-4)
    assert CategoricalCrossEntropy()(np.array([[1.0, 0.0, 0.0]]), y_pred) == pytest.approx(
        expected, rel=1e-14)
    assert SparseCategoricalCrossEntropy()(np.array([0]), y_pred) == pytest.approx(
        expected, rel=1e-14)
    # The same through the raw space: softmax(log p) = p when p sums to 1.
    raw = np.log(y_pred)
    assert CategoricalCrossEntropy().loss_from_raw(np.array([[1.0, 0.0, 0.0]]), raw) == (
        pytest.approx(expected, rel=1e-14))
    assert SparseCategoricalCrossEntropy().loss_from_raw(np.array([0]), raw) == (
        pytest.approx(expected, rel=1e-14))
    # Gradient in output space: -1/p at the true class, 0 elsewhere.
    assert_allclose(SparseCategoricalCrossEntropy().gradient(np.array([0]), y_pred),
                    [[-1 / 0.42, 0.0, 0.0]], rtol=1e-14)


def test_binary_cross_entropy_of_a_half_is_ln2():
    for y in (0.0, 1.0):
        assert BinaryCrossEntropy()(np.array([[y]]), np.array([[0.5]])) == pytest.approx(
            np.log(2), rel=1e-14)
        assert BinaryCrossEntropy().loss_from_raw(np.array([[y]]), np.array([[0.0]])) == (
            pytest.approx(np.log(2), rel=1e-14))
    # Two labels on one sample are summed: 2 ln 2; raw gradient sigmoid(0) - y.
    y = np.array([[0.0, 1.0]])
    assert BinaryCrossEntropy().loss_from_raw(y, np.zeros((1, 2))) == pytest.approx(
        2 * np.log(2), rel=1e-14)
    assert_allclose(BinaryCrossEntropy().gradient_raw(y, np.zeros((1, 2))), [[0.5, -0.5]])


def test_squared_error_two_outputs_by_hand():
    y_true = np.array([[1.0, 2.0], [0.0, 0.0]])
    y_pred = np.array([[2.0, 4.0], [1.0, -1.0]])
    # sample 1: 0.5 * (1 + 4) = 2.5; sample 2: 0.5 * (1 + 1) = 1; mean 1.75
    assert SquaredError()(y_true, y_pred) == pytest.approx(1.75, rel=1e-15)
    assert_allclose(SquaredError().gradient(y_true, y_pred), [[0.5, 1.0], [0.5, -0.5]])
    assert SquaredError().loss_from_raw(y_true, y_pred) == pytest.approx(1.75, rel=1e-15)
    assert SquaredError()(np.array([[1.0]]), np.array([[3.0]])) == 2.0


def test_absolute_error_by_hand():
    y_true = np.array([[1.0, -1.0], [0.0, 0.0]])
    y_pred = np.array([[3.0, -1.5], [-1.0, 0.0]])
    # sample 1: 2 + 0.5; sample 2: 1 + 0; mean 1.75
    assert AbsoluteError()(y_true, y_pred) == pytest.approx(1.75, rel=1e-15)
    # sign(y_pred - y_true) / n, 0 where they are equal
    assert_allclose(AbsoluteError().gradient(y_true, y_pred), [[0.5, -0.5], [-0.5, 0.0]])


def test_poisson_half_deviance_by_hand():
    y = np.array([[3.0], [0.0], [2.0]])
    p = np.array([[2.0], [0.5], [2.0]])
    per_sample = [3 * np.log(1.5) - 3 + 2, 0.5, 0.0]
    assert_allclose(Poisson().pointwise_loss(y, p), per_sample, rtol=1e-14, atol=1e-15)
    assert Poisson()(y, p) == pytest.approx(np.mean(per_sample), rel=1e-14)
    assert Poisson().loss_from_raw(y, np.log(p)) == pytest.approx(np.mean(per_sample),
                                                                   rel=1e-13)
    # 0 at p = y, gradient 1 - y/p
    assert Poisson()(np.array([[2.0]]), np.array([[2.0]])) == 0.0
    assert_allclose(Poisson().pointwise_gradient(y, p), [[-0.5], [1.0], [0.0]], atol=1e-15)


def test_hinge_by_hand_with_both_label_codings():
    f = np.array([[0.25], [0.5], [2.0], [-3.0]])
    # t = +1, -1, +1, -1: max(0, 0.75), max(0, 1.5), max(0, -1), max(0, -2)
    expected = (0.75 + 1.5 + 0.0 + 0.0) / 4
    zero_one = np.array([[1.0], [0.0], [1.0], [0.0]])
    plus_minus = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    for y in (zero_one, plus_minus, zero_one.astype(int), plus_minus.astype(int)):
        assert Hinge()(y, f) == pytest.approx(expected, rel=1e-15)
        assert_allclose(Hinge().gradient(y, f), [[-0.25], [0.25], [0.0], [0.0]])
        assert Hinge().loss_from_raw(y, f) == pytest.approx(expected, rel=1e-15)
    assert Hinge()(np.array([[1.0]]), np.array([[0.25]])) == 0.75


def test_weighted_mean_by_hand():
    y_true = np.zeros((3, 1))
    y_pred = np.array([[1.0], [2.0], [3.0]])
    w = np.array([1.0, 0.0, 3.0])
    # per sample 0.5, 2, 4.5; weighted (0.5 * 1 + 4.5 * 3) / 4 = 3.5
    assert SquaredError()(y_true, y_pred, sample_weight=w) == pytest.approx(3.5, rel=1e-15)
    value, grad = SquaredError().loss_gradient(y_true, y_pred, sample_weight=w)
    assert value == pytest.approx(3.5, rel=1e-15)
    assert_allclose(grad, [[0.25], [0.0], [2.25]])  # diff * w / sum(w)
    # Integer weights behave like float ones; unit weights like none.
    assert SquaredError()(y_true, y_pred, sample_weight=np.array([1, 0, 3])) == (
        pytest.approx(3.5, rel=1e-15))
    assert SquaredError()(y_true, y_pred, sample_weight=np.ones(3)) == pytest.approx(
        SquaredError()(y_true, y_pred), rel=1e-15)


@pytest.mark.parametrize("scale", [2.0**-1070, 2.0**-20, 1.0, 2.0**20, 2.0**1020],
                         ids=["2^-1070", "2^-20", "1", "2^20", "2^1020"])
def test_weighted_value_invariant_to_weight_scale(scale):
    # Multiplying every weight by the same (exact, power-of-two) factor leaves the weighted
    # mean unchanged, from the tiniest (subnormal) to the largest finite weights, and
    # __call__ agrees with loss_gradient.
    loss = SquaredError()
    y_true = np.zeros((3, 1))
    y_pred = np.array([[3.1], [7.3], [11.7]])
    weights = np.array([1.0, 0.5, 3.0])
    expected = np.average(0.5 * y_pred[:, 0] ** 2, weights=weights)
    expected_grad = y_pred * (weights / weights.sum())[:, None]
    w = weights * scale
    value, grad = loss.loss_gradient(y_true, y_pred, sample_weight=w)
    assert value == pytest.approx(expected, rel=1e-12)
    assert_allclose(grad, expected_grad, rtol=1e-12)
    assert loss(y_true, y_pred, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    assert loss.loss_from_raw(y_true, y_pred, sample_weight=w) == pytest.approx(expected,
                                                                               rel=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_all_zero_sample_weights_give_zero(loss):
    y_true, raw, _ = _extreme_problem(loss, np.float64)
    raw = np.clip(raw, -3, 3)
    y_pred = get_activation(loss.canonical_activation).forward(raw)
    w = np.zeros(raw.shape[0])
    assert loss(y_true, y_pred, sample_weight=w) == 0.0
    assert loss.loss_from_raw(y_true, raw, sample_weight=w) == 0.0
    for value, grad in (loss.loss_gradient(y_true, y_pred, sample_weight=w),
                        loss.loss_gradient_raw(y_true, raw, sample_weight=w)):
        assert value == 0.0
        assert grad.shape == raw.shape
        assert_array_equal(grad, 0.0)
    assert_array_equal(loss.gradient(y_true, y_pred, sample_weight=w), 0.0)
    assert_array_equal(loss.gradient_raw(y_true, raw, sample_weight=w), 0.0)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_gradient_out_buffer_is_written_and_returned(loss):
    y_true, raw, sw = _extreme_problem(loss, np.float64)
    raw = np.clip(raw, -3, 3)
    y_pred = get_activation(loss.canonical_activation).forward(raw)
    for method, prediction in ((loss.loss_gradient, y_pred), (loss.loss_gradient_raw, raw)):
        expected_value, expected = method(y_true, prediction, sample_weight=sw)
        out = np.full_like(prediction, np.nan)
        value, grad = method(y_true, prediction, sample_weight=sw, out=out)
        assert grad is out
        assert value == expected_value
        assert_allclose(out, expected, rtol=1e-15)


# -- 5. against scikit-learn's metrics --------------------------------------------------------

def test_binary_cross_entropy_matches_sklearn_log_loss():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=40)
    p = rng.uniform(0.02, 0.98, size=40)
    w = rng.uniform(0, 2, size=40)
    loss = BinaryCrossEntropy()
    assert loss(y[:, None].astype(float), p[:, None]) == pytest.approx(log_loss(y, p), rel=1e-12)
    assert loss(y[:, None].astype(float), p[:, None], sample_weight=w) == pytest.approx(
        log_loss(y, p, sample_weight=w), rel=1e-12)
    raw = np.log(p) - np.log1p(-p)
    assert loss.loss_from_raw(y[:, None].astype(float), raw[:, None]) == pytest.approx(
        log_loss(y, p), rel=1e-10)


def test_categorical_cross_entropies_match_sklearn_log_loss():
    rng = np.random.default_rng(6)
    n, k = 50, 4
    y = rng.integers(0, k, size=n)
    raw = rng.normal(scale=2.0, size=(n, k))
    proba = softmax(raw)
    w = rng.uniform(0, 2, size=n)
    expected = log_loss(y, proba, labels=np.arange(k))
    expected_w = log_loss(y, proba, labels=np.arange(k), sample_weight=w)
    onehot = np.eye(k)[y]
    for loss, target in ((SparseCategoricalCrossEntropy(), y),
                         (CategoricalCrossEntropy(), onehot)):
        assert loss(target, proba) == pytest.approx(expected, rel=1e-12)
        assert loss(target, proba, sample_weight=w) == pytest.approx(expected_w, rel=1e-12)
        assert loss.loss_from_raw(target, raw) == pytest.approx(expected, rel=1e-10)
        assert loss.loss_from_raw(target, raw, sample_weight=w) == pytest.approx(
            expected_w, rel=1e-10)


def test_squared_and_absolute_error_match_sklearn():
    rng = np.random.default_rng(7)
    y, p, w = rng.normal(size=30), rng.normal(size=30), rng.uniform(0, 2, size=30)
    # Ours is half the mean squared error for one output.
    assert SquaredError()(y[:, None], p[:, None]) == pytest.approx(
        0.5 * mean_squared_error(y, p), rel=1e-12)
    assert SquaredError()(y[:, None], p[:, None], sample_weight=w) == pytest.approx(
        0.5 * mean_squared_error(y, p, sample_weight=w), rel=1e-12)
    assert AbsoluteError()(y[:, None], p[:, None]) == pytest.approx(
        mean_absolute_error(y, p), rel=1e-12)
    assert AbsoluteError()(y[:, None], p[:, None], sample_weight=w) == pytest.approx(
        mean_absolute_error(y, p, sample_weight=w), rel=1e-12)
    # Several outputs: summed over outputs, so k times scikit-learn's output average.
    Y, P = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    assert SquaredError()(Y, P) == pytest.approx(3 * 0.5 * mean_squared_error(Y, P), rel=1e-12)
    assert AbsoluteError()(Y, P) == pytest.approx(3 * mean_absolute_error(Y, P), rel=1e-12)


def test_poisson_matches_half_sklearn_mean_poisson_deviance():
    rng = np.random.default_rng(8)
    y = rng.poisson(3.0, size=40).astype(float)
    y[:5] = 0.0
    p = rng.uniform(0.1, 8.0, size=40)
    w = rng.uniform(0, 2, size=40)
    assert Poisson()(y[:, None], p[:, None]) == pytest.approx(
        0.5 * mean_poisson_deviance(y, p), rel=1e-12)
    assert Poisson()(y[:, None], p[:, None], sample_weight=w) == pytest.approx(
        0.5 * mean_poisson_deviance(y, p, sample_weight=w), rel=1e-12)
    assert Poisson().loss_from_raw(y[:, None], np.log(p)[:, None]) == pytest.approx(
        0.5 * mean_poisson_deviance(y, p), rel=1e-12)


def test_hinge_matches_sklearn_hinge_loss():
    rng = np.random.default_rng(9)
    y01 = rng.integers(0, 2, size=40)
    y_pm = 2 * y01 - 1
    f = rng.normal(scale=1.5, size=40)
    w = rng.uniform(0, 2, size=40)
    expected = hinge_loss(y_pm, f)
    for y in (y01, y_pm):
        assert Hinge()(y[:, None].astype(float), f[:, None]) == pytest.approx(expected,
                                                                             rel=1e-12)
        assert Hinge()(y[:, None].astype(float), f[:, None], sample_weight=w) == (
            pytest.approx(hinge_loss(y_pm, f, sample_weight=w), rel=1e-12))


# -- 6. target checks and the sparse cross-entropy -------------------------------------------


def test_sparse_gradient_is_softmax_minus_onehot():
    rng = np.random.default_rng(10)
    n, k = 40, 6
    y = rng.integers(0, k, size=n)
    raw = rng.normal(scale=3.0, size=(n, k))
    raw[0] = [1e3, -1e3, 0.0, 5.0, -5.0, 1e3]  # large values: still exact
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    expected = softmax(raw) - onehot
    loss = SparseCategoricalCrossEntropy()
    assert_allclose(loss.pointwise_loss_gradient_raw(y, raw)[1], expected, rtol=1e-12,
                    atol=1e-15)
    assert_allclose(loss.gradient_raw(y, raw), expected / n, rtol=1e-12, atol=1e-15)
    w = rng.uniform(0, 2, size=n)
    assert_allclose(loss.gradient_raw(y, raw, sample_weight=w),
                    expected * (w / w.sum())[:, None], rtol=1e-12, atol=1e-15)
    # ... and the same as the one-hot loss on the one-hot matrix.
    assert_allclose(loss.gradient_raw(y, raw), CategoricalCrossEntropy().gradient_raw(onehot, raw),
                    rtol=1e-12, atol=1e-15)
    lse = np.log(np.exp(raw - raw.max(axis=1, keepdims=True)).sum(axis=1)) + raw.max(axis=1)
    assert_allclose(loss.pointwise_loss_gradient_raw(y, raw)[0], lse - raw[np.arange(n), y],
                    rtol=1e-12)
    # Integer indices of any integer dtype.
    assert_allclose(loss.gradient_raw(y.astype(np.int32), raw), expected / n, rtol=1e-12,
                    atol=1e-15)


def test_sparse_output_space_methods_use_memory_linear_in_samples():
    # pointwise_loss and pointwise_gradient(out=...) pick one entry per row: their peak memory
    # is O(n_samples), far below one (n_samples, n_classes) float array.
    n, k = 4000, 250
    rng = np.random.default_rng(11)
    y = rng.integers(0, k, size=n)
    y_pred = rng.uniform(0.01, 1.0, size=(n, k))
    out = np.empty_like(y_pred)
    loss = SparseCategoricalCrossEntropy()
    one_dense = y_pred.nbytes
    tracemalloc.start()
    try:
        loss.pointwise_loss(y, y_pred)
        _, peak_loss = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        grad = loss.pointwise_gradient(y, y_pred, out=out)
        _, peak_grad = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grad is out
    assert peak_loss < one_dense / 10
    assert peak_grad < one_dense / 10
    assert np.count_nonzero(out) == n
    assert_allclose(out[np.arange(n), y], -1 / y_pred[np.arange(n), y], rtol=1e-15)


@pytest.mark.parametrize("y", [
    pytest.param(np.array([0.0, 1.0, 2.0]), id="float"),
    pytest.param(np.array([[0], [1], [2]]), id="2-D"),
    pytest.param(np.array([[1, 0], [0, 1]]), id="one-hot"),
    pytest.param(np.array([0, -1, 2]), id="negative"),
])
def test_sparse_check_target_rejects(y):
    with pytest.raises(ValueError):
        SparseCategoricalCrossEntropy().check_target(y)


def test_sparse_check_target_accepts_indices():
    for y in (np.array([0, 1, 2]), np.array([3, 0], dtype=np.int32), np.array([0], np.uint8)):
        assert SparseCategoricalCrossEntropy().check_target(y) is None


@pytest.mark.parametrize("loss, y", [
    pytest.param(BinaryCrossEntropy(), np.array([[0.0], [1.5]]), id="bce-above-1"),
    pytest.param(BinaryCrossEntropy(), np.array([[-0.1], [1.0]]), id="bce-below-0"),
    pytest.param(BinaryCrossEntropy(), np.array([[np.nan], [1.0]]), id="bce-nan"),
    pytest.param(Poisson(), np.array([[0.0], [-1.0]]), id="poisson-negative"),
    pytest.param(Poisson(), np.array([[np.inf], [1.0]]), id="poisson-inf"),
    pytest.param(Hinge(), np.array([[0.0], [2.0]]), id="hinge-0-2"),
    pytest.param(Hinge(), np.array([[-1.0], [0.0], [1.0]]), id="hinge-three-values"),
    pytest.param(Hinge(), np.array([[0.5], [1.0]]), id="hinge-fraction"),
    pytest.param(CategoricalCrossEntropy(), np.array([1.0, 0.0]), id="cce-1-D"),
    pytest.param(CategoricalCrossEntropy(), np.array([[1.0, -0.5]]), id="cce-negative"),
    pytest.param(SquaredError(), np.array([[np.nan]]), id="squared-nan"),
    pytest.param(AbsoluteError(), np.array([[np.inf]]), id="absolute-inf"),
])
def test_check_target_rejects(loss, y):
    with pytest.raises(ValueError):
        loss.check_target(y)


@pytest.mark.parametrize("loss, y", [
    pytest.param(BinaryCrossEntropy(), np.array([[0.0, 1.0], [0.3, 1.0]]), id="bce"),
    pytest.param(Poisson(), np.array([[0.0], [7.0], [2.5]]), id="poisson"),
    pytest.param(Hinge(), np.array([[0.0], [1.0]]), id="hinge-0-1"),
    pytest.param(Hinge(), np.array([[-1.0], [1.0]]), id="hinge-pm1"),
    pytest.param(Hinge(), np.array([[-1, 1], [1, 1]]), id="hinge-pm1-int"),
    pytest.param(CategoricalCrossEntropy(), np.array([[1.0, 0.0], [0.25, 0.75]]), id="cce"),
    pytest.param(SquaredError(), np.array([[-3.0, 1e6]]), id="squared"),
])
def test_check_target_accepts(loss, y):
    assert loss.check_target(y) is None


# -- 7. get_loss, canonical activations, clone and pickle ------------------------------------

EXPECTED_ALIASES = {
    "squared_error": SquaredError,
    "mse": SquaredError,
    "absolute_error": AbsoluteError,
    "mae": AbsoluteError,
    "poisson": Poisson,
    "binary_crossentropy": BinaryCrossEntropy,
    "binary_log_loss": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossEntropy,
    "hinge": Hinge,
}

CANONICAL = {
    SquaredError: Identity,
    AbsoluteError: Identity,
    Hinge: Identity,
    BinaryCrossEntropy: Logistic,
    CategoricalCrossEntropy: Softmax,
    SparseCategoricalCrossEntropy: Softmax,
    Poisson: Exp,
}


def test_loss_alias_table_is_complete():
    assert LOSS_ALIASES == EXPECTED_ALIASES


@pytest.mark.parametrize("name, cls", sorted(EXPECTED_ALIASES.items()))
def test_get_loss_resolves_names(name, cls):
    loss = get_loss(name)
    assert type(loss) is cls
    assert get_loss(name) is not loss


@pytest.mark.parametrize("target_type, cls", [
    (None, BinaryCrossEntropy),
    ("binary", BinaryCrossEntropy),
    ("multilabel-indicator", BinaryCrossEntropy),
    ("multiclass", SparseCategoricalCrossEntropy),
])
def test_get_loss_log_loss_follows_the_target_type(target_type, cls):
    assert type(get_loss("log_loss", target_type=target_type)) is cls


def test_get_loss_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="huber") as excinfo:
        get_loss("huber")
    for name in [*EXPECTED_ALIASES, "log_loss"]:
        assert repr(name) in str(excinfo.value)


class _NoGradient:
    def __call__(self, y_true, y_pred, sample_weight=None):
        return 0.0


class _DuckLoss:
    """Not a Loss subclass, but implements the minimal protocol."""

    def __repr__(self):
        return "_DuckLoss()"

    def __call__(self, y_true, y_pred, sample_weight=None):
        return 0.0

    def gradient(self, y_true, y_pred, sample_weight=None):
        return np.zeros_like(y_pred)


def test_get_loss_rejects_objects_missing_methods():
    with pytest.raises(TypeError) as excinfo:
        get_loss(_NoGradient())
    missing = str(excinfo.value).split("lacks")[1].split("]")[0]
    assert "'gradient'" in missing and "'__call__'" not in missing
    with pytest.raises(TypeError) as excinfo:
        get_loss(object())
    missing = str(excinfo.value).split("lacks")[1].split("]")[0]
    assert "'gradient'" in missing and "'__call__'" in missing


@pytest.mark.parametrize("loss", LOSSES + [_DuckLoss()], ids=ids)
def test_get_loss_passes_objects_through(loss):
    assert get_loss(loss) is loss
    assert get_loss(loss, target_type="multiclass") is loss


@pytest.mark.parametrize("cls", list(CANONICAL), ids=lambda c: c.__name__)
def test_canonical_activation_resolves(cls):
    assert type(get_activation(cls.canonical_activation)) is CANONICAL[cls]


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_losses_clone_and_pickle(loss):
    y_true, raw, sw = _extreme_problem(loss, np.float64)
    raw = np.clip(raw, -3, 3)
    for copy in (clone(loss), pickle.loads(pickle.dumps(loss))):
        assert type(copy) is type(loss) and copy is not loss
        assert copy.get_params() == loss.get_params()
        assert copy.loss_from_raw(y_true, raw, sw) == loss.loss_from_raw(y_true, raw, sw)
    assert repr(loss) == f"{type(loss).__name__}()"


# -- 8. user-defined losses -------------------------------------------------------------------


class PseudoHuber(Loss):
    """``delta^2 (sqrt(1 + (r / delta)^2) - 1)`` with ``r = y_pred - y_true``: a smooth
    absolute error, quadratic near 0; a user-defined loss with one parameter."""

    canonical_activation = "identity"
    target_kind = "real"

    def __init__(self, delta=1.0):
        self.delta = delta

    def pointwise_loss(self, y_true, y_pred):
        r = (y_pred - y_true) / self.delta
        return (self.delta**2 * (np.sqrt(1 + r * r) - 1)).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        r = (y_pred - y_true) / self.delta
        return np.divide(y_pred - y_true, np.sqrt(1 + r * r), out=out)


class SoftplusPseudoHuber(PseudoHuber):
    """The same loss on a positive prediction: raw-space methods go through the chain rule."""

    canonical_activation = "softplus"


@FD_SETTINGS
@given(
    data=st.data(),
    delta=st.floats(0.5, 3.0),
    cls=st.sampled_from([PseudoHuber, SoftplusPseudoHuber]),
)
def test_user_loss_gets_working_weighted_methods(data, delta, cls):
    loss = cls(delta=delta)
    n, k = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    raw = _floats_array(data.draw, (n, k), -3.0, 3.0)
    y_pred = get_activation(loss.canonical_activation).forward(raw)
    y_true = y_pred + _offsets(data.draw, (n, k))  # never y_pred == y_true everywhere
    sw = data.draw(st.one_of(st.none(), hnp.arrays(np.float64, (n,), elements=WEIGHTS)))

    # Weighted mean of the pointwise loss, checked by hand.
    r = (y_pred - y_true) / delta
    per_sample = (delta**2 * (np.sqrt(1 + r * r) - 1)).sum(axis=1)
    if sw is None or sw.sum() > 0:
        assert loss(y_true, y_pred, sample_weight=sw) == pytest.approx(
            np.average(per_sample, weights=sw), rel=1e-12)

    _check_gradients(
        lambda p: loss.loss_gradient(y_true, p, sample_weight=sw),
        lambda p: loss(y_true, p, sample_weight=sw),
        lambda p: loss.pointwise_loss(y_true, p),
        y_pred, sw,
    )
    _check_gradients(
        lambda z: loss.loss_gradient_raw(y_true, z, sample_weight=sw),
        lambda z: loss.loss_from_raw(y_true, z, sample_weight=sw),
        lambda z: loss.pointwise_loss_gradient_raw(y_true, z)[0],
        raw, sw,
    )
    numerical = numerical_gradient(lambda p: loss(y_true, p, sample_weight=sw), y_pred)
    assert relative_error(loss.gradient(y_true, y_pred, sample_weight=sw), numerical) < FD_RTOL
    numerical = numerical_gradient(lambda z: loss.loss_from_raw(y_true, z, sample_weight=sw), raw)
    assert relative_error(loss.gradient_raw(y_true, raw, sample_weight=sw), numerical) < FD_RTOL


def test_user_loss_limits_by_hand():
    loss = PseudoHuber(delta=1.0)
    # r = sqrt(3): sqrt(1 + 3) - 1 = 1; r = 0: 0; mean 0.5
    assert loss(np.zeros((2, 1)), np.array([[np.sqrt(3.0)], [0.0]])) == pytest.approx(0.5)
    # Quadratic near 0 (like half squared error), linear far away (like absolute error).
    small, large = np.array([[1e-3]]), np.array([[1e3]])
    assert loss(np.zeros((1, 1)), small) == pytest.approx(0.5e-6, rel=1e-6)
    assert loss(np.zeros((1, 1)), large) == pytest.approx(1e3 - 1, rel=1e-6)


def test_user_loss_plays_with_the_tooling():
    loss = PseudoHuber(delta=2.5)
    assert get_loss(loss) is loss
    assert repr(loss) == "PseudoHuber(delta=2.5)"
    assert clone(loss).delta == 2.5
    assert pickle.loads(pickle.dumps(loss)).delta == 2.5
    assert loss.set_params(delta=0.5).get_params() == {"delta": 0.5}
    assert loss.check_target(np.array([[1.0]])) is None  # the base class accepts anything


def test_loss_missing_methods_say_what_to_implement():
    y = np.zeros((2, 1))
    with pytest.raises(NotImplementedError, match="pointwise_loss"):
        Loss()(y, y)
    with pytest.raises(NotImplementedError, match="pointwise_gradient"):
        Loss().pointwise_gradient(y, y)

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
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.metrics import (
    hinge_loss,
    log_loss,
    mean_absolute_error,
    mean_gamma_deviance,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_error,
    mean_tweedie_deviance,
)

from sknnloss.activations import EXP_RAW_MAX, Exp, Identity, Logistic, Softmax, get_activation
from sknnloss.losses import (
    LOSS_ALIASES,
    AbsoluteError,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    CategoricalHinge,
    Focal,
    Gamma,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    ModifiedHuber,
    Poisson,
    Quantile,
    SparseCategoricalCrossEntropy,
    SquaredError,
    SquaredHinge,
    Tweedie,
    get_loss,
)

# Every built-in class once, default parameters.
LOSSES = [cls() for cls in dict.fromkeys(LOSS_ALIASES.values())]
# Non-default parameters that change the formulas or the domain: another Huber threshold and
# quantile, the Tweedie powers with their own closed forms (0: normal, 1: Poisson) and beyond
# Gamma (3: inverse Gaussian), focusing parameters 0 (binary cross-entropy) and 1/2, and label
# smoothing for the three cross-entropies.
LOSS_VARIANTS = [
    Huber(delta=0.3),
    Quantile(quantile=0.9),
    Tweedie(power=0),
    Tweedie(power=1),
    Tweedie(power=3),
    Focal(gamma=0.0),
    Focal(gamma=0.5),
    BinaryCrossEntropy(label_smoothing=0.1),
    CategoricalCrossEntropy(label_smoothing=0.1),
    SparseCategoricalCrossEntropy(label_smoothing=0.2),
]
ALL_LOSSES = LOSSES + LOSS_VARIANTS

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
# (a relative error is meaningless there) and kinks are at least 1e-2 away, far beyond
# FD_STEP: a residual of 0 (absolute error, quantile) or of +-delta (Huber, whose first
# derivative is continuous there but not its second, so a central difference across it is
# still only first-order accurate), a margin of 1 (hinge, squared hinge, modified Huber) or
# -1 (modified Huber), and for the categorical hinge a margin of 0 or a tie for the largest
# other score.

REAL_TARGET_LOSSES = (SquaredError, AbsoluteError, Huber, Quantile, LogCosh)
MARGIN_LOSSES = (Hinge,)  # SquaredHinge and ModifiedHuber are subclasses
LOG_LINK_LOSSES = (Poisson, Tweedie)  # Gamma is Tweedie(power=2)
PROBABILITY_LOSSES = (BinaryCrossEntropy, Focal)
KINK_DISTANCE = 1e-2


def _floats_array(draw, shape, low, high):
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high)))


def _offsets(draw, shape):
    """Nonzero offsets: magnitudes in [1e-2, 5], random signs."""
    size = _floats_array(draw, shape, 1e-2, 5.0)
    sign = draw(hnp.arrays(np.bool_, shape))
    return np.where(sign, size, -size)


def _off_kinks(values, kinks):
    """``values`` with entries closer than KINK_DISTANCE to a kink moved 2 * KINK_DISTANCE
    past it, away from the others."""
    values = values.copy()
    for kink in kinks:
        near = np.abs(values - kink) < KINK_DISTANCE
        values[near] = kink + np.where(values[near] < kink, -2, 2) * KINK_DISTANCE
    return values


def _residual_kinks(loss):
    if isinstance(loss, Huber):
        return (-loss.delta, loss.delta)
    return ()  # offsets are never 0: the kink of the absolute error and quantile loss


def _margin_kinks(loss):
    return (-1.0,) if isinstance(loss, ModifiedHuber) else ()  # 1: offsets are never 0


def _tweedie_targets(draw, loss, shape):
    """Targets in the domain of a log-link loss: positive for power >= 2, non-negative with
    exact zeros for 1 <= power < 2 (Poisson counts), any real number for power <= 0."""
    if isinstance(loss, Poisson):
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 6))).astype(float)
    power = loss.power
    if power >= 2:
        return _floats_array(draw, shape, 0.1, 6.0)
    if power >= 1:
        zero = draw(hnp.arrays(np.bool_, shape))
        return np.where(zero, 0.0, _floats_array(draw, shape, 0.1, 6.0))
    return _floats_array(draw, shape, -3.0, 6.0)


def _categorical_hinge_scores(draw, labels, k):
    """Scores whose categorical-hinge margin ``1 + rival - score[label]`` and ties stay at
    least KINK_DISTANCE from 0: one rival score ``v`` (either sign, ``|v| >= 2e-2``), the other
    non-target scores at least 2e-2 below it, and the target's score ``v + 1 + m``."""
    n = labels.shape[0]
    rows = np.arange(n)
    rival = (labels + draw(hnp.arrays(np.int64, (n,), elements=st.integers(1, k - 1)))) % k
    v = _offsets(draw, (n,)) * 0.6  # magnitudes in [6e-3, 3]
    v = np.where(np.abs(v) < 2e-2, np.copysign(2e-2, v), v)
    scores = v[:, np.newaxis] - _floats_array(draw, (n, k), 2e-2, 3.0)
    scores[rows, rival] = v
    m = _offsets(draw, (n,))  # margin 1 + v - score[label] = -m
    # The implementation takes Keras' maximum of (1 - y) * scores, in which the target's own
    # masked entry is a 0: keep -(v + m), the margin against that 0, away from 0 as well.
    close = (v < 0) & (np.abs(v + m) < KINK_DISTANCE)
    m[close] += 3 * KINK_DISTANCE
    scores[rows, labels] = v + 1 + m
    return scores


@st.composite
def problems(draw, loss, space):
    """``(y_true, prediction, sample_weight)`` with the prediction in ``space``:
    "output" (``y_pred``) or "raw" (before the canonical activation)."""
    n = draw(st.integers(1, 6))
    multiclass = isinstance(
        loss, (CategoricalCrossEntropy, SparseCategoricalCrossEntropy, CategoricalHinge))
    k = draw(st.integers(2, 5)) if multiclass else draw(st.integers(1, 4))
    shape = (n, k)

    if isinstance(loss, REAL_TARGET_LOSSES):
        y_true = _floats_array(draw, shape, -5.0, 5.0)
        pred = y_true + _off_kinks(_offsets(draw, shape), _residual_kinks(loss))
    elif isinstance(loss, MARGIN_LOSSES):
        positive = draw(hnp.arrays(np.bool_, shape))
        negative_label = draw(st.sampled_from([0.0, -1.0]))
        y_true = np.where(positive, 1.0, negative_label)
        t = np.where(positive, 1.0, -1.0)
        margin = _off_kinks(1.0 + _offsets(draw, shape), _margin_kinks(loss))
        pred = t * margin
    elif isinstance(loss, LOG_LINK_LOSSES):
        y_true = _tweedie_targets(draw, loss, shape)
        # Keep y_pred away from y_true: ratio to (|y| + 0.5) below 0.45 or above 1.1.
        ratio = draw(hnp.arrays(np.float64, shape, elements=st.one_of(
            st.floats(0.1, 0.45), st.floats(1.1, 4.0))))
        pred = (np.abs(y_true) + 0.5) * ratio
        if space == "raw":
            pred = np.log(pred)
    elif isinstance(loss, PROBABILITY_LOSSES):
        # 0/1 labels and a frequency, probabilities in (0.05, 0.95).
        y_true = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 0.3])))
        p = _floats_array(draw, shape, 0.05, 0.95)
        # Away from the (smoothed) target, where the cross-entropy's gradient vanishes.
        smoothed = y_true * (1 - getattr(loss, "label_smoothing", 0.0))
        smoothed = smoothed + getattr(loss, "label_smoothing", 0.0) / 2
        p = np.where(np.abs(p - smoothed) < 1e-2, smoothed + 2e-2, p)
        pred = p if space == "output" else np.log(p) - np.log1p(-p)
    else:
        labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
        if isinstance(loss, SparseCategoricalCrossEntropy):
            y_true = labels
        else:
            y_true = np.eye(k)[labels]
            if not isinstance(loss, CategoricalHinge) and draw(st.booleans()):  # soft targets
                y_true = 0.8 * y_true + 0.2 / k
                # rows summing to 1, or any total mass (the raw form handles it too)
                y_true *= draw(st.sampled_from([1.0, 0.5, 2.0]))
        if isinstance(loss, CategoricalHinge):  # identity output: both spaces are scores
            pred = _categorical_hinge_scores(draw, labels, k)
        elif space == "output":
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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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


LOG_LINK_CASES = [Poisson(), Gamma(), Tweedie(), Tweedie(power=0), Tweedie(power=1),
                  Tweedie(power=3)]


@pytest.mark.parametrize("loss", LOG_LINK_CASES, ids=ids)
def test_log_link_losses_continue_linearly_beyond_the_cap(loss):
    # Beyond |raw| = cap the loss follows its tangent at +-cap: the value is
    # value(+-cap) + gradient(+-cap) * (raw -+ cap) and the gradient stays gradient(+-cap).
    # The cap is EXP_RAW_MAX, shrunk for Tweedie powers far from 1 and 2 so that
    # exp(raw (2 - p)) and exp(raw (1 - p)) stay finite in float32.
    assert EXP_RAW_MAX == 50.0
    power = 1 if isinstance(loss, Poisson) else loss.power
    cap = EXP_RAW_MAX / max(1.0, abs(1 - power), abs(2 - power))
    y = np.array([[0.5], [3.0], [7.0], [1e3]])  # valid targets for every power
    beyond = np.array([[cap + 0.5], [cap + 10.0], [1e3], [1e4]])
    for sign in (1.0, -1.0):
        edge = np.full_like(beyond, sign * cap)
        raw = sign * beyond
        value_edge, grad_edge = loss.pointwise_loss_gradient_raw(y, edge)
        value, grad = loss.pointwise_loss_gradient_raw(y, raw)
        assert_array_equal(grad, grad_edge)
        assert_allclose(value, value_edge + grad_edge[:, 0] * (raw - edge)[:, 0], rtol=1e-12)
        # ... and the weighted means follow.
        w = np.array([1.0, 0.5, 2.0, 0.0])
        assert loss.loss_from_raw(y, raw, sample_weight=w) == pytest.approx(
            np.average(value, weights=w), rel=1e-12)
        assert_array_equal(loss.gradient_raw(y, raw, sample_weight=w),
                           grad_edge * (w / w.sum())[:, np.newaxis])
    # Inside the cap the gradient is the usual mu^(2-p) - y mu^(1-p), mu = exp(raw).
    inside = np.array([[-cap + 1], [-3.0], [2.0], [cap - 1]])
    mu = np.exp(inside)
    assert_allclose(loss.pointwise_loss_gradient_raw(y, inside)[1],
                    mu ** (2 - power) - y * mu ** (1 - power), rtol=1e-13)


def test_exp_output_activation_is_capped_like_the_losses():
    # The canonical activation of the log-link losses caps its input at the same place.
    raw = np.array([[EXP_RAW_MAX, EXP_RAW_MAX + 1.0, 1e4]])
    assert_array_equal(Exp().forward(raw), np.exp(EXP_RAW_MAX))


# -- 2. fused raw forms against the composition with the canonical activation ---------------


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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
    elif isinstance(loss, CategoricalCrossEntropy):  # KLDivergence too: soft rows
        y_true = np.eye(k)[rng.integers(0, k, size=n)]
        y_true[::2] = 0.7 * y_true[::2] + 0.3 / k
    elif isinstance(loss, CategoricalHinge):
        y_true = np.eye(k)[rng.integers(0, k, size=n)]
    elif isinstance(loss, PROBABILITY_LOSSES):
        y_true = rng.choice([0.0, 1.0, 0.3], size=(n, k))
    elif isinstance(loss, Hinge):
        y_true = rng.choice([0.0, 1.0], size=(n, k))
    elif isinstance(loss, Poisson) or (isinstance(loss, Tweedie) and 1 <= loss.power < 2):
        y_true = rng.choice([0.0, 1.0, 5.0, 1e3], size=(n, k))
    elif isinstance(loss, Tweedie) and loss.power >= 2:
        y_true = rng.choice([0.1, 1.0, 5.0, 1e3], size=(n, k))
    else:  # real targets, Tweedie(power <= 0) included
        y_true = rng.uniform(-10, 10, size=(n, k))
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(dtype)
    sample_weight = rng.uniform(0, 2, size=n).astype(dtype)
    return y_true, raw.astype(dtype), sample_weight


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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
    (Gamma(), np.array([[0.1, 1.0, 5.0, 100.0]] * 2), np.array([[0.0] * 4, [1e-300] * 4])),
    (Tweedie(), np.array([[0.0, 1.0, 5.0, 100.0]] * 2), np.array([[0.0] * 4, [1e-300] * 4])),
    (Tweedie(power=1), np.array([[0.0, 1.0, 5.0, 100.0]] * 2),
     np.array([[0.0] * 4, [1e-300] * 4])),
    (Tweedie(power=3), np.array([[0.1, 1.0, 5.0, 100.0]] * 2),
     np.array([[0.0] * 4, [1e-300] * 4])),
    (Focal(), np.array([[0.0, 1.0, 0.3]] * 2), np.array([[0.0] * 3, [1.0] * 3])),
    (Focal(gamma=0.5), np.array([[0.0, 1.0, 0.3]] * 2), np.array([[0.0] * 3, [1.0] * 3])),
    (BinaryCrossEntropy(label_smoothing=0.1), np.array([[0.0, 1.0, 0.3]] * 2),
     np.array([[0.0] * 3, [1.0] * 3])),
    (CategoricalCrossEntropy(label_smoothing=0.1), np.eye(3), np.array([[0.0, 1.0, 0.0]] * 3)),
    (SparseCategoricalCrossEntropy(label_smoothing=0.1), np.arange(3),
     np.array([[0.0, 1.0, 0.0]] * 3)),
    (KLDivergence(), np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]),
     np.array([[0.0, 1.0, 0.0]] * 3)),
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


@pytest.mark.parametrize("loss", [Poisson(), Gamma(), Tweedie(), Tweedie(power=3)], ids=ids)
def test_log_link_losses_through_a_softplus_output_stay_finite(loss):
    # "Any other pair works too, through the chain rule": softplus output + a log-link loss.
    # A raw output far below 0 gives y_pred == 0.0 (underflow); the raw gradient must stay
    # finite.
    softplus = get_activation("softplus")
    y_true = np.array([[5.0], [1.0], [0.5]])
    raw = np.array([[-1e4], [-800.0], [-1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y_pred = softplus.forward(raw)
        value, grad_pred = loss.loss_gradient(y_true, y_pred)
        grad_raw = softplus.backward(raw, y_pred, grad_pred)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad_raw))


# A zero or subnormal prediction (from a softplus output) is floored at machine epsilon
# inside the log-link losses; the output-space gradient there must still be the derivative of
# the value. Central differences with a step of 1e-20 stay on the floored side.
FLOOR_CASES = [
    (Poisson(), 0.0),  # value y_pred: slope 1
    (Tweedie(power=1), 0.0),  # documented as Poisson
    (Tweedie(), 0.0),
    (Gamma(), 2.0),
    (Tweedie(power=3), 2.0),
]


@pytest.mark.parametrize("loss, y", FLOOR_CASES, ids=[f"{c[0]!r}-y={c[1]}" for c in FLOOR_CASES])
def test_output_space_gradient_is_the_derivative_below_the_floor(loss, y):
    y_true = np.array([[y], [y]])
    y_pred = np.array([[0.0], [1e-300]])
    step = 1e-20
    numerical = (loss.pointwise_loss(y_true, y_pred + step)
                 - loss.pointwise_loss(y_true, y_pred - step)) / (2 * step)
    assert_allclose(loss.pointwise_gradient(y_true, y_pred)[:, 0], numerical, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gap", [0.0, 30.0, 80.0, 90.0, 700.0, 720.0, 2e4])
def test_softmax_logsumexp_with_rows_far_apart(dtype, gap):
    """Rows of one batch far apart (a batch-wide shift would underflow or cancel there):
    the fused softmax agrees with scipy in float64, in a new array, in place and in a view
    of its input."""
    from scipy.special import logsumexp, softmax

    from sknnloss.losses import _softmax_logsumexp

    rng = np.random.default_rng(0)
    raw = rng.normal(size=(6, 5))
    raw[3:] -= gap  # three rows `gap` below the rest
    raw = raw.astype(dtype)
    reference = raw.astype(np.float64)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12,
                                                                     "atol": 1e-13}
    for where in ("new", "in place", "view"):
        work = raw.copy()
        out = {"new": np.empty_like(raw), "in place": work, "view": work[:]}[where]
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            lse, prob = _softmax_logsumexp(work, out, row_scale=dtype(0.5))
        assert lse.dtype == dtype and prob.dtype == dtype
        assert_allclose(lse, logsumexp(reference, axis=1), **tol)
        assert_allclose(prob, 0.5 * softmax(reference, axis=1), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_of_confident_rows_is_never_negative(dtype):
    """logsumexp(raw) >= max(raw) exactly, so -log p[y] >= 0 in every row, also for a row
    far below the batch's largest logit (a batch-wide shift loses this to cancellation)."""
    x = np.linspace(0.5, 3.0, 2000)
    raw = np.vstack([[80.0, 0.0, 0.0], np.column_stack([x, x - 18.0, x - 19.0])]).astype(dtype)
    loss, _ = SparseCategoricalCrossEntropy().pointwise_loss_gradient_raw(
        np.zeros(raw.shape[0], dtype=int), raw)
    assert np.all(loss >= 0)
    # The loss is log(sum) with sum = 1 + 2.1e-8 rounded at 1: float64 keeps ~8 digits of
    # it, float32 none (2.1e-8 is below its resolution at 1, so the loss is 0 there).
    assert_allclose(loss[1:], np.log1p(np.exp(-18.0) + np.exp(-19.0)), rtol=1e-6,
                    atol=np.finfo(dtype).eps)


def test_softmax_logsumexp_propagates_nan_and_infinity():
    """A nan or +inf logit makes its row nan (the training loop reports divergence); the
    other rows of the batch stay exact."""
    from sknnloss.losses import _softmax_logsumexp

    raw = np.array([[0.0, 1.0], [np.nan, 0.0], [np.inf, 0.0], [-np.inf, 0.0]])
    with np.errstate(invalid="ignore"):
        lse, prob = _softmax_logsumexp(raw, np.empty_like(raw))
    assert_allclose(lse[0], np.logaddexp(0.0, 1.0))
    assert np.isnan(lse[1]) and np.all(np.isnan(prob[1]))
    assert np.isnan(lse[2]) and np.all(np.isnan(prob[2]))  # inf - inf: nan, never a lie
    assert_allclose(lse[3], 0.0)
    assert_allclose(prob[3], [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", ["near", "far"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("where", ["none", "new", "in place"])
def test_sparse_cross_entropy_from_logits_agrees_with_scipy(monkeypatch, dtype, spread, eps,
                                                             weighted, where):
    """The training loop's fused value and gradient, and the per-row ones, against scipy in
    float64. Near logits take the shift by the target's logit; logits farther apart than
    the dtype's exponential allows take the shift by the row maxima (checked by counting
    its calls). Both write over the logits when asked to, and warn of nothing."""
    from scipy.special import logsumexp, softmax

    from sknnloss import losses

    calls = []
    by_row_maxima = losses._softmax_logsumexp
    monkeypatch.setattr(losses, "_softmax_logsumexp",
                        lambda *args, **kwargs: calls.append(1) or by_row_maxima(*args, **kwargs))
    rng = np.random.default_rng(1)
    raw = rng.normal(scale=3.0, size=(40, 5))
    y = rng.integers(0, 5, 40)
    if spread == "far":  # a few rows far above, and one target far below, the others
        raw[:3] += 100.0 if dtype == np.float32 else 800.0
        raw[7, y[7]] -= 30.0
    raw = raw.astype(dtype)
    sample_weight = rng.uniform(0.0, 2.0, 40) if weighted else None
    reference = raw.astype(np.float64)
    per_row = (logsumexp(reference, axis=1) - (1 - eps) * reference[np.arange(40), y]
               - eps * reference.mean(axis=1))
    per_row_grad = softmax(reference, axis=1) - eps / 5
    per_row_grad[np.arange(40), y] -= 1 - eps
    w = np.ones(40) if sample_weight is None else sample_weight
    w = w / w.sum()
    tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-12}
    loss = SparseCategoricalCrossEntropy(label_smoothing=eps)
    for method in ("loss_gradient_raw", "pointwise_loss_gradient_raw"):
        work = raw.copy()
        out = {"none": None, "new": np.empty_like(raw), "in place": work}[where]
        args = (y, work, sample_weight) if method == "loss_gradient_raw" else (y, work)
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            value, grad = getattr(loss, method)(*args, out=out)
        assert grad.dtype == dtype and (out is None or grad is out)
        if method == "loss_gradient_raw":
            assert_allclose(value, per_row @ w, **tol)
            assert_allclose(grad, per_row_grad * w[:, np.newaxis], **tol)
        else:
            assert value.dtype == dtype
            assert_allclose(value, per_row, **tol)
            assert_allclose(grad, per_row_grad, **tol)
    assert len(calls) == (2 if spread == "far" else 0)


def test_sparse_cross_entropy_from_non_finite_logits_is_nan_in_their_rows_only(monkeypatch):
    from sknnloss import losses

    calls = []
    by_row_maxima = losses._softmax_logsumexp
    monkeypatch.setattr(losses, "_softmax_logsumexp",
                        lambda *args, **kwargs: calls.append(1) or by_row_maxima(*args, **kwargs))
    loss = SparseCategoricalCrossEntropy()
    # -inf away from the targets: no overflow possible, the shift by the target's logit
    # runs and gives those classes probability 0.
    raw = np.array([[0.0, 1.0, -np.inf], [-np.inf, 0.0, 2.0]])
    y = np.array([1, 2])
    per_row, grad = loss.pointwise_loss_gradient_raw(y, raw)
    assert not calls
    assert_allclose(per_row, [np.logaddexp(0.0, -1.0), np.logaddexp(0.0, -2.0)])
    assert grad[0, 2] == 0.0 and grad[1, 0] == 0.0
    assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    # nan, +inf or a target at -inf: the row maxima's path, nan in those rows only.
    raw = np.array([[0.0, 1.0], [np.nan, 0.0], [np.inf, 0.0], [0.0, -np.inf], [2.0, 0.0],
                    [-np.inf, 0.0]])
    y = np.array([1, 1, 0, 0, 0, 0])
    with np.errstate(invalid="ignore"):
        per_row, grad = loss.pointwise_loss_gradient_raw(y, raw)
        value, _ = loss.loss_gradient_raw(y, raw)
    assert len(calls) == 2
    assert_allclose(per_row[[0, 3, 4]], [np.logaddexp(0.0, -1.0), 0.0, np.logaddexp(0.0, -2.0)])
    assert per_row[5] == np.inf  # a target of probability 0
    assert np.all(np.isnan(per_row[1:3])) and np.all(np.isnan(grad[1:3]))
    assert np.all(np.isfinite(grad[[0, 3, 4, 5]]))
    assert np.isnan(value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_cross_entropy_keeps_its_precision_up_to_the_shift_limit(dtype):
    """Confidently wrong rows whose logits spread just below the limit of the shift by the
    target's logit: the large probabilities stay within 40 ulps of a float64 (float32
    data) or extended-precision (float64 data) reference; confidently right rows keep
    their tiny cross-entropy and target gradient exactly (log1p, no 1 - p)."""
    from sknnloss.losses import _TARGET_SHIFT_LIMIT

    limit = min(_TARGET_SHIFT_LIMIT, 0.5 * np.log(np.finfo(dtype).max))
    rng = np.random.default_rng(2)
    n = 500
    raw = np.empty((n, 3))
    raw[:, :2] = rng.uniform(limit - 12.0, limit - 2.0, (n, 2))
    raw[:, 2] = rng.uniform(-1.0, 0.0, n)
    raw = raw.astype(dtype)
    precise = raw.astype(np.longdouble)
    expected = np.exp(precise - precise.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    per_row, grad = SparseCategoricalCrossEntropy().pointwise_loss_gradient_raw(
        np.full(n, 2), raw)
    relative = np.abs(grad[:, :2].astype(np.longdouble) - expected[:, :2]) / expected[:, :2]
    assert relative.max() < 40 * np.finfo(dtype).eps
    # The right class 30 above two others: loss and target gradient are about 2 e^-30,
    # below the resolution at 1 of either dtype.
    raw = np.array([[30.0, 0.0, 0.0]], dtype=dtype)
    per_row, grad = SparseCategoricalCrossEntropy().pointwise_loss_gradient_raw(
        np.array([0]), raw)
    others = 2 * np.exp(-30.0)
    assert_allclose(per_row, [np.log1p(others)], rtol=10 * np.finfo(dtype).eps)
    assert_allclose(grad[0], np.array([-others, others / 2, others / 2]) / (1 + others),
                    rtol=10 * np.finfo(dtype).eps)

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


def test_huber_by_hand():
    y_true = np.zeros((2, 1))
    y_pred = np.array([[0.5], [3.0]])
    # delta = 1: 1/2 0.5^2 = 0.125 (quadratic), 1 * (3 - 1/2) = 2.5 (linear); mean 1.3125
    loss = Huber(delta=1.0)
    assert_allclose(loss.pointwise_loss(y_true, y_pred), [0.125, 2.5], rtol=1e-15)
    assert loss(y_true, y_pred) == pytest.approx(1.3125, rel=1e-15)
    assert_allclose(loss.pointwise_gradient(y_true, y_pred), [[0.5], [1.0]])  # clip(r, -1, 1)
    assert loss.loss_from_raw(y_true, y_pred) == pytest.approx(1.3125, rel=1e-15)
    # delta = 2, negative residuals: 1/2 (-1)^2 = 0.5; 2 (3 - 1) = 4
    loss = Huber(delta=2.0)
    assert_allclose(loss.pointwise_loss(np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]])),
                    [0.5, 4.0], rtol=1e-15)
    assert_allclose(loss.pointwise_gradient(np.array([[1.0], [3.0]]), np.zeros((2, 1))),
                    [[-1.0], [-2.0]])
    # Continuous at |r| = delta, and half the squared error below it.
    r = np.array([[0.3], [-0.7]])
    assert loss(np.zeros_like(r), r) == pytest.approx(SquaredError()(np.zeros_like(r), r))


def test_quantile_by_hand():
    loss = Quantile(quantile=0.9)
    y_true = np.array([[1.0], [1.0]])
    y_pred = np.array([[0.0], [2.0]])
    # under-prediction costs q r = 0.9, over-prediction (1 - q) |r| = 0.1; mean 0.5
    assert_allclose(loss.pointwise_loss(y_true, y_pred), [0.9, 0.1], rtol=1e-15)
    assert loss(y_true, y_pred) == pytest.approx(0.5, rel=1e-15)
    assert_allclose(loss.pointwise_gradient(y_true, y_pred), [[-0.9], [0.1]], rtol=1e-15)
    # The median: half the absolute error, with half its gradient.
    rng = np.random.default_rng(12)
    y, p = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    w = rng.uniform(0, 2, size=20)
    median = Quantile(quantile=0.5)
    assert median(y, p, sample_weight=w) == pytest.approx(
        0.5 * AbsoluteError()(y, p, sample_weight=w), rel=1e-14)
    assert_allclose(median.gradient(y, p), 0.5 * AbsoluteError().gradient(y, p), rtol=1e-15)
    assert type(get_loss("pinball")) is Quantile


def test_log_cosh_by_hand():
    loss = LogCosh()
    assert loss(np.array([[0.0]]), np.array([[1.0]])) == pytest.approx(np.log(np.cosh(1.0)),
                                                                       rel=1e-15)
    assert loss(np.array([[0.0]]), np.array([[1.0]])) == pytest.approx(0.4338, abs=1e-4)
    r = np.array([[-2.0, 0.5, 0.0, 30.0]])
    assert loss.pointwise_loss(np.zeros_like(r), r)[0] == pytest.approx(
        np.log(np.cosh(r)).sum(), rel=1e-14)
    assert_allclose(loss.pointwise_gradient(np.zeros_like(r), r), np.tanh(r), rtol=1e-15)
    # |r| - log 2 far away (where cosh itself would overflow), r^2 / 2 near 0
    big = np.array([[1e3, -1e4]])
    assert_allclose(loss.pointwise_loss(np.zeros((2, 1)), big.T), [1e3 - np.log(2),
                                                                   1e4 - np.log(2)],
                    rtol=1e-15)
    assert loss(np.zeros((1, 1)), np.array([[1e-4]])) == pytest.approx(0.5e-8, rel=1e-8)


@pytest.mark.parametrize("loss", [Gamma(), Tweedie(), Tweedie(power=0), Tweedie(power=1),
                                  Tweedie(power=3), Poisson()], ids=ids)
def test_log_link_losses_are_zero_at_the_target(loss):
    y = np.array([[0.5, 1.0, 3.0], [7.0, 0.1, 250.0]])
    assert_allclose(loss.pointwise_loss(y, y), 0.0, atol=1e-15)
    assert_allclose(loss.pointwise_gradient(y, y), 0.0, atol=1e-15)
    value, grad = loss.pointwise_loss_gradient_raw(y, np.log(y))
    # exp(log y) is y only to rounding: zero relative to the size of the gradient's terms
    power = 1 if isinstance(loss, Poisson) else loss.power
    scale = y ** (2 - power)
    assert_allclose(value, 0.0, atol=1e-13 * scale.sum(axis=1).max())
    assert np.all(np.abs(grad) <= 1e-13 * scale)
    # ... and positive elsewhere
    assert np.all(loss.pointwise_loss(y, 1.5 * y) > 0)
    assert np.all(loss.pointwise_loss(y, 0.5 * y) > 0)


def test_gamma_by_hand():
    # log(mu / y) + y / mu - 1: y = 2, mu = 1 gives 1 - log 2; y = 1, mu = 2: log 2 - 1/2
    y = np.array([[2.0], [1.0]])
    mu = np.array([[1.0], [2.0]])
    expected = [1 - np.log(2), np.log(2) - 0.5]
    assert_allclose(Gamma().pointwise_loss(y, mu), expected, rtol=1e-14)
    assert_allclose(Gamma().pointwise_loss_gradient_raw(y, np.log(mu))[0], expected, rtol=1e-14)
    # raw gradient 1 - y exp(-raw); output gradient (mu - y) / mu^2
    assert_allclose(Gamma().pointwise_loss_gradient_raw(y, np.log(mu))[1], [[-1.0], [0.5]],
                    rtol=1e-14)
    assert_allclose(Gamma().pointwise_gradient(y, mu), [[-1.0], [0.25]], rtol=1e-14)
    assert Gamma().power == 2 and Gamma().get_params() == {}


def _regular_log_link_problem(positive=False):
    rng = np.random.default_rng(13)
    y = rng.poisson(2.0, size=(25, 2)).astype(float)
    if positive:
        y += rng.uniform(0.1, 1.0, size=y.shape)
    raw = rng.uniform(-2, 3, size=y.shape)
    w = rng.uniform(0, 2, size=25)
    return y, raw, np.exp(raw), w


@pytest.mark.parametrize("tweedie, other", [
    pytest.param(Tweedie(power=1), Poisson(), id="power=1-is-poisson"),
    pytest.param(Tweedie(power=2), Gamma(), id="power=2-is-gamma"),
])
def test_tweedie_special_powers(tweedie, other):
    y, raw, mu, w = _regular_log_link_problem(positive=isinstance(other, Gamma))
    for sw in (None, w):
        assert tweedie(y, mu, sw) == pytest.approx(other(y, mu, sw), rel=1e-12)
        assert_allclose(tweedie.gradient(y, mu, sw), other.gradient(y, mu, sw), rtol=1e-12)
        assert tweedie.loss_from_raw(y, raw, sw) == pytest.approx(
            other.loss_from_raw(y, raw, sw), rel=1e-12)
        assert_allclose(tweedie.gradient_raw(y, raw, sw), other.gradient_raw(y, raw, sw),
                        rtol=1e-12, atol=1e-15)


def test_tweedie_power_0_is_half_squared_error_in_output_space():
    rng = np.random.default_rng(14)
    y = rng.normal(size=(20, 3))  # any real target
    mu = rng.uniform(0.1, 3.0, size=(20, 3))
    w = rng.uniform(0, 2, size=20)
    loss = Tweedie(power=0)
    for sw in (None, w):
        assert loss(y, mu, sw) == pytest.approx(SquaredError()(y, mu, sw), rel=1e-13)
        assert_allclose(loss.gradient(y, mu, sw), SquaredError().gradient(y, mu, sw),
                        rtol=1e-13)
    # From raw, through the log link: 1/2 (y - e^raw)^2, gradient (e^raw - y) e^raw
    raw = np.log(mu)
    value, grad = loss.pointwise_loss_gradient_raw(y, raw)
    assert_allclose(value, 0.5 * ((y - mu) ** 2).sum(axis=1), rtol=1e-12)
    assert_allclose(grad, (mu - y) * mu, rtol=1e-12, atol=1e-15)


def test_kl_divergence_is_cross_entropy_minus_entropy():
    rng = np.random.default_rng(15)
    y = rng.dirichlet(np.ones(4), size=30)
    y[:5] = np.eye(4)[rng.integers(0, 4, size=5)]  # one-hot rows: zero entropy
    raw = rng.normal(scale=2.0, size=(30, 4))
    p = softmax(raw)
    w = rng.uniform(0, 2, size=30)
    entropy = -np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0).sum(axis=1)
    kl, cce = KLDivergence(), CategoricalCrossEntropy()
    assert_allclose(kl.pointwise_loss(y, p), cce.pointwise_loss(y, p) - entropy, rtol=1e-12)
    assert_allclose(kl.pointwise_loss_gradient_raw(y, raw)[0],
                    cce.pointwise_loss_gradient_raw(y, raw)[0] - entropy, rtol=1e-12)
    assert_allclose(kl.pointwise_loss(y, p), (y * np.log(np.where(y > 0, y, 1.0) / p)).sum(1),
                    rtol=1e-12)
    assert kl(y, p, sample_weight=w) == pytest.approx(
        np.average(cce.pointwise_loss(y, p) - entropy, weights=w), rel=1e-12)
    # The same gradients as the cross-entropy, and 0 at p = y.
    assert_allclose(kl.gradient_raw(y, raw, w), cce.gradient_raw(y, raw, w), rtol=1e-14)
    assert_allclose(kl.gradient(y, p, w), cce.gradient(y, p, w), rtol=1e-14)
    assert KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]])) == 0.0
    assert kl.loss_from_raw(y[5:], np.log(y[5:])) == pytest.approx(0.0, abs=1e-14)
    assert KLDivergence().get_params() == {}
    assert type(get_loss("kld")) is KLDivergence


def test_label_smoothing_by_hand():
    # Binary: y (1 - eps) + eps / 2. eps = 0.2, y = 1 -> 0.9; y = 0 -> 0.1.
    loss = BinaryCrossEntropy(label_smoothing=0.2)
    p = np.array([[0.8], [0.8]])
    y = np.array([[1.0], [0.0]])
    expected = [-(0.9 * np.log(0.8) + 0.1 * np.log(0.2)), -(0.1 * np.log(0.8) + 0.9 * np.log(0.2))]
    assert_allclose(loss.pointwise_loss(y, p), expected, rtol=1e-14)
    raw = np.full((2, 1), np.log(4.0))  # logit(0.8)
    value, grad = loss.pointwise_loss_gradient_raw(y, raw)
    assert_allclose(value, expected, rtol=1e-14)
    assert_allclose(grad, [[0.8 - 0.9], [0.8 - 0.1]], rtol=1e-14)  # sigmoid(raw) - smoothed y

    # Categorical: y (1 - eps) + eps / K. eps = 0.3, K = 3: one-hot [1, 0, 0] -> [.8, .1, .1].
    p = np.array([[0.5, 0.3, 0.2]])
    expected = -(0.8 * np.log(0.5) + 0.1 * np.log(0.3) + 0.1 * np.log(0.2))
    smoothed = np.array([[0.8, 0.1, 0.1]])
    for loss, target in ((CategoricalCrossEntropy(label_smoothing=0.3), np.array([[1.0, 0, 0]])),
                         (SparseCategoricalCrossEntropy(label_smoothing=0.3), np.array([0]))):
        assert loss(target, p) == pytest.approx(expected, rel=1e-14)
        assert loss.loss_from_raw(target, np.log(p)) == pytest.approx(expected, rel=1e-14)
        assert_allclose(loss.gradient_raw(target, np.log(p)), p - smoothed, rtol=1e-13,
                        atol=1e-16)
        assert_allclose(loss.gradient(target, p), -smoothed / p, rtol=1e-14)
    # No smoothing is the default and leaves the targets alone.
    assert BinaryCrossEntropy().label_smoothing == 0.0
    assert CategoricalCrossEntropy()(np.array([[1.0, 0, 0]]), p) == pytest.approx(-np.log(0.5))


def test_sparse_label_smoothing_equals_the_one_hot_form():
    rng = np.random.default_rng(16)
    n, k = 40, 5
    y = rng.integers(0, k, size=n)
    raw = rng.normal(scale=3.0, size=(n, k))
    p = softmax(raw)
    w = rng.uniform(0, 2, size=n)
    sparse_loss = SparseCategoricalCrossEntropy(label_smoothing=0.15)
    dense_loss = CategoricalCrossEntropy(label_smoothing=0.15)
    onehot = np.eye(k)[y]
    for sw in (None, w):
        assert sparse_loss(y, p, sw) == pytest.approx(dense_loss(onehot, p, sw), rel=1e-13)
        assert_allclose(sparse_loss.gradient(y, p, sw), dense_loss.gradient(onehot, p, sw),
                        rtol=1e-13)
        assert sparse_loss.loss_from_raw(y, raw, sw) == pytest.approx(
            dense_loss.loss_from_raw(onehot, raw, sw), rel=1e-13)
        assert_allclose(sparse_loss.gradient_raw(y, raw, sw),
                        dense_loss.gradient_raw(onehot, raw, sw), rtol=1e-12, atol=1e-16)


def test_focal_by_hand():
    # p = 1/2, y = 1: (1/2)^2 log 2; gamma = 0 is the binary cross-entropy.
    assert Focal(gamma=2.0)(np.array([[1.0]]), np.array([[0.5]])) == pytest.approx(
        0.25 * np.log(2), rel=1e-14)
    assert Focal(gamma=2.0).loss_from_raw(np.array([[0.0]]), np.array([[0.0]])) == (
        pytest.approx(0.25 * np.log(2), rel=1e-14))
    # p = 0.8: y = 1 costs 0.2^g log(1/0.8), y = 0 costs 0.8^g log(1/0.2)
    p = np.array([[0.8], [0.8]])
    y = np.array([[1.0], [0.0]])
    assert_allclose(Focal(gamma=1.0).pointwise_loss(y, p),
                    [-0.2 * np.log(0.8), -0.8 * np.log(0.2)], rtol=1e-14)
    assert_allclose(Focal(gamma=1.0).pointwise_loss_gradient_raw(y, np.log(p / (1 - p)))[0],
                    [-0.2 * np.log(0.8), -0.8 * np.log(0.2)], rtol=1e-13)
    rng = np.random.default_rng(17)
    y = rng.choice([0.0, 1.0, 0.3], size=(20, 2))
    raw = rng.normal(scale=3.0, size=(20, 2))
    for space, pred in (("raw", raw), ("output", 1 / (1 + np.exp(-raw)))):
        focal, bce = Focal(gamma=0.0), BinaryCrossEntropy()
        if space == "raw":
            assert_allclose(focal.pointwise_loss_gradient_raw(y, pred)[0],
                            bce.pointwise_loss_gradient_raw(y, pred)[0], rtol=1e-13)
            assert_allclose(focal.pointwise_loss_gradient_raw(y, pred)[1],
                            bce.pointwise_loss_gradient_raw(y, pred)[1], rtol=1e-13)
        else:
            assert_allclose(focal.pointwise_loss(y, pred), bce.pointwise_loss(y, pred),
                            rtol=1e-12)
            assert_allclose(focal.pointwise_gradient(y, pred), bce.pointwise_gradient(y, pred),
                            rtol=1e-10)
    # Focusing: a well-classified sample (p = 0.9, y = 1) loses far more of its weight than a
    # badly classified one (p = 0.1).
    ratio_easy = Focal()(np.array([[1.0]]), np.array([[0.9]])) / BinaryCrossEntropy()(
        np.array([[1.0]]), np.array([[0.9]]))
    ratio_hard = Focal()(np.array([[1.0]]), np.array([[0.1]])) / BinaryCrossEntropy()(
        np.array([[1.0]]), np.array([[0.1]]))
    assert ratio_easy == pytest.approx(0.01, rel=1e-12)
    assert ratio_hard == pytest.approx(0.81, rel=1e-12)
    assert type(get_loss("binary_focal_crossentropy")) is Focal


def test_squared_hinge_by_hand():
    f = np.array([[0.5], [2.0], [0.5], [-3.0]])
    y = np.array([[1.0], [1.0], [0.0], [-1.0]])  # t = +1, +1, -1, -1
    # margins 0.5, 2, -0.5, 3: (1 - 0.5)^2, 0, 1.5^2, 0
    assert_allclose(SquaredHinge().pointwise_loss(y, f), [0.25, 0.0, 2.25, 0.0], rtol=1e-15)
    assert SquaredHinge()(np.array([[1.0]]), np.array([[0.5]])) == 0.25
    # -2 t max(0, 1 - t f)
    assert_allclose(SquaredHinge().pointwise_gradient(y, f), [[-1.0], [0.0], [3.0], [0.0]])
    assert SquaredHinge().loss_from_raw(y, f) == pytest.approx(2.5 / 4, rel=1e-15)


def test_modified_huber_by_hand():
    loss = ModifiedHuber()
    z = np.array([[2.0], [0.5], [-3.0], [-1.0], [1.0]])
    expected = [0.0, 0.25, 12.0, 4.0, 0.0]  # 0 | (1 - z)^2 | -4 z, both forms 4 at z = -1
    expected_grad = [[0.0], [-1.0], [-4.0], [-4.0], [0.0]]  # d/dz: -2 (1 - z) or -4
    for y, t in ((1.0, 1.0), (0.0, -1.0), (-1.0, -1.0)):
        y_true = np.full_like(z, y)
        f = t * z  # the margin t f is z
        assert_allclose(loss.pointwise_loss(y_true, f), expected, rtol=1e-15)
        assert_allclose(loss.pointwise_gradient(y_true, f), t * np.array(expected_grad),
                        rtol=1e-15)
        assert_allclose(loss.pointwise_loss_gradient_raw(y_true, f)[1],
                        t * np.array(expected_grad), rtol=1e-15)
    assert loss(np.array([[1.0]]), np.array([[-3.0]])) == 12.0
    # Probabilities (clip(f, -1, 1) + 1) / 2, as scikit-learn's SGDClassifier.
    assert loss.gives_probabilities == "independent"
    # (kept within machine epsilon of [0, 1], so that a log loss of them stays finite)
    f = np.array([[2.0, 0.5, -3.0, 0.0, -0.5, 1.0, -1.0]])
    proba = loss.probabilities(f)
    assert_allclose(proba, [[1.0, 0.75, 0.0, 0.5, 0.25, 1.0, 0.0]], rtol=0,
                    atol=np.finfo(float).eps)
    assert np.all((proba > 0) & (proba < 1))
    assert getattr(Hinge(), "gives_probabilities", None) is None
    assert getattr(SquaredHinge(), "gives_probabilities", None) is None


def test_categorical_hinge_by_hand():
    loss = CategoricalHinge()
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    f = np.array([[2.0, 1.5, 0.0], [2.0, 1.5, 0.0], [3.0, 1.0, 4.5]])
    # 1 + best other - target: 1 + 1.5 - 2 = 0.5; 1 + 2 - 1.5 = 1.5; 1 + 3 - 4.5 < 0 -> 0
    assert_allclose(loss.pointwise_loss(y, f), [0.5, 1.5, 0.0], rtol=1e-15)
    assert loss(y[:1], f[:1]) == 0.5
    # -1 on the target, +1 on the best other class, for active samples only
    assert_allclose(loss.pointwise_gradient(y, f),
                    [[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    assert_allclose(loss.gradient_raw(y, f), loss.pointwise_gradient(y, f) / 3)


def test_categorical_hinge_with_negative_scores():
    # l = max(0, 1 + max_{k != y} f_k - f_y): "the true class's score must beat every other by
    # a margin of 1". Scores of any sign (an identity output) must not change that.
    loss = CategoricalHinge()
    y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    f = np.array([[-1.0, -3.0, -4.0],  # the target beats the others by 2: no loss
                  [-1.0, -1.5, -4.0],  # by 0.5: 1 - 0.5
                  [-2.0, -5.0, -2.5]])  # loses to class 0 by 3: 1 + 3
    assert_allclose(loss.pointwise_loss(y, f), [0.0, 0.5, 4.0], rtol=1e-15)
    assert_allclose(loss.pointwise_gradient(y, f),
                    [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]])
    # Adding a constant to every score of a row changes nothing.
    assert_allclose(loss.pointwise_loss(y, f + 10.0), loss.pointwise_loss(y, f), rtol=1e-15)


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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
def test_gradients_keep_float32(loss):
    y_true, raw, sw = _extreme_problem(loss, np.float32)
    raw = np.clip(raw, -3, 3)
    y_pred = get_activation(loss.canonical_activation).forward(raw)
    assert y_pred.dtype == np.float32
    for weights in (None, sw):
        assert loss.gradient(y_true, y_pred, sample_weight=weights).dtype == np.float32
        assert loss.gradient_raw(y_true, raw, sample_weight=weights).dtype == np.float32
    value64 = loss.loss_from_raw(
        y_true if y_true.dtype.kind == "i" else y_true.astype(np.float64),
        raw.astype(np.float64), sample_weight=sw.astype(np.float64))
    assert loss.loss_from_raw(y_true, raw, sample_weight=sw) == pytest.approx(value64,
                                                                              rel=1e-5)


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


def test_quantile_matches_sklearn_mean_pinball_loss():
    rng = np.random.default_rng(18)
    y, p, w = rng.normal(size=40), rng.normal(size=40), rng.uniform(0, 2, size=40)
    for q in (0.1, 0.5, 0.9):
        loss = Quantile(quantile=q)
        assert loss(y[:, None], p[:, None]) == pytest.approx(
            mean_pinball_loss(y, p, alpha=q), rel=1e-12)
        assert loss(y[:, None], p[:, None], sample_weight=w) == pytest.approx(
            mean_pinball_loss(y, p, alpha=q, sample_weight=w), rel=1e-12)


@pytest.mark.parametrize("power", [0, 1, 1.5, 2, 3])
def test_tweedie_matches_half_sklearn_mean_tweedie_deviance(power):
    rng = np.random.default_rng(19)
    y = rng.gamma(2.0, 1.5, size=40)
    if power < 2:
        y[:6] = 0.0  # exact zeros, allowed for power < 2
    mu = rng.uniform(0.1, 8.0, size=40)
    w = rng.uniform(0, 2, size=40)
    loss = Tweedie(power=power)
    for sw in (None, w):
        expected = 0.5 * mean_tweedie_deviance(y, mu, power=power, sample_weight=sw)
        assert loss(y[:, None], mu[:, None], sample_weight=sw) == pytest.approx(expected,
                                                                                rel=1e-12)
        assert loss.loss_from_raw(y[:, None], np.log(mu)[:, None], sample_weight=sw) == (
            pytest.approx(expected, rel=1e-11))


def test_gamma_matches_half_sklearn_mean_gamma_deviance():
    rng = np.random.default_rng(20)
    y, mu = rng.gamma(2.0, 1.5, size=40), rng.uniform(0.1, 8.0, size=40)
    w = rng.uniform(0, 2, size=40)
    for sw in (None, w):
        expected = 0.5 * mean_gamma_deviance(y, mu, sample_weight=sw)
        assert Gamma()(y[:, None], mu[:, None], sample_weight=sw) == pytest.approx(expected,
                                                                                   rel=1e-12)
        assert Gamma().loss_from_raw(y[:, None], np.log(mu)[:, None], sample_weight=sw) == (
            pytest.approx(expected, rel=1e-11))


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
    pytest.param(Huber(), np.array([[np.nan]]), id="huber-nan"),
    pytest.param(Quantile(), np.array([[np.inf]]), id="quantile-inf"),
    pytest.param(LogCosh(), np.array([[np.nan]]), id="log-cosh-nan"),
    pytest.param(Gamma(), np.array([[1.0], [0.0]]), id="gamma-zero"),
    pytest.param(Gamma(), np.array([[1.0], [-2.0]]), id="gamma-negative"),
    pytest.param(Tweedie(), np.array([[0.0], [-1.0]]), id="tweedie-1.5-negative"),
    pytest.param(Tweedie(power=1), np.array([[-1.0]]), id="tweedie-1-negative"),
    pytest.param(Tweedie(power=2), np.array([[0.0]]), id="tweedie-2-zero"),
    pytest.param(Tweedie(power=3), np.array([[1.0], [0.0]]), id="tweedie-3-zero"),
    pytest.param(Tweedie(power=0), np.array([[np.nan]]), id="tweedie-0-nan"),
    pytest.param(Focal(), np.array([[0.0], [1.5]]), id="focal-above-1"),
    pytest.param(Focal(), np.array([[-0.5]]), id="focal-below-0"),
    pytest.param(SquaredHinge(), np.array([[0.5], [1.0]]), id="squared-hinge-fraction"),
    pytest.param(ModifiedHuber(), np.array([[0.0], [2.0]]), id="modified-huber-0-2"),
    pytest.param(CategoricalHinge(), np.array([1.0, 0.0]), id="categorical-hinge-1-D"),
    pytest.param(KLDivergence(), np.array([[1.5, -0.5]]), id="kld-negative"),
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
    pytest.param(Huber(), np.array([[-3.0, 1e6]]), id="huber"),
    pytest.param(Gamma(), np.array([[0.1], [7.0]]), id="gamma"),
    pytest.param(Tweedie(), np.array([[0.0], [7.0], [2.5]]), id="tweedie-zeros"),
    pytest.param(Tweedie(power=0), np.array([[-3.0], [7.0]]), id="tweedie-0-real"),
    pytest.param(Focal(), np.array([[0.0, 1.0], [0.3, 1.0]]), id="focal"),
    pytest.param(ModifiedHuber(), np.array([[-1.0], [1.0]]), id="modified-huber-pm1"),
    pytest.param(CategoricalHinge(), np.eye(3), id="categorical-hinge"),
    pytest.param(KLDivergence(), np.array([[0.2, 0.8], [1.0, 0.0]]), id="kld"),
])
def test_check_target_accepts(loss, y):
    assert loss.check_target(y) is None


@pytest.mark.parametrize("loss", [
    pytest.param(Huber(delta=0.0), id="huber-delta-0"),
    pytest.param(Huber(delta=-1.0), id="huber-delta-negative"),
    pytest.param(Quantile(quantile=0.0), id="quantile-0"),
    pytest.param(Quantile(quantile=1.0), id="quantile-1"),
    pytest.param(Quantile(quantile=1.5), id="quantile-1.5"),
    pytest.param(Tweedie(power=0.5), id="tweedie-0.5"),
    pytest.param(Focal(gamma=-1.0), id="focal-negative-gamma"),
    pytest.param(BinaryCrossEntropy(label_smoothing=1.0), id="bce-smoothing-1"),
    pytest.param(CategoricalCrossEntropy(label_smoothing=-0.1), id="cce-smoothing-negative"),
    pytest.param(SparseCategoricalCrossEntropy(label_smoothing=1.5), id="sparse-smoothing-1.5"),
])
def test_invalid_parameters_raise_when_used(loss):
    # Parameters are validated when the loss is used (scikit-learn's convention: __init__
    # only stores them), with a message naming the parameter.
    y_true, raw, _ = _extreme_problem(type(loss)(), np.float64)
    raw = np.clip(raw, -3, 3)
    name = next(iter(loss.get_params()))
    with pytest.raises(ValueError, match=name):
        loss.loss_gradient_raw(y_true, raw)
    y_pred = get_activation(loss.canonical_activation).forward(raw)
    with pytest.raises(ValueError, match=name):
        loss(y_true, y_pred)


def test_tweedie_power_between_0_and_1_is_rejected_by_check_target():
    with pytest.raises(ValueError, match="power"):
        Tweedie(power=0.5).check_target(np.array([[1.0]]))


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
    "huber": Huber,
    "quantile": Quantile,
    "pinball": Quantile,
    "log_cosh": LogCosh,
    "gamma": Gamma,
    "tweedie": Tweedie,
    "focal": Focal,
    "binary_focal_crossentropy": Focal,
    "squared_hinge": SquaredHinge,
    "modified_huber": ModifiedHuber,
    "categorical_hinge": CategoricalHinge,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
}

CANONICAL = {
    SquaredError: Identity,
    AbsoluteError: Identity,
    Hinge: Identity,
    BinaryCrossEntropy: Logistic,
    CategoricalCrossEntropy: Softmax,
    SparseCategoricalCrossEntropy: Softmax,
    Poisson: Exp,
    Huber: Identity,
    Quantile: Identity,
    LogCosh: Identity,
    Gamma: Exp,
    Tweedie: Exp,
    Focal: Logistic,
    SquaredHinge: Identity,
    ModifiedHuber: Identity,
    CategoricalHinge: Identity,
    KLDivergence: Softmax,
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


def test_canonical_table_covers_every_loss():
    assert set(CANONICAL) == set(LOSS_ALIASES.values())


def test_get_loss_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="pseudo_huber") as excinfo:
        get_loss("pseudo_huber")
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


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=ids)
def test_losses_clone_and_pickle(loss):
    y_true, raw, sw = _extreme_problem(loss, np.float64)
    raw = np.clip(raw, -3, 3)
    for copy in (clone(loss), pickle.loads(pickle.dumps(loss))):
        assert type(copy) is type(loss) and copy is not loss
        assert copy.get_params() == loss.get_params()
        assert copy.loss_from_raw(y_true, raw, sw) == loss.loss_from_raw(y_true, raw, sw)
    if loss in LOSSES:
        assert repr(loss) == f"{type(loss).__name__}()"
    else:  # the non-default parameter shows
        (name, value), = ((k, v) for k, v in loss.get_params().items()
                          if v != type(loss)().get_params()[k])
        assert repr(loss) == f"{type(loss).__name__}({name}={value!r})"


def test_default_parameters():
    assert Huber().get_params() == {"delta": 1.0}
    assert Quantile().get_params() == {"quantile": 0.5}
    assert Tweedie().get_params() == {"power": 1.5}
    assert Focal().get_params() == {"gamma": 2.0}
    for cls in (BinaryCrossEntropy, CategoricalCrossEntropy, SparseCategoricalCrossEntropy):
        assert cls().get_params() == {"label_smoothing": 0.0}
    for cls in (LogCosh, Gamma, SquaredHinge, ModifiedHuber, CategoricalHinge, KLDivergence):
        assert cls().get_params() == {}
    assert Huber().set_params(delta=2.0).delta == 2.0


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


# -- 9. against PyTorch (an independent implementation), float64 -----------------------------
#
# Each loss's fused raw-space value and gradient against PyTorch's functional losses, or the
# loss written by hand in torch and differentiated by autograd, per sample then averaged with
# the sample weights. Targets and raw values are random, so no kink is hit.


def _torch_problem(kind, seed, n=30, k=3):
    rng = np.random.default_rng(seed)
    raw = rng.normal(scale=2.0, size=(n, k))
    if kind == "real":
        y = rng.normal(scale=3.0, size=(n, k))
    elif kind == "count":
        y = rng.poisson(2.0, size=(n, k)).astype(float)
    elif kind == "positive":
        y = rng.gamma(2.0, 1.0, size=(n, k)) + 0.05
    elif kind == "nonnegative":
        y = np.where(rng.uniform(size=(n, k)) < 0.3, 0.0, rng.gamma(2.0, 1.0, size=(n, k)))
    elif kind == "probability":
        y = rng.choice([0.0, 1.0, 0.3], size=(n, k))
    elif kind == "sign":
        y = rng.choice([0.0, 1.0], size=(n, k))
    elif kind == "class_index":
        y = rng.integers(0, k, size=n)
    elif kind == "one_hot":
        y = np.eye(k)[rng.integers(0, k, size=n)]
    else:  # "distribution"
        y = rng.dirichlet(np.ones(k), size=n)
        y[: n // 3] = np.eye(k)[rng.integers(0, k, size=n // 3)]
    return y, raw, rng.uniform(0.0, 2.0, size=n)


def _t_bce(torch, raw, y, eps):
    y = y * (1 - eps) + eps / 2
    return torch.nn.functional.binary_cross_entropy_with_logits(raw, y, reduction="none").sum(1)


def _t_focal(torch, raw, y, gamma):
    p, q = torch.sigmoid(raw), torch.sigmoid(-raw)
    log_p = torch.nn.functional.logsigmoid(raw)
    log_q = torch.nn.functional.logsigmoid(-raw)
    return -(y * q**gamma * log_p + (1 - y) * p**gamma * log_q).sum(1)


def _t_margin(torch, y):
    return torch.where(y > 0, 1.0, -1.0).to(torch.float64)


def _t_tweedie(torch, raw, y, power):
    mu = torch.exp(raw)
    if power == 1:
        return (torch.xlogy(y, y) - y * raw - y + mu).sum(1)
    if power == 2:
        return (raw - torch.log(y) + y / mu - 1).sum(1)
    one, two = 1 - power, 2 - power
    return (y**two / (one * two) - y * mu**one / one + mu**two / two).sum(1)


def _t_categorical_hinge(torch, raw, y):
    # The documented definition: the best score among the *other* classes.
    positive = (y * raw).sum(1)
    negative = raw.masked_fill(y > 0, -torch.inf).amax(1)
    return torch.relu(1 + negative - positive)


def _np_poisson_constant(y):
    return (xlogy(y, y) - y).sum(axis=1)


TORCH_LOSSES = [
    # (our loss, target kind, per-sample torch loss, numpy per-sample constant that ours adds)
    (SquaredError(), "real",
     lambda torch, r, y: 0.5 * torch.nn.functional.mse_loss(r, y, reduction="none").sum(1),
     None),
    (AbsoluteError(), "real",
     lambda torch, r, y: torch.nn.functional.l1_loss(r, y, reduction="none").sum(1), None),
    (Huber(), "real",
     lambda torch, r, y: torch.nn.functional.huber_loss(r, y, reduction="none").sum(1), None),
    (Huber(delta=0.3), "real",
     lambda torch, r, y: torch.nn.functional.huber_loss(r, y, reduction="none",
                                                        delta=0.3).sum(1), None),
    (Poisson(), "count",
     lambda torch, r, y: torch.nn.functional.poisson_nll_loss(
         r, y, log_input=True, full=False, reduction="none").sum(1),
     _np_poisson_constant),
    (BinaryCrossEntropy(), "probability", lambda torch, r, y: _t_bce(torch, r, y, 0.0), None),
    (BinaryCrossEntropy(label_smoothing=0.1), "probability",
     lambda torch, r, y: _t_bce(torch, r, y, 0.1), None),
    (SparseCategoricalCrossEntropy(), "class_index",
     lambda torch, r, y: torch.nn.functional.cross_entropy(r, y, reduction="none"), None),
    (SparseCategoricalCrossEntropy(label_smoothing=0.2), "class_index",
     lambda torch, r, y: torch.nn.functional.cross_entropy(r, y, reduction="none",
                                                           label_smoothing=0.2), None),
    (CategoricalCrossEntropy(), "distribution",
     lambda torch, r, y: torch.nn.functional.cross_entropy(r, y, reduction="none"), None),
    (CategoricalCrossEntropy(label_smoothing=0.1), "distribution",
     lambda torch, r, y: torch.nn.functional.cross_entropy(r, y, reduction="none",
                                                           label_smoothing=0.1), None),
    (KLDivergence(), "distribution",
     lambda torch, r, y: torch.nn.functional.kl_div(
         torch.log_softmax(r, dim=1), y, reduction="none").sum(1), None),
    # written by hand in torch, differentiated by autograd
    (Focal(), "probability", lambda torch, r, y: _t_focal(torch, r, y, 2.0), None),
    (Focal(gamma=0.5), "probability", lambda torch, r, y: _t_focal(torch, r, y, 0.5), None),
    (Quantile(quantile=0.9), "real",
     lambda torch, r, y: torch.maximum(0.9 * (y - r), -0.1 * (y - r)).sum(1), None),
    (LogCosh(), "real", lambda torch, r, y: torch.log(torch.cosh(r - y)).sum(1), None),
    (Hinge(), "sign",
     lambda torch, r, y: torch.relu(1 - _t_margin(torch, y) * r).sum(1), None),
    (SquaredHinge(), "sign",
     lambda torch, r, y: (torch.relu(1 - _t_margin(torch, y) * r) ** 2).sum(1), None),
    (ModifiedHuber(), "sign",
     lambda torch, r, y: torch.where(_t_margin(torch, y) * r >= -1,
                                     torch.relu(1 - _t_margin(torch, y) * r) ** 2,
                                     -4 * _t_margin(torch, y) * r).sum(1), None),
    (Gamma(), "positive", lambda torch, r, y: _t_tweedie(torch, r, y, 2), None),
    (Tweedie(), "nonnegative", lambda torch, r, y: _t_tweedie(torch, r, y, 1.5), None),
    (Tweedie(power=1), "count", lambda torch, r, y: _t_tweedie(torch, r, y, 1), None),
    (Tweedie(power=3), "positive", lambda torch, r, y: _t_tweedie(torch, r, y, 3), None),
    (Tweedie(power=0), "real", lambda torch, r, y: _t_tweedie(torch, r, y, 0), None),
]
TORCH_RTOL = 1e-10


def test_torch_table_covers_every_loss():
    assert {type(loss) for loss, *_ in TORCH_LOSSES} | {CategoricalHinge} == set(
        LOSS_ALIASES.values())  # the categorical hinge has its own tests below


def _compare_with_torch(loss, y, raw, w, torch_fn, constant=None):
    torch = pytest.importorskip("torch")
    y_t = torch.tensor(y)  # int64 class indices stay integers
    for sw in (None, w):
        raw_t = torch.tensor(raw, requires_grad=True)
        per_sample = torch_fn(torch, raw_t, y_t)
        weights = torch.ones(len(raw)) if sw is None else torch.tensor(sw)
        value_t = (weights * per_sample).sum() / weights.sum()
        (grad_t,) = torch.autograd.grad(value_t, raw_t)
        value, grad = loss.loss_gradient_raw(y, raw, sample_weight=sw)
        if constant is not None:
            value -= np.average(constant(y), weights=sw)
        assert value == pytest.approx(value_t.item(), rel=TORCH_RTOL)
        assert relative_error(grad, grad_t.numpy()) < TORCH_RTOL
        per_sample_ours = loss.pointwise_loss_gradient_raw(y, raw)[0]
        if constant is not None:
            per_sample_ours = per_sample_ours - constant(y)
        assert relative_error(per_sample_ours, per_sample.detach().numpy()) < TORCH_RTOL


@pytest.mark.parametrize("loss, kind, torch_fn, constant", TORCH_LOSSES,
                         ids=[repr(case[0]) for case in TORCH_LOSSES])
def test_value_and_raw_gradient_match_torch(loss, kind, torch_fn, constant):
    y, raw, w = _torch_problem(kind, seed=0)
    _compare_with_torch(loss, y, raw, w, torch_fn, constant)


def test_squared_error_is_half_torch_mse_summed_over_outputs():
    torch = pytest.importorskip("torch")
    y, raw, _ = _torch_problem("real", seed=1, k=4)
    # torch's mean over every entry times k outputs / 2: summed over outputs, halved.
    expected = 0.5 * 4 * torch.nn.functional.mse_loss(torch.tensor(raw), torch.tensor(y))
    assert SquaredError()(y, raw) == pytest.approx(expected.item(), rel=1e-13)


@pytest.mark.parametrize("rivals", ["one-rival-score-positive", "all-rival-scores-negative"])
def test_categorical_hinge_matches_torch(rivals):
    y, raw, w = _torch_problem("one_hot", seed=3, k=4)
    others = np.where(y > 0, -np.inf, raw).max(axis=1, keepdims=True)
    # Shift rows (which changes nothing in the definition) so that the best rival score is at
    # least 0.1 above 0, or at least 0.1 below it, in every row.
    if rivals == "one-rival-score-positive":
        raw = raw + np.maximum(0.1 - others, 0.0)
    else:
        raw = raw + np.minimum(-0.1 - others, 0.0)
    _compare_with_torch(CategoricalHinge(), y, raw, w,
                        lambda torch, r, y: _t_categorical_hinge(torch, r, y))


def test_poisson_output_space_is_flat_below_the_floor():
    """An output that can go negative (identity + poisson) cannot push the loss below its
    value at the floor: the loss is flat there and its gradient zero, never unbounded."""
    from sknnloss.losses import Poisson

    y = np.array([[1.0], [0.0], [3.0]])
    loss = Poisson()
    at_floor = loss.pointwise_loss(y, np.full_like(y, 1e-300))
    for value in (-1e6, -1.0, 0.0):
        y_pred = np.full_like(y, value)
        assert_allclose(loss.pointwise_loss(y, y_pred), at_floor)
        assert not np.any(loss.pointwise_gradient(y, y_pred))

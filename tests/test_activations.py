"""Activations: derivatives against finite differences, ``out=`` buffers, numerical stability,
hand-checked values, name resolution, parameter handling and user-defined activations."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone

from sknnloss.activations import (
    ACTIVATION_ALIASES,
    ELU,
    EXP_RAW_MAX,
    GELU,
    SELU,
    Activation,
    Exp,
    HardSigmoid,
    Identity,
    LeakyReLU,
    Logistic,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
    get_activation,
)

# Every built-in class once (default parameters), plus non-default parameters where a class
# has them: a leaky slope, an ELU alpha (which puts a kink at 0), GELU's tanh approximation
# and a PReLU initial slope (used when no per-unit slopes are passed).
BUILTINS = [cls() for cls in dict.fromkeys(ACTIVATION_ALIASES.values())] + [
    LeakyReLU(negative_slope=0.2),
    ELU(alpha=0.5),
    GELU(approximate="tanh"),
    PReLU(init=0.1),
]
ELEMENTWISE = [act for act in BUILTINS if act.elementwise]

# Where the finite-difference checks draw ``z``: wide enough to cover each function's
# interesting region, narrow enough that saturated derivatives stay far above the
# finite-difference rounding error (~1e-11), so that a 1e-6 relative tolerance is meaningful.
FD_RANGE = {
    Identity: (-10.0, 10.0),
    Logistic: (-6.0, 6.0),
    Tanh: (-5.0, 5.0),
    ReLU: (-10.0, 10.0),
    LeakyReLU: (-10.0, 10.0),
    Softplus: (-10.0, 10.0),
    Softmax: (-3.0, 3.0),
    Exp: (-30.0, 60.0),  # crosses the cap at EXP_RAW_MAX = 50
    PReLU: (-10.0, 10.0),
    ELU: (-10.0, 10.0),
    SELU: (-10.0, 10.0),
    # Below about -4, 1 + erf(z / sqrt 2) and 1 + tanh(u) cancel: the forward values keep few
    # correct digits there (as PyTorch's), too few for a central difference at 1e-6.
    GELU: (-4.0, 4.0),
    SiLU: (-10.0, 10.0),
    Softsign: (-10.0, 10.0),
    HardSigmoid: (-5.0, 5.0),  # both kinks and both flat regions
    Mish: (-10.0, 10.0),
    ReLU6: (-3.0, 9.0),  # both kinks and both flat regions
}
# Points where the derivative jumps (or, for ELU with alpha = 1 and softsign at 0, the second
# derivative: a central difference across it is only first-order accurate); drawn values
# closer than 1e-3 are moved off them.
KINKS = {
    ReLU: (0.0,),
    LeakyReLU: (0.0,),
    Exp: (EXP_RAW_MAX,),
    PReLU: (0.0,),
    ELU: (0.0,),
    SELU: (0.0,),
    Softsign: (0.0,),
    HardSigmoid: (-3.0, 3.0),
    ReLU6: (0.0, 6.0),
}
FD_STEP = 1e-5
FD_RTOL = 1e-6

FD_SETTINGS = settings(max_examples=30, deadline=None)


def relative_error(actual, expected):
    """Norm-based relative error; 0 when both are exactly zero (e.g. ReLU on negatives)."""
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


def ids(act):
    return repr(act)


@st.composite
def pre_activations(draw, act):
    """A 2-D float64 ``z`` in the activation's finite-difference range, off its kinks, and a
    random upstream gradient ``grad_a`` (from a drawn seed, so it is never degenerate)."""
    n_samples = draw(st.integers(1, 6))
    n_units = draw(st.integers(2 if isinstance(act, Softmax) else 1, 6))
    low, high = FD_RANGE[type(act)]
    z = draw(hnp.arrays(np.float64, (n_samples, n_units), elements=st.floats(low, high)))
    for kink in KINKS.get(type(act), ()):
        near = np.abs(z - kink) < 1e-3
        z[near] = kink + np.where(z[near] < kink, -1e-2, 1e-2)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    grad_a = rng.standard_normal(z.shape)
    return z, grad_a


# -- 1. derivatives against finite differences ---------------------------------------------


@pytest.mark.parametrize("act", ELEMENTWISE, ids=ids)
@FD_SETTINGS
@given(data=st.data())
def test_derivative_matches_finite_differences(act, data):
    z, _ = data.draw(pre_activations(act))
    # Elementwise: perturbing every entry at once gives every partial derivative.
    z_plus, z_minus = z + FD_STEP, z - FD_STEP
    numerical = (act.forward(z_plus) - act.forward(z_minus)) / (z_plus - z_minus)
    analytic = act.derivative(z, act.forward(z))
    assert relative_error(analytic, numerical) < FD_RTOL


@pytest.mark.parametrize("act", BUILTINS, ids=ids)
@FD_SETTINGS
@given(data=st.data())
def test_backward_matches_finite_differences(act, data):
    # backward is the gradient of <grad_a, forward(z)> with respect to z (softmax included).
    z, grad_a = data.draw(pre_activations(act))
    a = act.forward(z)
    # Summing changes f(x) - f(z), not f(x): a huge exp(50) entry would swamp the rest.
    numerical = numerical_gradient(lambda x: np.sum(grad_a * (act.forward(x) - a)), z)
    analytic = act.backward(z, act.forward(z), grad_a)
    assert relative_error(analytic, numerical) < FD_RTOL


@st.composite
def prelu_problems(draw):
    """``(z, grad_a, slopes)``: ``z`` off the kink at 0, one slope per unit (any sign)."""
    z, grad_a = draw(pre_activations(PReLU()))
    slopes = draw(hnp.arrays(np.float64, (z.shape[1],), elements=st.floats(-1.0, 2.0)))
    return z, grad_a, slopes


@FD_SETTINGS
@given(problem=prelu_problems())
def test_prelu_with_per_unit_slopes_matches_finite_differences(problem):
    z, grad_a, slopes = problem
    act = PReLU()
    forward = lambda x: act.forward(x, params=slopes)  # noqa: E731
    a = forward(z)
    # derivative and backward with respect to z, each unit with its own slope
    numerical = (forward(z + FD_STEP) - forward(z - FD_STEP)) / (2 * FD_STEP)
    assert relative_error(act.derivative(z, a, params=slopes), numerical) < FD_RTOL
    numerical = numerical_gradient(lambda x: np.sum(grad_a * (forward(x) - a)), z)
    assert relative_error(act.backward(z, a, grad_a, params=slopes), numerical) < FD_RTOL
    # param_gradient: the gradient of <grad_a, forward(z)> with respect to the slopes
    numerical = numerical_gradient(
        lambda s: np.sum(grad_a * (act.forward(z, params=s) - a)), slopes)
    analytic = act.param_gradient(z, a, grad_a, slopes)
    assert analytic.shape == slopes.shape
    assert relative_error(analytic, numerical) < FD_RTOL
    # ... which is sum_i grad_a[i, j] * min(z[i, j], 0), summed over samples
    assert_allclose(analytic, (grad_a * np.minimum(z, 0)).sum(axis=0), rtol=1e-12, atol=1e-300)


def test_prelu_slopes_are_per_unit():
    act = PReLU()
    z = np.array([[-2.0, -2.0, 3.0], [4.0, -1.0, -5.0]])
    slopes = np.array([0.5, -1.0, 0.1])
    expected = np.array([[-1.0, 2.0, 3.0], [4.0, 1.0, -0.5]])
    assert_allclose(act.forward(z, params=slopes), expected, rtol=1e-15)
    assert_allclose(act.derivative(z, expected, params=slopes),
                    [[0.5, -1.0, 1.0], [1.0, -1.0, 0.1]], rtol=1e-15)
    grad_a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # min(z, 0) weighted by grad_a, summed over the samples
    assert_allclose(act.param_gradient(z, expected, grad_a, slopes), [-2.0, -9.0, -30.0])
    # Without params every unit uses ``init``.
    assert_allclose(PReLU(init=0.5).forward(z), np.where(z > 0, z, 0.5 * z), rtol=1e-15)
    assert_array_equal(act.forward(z), act.forward(z, params=np.full(3, 0.25)))
    assert_array_equal(PReLU().forward(np.array([[-2.0, 3.0]]), params=np.array([0.5, 0.5])),
                       [[-1.0, 3.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_trainable_protocol(dtype):
    act = PReLU(init=0.3)
    assert act.trainable is True
    assert act.n_params(7) == 7
    init = act.init_params(4, dtype)
    assert init.dtype == dtype and init.shape == (4,)
    assert_array_equal(init, np.full(4, 0.3, dtype=dtype))
    z, grad_a = _inputs(dtype)
    slopes = np.linspace(-0.5, 1.5, z.shape[1]).astype(dtype)
    a = act.forward(z, params=slopes)
    assert a.dtype == dtype
    assert act.derivative(z, a, params=slopes).dtype == dtype
    assert act.backward(z, a, grad_a, params=slopes).dtype == dtype
    grad_s = act.param_gradient(z, a, grad_a, slopes)
    assert grad_s.dtype == dtype and grad_s.shape == slopes.shape
    # out= buffers, in place over z and over grad_a, as the training loop uses them
    out = np.full(slopes.shape, np.nan, dtype=dtype)
    assert act.param_gradient(z, a, grad_a, slopes, out=out) is out
    assert_allclose(out, grad_s, rtol=1e-6)
    buffer = z.copy()
    assert act.forward(buffer, out=buffer, params=slopes) is buffer
    assert_array_equal(buffer, a)
    expected = act.backward(z, a, grad_a, params=slopes)
    buffer = grad_a.copy()
    assert act.backward(z, a, buffer, out=buffer, params=slopes) is buffer
    assert_array_equal(buffer, expected)
    # The parameters themselves are never written.
    assert_array_equal(slopes, np.linspace(-0.5, 1.5, z.shape[1]).astype(dtype))


def test_only_prelu_is_trainable():
    for act in BUILTINS:
        assert bool(getattr(act, "trainable", False)) is isinstance(act, PReLU), act


def test_softmax_has_no_elementwise_derivative():
    z = np.array([[0.0, 1.0]])
    with pytest.raises(TypeError, match="backward"):
        Softmax().derivative(z, Softmax().forward(z))


# -- 2. backward, out= and in-place use ---------------------------------------------------


def _inputs(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-4, 4, size=(7, 5)).astype(dtype)
    grad_a = rng.standard_normal(z.shape).astype(dtype)
    return z, grad_a


@pytest.mark.parametrize("act", ELEMENTWISE, ids=ids)
def test_backward_is_grad_times_derivative(act):
    z, grad_a = _inputs()
    a = act.forward(z)
    assert_allclose(act.backward(z, a, grad_a), grad_a * act.derivative(z, a), rtol=1e-15)


OUTPUT_ONLY = [act for act in BUILTINS if act.derivative_from_output]


def test_derivative_from_output_is_claimed_where_it_holds():
    # The training loop overwrites z with a for these; the others need z.
    assert {type(act) for act in OUTPUT_ONLY} == {Identity, Logistic, Tanh, ReLU}


@pytest.mark.parametrize("act", OUTPUT_ONLY, ids=ids)
def test_derivative_from_output_alone_is_the_derivative(act):
    # Called as the training loop calls them: z overwritten by a in place, then z=None.
    z = np.concatenate([np.linspace(-1e4, 1e4, 400), [-1e-300, -0.0, 0.0, 1e-300, 5e-324]])
    z = z.reshape(-1, 3)
    with np.errstate(under="ignore"):
        expected = {
            Identity: np.ones_like(z),
            Logistic: expit(z) * (1 - expit(z)),
            Tanh: 1 - np.tanh(z) ** 2,
            ReLU: (z > 0).astype(float),
        }[type(act)]
    grad_a = np.random.RandomState(0).normal(size=z.shape)
    a = act.forward(z.copy(), out=None)
    buffer = z.copy()
    assert act.forward(buffer, out=buffer) is buffer
    assert_array_equal(buffer, a)
    assert_allclose(act.derivative(None, buffer), expected, rtol=1e-12, atol=1e-300)
    grad_z = act.backward(None, buffer, grad_a.copy(), out=np.empty_like(z))
    assert_allclose(grad_z, grad_a * expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_forward_in_place_matches_out_of_place(act):
    z, _ = _inputs()
    expected = act.forward(z)
    buffer = z.copy()
    result = act.forward(buffer, out=buffer)
    assert result is buffer
    assert_allclose(result, expected, rtol=1e-15)


@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_out_arrays_are_written_and_returned(act):
    z, grad_a = _inputs()
    a = act.forward(z)
    grad_z = act.backward(z, a, grad_a)

    out = np.full_like(z, np.nan)
    assert act.forward(z, out=out) is out
    assert_allclose(out, a, rtol=1e-15)

    out = np.full_like(z, np.nan)
    assert act.backward(z, a, grad_a, out=out) is out
    assert_allclose(out, grad_z, rtol=1e-15)

    # backward may write over grad_a itself (what the training loop does).
    buffer = grad_a.copy()
    assert act.backward(z, a, buffer, out=buffer) is buffer
    assert_allclose(buffer, grad_z, rtol=1e-15)

    if act.elementwise:
        derivative = act.derivative(z, a)
        out = np.full_like(z, np.nan)
        assert act.derivative(z, a, out=out) is out
        assert_allclose(out, derivative, rtol=1e-15)


@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_inputs_are_left_untouched_without_out(act):
    z, grad_a = _inputs()
    a = act.forward(z)
    z0, a0, g0 = z.copy(), a.copy(), grad_a.copy()
    act.forward(z)
    act.backward(z, a, grad_a)
    if act.elementwise:
        act.derivative(z, a)
    assert_array_equal(z, z0)
    assert_array_equal(a, a0)
    assert_array_equal(grad_a, g0)
    # A fresh result, not a view of the input: changing it leaves z alone.
    act.forward(z)[...] = 123.0
    assert_array_equal(z, z0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_results_keep_the_input_dtype(act, dtype):
    z, grad_a = _inputs(dtype)
    a = act.forward(z)
    assert a.dtype == dtype
    assert act.backward(z, a, grad_a).dtype == dtype
    if act.elementwise:
        assert act.derivative(z, a).dtype == dtype


# -- 3. stability over [-1e4, 1e4] --------------------------------------------------------

EXTREMES = np.array(
    [-1e4, -709.0, -50.0001, -50.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 50.0, 50.0001, 709.0, 1e4]
)


def _extreme_inputs(dtype):
    values = np.concatenate([EXTREMES, np.linspace(-1e4, 1e4, 15)])  # 28 values
    rows = [
        values.reshape(7, 4),
        values[::-1].reshape(7, 4),
        np.full((1, 4), 1e4),
        np.full((1, 4), -1e4),
        np.array([[1e4, -1e4, 0.0, -1e4]]),
    ]
    z = np.vstack(rows).astype(dtype)
    grad_a = np.random.default_rng(0).standard_normal(z.shape).astype(dtype)
    return z, grad_a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_stable_over_the_whole_input_range(act, dtype):
    z, grad_a = _extreme_inputs(dtype)
    # Overflow, division by zero and invalid operations raise; underflow to 0 (exp(-1e4),
    # softmax of a far-below-max unit, ...) is allowed by the design and is not checked.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        a = act.forward(z)
        grad_z = act.backward(z, a, grad_a)
        derivative = act.derivative(z, a) if act.elementwise else None
    assert np.all(np.isfinite(a))
    assert np.all(np.isfinite(grad_z))
    if derivative is not None:
        assert np.all(np.isfinite(derivative))
    low, high = act.output_range
    assert np.all((a >= low) & (a <= high))
    if isinstance(act, Softmax):
        assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_stable_with_per_unit_slopes(dtype):
    z, grad_a = _extreme_inputs(dtype)
    act = PReLU()
    slopes = np.array([0.25, -0.5, 2.0, 0.0], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        a = act.forward(z, params=slopes)
        derivative = act.derivative(z, a, params=slopes)
        grad_z = act.backward(z, a, grad_a, params=slopes)
        grad_s = act.param_gradient(z, a, grad_a, slopes)
    for result in (a, derivative, grad_z, grad_s):
        assert result.dtype == dtype
        assert np.all(np.isfinite(result))
    assert_array_equal(a, np.where(z > 0, z, slopes * z))


# Limits at the ends of the input range, float32 and float64: (function, value at -1e4,
# value at +1e4, derivative at -1e4, derivative at +1e4).
ASYMPTOTES = [
    (ELU(), -1.0, 1e4, 0.0, 1.0),
    (ELU(alpha=0.5), -0.5, 1e4, 0.0, 1.0),
    (SELU(), -SELU.SCALE * SELU.ALPHA, SELU.SCALE * 1e4, 0.0, SELU.SCALE),
    (GELU(), 0.0, 1e4, 0.0, 1.0),
    (GELU(approximate="tanh"), 0.0, 1e4, 0.0, 1.0),
    (SiLU(), 0.0, 1e4, 0.0, 1.0),
    (Softsign(), -1e4 / 10001, 1e4 / 10001, 1 / 10001**2, 1 / 10001**2),
    (HardSigmoid(), 0.0, 1.0, 0.0, 0.0),
    (Mish(), 0.0, 1e4, 0.0, 1.0),
    (ReLU6(), 0.0, 6.0, 0.0, 0.0),
    (PReLU(), -0.25e4, 1e4, 0.25, 1.0),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act, low, high, d_low, d_high", ASYMPTOTES,
                         ids=[repr(case[0]) for case in ASYMPTOTES])
def test_limits_at_the_ends_of_the_range(act, low, high, d_low, d_high, dtype):
    z = np.array([[-1e4, 1e4]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        a = act.forward(z)
        derivative = act.derivative(z, a)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(a, [[low, high]], rtol=rtol, atol=1e-30)
    assert_allclose(derivative, [[d_low, d_high]], rtol=rtol, atol=1e-30)


# -- 4. hand-checked values ----------------------------------------------------------------


def test_logistic_values():
    z = np.array([[0.0, np.log(3.0), -np.log(3.0)]])
    a = Logistic().forward(z)
    assert_allclose(a, [[0.5, 0.75, 0.25]], rtol=1e-14)
    assert_allclose(Logistic().derivative(z, a), [[0.25, 0.1875, 0.1875]], rtol=1e-14)


def test_tanh_values():
    # tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6
    z = np.array([[0.0, np.log(2.0), -np.log(2.0)]])
    a = Tanh().forward(z)
    assert_allclose(a, [[0.0, 0.6, -0.6]], rtol=1e-14, atol=1e-16)
    assert_allclose(Tanh().derivative(z, a), [[1.0, 0.64, 0.64]], rtol=1e-14)


def test_softplus_values():
    z = np.array([[0.0, np.log(3.0), 1e4, -1e4]])
    a = Softplus().forward(z)
    assert_allclose(a, [[np.log(2.0), np.log(4.0), 1e4, 0.0]], rtol=1e-14, atol=0)
    assert_allclose(Softplus().derivative(z, a), [[0.5, 0.75, 1.0, 0.0]], rtol=1e-14)


def test_softmax_values():
    assert_allclose(Softmax().forward(np.array([[0.0, 0.0]])), [[0.5, 0.5]])
    assert_allclose(Softmax().forward(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]],
                    rtol=1e-14)
    z = np.random.default_rng(1).uniform(-3, 3, size=(6, 4))
    a = Softmax().forward(z)
    assert_allclose(a.sum(axis=1), 1.0, rtol=1e-14)
    assert_allclose(a, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-13)


def test_softmax_invariant_to_a_constant_per_row():
    z = np.random.default_rng(2).uniform(-3, 3, size=(5, 4))
    shift = np.array([-1000.0, -1.5, 0.0, 7.0, 1000.0])[:, np.newaxis]
    assert_allclose(Softmax().forward(z + shift), Softmax().forward(z), rtol=1e-10)


def test_relu_and_leaky_relu_values():
    z = np.array([[-2.0, 3.0]])
    assert_allclose(ReLU().forward(z), [[0.0, 3.0]])
    assert_allclose(ReLU().derivative(z, ReLU().forward(z)), [[0.0, 1.0]])
    assert_allclose(LeakyReLU().forward(z), [[-0.02, 3.0]])  # default slope 0.01
    leaky = LeakyReLU(negative_slope=0.2)
    assert_allclose(leaky.forward(z), [[-0.4, 3.0]])
    assert_allclose(leaky.derivative(z, leaky.forward(z)), [[0.2, 1.0]])


def test_identity_values():
    z = np.array([[-1.5, 0.0, 2.0]])
    assert_array_equal(Identity().forward(z), z)
    assert_array_equal(Identity().derivative(z, z), [[1.0, 1.0, 1.0]])


def test_exp_is_capped_at_exp_raw_max():
    assert EXP_RAW_MAX == 50.0
    z = np.array([[0.0, 1.0, EXP_RAW_MAX - 1, EXP_RAW_MAX + 10, 1e4]])
    a = Exp().forward(z)
    cap = np.exp(EXP_RAW_MAX)
    assert_allclose(a, [[1.0, np.e, np.exp(EXP_RAW_MAX - 1), cap, cap]], rtol=1e-14)
    # Flat above the cap, so the derivative there is 0.
    assert_allclose(Exp().derivative(z, a), [[1.0, np.e, np.exp(EXP_RAW_MAX - 1), 0.0, 0.0]],
                    rtol=1e-14)


def _values_and_derivatives(act, z):
    z = np.array([z], dtype=float)
    a = act.forward(z)
    return a[0], act.derivative(z, a)[0]


def test_gelu_values():
    # Phi(1) and Phi(-1) of the standard normal, phi(1) its density.
    phi_1, cdf_1 = 0.24197072451914337, 0.8413447460685429
    a, d = _values_and_derivatives(GELU(), [0.0, 1.0, -1.0])
    assert_allclose(a, [0.0, cdf_1, -(1 - cdf_1)], rtol=1e-14, atol=0)
    assert_allclose(d, [0.5, cdf_1 + phi_1, (1 - cdf_1) - phi_1], rtol=1e-14)
    # tanh approximation: z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))
    u = np.sqrt(2 / np.pi) * (1 + 0.044715)
    a, d = _values_and_derivatives(GELU(approximate="tanh"), [0.0, 1.0])
    assert_allclose(a, [0.0, 0.5 * (1 + np.tanh(u))], rtol=1e-14)
    assert a[1] == pytest.approx(0.8411919906082768, rel=1e-14)
    assert d[0] == pytest.approx(0.5, rel=1e-14)
    with pytest.raises(ValueError, match="approximate"):
        GELU(approximate="sigmoid").forward(np.zeros((1, 1)))


def test_elu_and_selu_values():
    e = np.exp(-1.0)
    a, d = _values_and_derivatives(ELU(), [-1.0, 0.0, 2.0])
    assert_allclose(a, [e - 1, 0.0, 2.0], rtol=1e-15)
    assert_allclose(d, [e, 1.0, 1.0], rtol=1e-15)
    a, d = _values_and_derivatives(ELU(alpha=0.5), [-1.0, 2.0])
    assert_allclose(a, [0.5 * (e - 1), 2.0], rtol=1e-15)
    assert_allclose(d, [0.5 * e, 1.0], rtol=1e-15)
    # The constants of Klambauer et al. (2017), to 20 digits.
    assert SELU.ALPHA == pytest.approx(1.6732632423543772848, rel=1e-15)
    assert SELU.SCALE == pytest.approx(1.0507009873554804934, rel=1e-15)
    alpha, scale = 1.6732632423543772848, 1.0507009873554804934
    a, d = _values_and_derivatives(SELU(), [-1.0, 1.0, 2.0])
    assert_allclose(a, [scale * alpha * (e - 1), scale, 2 * scale], rtol=1e-14)
    assert_allclose(d, [scale * alpha * e, scale, scale], rtol=1e-14)
    assert a[1] == pytest.approx(1.05070099, rel=1e-8)


def test_silu_softsign_and_mish_values():
    s = 1 / (1 + np.exp(-1.0))
    a, d = _values_and_derivatives(SiLU(), [0.0, 1.0, -1.0])
    assert_allclose(a, [0.0, s, -(1 - s)], rtol=1e-15, atol=0)
    assert_allclose(d, [0.5, s * (1 + (1 - s)), (1 - s) * (1 - s)], rtol=1e-14)
    assert type(get_activation("swish")) is SiLU

    a, d = _values_and_derivatives(Softsign(), [1.0, -3.0, 0.0])
    assert_allclose(a, [0.5, -0.75, 0.0], rtol=1e-15)
    assert_allclose(d, [0.25, 1 / 16, 1.0], rtol=1e-15)

    # mish(1) = tanh(log(1 + e)) = ((1 + e)^2 - 1) / ((1 + e)^2 + 1); mish'(0) = tanh(log 2)
    q = (1 + np.e) ** 2
    a, d = _values_and_derivatives(Mish(), [0.0, 1.0])
    assert_allclose(a, [0.0, (q - 1) / (q + 1)], rtol=1e-15, atol=0)
    assert d[0] == pytest.approx(0.6, rel=1e-15)


def test_hard_sigmoid_and_relu6_values():
    # PyTorch's (and Keras 3's) definition: clip(z / 6 + 1/2, 0, 1), exactly 0 and 1 at -3, 3.
    a, d = _values_and_derivatives(HardSigmoid(), [-3.0, 3.0, 0.0, 1.5, -4.0, 4.0, -1e4])
    assert_array_equal(a, [0.0, 1.0, 0.5, 0.75, 0.0, 1.0, 0.0])
    assert_allclose(d[2:], [1 / 6, 1 / 6, 0.0, 0.0, 0.0], rtol=1e-15)
    a, d = _values_and_derivatives(ReLU6(), [-1.0, 0.5, 3.0, 6.0, 7.0])
    assert_array_equal(a, [0.0, 0.5, 3.0, 6.0, 6.0])
    assert_array_equal(d[[0, 1, 2, 4]], [0.0, 1.0, 1.0, 0.0])


# -- 5. get_activation and parameter handling ----------------------------------------------

EXPECTED_ALIASES = {
    "identity": Identity,
    "linear": Identity,
    "logistic": Logistic,
    "sigmoid": Logistic,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "silu": SiLU,
    "swish": SiLU,
    "softplus": Softplus,
    "softsign": Softsign,
    "hard_sigmoid": HardSigmoid,
    "mish": Mish,
    "relu6": ReLU6,
    "softmax": Softmax,
    "exp": Exp,
    "exponential": Exp,
}


def test_alias_table_is_complete():
    assert ACTIVATION_ALIASES == EXPECTED_ALIASES


@pytest.mark.parametrize("name, cls", sorted(EXPECTED_ALIASES.items()))
def test_get_activation_resolves_names(name, cls):
    act = get_activation(name)
    assert type(act) is cls
    assert act.get_params() == cls().get_params()  # default parameters
    assert get_activation(name) is not act  # a fresh instance each time


def test_get_activation_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="hard_swish") as excinfo:
        get_activation("hard_swish")
    for name in EXPECTED_ALIASES:
        assert repr(name) in str(excinfo.value)


class _OnlyForward:
    def forward(self, z, out=None):
        return z


class _DuckActivation:
    """Not an Activation subclass, but implements the protocol."""

    def __repr__(self):
        return "_DuckActivation()"

    def forward(self, z, out=None):
        return np.multiply(z, 2.0, out=out)

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, 2.0, out=out)


def test_get_activation_rejects_objects_missing_methods():
    with pytest.raises(TypeError, match="backward") as excinfo:
        get_activation(_OnlyForward())
    assert "'forward'" not in str(excinfo.value).split("lacks")[1].split("]")[0]
    with pytest.raises(TypeError) as excinfo:
        get_activation(object())
    missing = str(excinfo.value).split("lacks")[1].split("]")[0]
    assert "'forward'" in missing and "'backward'" in missing
    with pytest.raises(TypeError):
        get_activation(42)


@pytest.mark.parametrize("act", BUILTINS + [_DuckActivation()], ids=ids)
def test_get_activation_passes_objects_through(act):
    assert get_activation(act) is act


@pytest.mark.parametrize("act", BUILTINS, ids=ids)
def test_clone_and_pickle_round_trip(act):
    z, grad_a = _inputs(seed=3)
    for copy in (clone(act), pickle.loads(pickle.dumps(act))):
        assert type(copy) is type(act)
        assert copy is not act
        assert copy.get_params() == act.get_params()
        assert_allclose(copy.forward(z), act.forward(z), rtol=0)
        assert_allclose(copy.backward(z, act.forward(z), grad_a),
                        act.backward(z, act.forward(z), grad_a), rtol=0)


def test_clone_keeps_negative_slope():
    copy = clone(LeakyReLU(negative_slope=0.2))
    assert copy.negative_slope == 0.2
    assert_allclose(copy.forward(np.array([[-1.0]])), [[-0.2]])


def test_reprs_are_readable():
    assert repr(Logistic()) == "Logistic()"
    assert repr(Softmax()) == "Softmax()"
    assert repr(LeakyReLU()) == "LeakyReLU()"
    assert repr(LeakyReLU(negative_slope=0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(PReLU()) == "PReLU()"
    assert repr(PReLU(init=0.1)) == "PReLU(init=0.1)"
    assert repr(ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(SiLU()) == "SiLU()"


def test_get_params_and_set_params():
    act = LeakyReLU()
    assert act.get_params() == {"negative_slope": 0.01}
    assert act.set_params(negative_slope=0.3) is act
    assert act.get_params() == {"negative_slope": 0.3}
    assert_allclose(act.forward(np.array([[-2.0, 2.0]])), [[-0.6, 2.0]])
    for other in (Identity(), Logistic(), Tanh(), ReLU(), Softplus(), Softmax(), Exp(),
                  SELU(), SiLU(), Softsign(), HardSigmoid(), Mish(), ReLU6()):
        assert other.get_params() == {}
    assert PReLU().get_params() == {"init": 0.25}
    assert ELU().get_params() == {"alpha": 1.0}
    assert GELU().get_params() == {"approximate": "none"}
    prelu = PReLU().set_params(init=0.5)
    assert_array_equal(prelu.init_params(2, np.float64), [0.5, 0.5])
    elu = ELU().set_params(alpha=2.0)
    assert_allclose(elu.forward(np.array([[-1.0]])), [[2.0 * np.expm1(-1.0)]], rtol=1e-15)
    gelu = GELU().set_params(approximate="tanh")
    assert_allclose(gelu.forward(np.array([[1.0]])), [[0.8411919906082768]], rtol=1e-14)
    with pytest.raises(ValueError):
        LeakyReLU().set_params(slope=0.3)


# -- 6. user-defined activations -----------------------------------------------------------


class ScaledTanh(Activation):
    """``tanh(beta z)``: a user-defined activation with one parameter."""

    name = "scaled_tanh"
    output_range = (-1.0, 1.0)

    def __init__(self, beta=2.0):
        self.beta = beta

    def forward(self, z, out=None):
        out = np.multiply(z, self.beta, out=out)
        return np.tanh(out, out=out)

    def derivative(self, z, a, out=None):
        out = np.multiply(a, a, out=out)
        np.subtract(1, out, out=out)
        out *= self.beta
        return out


@FD_SETTINGS
@given(
    z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                 elements=st.floats(-2.0, 2.0)),
    beta=st.floats(0.5, 2.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_user_activation_gets_a_working_backward(z, beta, seed):
    act = ScaledTanh(beta=beta)
    grad_a = np.random.default_rng(seed).standard_normal(z.shape)
    grad_z = act.backward(z, act.forward(z), grad_a)  # inherited from Activation
    expected = grad_a * beta / np.cosh(beta * z) ** 2
    assert_allclose(grad_z, expected, rtol=1e-12, atol=1e-15)
    numerical = numerical_gradient(lambda x: np.sum(grad_a * act.forward(x)), z)
    assert relative_error(grad_z, numerical) < FD_RTOL
    out = np.empty_like(z)
    assert act.backward(z, act.forward(z), grad_a, out=out) is out
    assert_allclose(out, grad_z, rtol=1e-15)


def test_user_activation_plays_with_the_tooling():
    act = ScaledTanh(beta=0.5)
    assert get_activation(act) is act
    assert repr(act) == "ScaledTanh(beta=0.5)"
    assert clone(act).beta == 0.5
    assert pickle.loads(pickle.dumps(act)).beta == 0.5
    assert act.set_params(beta=3.0).beta == 3.0


def test_activation_missing_derivative_says_what_to_implement():
    class OnlyForward(Activation):
        def forward(self, z, out=None):
            return np.copy(z)

    z = np.zeros((2, 2))
    with pytest.raises(NotImplementedError, match="derivative"):
        OnlyForward().backward(z, z, z)
    with pytest.raises(NotImplementedError, match="forward"):
        Activation().forward(z)


# -- 7. against PyTorch (an independent implementation), float64 ----------------------------

# Our activation and the PyTorch function of (torch, x) it must equal. Softplus gets a
# threshold far beyond the inputs (PyTorch's default, 20, returns x itself above it).
TORCH_ACTIVATIONS = [
    (Identity(), lambda torch, x: x * 1.0),
    (Logistic(), lambda torch, x: torch.sigmoid(x)),
    (Tanh(), lambda torch, x: torch.tanh(x)),
    (ReLU(), lambda torch, x: torch.nn.functional.relu(x)),
    (LeakyReLU(), lambda torch, x: torch.nn.functional.leaky_relu(x)),
    (LeakyReLU(negative_slope=0.2), lambda torch, x: torch.nn.functional.leaky_relu(x, 0.2)),
    (ELU(), lambda torch, x: torch.nn.functional.elu(x)),
    (ELU(alpha=0.5), lambda torch, x: torch.nn.functional.elu(x, alpha=0.5)),
    (SELU(), lambda torch, x: torch.nn.functional.selu(x)),
    (GELU(), lambda torch, x: torch.nn.functional.gelu(x)),
    (GELU(approximate="tanh"),
     lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh")),
    (SiLU(), lambda torch, x: torch.nn.functional.silu(x)),
    (Softplus(), lambda torch, x: torch.nn.functional.softplus(x, threshold=1e3)),
    (Softsign(), lambda torch, x: torch.nn.functional.softsign(x)),
    # F.hardsigmoid's backward rounds 1/6 to float32; see the test after this one.
    (HardSigmoid(), lambda torch, x: torch.clamp(x / 6 + 0.5, 0.0, 1.0)),
    (Mish(), lambda torch, x: torch.nn.functional.mish(x)),
    (ReLU6(), lambda torch, x: torch.nn.functional.relu6(x)),
    (Softmax(), lambda torch, x: torch.softmax(x, dim=1)),
    (Exp(), lambda torch, x: torch.exp(x)),
]
TORCH_RTOL = 1e-12


def test_torch_table_covers_every_activation():
    assert {type(act) for act, _ in TORCH_ACTIVATIONS} == set(ACTIVATION_ALIASES.values()) - {
        PReLU}  # PReLU has its own test, with per-unit weights


def _torch_inputs(act, seed=0, shape=(40, 5)):
    """Float64 inputs over [-8, 8] (both kinks of ReLU6 and hard sigmoid inside), moved off
    the kinks, and a random upstream gradient."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-8.0, 8.0, size=shape)
    for kink in KINKS.get(type(act), ()):
        near = np.abs(z - kink) < 1e-3
        z[near] = kink + np.where(z[near] < kink, -1e-2, 1e-2)
    return z, rng.standard_normal(shape)


@pytest.mark.parametrize("act, torch_fn", TORCH_ACTIVATIONS,
                         ids=[repr(case[0]) for case in TORCH_ACTIVATIONS])
def test_forward_and_vjp_match_torch(act, torch_fn):
    torch = pytest.importorskip("torch")
    z, grad_a = _torch_inputs(act)
    x = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    y = torch_fn(torch, x)
    (grad_x,) = torch.autograd.grad(y, x, grad_outputs=torch.tensor(grad_a))
    a = act.forward(z)
    assert relative_error(a, y.detach().numpy()) < TORCH_RTOL
    assert relative_error(act.backward(z, a, grad_a), grad_x.numpy()) < TORCH_RTOL
    if act.elementwise:
        # The Jacobian is diagonal: a unit upstream gradient gives the derivative itself.
        (ones_x,) = torch.autograd.grad(torch_fn(torch, x), x,
                                        grad_outputs=torch.ones_like(x))
        assert relative_error(act.derivative(z, a), ones_x.numpy()) < TORCH_RTOL


def test_hard_sigmoid_matches_torch_hardsigmoid():
    # The same function as F.hardsigmoid; its backward in float64 multiplies by 1/6 rounded
    # to float32 (a relative error of 3e-8), so the table above differentiates PyTorch's
    # definition clamp(x / 6 + 1/2, 0, 1) instead, which is exact.
    torch = pytest.importorskip("torch")
    act = HardSigmoid()
    z, grad_a = _torch_inputs(act, seed=1)
    x = torch.tensor(z, requires_grad=True)
    y = torch.nn.functional.hardsigmoid(x)
    (grad_x,) = torch.autograd.grad(y, x, grad_outputs=torch.tensor(grad_a))
    a = act.forward(z)
    assert relative_error(a, y.detach().numpy()) < TORCH_RTOL
    assert relative_error(act.backward(z, a, grad_a), grad_x.numpy()) < 1e-7
    assert np.any(a == 0.0) and np.any(a == 1.0) and np.any((a > 0) & (a < 1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prelu_with_per_unit_weights_matches_torch(seed):
    torch = pytest.importorskip("torch")
    act = PReLU()
    z, grad_a = _torch_inputs(act, seed=seed)
    slopes = np.random.default_rng(seed + 10).uniform(-0.5, 1.5, size=z.shape[1])
    x = torch.tensor(z, requires_grad=True)
    weight = torch.tensor(slopes, requires_grad=True)  # num_parameters = n_units (dim 1)
    y = torch.nn.functional.prelu(x, weight)
    y.backward(torch.tensor(grad_a))
    a = act.forward(z, params=slopes)
    assert relative_error(a, y.detach().numpy()) < TORCH_RTOL
    assert relative_error(act.backward(z, a, grad_a, params=slopes), x.grad.numpy()) < TORCH_RTOL
    grad_s = act.param_gradient(z, a, grad_a, slopes)
    assert relative_error(grad_s, weight.grad.numpy()) < TORCH_RTOL
    # PyTorch's default initial slope is ours too.
    assert torch.nn.PReLU().weight.item() == PReLU().init


def test_shared_constant_vectors_are_reused_read_only_and_typed():
    # The training loop's rows of zeros (ReLU) and ones (row sums) come from a shared cache:
    # one vector per (value, length, dtype), which nobody may write into.
    from sknnloss.activations import _constant, _row_sums

    zeros32 = _constant(0, 7, np.float32)
    assert zeros32 is _constant(0, 7, np.float32)
    assert zeros32.dtype == np.float32 and zeros32.shape == (7,) and not zeros32.any()
    assert _constant(0, 7, np.float64) is not zeros32
    assert not zeros32.flags.writeable
    with pytest.raises(ValueError):
        zeros32[0] = 1.0
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    sums = _row_sums(a)
    assert sums.dtype == np.float32
    np.testing.assert_array_equal(sums, a.sum(axis=1))
    sums[0] = -1.0  # a fresh array, not the shared ones
    assert _constant(1, 4, np.float32).tolist() == [1.0] * 4

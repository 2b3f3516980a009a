"""Activations: derivatives against finite differences, ``out=`` buffers, numerical stability,
hand-checked values, name resolution, parameter handling and user-defined activations."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from sknnloss.activations import (
    ACTIVATION_ALIASES,
    EXP_RAW_MAX,
    Activation,
    Exp,
    Identity,
    LeakyReLU,
    Logistic,
    ReLU,
    Softmax,
    Softplus,
    Tanh,
    get_activation,
)

# Every built-in class once (default parameters), plus a non-default leaky slope.
BUILTINS = [cls() for cls in dict.fromkeys(ACTIVATION_ALIASES.values())] + [
    LeakyReLU(negative_slope=0.2)
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
}
# Points where the derivative jumps; drawn values closer than 1e-3 are moved off them.
KINKS = {ReLU: (0.0,), LeakyReLU: (0.0,), Exp: (EXP_RAW_MAX,)}
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


# -- 5. get_activation and parameter handling ----------------------------------------------

EXPECTED_ALIASES = {
    "identity": Identity,
    "linear": Identity,
    "logistic": Logistic,
    "sigmoid": Logistic,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softplus": Softplus,
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
    with pytest.raises(ValueError, match="swish") as excinfo:
        get_activation("swish")
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


def test_get_params_and_set_params():
    act = LeakyReLU()
    assert act.get_params() == {"negative_slope": 0.01}
    assert act.set_params(negative_slope=0.3) is act
    assert act.get_params() == {"negative_slope": 0.3}
    assert_allclose(act.forward(np.array([[-2.0, 2.0]])), [[-0.6, 2.0]])
    for other in (Identity(), Logistic(), Tanh(), ReLU(), Softplus(), Softmax(), Exp()):
        assert other.get_params() == {}
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

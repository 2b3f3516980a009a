"""Tests of the network engine: the flat parameter vector, initialisation, forward pass, the
objective's value and gradient (finite differences, scikit-learn's own backprop), buffers, and
the ``coefs_`` / ``intercepts_`` views through the estimators."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import ndtr, xlogy
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss import _network
from sknnloss._network import Network, Objective, sample_keys
from sknnloss.activations import (
    ACTIVATION_ALIASES,
    LeakyReLU,
    PReLU,
    Softmax,
    Tanh,
    get_activation,
)
from sknnloss.losses import LOSS_ALIASES, get_loss

N_SAMPLES = 7
N_FEATURES = 3
HIDDEN = (4, 3)
ALPHA = 0.3
FD_EPS = 1e-6
GRAD_RTOL = 1e-6
# Pre-activations of kinked functions (and margins / residuals of kinked losses) must stay at
# least this far from the kink so that central differences never cross it.
KINK_MARGIN = 1e-3


# ---------------------------------------------------------------------------------------
# Independent reference implementations (plain numpy, no package code).
# ---------------------------------------------------------------------------------------
def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# SELU's constants from Klambauer et al. (2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

REF_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "exp": np.exp,
    "softmax": _softmax,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
    "gelu": lambda z: z * ndtr(z),  # z times the standard normal CDF
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "mish": lambda z: z * np.tanh(np.log1p(np.exp(z))),
    "relu6": lambda z: np.minimum(np.maximum(z, 0.0), 6.0),
    # PReLU: one trained slope per unit, passed in (see ref_forward).
    "prelu": lambda z, slopes: np.where(z > 0, z, slopes * z),
}
TRAINABLE = {"prelu"}
# Where each hidden activation (or its first or second derivative: a central difference across
# a jump of either is too inaccurate for the 1e-6 check) is not smooth.
KINKS = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "prelu": (0.0,),
    "elu": (0.0,),
    "selu": (0.0,),
    "softsign": (0.0,),
    "hard_sigmoid": (-3.0, 3.0),
    "relu6": (0.0, 6.0),
}
# Weight scales (of the normal draws in make_problem) large enough that the pre-activations
# reach the saturated regions of the piecewise-linear activations, small enough that exp stays
# moderate.
HIDDEN_SCALE = {"exp": 0.3, "hard_sigmoid": 2.5, "relu6": 3.0}


def ref_pointwise_loss(loss_name, y, p):
    """Per-sample loss (summed over outputs) written from the textbook formulas."""
    if loss_name == "squared_error":
        return 0.5 * ((p - y) ** 2).sum(axis=1)
    if loss_name == "absolute_error":
        return np.abs(p - y).sum(axis=1)
    if loss_name == "poisson":
        return (xlogy(y, y) - y * np.log(p) - y + p).sum(axis=1)
    if loss_name == "binary_crossentropy":
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=1)
    if loss_name == "categorical_crossentropy":
        return -(y * np.log(p)).sum(axis=1)
    if loss_name == "sparse_categorical_crossentropy":
        return -np.log(p[np.arange(len(y)), y])
    if loss_name == "hinge":
        t = np.where(y > 0, 1.0, -1.0)
        return np.maximum(0.0, 1.0 - t * p).sum(axis=1)
    if loss_name == "huber":  # delta = 1
        r = np.abs(p - y)
        return np.where(r <= 1.0, 0.5 * r**2, r - 0.5).sum(axis=1)
    if loss_name == "quantile":  # q = 1/2: half the absolute error
        return (0.5 * np.abs(y - p)).sum(axis=1)
    if loss_name == "log_cosh":
        return np.log(np.cosh(p - y)).sum(axis=1)
    if loss_name == "gamma":  # half the Gamma deviance
        return (np.log(p / y) + y / p - 1.0).sum(axis=1)
    if loss_name == "tweedie":  # power 3/2: half the deviance, 0 at p = y
        return (2.0 * y / np.sqrt(p) + 2.0 * np.sqrt(p) - 4.0 * np.sqrt(y)).sum(axis=1)
    if loss_name == "focal":  # gamma = 2
        return -(y * (1 - p) ** 2 * np.log(p) + (1 - y) * p**2 * np.log(1 - p)).sum(axis=1)
    if loss_name == "squared_hinge":
        t = np.where(y > 0, 1.0, -1.0)
        return (np.maximum(0.0, 1.0 - t * p) ** 2).sum(axis=1)
    if loss_name == "modified_huber":
        z = np.where(y > 0, 1.0, -1.0) * p
        return np.where(z >= -1, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z).sum(axis=1)
    if loss_name == "categorical_hinge":  # one-hot y: the best other score against the target
        others = np.where(y > 0, -np.inf, p).max(axis=1)
        return np.maximum(0.0, 1.0 + others - (y * p).sum(axis=1))
    if loss_name == "kl_divergence":
        return (xlogy(y, y) - xlogy(y, p)).sum(axis=1)
    raise AssertionError(loss_name)


def ref_shapes(layer_units):
    return list(zip(layer_units[:-1], layer_units[1:]))


def ref_n_act_params(layer_units, hidden):
    """One trained slope per hidden unit for PReLU, nothing for the others."""
    return sum(layer_units[1:-1]) if hidden in TRAINABLE else 0


def ref_unpack(params, layer_units, hidden=None):
    """scikit-learn's packing: all coefficient matrices (C order), then all intercepts (then,
    for a trainable hidden activation, its parameters: see ref_slopes)."""
    coefs, intercepts, start = [], [], 0
    for fan_in, fan_out in ref_shapes(layer_units):
        coefs.append(params[start:start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for _, fan_out in ref_shapes(layer_units):
        intercepts.append(params[start:start + fan_out])
        start += fan_out
    assert start + ref_n_act_params(layer_units, hidden) == params.size
    return coefs, intercepts


def ref_slopes(params, layer_units):
    """PReLU's slopes: after every coefficient and intercept, hidden layer by hidden layer."""
    start = sum(i * o + o for i, o in ref_shapes(layer_units))
    slopes = []
    for units in layer_units[1:-1]:
        slopes.append(params[start:start + units])
        start += units
    assert start == params.size
    return slopes


def ref_forward(params, X, layer_units, hidden, output):
    """Hand-written forward pass; returns (pre-activations of hidden layers, raw, y_pred)."""
    coefs, intercepts = ref_unpack(params, layer_units, hidden)
    slopes = ref_slopes(params, layer_units) if hidden in TRAINABLE else None
    a = np.asarray(X.toarray() if sparse.issparse(X) else X)
    zs = []
    for i, (coef, intercept) in enumerate(zip(coefs[:-1], intercepts[:-1])):
        z = a @ coef + intercept
        zs.append(z)
        if hidden in TRAINABLE:
            a = REF_ACTIVATIONS[hidden](z, slopes[i])
        else:
            a = REF_ACTIVATIONS[hidden](z)
    raw = a @ coefs[-1] + intercepts[-1]
    return zs, raw, REF_ACTIVATIONS[output](raw)


def ref_objective_value(params, X, y, sw, layer_units, hidden, output, loss_name, alpha):
    _, _, y_pred = ref_forward(params, X, layer_units, hidden, output)
    pointwise = ref_pointwise_loss(loss_name, y, y_pred)
    w = np.ones(X.shape[0]) if sw is None else sw
    n_coef = sum(i * o for i, o in ref_shapes(layer_units))
    coef_flat = params[:n_coef]
    return float(pointwise @ w / w.sum() + alpha / (2 * w.sum()) * coef_flat @ coef_flat)


def fd_gradient(objective, params, X, y, sw, eps=FD_EPS):
    """Central finite differences of the objective value over the whole flat vector."""
    grad = np.empty_like(params)
    for j in range(params.size):
        plus, minus = params.copy(), params.copy()
        plus[j] += eps
        minus[j] -= eps
        f_plus = objective.loss_gradient(plus, X, y, sw)[0]
        f_minus = objective.loss_gradient(minus, X, y, sw)[0]
        grad[j] = (f_plus - f_minus) / (plus[j] - minus[j])
    return grad


def rel_error(a, b):
    denom = max(np.linalg.norm(a), np.linalg.norm(b))
    return np.linalg.norm(a - b) / denom if denom > 0 else 0.0


def make_network(n_features, hidden_sizes, n_outputs, hidden, output):
    layer_units = [n_features, *hidden_sizes, n_outputs]
    hidden_act = get_activation(hidden) if isinstance(hidden, str) else hidden
    output_act = get_activation(output) if isinstance(output, str) else output
    return Network(layer_units, [hidden_act] * len(hidden_sizes), output_act), layer_units


# ---------------------------------------------------------------------------------------
# Problem construction
# ---------------------------------------------------------------------------------------
def _targets(loss_name, rng, raw, y_pred):
    """Targets for ``loss_name`` given the network's outputs at the base point."""
    n, k = raw.shape
    if loss_name == "squared_error":
        return rng.normal(size=(n, k))
    if loss_name == "absolute_error":
        # Far from the prediction: no residual anywhere near the kink.
        sign = np.where(rng.uniform(size=(n, k)) < 0.5, -1.0, 1.0)
        return y_pred + sign * rng.uniform(0.5, 2.0, size=(n, k))
    if loss_name == "poisson":
        return rng.poisson(1.5, size=(n, k)).astype(float)
    if loss_name == "binary_crossentropy":
        return (rng.uniform(size=(n, k)) < 0.5).astype(float)
    if loss_name == "categorical_crossentropy":
        y = np.zeros((n, k))
        y[np.arange(n), rng.randint(k, size=n)] = 1.0
        return y
    if loss_name == "sparse_categorical_crossentropy":
        return rng.randint(k, size=n).astype(np.intp)
    if loss_name in ("hinge", "squared_hinge", "modified_huber", "focal"):
        return (rng.uniform(size=(n, k)) < 0.5).astype(float)
    if loss_name == "huber":
        # Residuals in both the quadratic (|r| < 1) and the linear (|r| > 1) part.
        sign = np.where(rng.uniform(size=(n, k)) < 0.5, -1.0, 1.0)
        size = np.where(rng.uniform(size=(n, k)) < 0.5, rng.uniform(0.1, 0.8, size=(n, k)),
                        rng.uniform(1.2, 2.5, size=(n, k)))
        return y_pred + sign * size
    if loss_name == "quantile":
        sign = np.where(rng.uniform(size=(n, k)) < 0.5, -1.0, 1.0)
        return y_pred + sign * rng.uniform(0.5, 2.0, size=(n, k))
    if loss_name == "log_cosh":
        return rng.normal(scale=2.0, size=(n, k))
    if loss_name == "gamma":
        return rng.uniform(0.2, 3.0, size=(n, k))
    if loss_name == "tweedie":  # exact zeros and positive amounts
        return np.where(rng.uniform(size=(n, k)) < 0.3, 0.0, rng.gamma(2.0, 1.0, size=(n, k)))
    if loss_name == "categorical_hinge":
        return np.eye(k)[rng.randint(k, size=n)]
    if loss_name == "kl_divergence":
        return rng.dirichlet(np.ones(k), size=n)
    raise AssertionError(loss_name)


def _is_kink_free(loss_name, hidden, zs, raw, y_pred, y):
    for kink in KINKS.get(hidden, ()):
        if min(np.abs(z - kink).min() for z in zs) < KINK_MARGIN:
            return False
    if loss_name in ("absolute_error", "quantile") and np.abs(y_pred - y).min() < KINK_MARGIN:
        return False
    if loss_name == "huber" and np.abs(np.abs(y_pred - y) - 1.0).min() < KINK_MARGIN:
        return False
    if loss_name in ("hinge", "squared_hinge", "modified_huber"):
        margin = np.where(y > 0, 1.0, -1.0) * y_pred
        active = margin < 1
        # Stay away from the kinks, and have both active and inactive terms.
        kinks = (1.0, -1.0) if loss_name == "modified_huber" else (1.0,)
        if min(np.abs(margin - kink).min() for kink in kinks) < KINK_MARGIN:
            return False
        if active.sum() < 2 or (~active).sum() < 2:
            return False
    if loss_name == "categorical_hinge":
        others = np.sort(np.where(y > 0, -np.inf, y_pred), axis=1)
        target = (y * y_pred).sum(axis=1)
        margin = 1.0 + others[:, -1] - target
        # No margin of 0 and no tie for the best other score. The implementation takes Keras'
        # masked maximum of (1 - y) * scores, in which the target's own entry is a 0: keep the
        # best other score and the margin against that 0 away from 0 too.
        keras_margin = 1.0 + np.maximum(others[:, -1], 0.0) - target
        if min(np.abs(margin).min(), (others[:, -1] - others[:, -2]).min(),
               np.abs(others[:, -1]).min(), np.abs(keras_margin).min()) < KINK_MARGIN:
            return False
        if (margin > 0).sum() < 2:  # (a softmax output keeps every sample active)
            return False
    return True


def make_problem(hidden, output, loss_name, n_outputs, weighted, scale=0.6, out_scale=1.0,
                 sparse_X=False, n_samples=N_SAMPLES):
    """The first seed whose point is away from every kink: (params, X, y, sw, layer_units)."""
    for seed in range(200):
        rng = np.random.RandomState(seed)
        layer_units = [N_FEATURES, *HIDDEN, n_outputs]
        n_params = sum(i * o + o for i, o in ref_shapes(layer_units))
        params = rng.normal(scale=scale, size=n_params)
        if hidden in TRAINABLE:
            # A nontrivial slope per unit (of either sign), after the intercepts.
            params = np.concatenate([params, rng.uniform(-0.5, 1.5, size=sum(HIDDEN))])
        coefs, intercepts = ref_unpack(params, layer_units, hidden)
        coefs[-1] *= out_scale
        intercepts[-1] *= out_scale
        X = rng.normal(size=(n_samples, N_FEATURES))
        if sparse_X:
            X[np.abs(X) < 0.5] = 0.0
        sw = rng.uniform(0.2, 3.0, size=n_samples) if weighted else None
        zs, raw, y_pred = ref_forward(params, X, layer_units, hidden, output)
        y = _targets(loss_name, rng, raw, y_pred)
        if _is_kink_free(loss_name, hidden, zs, raw, y_pred, y):
            if sparse_X:
                X = sparse.csr_matrix(X)
            return params, X, y, sw, layer_units
    raise AssertionError("no kink-free seed found")


def check_gradient(hidden, output, loss_name, fused, n_outputs, weighted, alpha=ALPHA,
                   **kwargs):
    params, X, y, sw, layer_units = make_problem(hidden, output, loss_name, n_outputs,
                                                 weighted, **kwargs)
    network, _ = make_network(N_FEATURES, HIDDEN, n_outputs, hidden, output)
    objective = Objective(network, get_loss(loss_name), alpha, fused)
    value, grad = objective.loss_gradient(params, X, y, sw)
    assert grad.shape == params.shape and grad.dtype == np.float64
    assert np.all(np.isfinite(grad))

    # The gradient is the derivative of the objective's own value ...
    grad_fd = fd_gradient(objective, params, X, y, sw)
    assert np.linalg.norm(grad) > 1e-3  # a non-trivial check
    err = rel_error(grad, grad_fd)
    assert err < GRAD_RTOL, f"relative gradient error {err:.3g}"
    # ... and that value is the textbook one.
    expected = ref_objective_value(params, X, y, sw, layer_units, hidden, output, loss_name,
                                   alpha)
    assert value == pytest.approx(expected, rel=1e-10, abs=1e-12)
    return objective, params, X, y, sw


# ---------------------------------------------------------------------------------------
# 1. Whole-objective gradient checks
# ---------------------------------------------------------------------------------------
HIDDEN_ACTIVATIONS = sorted(name for name in ACTIVATION_ALIASES
                            if ACTIVATION_ALIASES[name] is not Softmax)
# Canonical names only (aliases map to the same classes).
HIDDEN_ACTIVATIONS = [name for name in HIDDEN_ACTIVATIONS if name in REF_ACTIVATIONS]


def test_hidden_activation_list_is_complete():
    classes = {ACTIVATION_ALIASES[n] for n in ACTIVATION_ALIASES} - {Softmax}
    assert {ACTIVATION_ALIASES[n] for n in HIDDEN_ACTIVATIONS} == classes
    assert set(HIDDEN_ACTIVATIONS) == {
        "identity", "logistic", "tanh", "relu", "leaky_relu", "softplus", "exp",
        "prelu", "elu", "selu", "gelu", "silu", "softsign", "hard_sigmoid", "mish", "relu6"}
    assert TRAINABLE == {n for n in HIDDEN_ACTIVATIONS
                         if getattr(get_activation(n), "trainable", False)}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_gradient_every_hidden_activation(hidden, weighted):
    scale = HIDDEN_SCALE.get(hidden, 0.6)
    objective, params, X, _, _ = check_gradient(hidden, "identity", "squared_error", True, 2,
                                                weighted, scale=scale)
    zs, _, _ = ref_forward(params, X, objective.network.layer_units, hidden, "identity")
    z = np.concatenate([z.ravel() for z in zs])
    kinks = KINKS.get(hidden, ())
    if kinks:
        # Pre-activations on every side of every kink: each piece is exercised.
        edges = np.concatenate([[-np.inf], kinks, [np.inf]])
        assert all(np.any((z > lo) & (z < hi)) for lo, hi in zip(edges[:-1], edges[1:]))


def test_gradient_prelu_slopes_are_in_the_flat_vector():
    # The slopes follow the intercepts; their gradient entries match finite differences too
    # (check_gradient checks the whole vector) and are nonzero, and L2 leaves them alone.
    objective, params, X, y, sw = check_gradient("prelu", "identity", "squared_error", True, 2,
                                                 True)
    network = objective.network
    layer_units = network.layer_units
    n_weights = sum(i * o + o for i, o in ref_shapes(layer_units))
    assert network.n_params == params.size == n_weights + sum(HIDDEN)
    views = network.unpack_activation_params(params)
    for view, expected in zip(views, ref_slopes(params, layer_units)):
        assert np.shares_memory(view, params)
        np.testing.assert_array_equal(view, expected)
    assert len(set(np.round(params[n_weights:], 12))) == sum(HIDDEN)  # nontrivial slopes
    _, grad = objective.loss_gradient(params, X, y, sw)
    slope_grads = network.unpack_activation_params(grad)
    # A slope gets a gradient exactly when its unit has a negative pre-activation somewhere.
    zs, _, _ = ref_forward(params, X, layer_units, "prelu", "identity")
    for g, z in zip(slope_grads, zs):
        np.testing.assert_array_equal(g != 0, (z < 0).any(axis=0))
    assert np.count_nonzero(grad[n_weights:]) >= sum(HIDDEN) // 2
    # by hand: d/dslope_j = sum_i grad_a[i, j] * min(z[i, j], 0); the penalty adds nothing
    _, grad0 = Objective(network, get_loss("squared_error"), 0.0, True).loss_gradient(
        params, X, y, sw)
    np.testing.assert_array_equal(grad[n_weights:], grad0[n_weights:])
    value, _ = objective.loss_gradient(params, X, y, sw)
    bumped = params.copy()
    bumped[n_weights:] *= 3.0  # the penalty ignores the slopes' size
    value_b = objective.loss_gradient(bumped, X, y, sw)[0]
    value0_b = Objective(network, get_loss("squared_error"), 0.0, True).loss_gradient(
        bumped, X, y, sw)[0]
    value0 = Objective(network, get_loss("squared_error"), 0.0, True).loss_gradient(
        params, X, y, sw)[0]
    assert value_b - value0_b == pytest.approx(value - value0, rel=1e-12)


def test_gradient_prelu_mixed_with_other_layers():
    # PReLU in some hidden layers only: each has its own slope segment, in layer order.
    rng = np.random.RandomState(0)
    layer_units = [N_FEATURES, 4, 3, 3, 2]
    acts = [PReLU(), Tanh(), PReLU()]
    network = Network(layer_units, acts, get_activation("identity"))
    n_weights = sum(i * o + o for i, o in ref_shapes(layer_units))
    assert network.n_params == n_weights + 4 + 3
    assert network.activation_param_slices == [(n_weights, n_weights + 4), None,
                                               (n_weights + 4, n_weights + 7)]
    params = rng.normal(scale=0.7, size=network.n_params)
    params[n_weights:] = rng.uniform(-0.5, 1.5, size=7)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    y = rng.normal(size=(N_SAMPLES, 2))
    sw = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    # the forward pass by hand
    coefs, intercepts = network.unpack(params)
    s1, s3 = params[n_weights:n_weights + 4], params[n_weights + 4:]
    z1 = X @ coefs[0] + intercepts[0]
    z2 = np.where(z1 > 0, z1, s1 * z1) @ coefs[1] + intercepts[1]
    z3 = np.tanh(z2) @ coefs[2] + intercepts[2]
    raw = np.where(z3 > 0, z3, s3 * z3) @ coefs[3] + intercepts[3]
    assert min(np.abs(z1).min(), np.abs(z3).min()) > KINK_MARGIN
    np.testing.assert_allclose(network.forward(params, X)[0], raw, rtol=1e-12)
    objective = Objective(network, get_loss("squared_error"), ALPHA, True)
    value, grad = objective.loss_gradient(params, X, y, sw)
    expected = np.average(0.5 * ((raw - y) ** 2).sum(axis=1), weights=sw) + ALPHA / (
        2 * sw.sum()) * float(params[:network.n_coef] @ params[:network.n_coef])
    assert value == pytest.approx(expected, rel=1e-12)
    assert rel_error(grad, fd_gradient(objective, params, X, y, sw)) < GRAD_RTOL
    # A slope gets a gradient exactly when its unit has a negative pre-activation somewhere.
    np.testing.assert_array_equal(grad[n_weights:n_weights + 4] != 0, (z1 < 0).any(axis=0))
    np.testing.assert_array_equal(grad[n_weights + 4:] != 0, (z3 < 0).any(axis=0))
    assert np.count_nonzero(grad[n_weights:]) >= 4


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "tanh"])
def test_gradient_hidden_activation_with_softmax_output(hidden):
    check_gradient(hidden, "softmax", "sparse_categorical_crossentropy", True, 3, True)


def test_gradient_leaky_relu_custom_slope():
    params, X, y, sw, layer_units = make_problem("relu", "identity", "squared_error", 2, True)
    network, _ = make_network(N_FEATURES, HIDDEN, 2, LeakyReLU(negative_slope=0.2), "identity")
    objective = Objective(network, get_loss("squared_error"), ALPHA, True)
    _, grad = objective.loss_gradient(params, X, y, sw)
    assert rel_error(grad, fd_gradient(objective, params, X, y, sw)) < GRAD_RTOL


CANONICAL = [
    # loss, canonical output activation, n_outputs
    ("squared_error", "identity", 2),
    ("absolute_error", "identity", 2),
    ("poisson", "exp", 2),
    ("binary_crossentropy", "logistic", 2),
    ("categorical_crossentropy", "softmax", 3),
    ("sparse_categorical_crossentropy", "softmax", 3),
    ("hinge", "identity", 2),
    ("huber", "identity", 2),
    ("quantile", "identity", 2),
    ("log_cosh", "identity", 2),
    ("gamma", "exp", 2),
    ("tweedie", "exp", 2),
    ("focal", "logistic", 2),
    ("squared_hinge", "identity", 2),
    ("modified_huber", "identity", 2),
    ("categorical_hinge", "identity", 3),
    ("kl_divergence", "softmax", 3),
]
# Identity outputs of margin losses get larger output weights, which spread the margins on
# both sides of their kinks.
OUT_SCALE = {"hinge": 3.0, "squared_hinge": 3.0, "modified_huber": 3.0,
             "categorical_hinge": 3.0}


def test_canonical_table_covers_every_loss():
    assert {LOSS_ALIASES[name] for name, _, _ in CANONICAL} == set(LOSS_ALIASES.values())
    for loss_name, output, _ in CANONICAL:
        assert get_loss(loss_name).canonical_activation == output


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss_name, output, n_outputs", CANONICAL,
                         ids=[c[0] for c in CANONICAL])
def test_gradient_every_loss_canonical_fused(loss_name, output, n_outputs, weighted):
    check_gradient("tanh", output, loss_name, True, n_outputs, weighted,
                   out_scale=OUT_SCALE.get(loss_name, 1.0))


NON_CANONICAL = [
    # loss, output activation, n_outputs
    ("squared_error", "logistic", 2),
    ("squared_error", "tanh", 2),
    ("squared_error", "softplus", 2),
    ("absolute_error", "softplus", 2),
    ("binary_crossentropy", "softmax", 3),  # softmax keeps every output inside (0, 1)
    ("categorical_crossentropy", "logistic", 3),
    ("sparse_categorical_crossentropy", "softmax", 3),  # canonical pair, unfused path
    ("poisson", "softplus", 2),
    ("poisson", "exp", 2),  # canonical pair, unfused path
    ("hinge", "tanh", 2),
    ("huber", "tanh", 2),
    ("quantile", "softplus", 2),
    ("log_cosh", "logistic", 2),
    ("gamma", "softplus", 2),
    ("tweedie", "softplus", 2),
    ("gamma", "exp", 2),  # canonical pair, unfused path
    ("focal", "logistic", 2),  # canonical pair, unfused path
    ("focal", "softmax", 3),
    ("squared_hinge", "tanh", 2),
    ("modified_huber", "tanh", 2),
    ("categorical_hinge", "softmax", 3),
    ("kl_divergence", "softmax", 3),  # canonical pair, unfused path
    ("kl_divergence", "logistic", 3),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss_name, output, n_outputs", NON_CANONICAL,
                         ids=[f"{c[0]}-{c[1]}" for c in NON_CANONICAL])
def test_gradient_non_canonical_unfused(loss_name, output, n_outputs, weighted):
    if output == "tanh" and loss_name in ("hinge", "squared_hinge", "modified_huber"):
        # |tanh(raw)| < 1, so every margin is in (-1, 1): every term is active and on the
        # same piece (no kink to cross, and no inactive term to ask for).
        params, X, y, sw, layer_units = make_problem("tanh", output, "binary_crossentropy",
                                                     n_outputs, weighted)
        network, _ = make_network(N_FEATURES, HIDDEN, n_outputs, "tanh", output)
        objective = Objective(network, get_loss(loss_name), ALPHA, False)
        value, grad = objective.loss_gradient(params, X, y, sw)
        assert value == pytest.approx(ref_objective_value(
            params, X, y, sw, layer_units, "tanh", output, loss_name, ALPHA), rel=1e-10)
        assert rel_error(grad, fd_gradient(objective, params, X, y, sw)) < GRAD_RTOL
        return
    check_gradient("tanh", output, loss_name, False, n_outputs, weighted)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss_name, output, n_outputs", CANONICAL,
                         ids=[c[0] for c in CANONICAL])
def test_fused_equals_composed_for_canonical_pairs(loss_name, output, n_outputs, weighted):
    out_scale = OUT_SCALE.get(loss_name, 1.0)
    params, X, y, sw, _ = make_problem("tanh", output, loss_name, n_outputs, weighted,
                                       out_scale=out_scale)
    network, _ = make_network(N_FEATURES, HIDDEN, n_outputs, "tanh", output)
    loss = get_loss(loss_name)
    value_f, grad_f = Objective(network, loss, ALPHA, True).loss_gradient(params, X, y, sw)
    value_c, grad_c = Objective(network, loss, ALPHA, False).loss_gradient(params, X, y, sw)
    assert value_f == pytest.approx(value_c, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad_f, grad_c, rtol=1e-10, atol=1e-13)


def test_sparse_categorical_fused_and_unfused_match_categorical_one_hot():
    params, X, y, sw, _ = make_problem("relu", "softmax", "sparse_categorical_crossentropy",
                                       3, True)
    network, _ = make_network(N_FEATURES, HIDDEN, 3, "relu", "softmax")
    one_hot = np.eye(3)[y]
    results = [
        Objective(network, get_loss("sparse_categorical_crossentropy"), ALPHA, True)
        .loss_gradient(params, X, y, sw),
        Objective(network, get_loss("sparse_categorical_crossentropy"), ALPHA, False)
        .loss_gradient(params, X, y, sw),
        Objective(network, get_loss("categorical_crossentropy"), ALPHA, True)
        .loss_gradient(params, X, one_hot, sw),
        Objective(network, get_loss("categorical_crossentropy"), ALPHA, False)
        .loss_gradient(params, X, one_hot, sw),
    ]
    for value, grad in results[1:]:
        assert value == pytest.approx(results[0][0], rel=1e-12)
        np.testing.assert_allclose(grad, results[0][1], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_checked_targets_skip_the_check_and_nothing_else(weighted, label_smoothing):
    """With targets_checked (the estimators' call), the sparse cross-entropy's twin without
    the per-batch target check runs: the same value and gradient. Unchecked, a bad target
    still gets the loss's error; a subclass overriding loss_gradient_raw runs its own."""
    from sknnloss.losses import SparseCategoricalCrossEntropy

    params, X, y, sw, _ = make_problem("relu", "softmax", "sparse_categorical_crossentropy",
                                       3, weighted)
    y = np.asarray(y, dtype=np.intp)
    network, _ = make_network(N_FEATURES, HIDDEN, 3, "relu", "softmax")
    loss = SparseCategoricalCrossEntropy(label_smoothing=label_smoothing)
    checked = Objective(network, loss, ALPHA, True, targets_checked=True)
    unchecked = Objective(network, loss, ALPHA, True)
    assert checked._raw_method == "_loss_gradient_raw_checked"
    value_c, grad_c = checked.loss_gradient(params, X, y, sw)
    value_u, grad_u = unchecked.loss_gradient(params, X, y, sw)
    assert value_c == value_u
    np.testing.assert_array_equal(grad_c, grad_u)
    with pytest.raises(ValueError, match="class"):
        unchecked.loss_gradient(params, X, np.where(y == 0, 3, y), sw)

    calls = []

    class Recorded(SparseCategoricalCrossEntropy):
        def loss_gradient_raw(self, y_true, raw, sample_weight=None, out=None):
            calls.append(y_true)
            return super().loss_gradient_raw(y_true, raw, sample_weight, out=out)

    own = Objective(network, Recorded(label_smoothing=label_smoothing), ALPHA, True,
                    targets_checked=True)
    assert own._raw_method == "loss_gradient_raw"
    value_o, _ = own.loss_gradient(params, X, y, sw)
    assert len(calls) == 1 and value_o == value_u

    # Any subclass, whatever it overrides, and a method set on the instance run as written.
    class Remapped(SparseCategoricalCrossEntropy):
        def _rows(self, y_true, n_classes):
            calls.append(y_true)
            return super()._rows(y_true, n_classes)

    patched = SparseCategoricalCrossEntropy(label_smoothing=label_smoothing)
    patched.loss_gradient_raw = Recorded(label_smoothing=label_smoothing).loss_gradient_raw
    for other in (Remapped(label_smoothing=label_smoothing), patched):
        objective = Objective(network, other, ALPHA, True, targets_checked=True)
        assert objective._raw_method == "loss_gradient_raw"
        assert objective.loss_gradient(params, X, y, sw)[0] == value_u
    assert len(calls) == 3
    with pytest.raises(ValueError, match="label_smoothing"):
        Objective(network, SparseCategoricalCrossEntropy(label_smoothing=1.5), ALPHA, True,
                  targets_checked=True).loss_gradient(params, X, y, sw)


@pytest.mark.parametrize("normalised", [True, False], ids=["distributions", "counts"])
@pytest.mark.parametrize("fused", [True, False])
def test_gradient_categorical_soft_targets(fused, normalised):
    # Rows that are distributions (or non-negative rows of any mass) rather than one-hot.
    params, X, _, sw, layer_units = make_problem("tanh", "softmax",
                                                 "categorical_crossentropy", 3, True)
    rng = np.random.RandomState(1)
    y = rng.dirichlet(np.ones(3), size=N_SAMPLES)
    if not normalised:
        y *= rng.uniform(0.3, 3.0, size=(N_SAMPLES, 1))
    network, _ = make_network(N_FEATURES, HIDDEN, 3, "tanh", "softmax")
    objective = Objective(network, get_loss("categorical_crossentropy"), ALPHA, fused)
    value, grad = objective.loss_gradient(params, X, y, sw)
    assert value == pytest.approx(ref_objective_value(
        params, X, y, sw, layer_units, "tanh", "softmax", "categorical_crossentropy", ALPHA),
        rel=1e-10)
    assert rel_error(grad, fd_gradient(objective, params, X, y, sw)) < GRAD_RTOL


# ---------------------------------------------------------------------------------------
# 2. L2 penalty scaling, against scikit-learn
# ---------------------------------------------------------------------------------------
def _sklearn_loss_grad(est, params, X, y, sw):
    """scikit-learn's own value and packed gradient at ``params`` (its lbfgs objective)."""
    n_layers = est.n_layers_
    activations = [X] + [None] * (n_layers - 1)
    deltas = [None] * (n_layers - 1)
    coef_grads = [np.empty_like(c) for c in est.coefs_]
    intercept_grads = [np.empty_like(b) for b in est.intercepts_]
    return est._loss_grad_lbfgs(params.copy(), X, y, sw, activations, deltas, coef_grads,
                                intercept_grads)


def _fit_sklearn(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


SKLEARN_CASES = [
    # estimator kind, sklearn loss, hidden activation, our loss, our output activation
    ("regressor", "squared_error", "identity", "squared_error", "identity"),
    ("regressor", "squared_error", "logistic", "squared_error", "identity"),
    ("regressor", "squared_error", "tanh", "squared_error", "identity"),
    ("regressor", "squared_error", "relu", "squared_error", "identity"),
    ("regressor", "poisson", "tanh", "poisson", "exp"),
    ("binary", "log_loss", "relu", "binary_crossentropy", "logistic"),
    ("multiclass", "log_loss", "tanh", "sparse_categorical_crossentropy", "softmax"),
    ("multiclass", "log_loss", "logistic", "categorical_crossentropy", "softmax"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind, sk_loss, hidden, loss_name, output", SKLEARN_CASES,
                         ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in SKLEARN_CASES])
def test_objective_matches_sklearn_backprop(kind, sk_loss, hidden, loss_name, output,
                                            weighted):
    rng = np.random.RandomState(0)
    n = 12
    X = rng.normal(size=(n, N_FEATURES))
    sw = rng.uniform(0.2, 3.0, size=n) if weighted else None
    common = dict(hidden_layer_sizes=HIDDEN, activation=hidden, solver="lbfgs", max_iter=1,
                  alpha=ALPHA, random_state=0)
    if kind == "regressor":
        y_fit = rng.poisson(2.0, size=n).astype(float) if sk_loss == "poisson" \
            else rng.normal(size=n)
        est = _fit_sklearn(SkMLPRegressor(loss=sk_loss, **common), X, y_fit)
        y_sk = y_fit.reshape(-1, 1)
        y_ours = y_sk
        n_outputs = 1
    elif kind == "binary":
        y_fit = np.arange(n) % 2
        est = _fit_sklearn(SkMLPClassifier(**common), X, y_fit)
        y_sk = y_fit.reshape(-1, 1).astype(float)
        y_ours = y_sk
        n_outputs = 1
    else:
        y_fit = np.arange(n) % 3
        est = _fit_sklearn(SkMLPClassifier(**common), X, y_fit)
        y_sk = np.eye(3)[y_fit]
        y_ours = y_fit.astype(np.intp) if loss_name.startswith("sparse") else y_sk
        n_outputs = 3
    assert est.out_activation_ == output

    network, layer_units = make_network(N_FEATURES, HIDDEN, n_outputs, hidden, output)
    params = rng.normal(scale=0.5, size=network.n_params)
    sk_value, sk_grad = _sklearn_loss_grad(est, params, X, y_sk, sw)
    value, grad = Objective(network, get_loss(loss_name), ALPHA, True).loss_gradient(
        params, X, y_ours, sw)
    assert value == pytest.approx(sk_value, rel=1e-10)
    np.testing.assert_allclose(grad, sk_grad, rtol=1e-9, atol=1e-12)

    # Without the penalty both agree too, so the penalty terms themselves agree.
    est.alpha = 0.0
    sk_value0, sk_grad0 = _sklearn_loss_grad(est, params, X, y_sk, sw)
    value0, grad0 = Objective(network, get_loss(loss_name), 0.0, True).loss_gradient(
        params, X, y_ours, sw)
    assert value0 == pytest.approx(sk_value0, rel=1e-10)
    np.testing.assert_allclose(grad0, sk_grad0, rtol=1e-9, atol=1e-12)
    assert value - value0 == pytest.approx(sk_value - sk_value0, rel=1e-8)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_l2_penalty_by_hand(weighted, fused):
    params, X, y, sw, layer_units = make_problem("tanh", "logistic", "binary_crossentropy",
                                                 2, weighted)
    network, _ = make_network(N_FEATURES, HIDDEN, 2, "tanh", "logistic")
    loss = get_loss("binary_crossentropy")
    alpha = 0.7
    value, grad = Objective(network, loss, alpha, fused).loss_gradient(params, X, y, sw)
    value0, grad0 = Objective(network, loss, 0.0, fused).loss_gradient(params, X, y, sw)
    s = N_SAMPLES if sw is None else sw.sum()
    coefs, _ = ref_unpack(params, layer_units)
    sum_sq = sum(float((c ** 2).sum()) for c in coefs)
    assert value - value0 == pytest.approx(alpha / (2 * s) * sum_sq, rel=1e-10)

    diff_coefs, diff_intercepts = ref_unpack(grad - grad0, layer_units)
    for diff, coef in zip(diff_coefs, coefs):
        np.testing.assert_allclose(diff, alpha * coef / s, rtol=1e-10, atol=1e-14)
    for diff in diff_intercepts:
        np.testing.assert_allclose(diff, 0.0, atol=1e-14)
    assert network.n_coef == sum(c.size for c in coefs)


def test_l2_penalty_scales_with_weights_not_samples():
    # Doubling every weight halves the penalty's share; the data term is unchanged.
    params, X, y, sw, _ = make_problem("tanh", "identity", "squared_error", 2, True)
    network, _ = make_network(N_FEATURES, HIDDEN, 2, "tanh", "identity")
    loss = get_loss("squared_error")
    v1 = Objective(network, loss, ALPHA, True).loss_gradient(params, X, y, sw)[0]
    v2 = Objective(network, loss, ALPHA, True).loss_gradient(params, X, y, 2 * sw)[0]
    v0 = Objective(network, loss, 0.0, True).loss_gradient(params, X, y, sw)[0]
    assert v2 - v0 == pytest.approx((v1 - v0) / 2, rel=1e-10)


# ---------------------------------------------------------------------------------------
# 3. Initialisation
# ---------------------------------------------------------------------------------------
def _reference_init(seed, layer_units, hidden):
    factor = 2.0 if hidden == "logistic" else 6.0
    rs = np.random.RandomState(seed)
    coefs, intercepts, bounds = [], [], []
    for fan_in, fan_out in ref_shapes(layer_units):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
        bounds.append(bound)
    return coefs, intercepts, bounds


@pytest.mark.parametrize("hidden", ["relu", "logistic", "sigmoid", "tanh", "identity",
                                    "softplus"])
@pytest.mark.parametrize("seed", [0, 42])
def test_initialize_reproduces_glorot_rule(hidden, seed):
    layer_units = [5, 7, 4, 3]
    network, _ = make_network(5, (7, 4), 3, hidden, "softmax")
    params = network.initialize(np.random.RandomState(seed), np.float64)
    assert params.dtype == np.float64 and params.shape == (network.n_params,)
    rule = "logistic" if hidden in ("logistic", "sigmoid") else hidden
    ref_coefs, ref_intercepts, bounds = _reference_init(seed, layer_units, rule)
    coefs, intercepts = network.unpack(params)
    for coef, intercept, ref_coef, ref_intercept, bound in zip(
            coefs, intercepts, ref_coefs, ref_intercepts, bounds):
        np.testing.assert_array_equal(coef, ref_coef)
        np.testing.assert_array_equal(intercept, ref_intercept)
        assert np.all(np.abs(coef) <= bound) and np.all(np.abs(intercept) <= bound)
    # The flat vector is scikit-learn's packing of those arrays.
    np.testing.assert_array_equal(
        params, np.concatenate([c.ravel() for c in ref_coefs] + ref_intercepts))


@pytest.mark.parametrize("hidden", ["relu", "logistic", "tanh", "identity"])
def test_initialize_equals_sklearn_init_coef(hidden):
    layer_units = [6, 5, 2]
    network, _ = make_network(6, (5,), 2, hidden, "identity")
    params = network.initialize(np.random.RandomState(3), np.float64)
    est = SkMLPRegressor(activation=hidden)
    est._random_state = np.random.RandomState(3)
    expected = [est._init_coef(i, o, np.float64) for i, o in ref_shapes(layer_units)]
    coefs, intercepts = network.unpack(params)
    for (c_ref, b_ref), c, b in zip(expected, coefs, intercepts):
        np.testing.assert_array_equal(c, c_ref)
        np.testing.assert_array_equal(b, b_ref)


def test_initialize_float32():
    layer_units = [5, 7, 4, 3]
    network, _ = make_network(5, (7, 4), 3, "tanh", "softmax")
    params = network.initialize(np.random.RandomState(0), np.float32)
    assert params.dtype == np.float32
    coefs, intercepts = network.unpack(params)
    assert all(c.dtype == np.float32 for c in coefs + intercepts)
    ref_coefs, ref_intercepts, bounds = _reference_init(0, layer_units, "tanh")
    for c, b, rc, rb, bound in zip(coefs, intercepts, ref_coefs, ref_intercepts, bounds):
        np.testing.assert_array_equal(c, rc.astype(np.float32))
        np.testing.assert_array_equal(b, rb.astype(np.float32))
        assert np.all(np.abs(c) <= np.float32(bound))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_initialize_puts_prelu_init_into_its_slopes_without_random_draws(dtype):
    layer_units = [5, 7, 4, 3]
    network = Network(layer_units, [PReLU(init=0.1), PReLU(init=-0.3)],
                      get_activation("softmax"))
    n_weights = sum(i * o + o for i, o in ref_shapes(layer_units))
    assert network.n_params == n_weights + 7 + 4
    rs = np.random.RandomState(42)
    params = network.initialize(rs, dtype)
    assert params.dtype == dtype and params.shape == (network.n_params,)
    # The weights are scikit-learn's Glorot draws for the same seed (factor 6, as for relu) ...
    ref_coefs, ref_intercepts, _ = _reference_init(42, layer_units, "relu")
    coefs, intercepts = network.unpack(params)
    for got, want in zip(coefs + intercepts, ref_coefs + ref_intercepts):
        np.testing.assert_array_equal(got, want.astype(dtype))
    # ... the slopes are the init values ...
    slopes = network.unpack_activation_params(params)
    np.testing.assert_array_equal(slopes[0], np.full(7, 0.1, dtype=dtype))
    np.testing.assert_array_equal(slopes[1], np.full(4, -0.3, dtype=dtype))
    np.testing.assert_array_equal(params[n_weights:], np.r_[np.full(7, 0.1), np.full(4, -0.3)]
                                  .astype(dtype))
    # ... and no random number went into them: the generator stands where it would after
    # initialising the same network with ReLU.
    relu_rs = np.random.RandomState(42)
    relu_params = Network(layer_units, [get_activation("relu")] * 2,
                          get_activation("softmax")).initialize(relu_rs, dtype)
    np.testing.assert_array_equal(params[:n_weights], relu_params)
    assert rs.random_sample() == relu_rs.random_sample()


def test_initialize_mixed_trainable_layers():
    layer_units = [5, 7, 4, 3]
    network = Network(layer_units, [get_activation("tanh"), PReLU(init=0.4)],
                      get_activation("identity"))
    n_weights = sum(i * o + o for i, o in ref_shapes(layer_units))
    assert network.activation_param_slices == [None, (n_weights, n_weights + 4)]
    params = network.initialize(np.random.RandomState(0), np.float64)
    views = network.unpack_activation_params(params)
    assert views[0] is None
    np.testing.assert_array_equal(views[1], np.full(4, 0.4))
    assert np.shares_memory(views[1], params)
    ref_coefs, ref_intercepts, _ = _reference_init(0, layer_units, "tanh")
    np.testing.assert_array_equal(
        params[:n_weights], np.concatenate([c.ravel() for c in ref_coefs] + ref_intercepts))


def test_trainable_output_activation_is_rejected():
    with pytest.raises(ValueError, match="hidden"):
        Network([3, 4, 2], [get_activation("relu")], PReLU())
    with pytest.raises(ValueError, match="hidden"):
        Network([3, 2], [], get_activation("prelu"))
    # A trainable *hidden* activation is fine, and a network without one has no slopes.
    assert Network([3, 4, 2], [PReLU()], get_activation("identity")).n_params == 3 * 4 + 4 * 2 \
        + 4 + 2 + 4
    plain = Network([3, 4, 2], [get_activation("relu")], get_activation("identity"))
    assert plain.activation_param_slices == [None]
    assert plain.unpack_activation_params(np.zeros(plain.n_params)) == [None]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_estimator_starts_from_sklearn_weights(activation, dtype):
    # A vanishing SGD step leaves the initial weights bit-for-bit unchanged in both.
    X, y = make_classification(n_samples=40, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    X = X.astype(dtype)
    kwargs = dict(hidden_layer_sizes=(6, 4), activation=activation, solver="sgd",
                  max_iter=1, learning_rate_init=1e-300, momentum=0.0, shuffle=False,
                  random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**kwargs).fit(X, y)
        theirs = SkMLPClassifier(**kwargs).fit(X, y)
        ours_r = MLPRegressor(**kwargs).fit(X, X[:, 0])
        theirs_r = SkMLPRegressor(**kwargs).fit(X, X[:, 0])
    for a, b in [(ours, theirs), (ours_r, theirs_r)]:
        assert len(a.coefs_) == len(b.coefs_)
        for mine, ref in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            assert mine.dtype == ref.dtype == dtype
            np.testing.assert_array_equal(mine, ref)


# ---------------------------------------------------------------------------------------
# 4. coefs_ / intercepts_ as views of the flat vector, through the estimators
# ---------------------------------------------------------------------------------------
def _fit_quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=60, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    return X, y


@pytest.fixture
def fitted_clf(clf_data):
    X, y = clf_data
    return _fit_quiet(MLPClassifier(hidden_layer_sizes=(6, 4), solver="lbfgs", max_iter=20,
                                    random_state=0), X, y)


def _assert_views(est):
    for arr in list(est.coefs_) + list(est.intercepts_):
        assert np.shares_memory(arr, est._params)
    assert est._params.ndim == 1
    n_params = sum(c.size for c in est.coefs_) + sum(b.size for b in est.intercepts_)
    assert est._params.size == n_params
    # The packing order: all coefficients, then all intercepts.
    np.testing.assert_array_equal(
        est._params,
        np.concatenate([c.ravel() for c in est.coefs_] + [b for b in est.intercepts_]))


def _manual_proba(est, X):
    a = X
    for c, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        a = np.maximum(a @ c + b, 0.0)
    return _softmax(a @ est.coefs_[-1] + est.intercepts_[-1])


def test_views_shapes_and_memory(fitted_clf, clf_data):
    X, _ = clf_data
    est = fitted_clf
    assert [c.shape for c in est.coefs_] == [(5, 6), (6, 4), (4, 3)]
    assert [b.shape for b in est.intercepts_] == [(6,), (4,), (3,)]
    _assert_views(est)
    np.testing.assert_allclose(est.predict_proba(X), _manual_proba(est, X), rtol=1e-12)


def test_in_place_edit_changes_predictions(fitted_clf, clf_data):
    X, _ = clf_data
    est = fitted_clf
    before = est.predict_proba(X)
    n_coef = sum(c.size for c in est.coefs_)
    est.coefs_[0][0, 0] += 3.0
    assert est._params[0] == est.coefs_[0][0, 0]
    after = est.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, _manual_proba(est, X), rtol=1e-12)

    est.intercepts_[-1][1] += 5.0
    assert est._params[n_coef + 6 + 4 + 1] == est.intercepts_[-1][1]
    after2 = est.predict_proba(X)
    assert not np.allclose(after, after2)
    np.testing.assert_allclose(after2, _manual_proba(est, X), rtol=1e-12)
    np.testing.assert_array_equal(est.predict(X), est.classes_[after2.argmax(axis=1)])


def test_item_assignment_writes_through(fitted_clf, clf_data):
    X, _ = clf_data
    est = fitted_clf
    params_id = id(est._params)
    before = est.predict_proba(X)
    new = np.random.RandomState(1).normal(size=(6, 4))
    est.coefs_[1] = new
    assert id(est._params) == params_id
    np.testing.assert_array_equal(est.coefs_[1], new)
    np.testing.assert_array_equal(est._params[30:54], new.ravel())
    _assert_views(est)
    after = est.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, _manual_proba(est, X), rtol=1e-12)

    new_b = np.array([1.0, -2.0, 0.5])
    est.intercepts_[2] = new_b
    np.testing.assert_array_equal(est.intercepts_[2], new_b)
    np.testing.assert_array_equal(est._params[-3:], new_b)

    snapshot = est._params.copy()
    with pytest.raises(ValueError):
        est.coefs_[1] = np.zeros((4, 6))
    with pytest.raises(ValueError):
        est.intercepts_[0] = np.zeros(5)
    np.testing.assert_array_equal(est._params, snapshot)


def test_list_assignment_writes_through(fitted_clf, clf_data):
    X, _ = clf_data
    est = fitted_clf
    params_id = id(est._params)
    rng = np.random.RandomState(2)
    new_coefs = [rng.normal(size=c.shape) for c in est.coefs_]
    new_intercepts = [rng.normal(size=b.shape) for b in est.intercepts_]
    est.coefs_ = new_coefs
    est.intercepts_ = new_intercepts
    assert id(est._params) == params_id
    for got, want in zip(est.coefs_ + est.intercepts_, new_coefs + new_intercepts):
        np.testing.assert_array_equal(got, want)
    _assert_views(est)
    np.testing.assert_allclose(est.predict_proba(X), _manual_proba(est, X), rtol=1e-12)

    snapshot = est._params.copy()
    with pytest.raises(ValueError):
        est.coefs_ = new_coefs[:2]
    with pytest.raises(ValueError):
        est.coefs_ = [c.T for c in new_coefs]
    np.testing.assert_array_equal(est._params[:sum(c.size for c in new_coefs)],
                                  snapshot[:sum(c.size for c in new_coefs)])


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copies_keep_views(fitted_clf, clf_data, how):
    X, _ = clf_data
    est = fitted_clf
    clone = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    assert clone._params is not est._params
    assert not np.shares_memory(clone._params, est._params)
    _assert_views(clone)
    for arr in clone.coefs_ + clone.intercepts_:
        assert not np.shares_memory(arr, est._params)
    np.testing.assert_array_equal(clone.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))

    # The copy's views write into the copy only.
    before = est.predict_proba(X)
    clone.coefs_[0][0, 0] += 3.0
    assert clone._params[0] == clone.coefs_[0][0, 0]
    np.testing.assert_array_equal(est.predict_proba(X), before)
    assert not np.allclose(clone.predict_proba(X), before)
    clone.coefs_[0] = np.zeros((5, 6))
    assert np.all(clone._params[:30] == 0)
    assert not np.all(est._params[:30] == 0)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_float32_input_gives_float32_weights(Estimator, clf_data):
    X, y = clf_data
    X32 = X.astype(np.float32)
    est = _fit_quiet(Estimator(hidden_layer_sizes=(6, 4), solver="lbfgs", max_iter=20,
                               random_state=0), X32, y)
    assert est._params.dtype == np.float32
    assert all(c.dtype == np.float32 for c in est.coefs_)
    assert all(b.dtype == np.float32 for b in est.intercepts_)
    _assert_views(est)
    est64 = _fit_quiet(Estimator(hidden_layer_sizes=(6, 4), solver="lbfgs", max_iter=20,
                                 random_state=0), X, y)
    assert est64._params.dtype == np.float64


def test_regressor_views_and_shapes():
    X, y = make_regression(n_samples=50, n_features=4, n_targets=2, random_state=0)
    y = y / y.std()
    est = _fit_quiet(MLPRegressor(hidden_layer_sizes=(5, 3, 2), activation="tanh",
                                  solver="lbfgs", max_iter=20, random_state=0), X, y)
    assert [c.shape for c in est.coefs_] == [(4, 5), (5, 3), (3, 2), (2, 2)]
    assert [b.shape for b in est.intercepts_] == [(5,), (3,), (2,), (2,)]
    _assert_views(est)
    before = est.predict(X)
    est.intercepts_[-1][...] += np.array([1.0, -2.0])  # identity output: a pure shift
    np.testing.assert_allclose(est.predict(X), before + np.array([1.0, -2.0]), atol=1e-12)

    est1 = _fit_quiet(MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20,
                                   random_state=0), X, y[:, 0])
    assert [c.shape for c in est1.coefs_] == [(4, 5), (5, 1)]
    assert [b.shape for b in est1.intercepts_] == [(5,), (1,)]
    _assert_views(est1)


# ---------------------------------------------------------------------------------------
# 5. Network.forward
# ---------------------------------------------------------------------------------------
FORWARD_CASES = [(h, o) for h in HIDDEN_ACTIVATIONS
                 for o in ["identity", "logistic", "softmax", "exp"]]


@pytest.mark.parametrize("hidden, output", FORWARD_CASES,
                         ids=[f"{h}-{o}" for h, o in FORWARD_CASES])
def test_forward_matches_numpy_and_allocates(hidden, output):
    rng = np.random.RandomState(0)
    network, layer_units = make_network(N_FEATURES, HIDDEN, 3, hidden, output)
    params = rng.normal(scale=0.4, size=network.n_params)
    X = rng.normal(size=(9, N_FEATURES))
    params_copy, X_copy = params.copy(), X.copy()

    raw1, pred1 = network.forward(params, X)
    raw2, pred2 = network.forward(params, X)
    _, ref_raw, ref_pred = ref_forward(params, X, layer_units, hidden, output)
    np.testing.assert_allclose(raw1, ref_raw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pred1, ref_pred, rtol=1e-12, atol=1e-14)
    assert raw1.shape == pred1.shape == (9, 3)

    arrays = [raw1, pred1, raw2, pred2]
    for i, a in enumerate(arrays):
        assert not np.shares_memory(a, params)
        assert not np.shares_memory(a, X)
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    # Inputs untouched; scribbling on a result does not affect the next call.
    np.testing.assert_array_equal(params, params_copy)
    np.testing.assert_array_equal(X, X_copy)
    raw1[...] = np.nan
    pred1[...] = np.nan
    raw3, pred3 = network.forward(params, X)
    np.testing.assert_array_equal(raw3, raw2)
    np.testing.assert_array_equal(pred3, pred2)

    raw32, pred32 = network.forward(params.astype(np.float32), X.astype(np.float32))
    assert raw32.dtype == pred32.dtype == np.float32
    np.testing.assert_allclose(pred32, ref_pred, rtol=1e-4, atol=1e-5)


def test_forward_sparse_input_matches_dense():
    rng = np.random.RandomState(0)
    network, _ = make_network(N_FEATURES, HIDDEN, 2, "relu", "logistic")
    params = rng.normal(size=network.n_params)
    X = rng.normal(size=(8, N_FEATURES))
    X[np.abs(X) < 0.6] = 0
    raw_d, pred_d = network.forward(params, X)
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        raw_s, pred_s = network.forward(params, fmt(X))
        assert isinstance(raw_s, np.ndarray) and isinstance(pred_s, np.ndarray)
        np.testing.assert_allclose(raw_s, raw_d, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(pred_s, pred_d, rtol=1e-12, atol=1e-14)


def test_unpack_views_and_layout():
    network, layer_units = make_network(3, (4, 2), 5, "relu", "identity")
    assert network.n_weight_layers == 3
    assert network.n_coef == 3 * 4 + 4 * 2 + 2 * 5
    assert network.n_params == network.n_coef + 4 + 2 + 5
    params = np.arange(network.n_params, dtype=float)
    coefs, intercepts = network.unpack(params)
    ref_coefs, ref_intercepts = ref_unpack(params, layer_units)
    for a, b in zip(coefs + intercepts, ref_coefs + ref_intercepts):
        np.testing.assert_array_equal(a, b)
        assert np.shares_memory(a, params)
    coefs[1][1, 0] = -1.0
    assert params[12 + 2] == -1.0


# ---------------------------------------------------------------------------------------
# 6. Buffers and dtypes
# ---------------------------------------------------------------------------------------
BUFFER_CASES = [
    ("relu", "identity", "squared_error", True, 2),
    ("tanh", "logistic", "squared_error", False, 2),
    ("tanh", "softmax", "sparse_categorical_crossentropy", True, 3),
    ("tanh", "softmax", "sparse_categorical_crossentropy", False, 3),
    ("logistic", "exp", "poisson", True, 2),
    ("softplus", "softplus", "poisson", False, 2),
    ("tanh", "logistic", "binary_crossentropy", True, 2),
    ("tanh", "identity", "hinge", True, 2),
    ("prelu", "identity", "huber", True, 2),  # slopes in the flat vector and its gradient
    ("selu", "logistic", "focal", False, 2),
    ("mish", "exp", "tweedie", True, 2),
    ("gelu", "softmax", "kl_divergence", True, 3),
]


@pytest.mark.parametrize("hidden, output, loss_name, fused, n_outputs", BUFFER_CASES,
                         ids=[f"{c[2]}-{c[1]}-{'fused' if c[3] else 'unfused'}"
                              for c in BUFFER_CASES])
def test_buffer_slicing(hidden, output, loss_name, fused, n_outputs):
    params, X, y, sw, _ = make_problem(hidden, output, loss_name, n_outputs, True,
                                       n_samples=20)
    network, _ = make_network(N_FEATURES, HIDDEN, n_outputs, hidden, output)
    loss = get_loss(loss_name)
    objective = Objective(network, loss, ALPHA, fused)

    big_value, big_grad = objective.loss_gradient(params, X, y, sw)
    big_grad_copy = big_grad.copy()
    for rows in (slice(0, 7), slice(5, 17), slice(19, 20)):
        for weights in (None, sw[rows]):
            value, grad = objective.loss_gradient(params, X[rows], y[rows], weights)
            fresh_value, fresh_grad = Objective(network, loss, ALPHA, fused).loss_gradient(
                params, X[rows], y[rows], weights)
            assert value == fresh_value
            np.testing.assert_array_equal(grad, fresh_grad)
            assert not np.shares_memory(grad, big_grad)
    # A returned gradient is never overwritten by later calls.
    np.testing.assert_array_equal(big_grad, big_grad_copy)
    # Back to the full batch: the same result as the first call.
    value, grad = objective.loss_gradient(params, X, y, sw)
    assert value == big_value
    np.testing.assert_array_equal(grad, big_grad_copy)

    # Growing again past the capacity: a small batch first, then a larger one.
    objective = Objective(network, loss, ALPHA, fused)
    for n in (3, 11, 20, 2):
        value, grad = objective.loss_gradient(params, X[:n], y[:n], sw[:n])
        fresh_value, fresh_grad = Objective(network, loss, ALPHA, fused).loss_gradient(
            params, X[:n], y[:n], sw[:n])
        assert value == fresh_value
        np.testing.assert_array_equal(grad, fresh_grad)

    # out= receives the gradient.
    out = np.full_like(params, np.nan)
    value, grad = objective.loss_gradient(params, X[:4], y[:4], sw[:4], out=out)
    assert grad is out
    fresh_value, fresh_grad = Objective(network, loss, ALPHA, fused).loss_gradient(
        params, X[:4], y[:4], sw[:4])
    assert value == fresh_value
    np.testing.assert_array_equal(out, fresh_grad)


@pytest.mark.parametrize("hidden, output, loss_name, fused, n_outputs", BUFFER_CASES,
                         ids=[f"{c[2]}-{c[1]}-{'fused' if c[3] else 'unfused'}"
                              for c in BUFFER_CASES])
def test_float32_params_give_float32_gradient(hidden, output, loss_name, fused, n_outputs):
    params, X, y, sw, _ = make_problem(hidden, output, loss_name, n_outputs, True)
    network, _ = make_network(N_FEATURES, HIDDEN, n_outputs, hidden, output)
    loss = get_loss(loss_name)
    objective = Objective(network, loss, ALPHA, fused)
    value64, grad64 = objective.loss_gradient(params, X, y, sw)

    y32 = y if y.dtype.kind == "i" else y.astype(np.float32)
    value32, grad32 = objective.loss_gradient(
        params.astype(np.float32), X.astype(np.float32), y32, sw.astype(np.float32))
    assert grad32.dtype == np.float32
    assert isinstance(value32, float)
    assert value32 == pytest.approx(value64, rel=1e-4)
    np.testing.assert_allclose(grad32, grad64, rtol=2e-3, atol=2e-4 * np.abs(grad64).max())
    # And switching back to float64 on the same objective is exact again.
    value, grad = objective.loss_gradient(params, X, y, sw)
    assert grad.dtype == np.float64 and value == value64
    np.testing.assert_array_equal(grad, grad64)


@pytest.mark.parametrize("fused", [True, False])
def test_sparse_input_objective_matches_dense(fused):
    params, X, y, sw, _ = make_problem("relu", "softmax", "sparse_categorical_crossentropy",
                                       3, True, sparse_X=True)
    network, _ = make_network(N_FEATURES, HIDDEN, 3, "relu", "softmax")
    objective = Objective(network, get_loss("sparse_categorical_crossentropy"), ALPHA, fused)
    value_s, grad_s = objective.loss_gradient(params, X, y, sw)
    value_d, grad_d = objective.loss_gradient(params, X.toarray(), y, sw)
    assert value_s == pytest.approx(value_d, rel=1e-12)
    np.testing.assert_allclose(grad_s, grad_d, rtol=1e-10, atol=1e-14)
    assert rel_error(grad_s, fd_gradient(objective, params, X, y, sw)) < GRAD_RTOL


# ---------------------------------------------------------------------------------------
# 7. Trainable activations through the estimators
# ---------------------------------------------------------------------------------------
def test_estimator_trains_prelu_slopes_and_exposes_them_as_views():
    X, y = make_regression(n_samples=40, n_features=3, noise=5.0, random_state=0)
    y = y / y.std()
    est = _fit_quiet(MLPRegressor(hidden_layer_sizes=(4, 3), activation="prelu",
                                  solver="lbfgs", max_iter=30, random_state=0), X, y)
    slopes = est.activation_params_
    assert [s.shape for s in slopes] == [(4,), (3,)]
    for arr in list(slopes) + list(est.coefs_) + list(est.intercepts_):
        assert np.shares_memory(arr, est._params)
    n_weights = sum(c.size for c in est.coefs_) + sum(b.size for b in est.intercepts_)
    assert est._params.size == n_weights + 7
    np.testing.assert_array_equal(est._params[n_weights:], np.concatenate(slopes))
    assert not np.allclose(np.concatenate(slopes), PReLU().init)  # trained from 0.25

    def by_hand():
        a = X
        for c, b, s in zip(est.coefs_[:-1], est.intercepts_[:-1], est.activation_params_):
            z = a @ c + b
            a = np.where(z > 0, z, s * z)
        return (a @ est.coefs_[-1] + est.intercepts_[-1]).ravel()

    np.testing.assert_allclose(est.predict(X), by_hand(), rtol=1e-12, atol=1e-12)
    # Assigning a layer's slopes writes through to the flat vector and the predictions.
    before = est.predict(X)
    est.activation_params_[0] = np.full(4, -0.5)
    np.testing.assert_array_equal(est._params[n_weights:n_weights + 4], -0.5)
    assert not np.allclose(est.predict(X), before)
    np.testing.assert_allclose(est.predict(X), by_hand(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        est.activation_params_[1] = np.zeros(4)

    relu = _fit_quiet(MLPRegressor(hidden_layer_sizes=(4, 3), solver="lbfgs", max_iter=5,
                                   random_state=0), X, y)
    assert list(relu.activation_params_) == [None, None]
    with pytest.raises(ValueError):
        relu.activation_params_[0] = np.zeros(4)


def test_estimator_rejects_a_trainable_output_activation():
    X, y = make_regression(n_samples=20, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="hidden"):
        MLPRegressor(hidden_layer_sizes=(4,), output_activation="prelu", max_iter=5).fit(X, y)


def test_output_only_hidden_activations_run_in_place_during_training():
    # ReLU's derivative needs only its output: its layer keeps one array, not two; ELU keeps
    # both. The gradient itself is checked against finite differences above.
    network = Network([3, 4, 5, 2], [get_activation("relu"), get_activation("elu")],
                      get_activation("identity"))
    objective = Objective(network, get_loss("squared_error"), 0.0, True)
    rng = np.random.RandomState(0)
    params = network.initialize(rng, np.float64)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    _, grad = objective.loss_gradient(params, X, y)
    buffers = objective._buffers
    assert buffers.a[0] is buffers.h[0]
    assert buffers.a[1] is not buffers.h[1]
    # The same gradient as a network whose ReLU must keep z (it is not told it may not).
    relu_keeping_z = type("ReLUKeepingZ", (get_activation("relu").__class__,),
                          {"derivative_from_output": False})()
    other = Network([3, 4, 5, 2], [relu_keeping_z, get_activation("elu")],
                    get_activation("identity"))
    _, expected = Objective(other, get_loss("squared_error"), 0.0, True).loss_gradient(
        params, X, y)
    np.testing.assert_array_equal(grad, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["plain", "weighted", "zero-weight-block", "dropout",
                                  "softmax"])
def test_row_blocks_give_the_whole_batch_gradient(case, dtype, monkeypatch):
    # A large batch is processed in blocks of rows (the cache-friendly path of the scipy
    # solvers): the value and gradient must be those of the whole batch at once.
    rng = np.random.RandomState(0)
    n_samples, hidden = 3000, 40  # 2**15 // 40 = 819 rows: 4 blocks of 750
    X = rng.normal(size=(n_samples, 5)).astype(dtype)
    if case == "softmax":
        network = Network([5, hidden, 3], [get_activation("tanh")], get_activation("softmax"))
        loss, y = get_loss("sparse_categorical_crossentropy"), rng.randint(0, 3, n_samples)
    else:
        network = Network([5, hidden, 2], [get_activation("relu")], get_activation("identity"))
        loss, y = get_loss("squared_error"), rng.normal(size=(n_samples, 2))
    sw = None
    if case in ("weighted", "zero-weight-block"):
        sw = rng.uniform(0.5, 2.0, n_samples)
        if case == "zero-weight-block":
            sw[750:1500] = 0.0
    dropout = [0.3] if case == "dropout" else None
    keys = sample_keys(X) if dropout else None
    params = network.initialize(rng, dtype)

    def evaluate(block_elements):
        monkeypatch.setattr(_network, "TRAIN_BLOCK_ELEMENTS", block_elements)
        objective = Objective(network, loss, 0.3, True, dropout=dropout)
        objective.set_dropout_seed(7)
        return objective, objective.loss_gradient(params, X, y, sw, sample_keys=keys)

    blocked_objective, (blocked_value, blocked_grad) = evaluate(2 ** 15)
    assert blocked_objective._last_rows == 750  # it did run in blocks
    _, (value, grad) = evaluate(2 ** 40)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    assert blocked_value == pytest.approx(value, rel=rtol)
    assert blocked_grad.dtype == dtype
    np.testing.assert_allclose(blocked_grad, grad, rtol=rtol, atol=rtol * np.abs(grad).max())


@pytest.mark.parametrize("output", ["softmax", "logistic", "identity"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_forward_in_row_blocks_equals_one_pass(output, fmt):
    # 2,600 rows go through in blocks of 1024 (FORWARD_BLOCK_ROWS): the result is the one-pass
    # result, with and without the output activation, keeping the raw output or not.
    rng = np.random.RandomState(0)
    network = Network([4, 8, 3], [get_activation("tanh")], get_activation(output))
    params = network.initialize(rng, np.float64)
    X = rng.normal(size=(2600, 4))
    X[X < 0.2] = 0.0
    Xf = X if fmt == "dense" else getattr(sparse, f"{fmt}_matrix")(X)
    coefs, intercepts = network.unpack(params)
    raw = np.tanh(X @ coefs[0] + intercepts[0]) @ coefs[1] + intercepts[1]
    expected = get_activation(output).forward(raw.copy())
    got_raw, got = network.forward(params, Xf)
    np.testing.assert_allclose(got_raw, raw, rtol=1e-12)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert network.forward(params, Xf, keep_raw=False)[0] is None
    np.testing.assert_allclose(network.forward(params, Xf, keep_raw=False)[1], expected,
                               rtol=1e-12)
    np.testing.assert_allclose(network.forward(params, Xf, apply_output=False)[1], raw,
                               rtol=1e-12)
    # The argmax of the raw outputs, block by block without the whole raw output.
    np.testing.assert_array_equal(network.raw_argmax(params, Xf), raw.argmax(axis=1))
    assert network.raw_argmax(params, Xf).dtype == np.intp


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [1, 5, 1024, 1025, 3000])
def test_raw_argmax_over_block_edges_and_with_batch_norm(dtype, n_rows):
    # Row counts below, at and across the block size; batch normalisation in prediction mode
    # with non-trivial statistics; the dtype of the result does not depend on X's.
    rng = np.random.RandomState(1)
    network = Network([3, 6, 40], [get_activation("relu")], get_activation("softmax"),
                      batch_norm=True)
    params = network.initialize(rng, dtype)
    scales, shifts, means, variances = network.unpack_batch_norm(params)
    scales[0][...] = rng.uniform(0.5, 2, 6)
    shifts[0][...] = rng.normal(size=6)
    means[0][...] = rng.normal(size=6)
    variances[0][...] = rng.uniform(0.5, 2, 6)
    X = rng.normal(size=(n_rows, 3)).astype(dtype)
    raw = network.forward(params, X, apply_output=False)[1]
    got = network.raw_argmax(params, X)
    np.testing.assert_array_equal(got, raw.argmax(axis=1))
    assert got.shape == (n_rows,)


def test_multiclass_predict_skips_the_softmax_but_agrees_with_predict_proba():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=4,
                               random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.out_activation_ == "softmax"
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[clf.predict_proba(X).argmax(1)])
    # More rows than one prediction block, string labels, float32 input.
    X_many = np.resize(X, (2500, X.shape[1]))
    labels = np.array(["a", "b", "c", "d"])[y]
    clf_str = clone(clf).fit(X, labels)
    np.testing.assert_array_equal(
        clf_str.predict(X_many), clf_str.classes_[clf_str.predict_proba(X_many).argmax(1)])
    X32 = X_many.astype(np.float32)
    np.testing.assert_array_equal(clf_str.predict(X32),
                                  clf_str.classes_[clf_str.predict_proba(X32).argmax(1)])

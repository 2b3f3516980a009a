"""Building blocks of the ONNX export (:mod:`sknnloss.onnx`).

A small graph builder over skl2onnx's scope and container, and the ONNX form of every
built-in activation. Every activation is written with elementary ONNX operators (``Exp``,
``Log``, ``Tanh``, ``Where``, arithmetic...) whose constants are initializers in the dtype of
the graph, so that a float64 graph keeps float64 constants: ONNX's fused activation operators
(``LeakyRelu``, ``Elu``, ``Selu``, ``HardSigmoid``) store their constants as 32-bit float
attributes, and onnxruntime's ``Sigmoid`` and ``Softplus`` lose the tails (float32
``Sigmoid`` is a rational approximation; float64 ``Softplus(-100)`` gives 0). The numerically
delicate pieces are computed the way NumPy and SciPy compute them:

* ``log1p`` (softplus, mish) with Goldberg's formula ``log(u) * x / (u - 1)``, ``u = 1 + x``;
* ``expm1`` (ELU, SELU) with Kahan's formula ``(u - 1) * x / log(u)``, ``u = exp(x)``;
* ``erfc`` (exact GELU), which ONNX lacks (its ``Erf`` has no float64 kernel in
  onnxruntime and cancels in the tail): a Taylor series of ``erf`` for ``|x| < 1/2`` and, above,
  ``exp(-x^2)`` (split so that the square is exact) times a Chebyshev series of the scaled
  complement ``erfcx``. The Chebyshev coefficients are computed when the graph is built, by
  interpolating :func:`scipy.special.erfcx`; the result is accurate to about 20 units in the
  last place in float64 and 4 in float32 over the whole real line, tails included.
"""

import math
from functools import lru_cache
from numbers import Real

import numpy as np
from numpy.polynomial import chebyshev
from onnx import TensorProto
from scipy.special import erfcx

from .activations import (
    ELU,
    EXP_RAW_MAX,
    GELU,
    SELU,
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
)

__all__ = ["GraphBuilder", "SUPPORTED_ACTIVATIONS", "check_activation", "emit_activation"]

#: The lowest ONNX opset the export writes (``ReduceSum`` with ``axes`` as an input, ``Where``
#: and ``Equal`` in float64, ``LessOrEqual``).
MIN_OPSET = 13


class GraphBuilder:
    """Adds nodes and constants of one dtype to a skl2onnx container.

    Parameters
    ----------
    scope : skl2onnx Scope
        Provides unique variable and operator names.
    container : skl2onnx ModelComponentContainer
        Receives the nodes and initializers.
    dtype : {np.float32, np.float64}
        The dtype of the computation, and of every floating point constant.
    """

    def __init__(self, scope, container, dtype):
        self.scope = scope
        self.container = container
        self.dtype = np.dtype(dtype)
        self.proto = TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT
        self.opset = container.target_opset
        if self.opset is not None and self.opset < MIN_OPSET:
            raise ValueError(
                f"sknnloss.onnx writes ONNX opset {MIN_OPSET} or later; target_opset="
                f"{self.opset} was requested. Pass target_opset={MIN_OPSET} or later (or "
                "leave it unset for skl2onnx's default)."
            )
        self._constants = {}

    def name(self, hint):
        """A fresh variable name."""
        return self.scope.get_unique_variable_name(hint)

    def constant(self, value, hint="c"):
        """A floating point initializer in the graph's dtype; scalars are shared."""
        array = np.asarray(value, dtype=self.dtype)
        key = array.item() if array.ndim == 0 else None
        if key is not None and key in self._constants:
            return self._constants[key]
        name = self.name(hint)
        self.container.add_initializer(name, self.proto, list(array.shape), array.ravel())
        if key is not None:
            self._constants[key] = name
        return name

    def int64_constant(self, values, hint="i"):
        """An int64 initializer (shapes, axes, integer class labels)."""
        array = np.asarray(values, dtype=np.int64)
        name = self.name(hint)
        self.container.add_initializer(name, TensorProto.INT64, list(array.shape),
                                       array.ravel())
        return name

    def string_constant(self, values, hint="s"):
        """A 1-d string initializer (string class labels)."""
        encoded = [str(v).encode("utf-8") for v in values]
        name = self.name(hint)
        self.container.add_initializer(name, TensorProto.STRING, [len(encoded)], encoded)
        return name

    def node(self, op_type, *inputs, output=None, domain="", **attrs):
        """Add one node; return the name of its (single) output."""
        output = output or self.name(op_type.lower())
        self.container.add_node(op_type, list(inputs), [output], op_domain=domain,
                                name=self.scope.get_unique_operator_name(op_type), **attrs)
        return output

    def _value(self, x):
        """A variable name, or a number turned into a shared scalar constant."""
        return self.constant(x) if isinstance(x, Real) else x

    # Elementwise arithmetic; either operand may be a number.
    def add(self, x, y):
        return self.node("Add", self._value(x), self._value(y))

    def sub(self, x, y):
        return self.node("Sub", self._value(x), self._value(y))

    def mul(self, x, y):
        return self.node("Mul", self._value(x), self._value(y))

    def div(self, x, y):
        return self.node("Div", self._value(x), self._value(y))

    def maximum(self, x, y):
        return self.node("Max", self._value(x), self._value(y))

    def minimum(self, x, y):
        return self.node("Min", self._value(x), self._value(y))

    def clip(self, x, low, high):
        """``np.clip(x, low, high)``: ``minimum(maximum(x, low), high)``."""
        return self.minimum(self.maximum(x, low), high)

    def greater(self, x, y):
        return self.node("Greater", self._value(x), self._value(y))

    def less(self, x, y):
        return self.node("Less", self._value(x), self._value(y))

    def less_equal(self, x, y):
        return self.node("LessOrEqual", self._value(x), self._value(y))

    def equal(self, x, y):
        return self.node("Equal", self._value(x), self._value(y))

    def where(self, condition, x, y):
        return self.node("Where", condition, self._value(x), self._value(y))

    def unary(self, op_type, x):
        return self.node(op_type, x)

    def cast(self, x, to, output=None):
        return self.node("Cast", x, output=output, to=to)

    def identity(self, x, output=None):
        return self.node("Identity", x, output=output)

    def reduce(self, op_type, x, axis=1):
        """``ReduceSum`` / ``ReduceMax`` over ``axis``, keeping the dimension."""
        axes_as_input = {"ReduceSum": 13, "ReduceMax": 18}[op_type]
        if self.opset is None or self.opset >= axes_as_input:
            return self.node(op_type, x, self.int64_constant([axis], "axes"), keepdims=1)
        return self.node(op_type, x, axes=[axis], keepdims=1)

    def affine(self, x, coef, intercept):
        """``x @ coef + intercept``, as the network computes it (matmul, then add)."""
        product = self.node("MatMul", x, self.constant(coef, "coefficient"))
        return self.add(product, self.constant(np.reshape(intercept, (1, -1)), "intercept"))

    # Numerically careful building blocks.
    def sigmoid(self, z):
        """``expit(z)``: ``1 / (1 + e)`` for ``z >= 0`` and ``e / (1 + e)`` below,
        ``e = exp(-|z|)``, so both tails keep their relative accuracy."""
        e = self.unary("Exp", self.unary("Neg", self.unary("Abs", z)))
        one_plus = self.add(1.0, e)
        return self.where(self.less(z, 0.0), self.div(e, one_plus), self.div(1.0, one_plus))

    def log1p(self, x):
        """``log(1 + x)`` for ``x >= 0`` (Goldberg: ``log(u) * x / (u - 1)``, ``u = 1 + x``)."""
        u = self.add(1.0, x)
        u_minus_1 = self.sub(u, 1.0)
        ratio = self.div(self.mul(self.unary("Log", u), x), u_minus_1)
        return self.where(self.equal(u_minus_1, 0.0), x, ratio)

    def expm1_nonpositive(self, x):
        """``exp(x) - 1`` for ``x <= 0`` (Kahan: ``(u - 1) * x / log(u)``, ``u = exp(x)``)."""
        u = self.unary("Exp", x)
        u_minus_1 = self.sub(u, 1.0)
        ratio = self.div(self.mul(u_minus_1, x), self.unary("Log", u))
        return self.where(self.equal(u, 1.0), x,
                          self.where(self.equal(u_minus_1, -1.0), -1.0, ratio))

    def softplus(self, z):
        """``np.logaddexp(0, z) = max(z, 0) + log1p(exp(-|z|))``."""
        tail = self.log1p(self.unary("Exp", self.unary("Neg", self.unary("Abs", z))))
        return self.add(self.unary("Relu", z), tail)

    def erfc(self, y):
        """The complementary error function, to working precision on the whole real line."""
        a = self.minimum(self.unary("Abs", y), _ERFC_ARGUMENT_CAP)
        # |y| < 1/2: erfc(y) = 1 - sign(y) erf(|y|), erf from its Taylor series in a^2.
        a2 = self.mul(a, a)
        taylor = _erf_taylor_coefficients()
        poly = self.constant(taylor[-1])
        for coef in taylor[-2::-1]:
            poly = self.add(self.mul(poly, a2), coef)
        small = self.sub(1.0, self.mul(self.unary("Sign", y), self.mul(a, poly)))
        # |y| >= 1/2: erfc(a) = exp(-a^2) erfcx(a), erfcx(a) = g(s) / (1 + 2a) with g a
        # Chebyshev series in s = (a - 3) / (a + 2), which maps [1/2, inf) onto [-1, 1).
        s = self.div(self.sub(a, 3.0), self.add(a, 2.0))
        g = self._chebyshev(s, _erfcx_chebyshev_coefficients())
        scaled = self.div(g, self.add(1.0, self.add(a, a)))
        # exp(-a^2) = exp(-h^2) exp(-(a - h)(a + h)) with h = floor(16 a) / 16: h^2 is exact.
        h = self.div(self.unary("Floor", self.mul(a, 16.0)), 16.0)
        gaussian = self.mul(
            self.unary("Exp", self.unary("Neg", self.mul(h, h))),
            self.unary("Exp", self.unary("Neg", self.mul(self.sub(a, h), self.add(a, h)))),
        )
        large = self.mul(gaussian, scaled)
        large = self.where(self.less(y, 0.0), self.sub(2.0, large), large)
        return self.where(self.less(a, 0.5), small, large)

    def _chebyshev(self, s, coefficients):
        """Clenshaw's recurrence for ``sum_k c_k T_k(s)``."""
        two_s = self.add(s, s)
        b1, b2 = self.constant(coefficients[-1]), None
        for coef in coefficients[-2:0:-1]:
            term = self.mul(two_s, b1)
            if b2 is not None:
                term = self.sub(term, b2)
            b1, b2 = self.add(term, coef), b1
        result = self.mul(s, b1)
        if b2 is not None:
            result = self.sub(result, b2)
        return self.add(result, coefficients[0])


#: erfc underflows to 0 (float64) well before this argument; capping keeps s finite.
_ERFC_ARGUMENT_CAP = 40.0


@lru_cache(maxsize=None)
def _erf_taylor_coefficients(n_terms=13):
    """``erf(a) = a * sum_n c_n a^(2n)``: ``c_n = 2/sqrt(pi) (-1)^n / (n! (2n + 1))``.

    For ``a < 1/2`` the 13th term is below 1e-17 of the sum.
    """
    return tuple(2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                 for n in range(n_terms))


@lru_cache(maxsize=None)
def _erfcx_chebyshev_coefficients(degree=20):
    """Chebyshev coefficients of ``g(s) = (1 + 2a) erfcx(a)``, ``a = (3 + 2s) / (1 - s)``.

    ``g`` is smooth on [-1, 1] (``g(1) = 2 / sqrt(pi)``, the limit ``a -> inf``); degree 20
    interpolation reaches the accuracy of :func:`scipy.special.erfcx` itself.
    """
    def g(s):
        s = np.asarray(s, dtype=np.float64)
        out = np.full_like(s, 2.0 / math.sqrt(math.pi))
        finite = s < 1
        a = (3.0 + 2.0 * s[finite]) / (1.0 - s[finite])
        out[finite] = (1.0 + 2.0 * a) * erfcx(a)
        return out

    return tuple(float(c) for c in chebyshev.chebinterpolate(g, degree))


# -- activations ------------------------------------------------------------------------------
def _identity(g, act, z, params):
    return z


def _logistic(g, act, z, params):
    return g.sigmoid(z)


def _tanh(g, act, z, params):
    return g.unary("Tanh", z)


def _relu(g, act, z, params):
    return g.unary("Relu", z)


def _leaky_relu(g, act, z, params):
    return g.where(g.greater(z, 0.0), z, g.mul(z, float(act.negative_slope)))


def _prelu(g, act, z, params):
    slopes = g.constant(np.reshape(params, (1, -1)), "prelu_slopes")
    return g.where(g.greater(z, 0.0), z, g.mul(z, slopes))


def _elu(g, act, z, params):
    negative = g.mul(g.expm1_nonpositive(g.minimum(z, 0.0)), float(act.alpha))
    return g.where(g.greater(z, 0.0), z, negative)


def _selu(g, act, z, params):
    negative = g.mul(g.expm1_nonpositive(g.minimum(z, 0.0)), SELU.ALPHA)
    return g.mul(g.where(g.greater(z, 0.0), z, negative), SELU.SCALE)


def _gelu(g, act, z, params):
    if act._check():  # approximate="tanh": z * expit(2u), u = sqrt(2/pi) (z + 0.044715 z^3)
        cube = g.mul(g.mul(g.mul(0.044715, z), z), z)
        u = g.mul(math.sqrt(2.0 / math.pi), g.add(z, cube))
        return g.mul(z, g.sigmoid(g.mul(2.0, u)))
    cdf = g.mul(0.5, g.erfc(g.div(g.unary("Neg", z), math.sqrt(2.0))))
    return g.mul(z, cdf)


def _silu(g, act, z, params):
    return g.mul(z, g.sigmoid(z))


def _softplus(g, act, z, params):
    return g.softplus(z)


def _softsign(g, act, z, params):
    return g.div(z, g.add(g.unary("Abs", z), 1.0))


def _hard_sigmoid(g, act, z, params):
    return g.clip(g.add(g.div(z, 6.0), 0.5), 0.0, 1.0)


def _mish(g, act, z, params):
    return g.mul(z, g.unary("Tanh", g.softplus(z)))


def _relu6(g, act, z, params):
    return g.clip(z, 0.0, 6.0)


def _softmax(g, act, z, params):
    e = g.unary("Exp", g.sub(z, g.reduce("ReduceMax", z)))
    return g.div(e, g.reduce("ReduceSum", e))


def _exp(g, act, z, params):
    return g.unary("Exp", g.minimum(z, EXP_RAW_MAX))


_EMITTERS = {
    Identity: _identity,
    Logistic: _logistic,
    Tanh: _tanh,
    ReLU: _relu,
    LeakyReLU: _leaky_relu,
    PReLU: _prelu,
    ELU: _elu,
    SELU: _selu,
    GELU: _gelu,
    SiLU: _silu,
    Softplus: _softplus,
    Softsign: _softsign,
    HardSigmoid: _hard_sigmoid,
    Mish: _mish,
    ReLU6: _relu6,
    Softmax: _softmax,
    Exp: _exp,
}

#: The activation classes with an exact ONNX form, by class name.
SUPPORTED_ACTIVATIONS = tuple(cls.__name__ for cls in _EMITTERS)

_NUMERIC_PARAMETERS = {LeakyReLU: "negative_slope", ELU: "alpha"}


def check_activation(activation, where):
    """Raise unless ``activation`` is a built-in activation with an exact ONNX form.

    The check is on the exact type: a subclass of a built-in may redefine ``forward``.

    Parameters
    ----------
    activation : object
        A fitted network's activation.
    where : str
        Which layer it belongs to, for the message (e.g. "hidden layer 1 of
        MLPRegressor").
    """
    cls = type(activation)
    if cls not in _EMITTERS:
        builtin = next((known for known in cls.__mro__ if known in _EMITTERS), None)
        detail = "" if builtin is None else (
            f" ({cls.__name__} subclasses the built-in {builtin.__name__} but may redefine "
            "forward, so it is not exported as one)"
        )
        raise NotImplementedError(
            f"Cannot export the activation {activation!r} of {where} to ONNX{detail}. "
            "sknnloss.onnx exports only the built-in activations of sknnloss.activations, "
            f"each written exactly in ONNX: {', '.join(SUPPORTED_ACTIVATIONS)}. Nothing "
            "approximate is exported: refit the model with one of these (by name or "
            "object), or write the ONNX graph of your activation yourself."
        )
    attribute = _NUMERIC_PARAMETERS.get(cls)
    if attribute is not None:
        value = getattr(activation, attribute)
        if not isinstance(value, Real) or isinstance(value, bool):
            raise TypeError(
                f"Cannot export {activation!r} of {where} to ONNX: {attribute} must be a "
                f"real number, got {value!r}."
            )
    if cls is GELU:
        activation._check()  # raises for an invalid `approximate`


def emit_activation(builder, activation, z, params=None):
    """Apply ``activation`` (checked by :func:`check_activation`) to the variable ``z``.

    Parameters
    ----------
    builder : GraphBuilder
    activation : Activation
    z : str
        Name of the pre-activation variable, shape (n_samples, n_units).
    params : ndarray of shape (n_units,) or None
        The trained parameters of a trainable activation (PReLU slopes).

    Returns
    -------
    name : str
        Name of the activation's output variable.
    """
    return _EMITTERS[type(activation)](builder, activation, z, params)

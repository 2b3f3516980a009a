"""Activation functions: the protocol, the built-ins, their aliases and ``get_activation``.

An activation maps a layer's pre-activation ``z`` to its output ``a``. Each one is a small
parameter object (``get_params``/``set_params``, clonable, picklable) that keeps its forward
function and its local derivative side by side:

* ``forward(z, out=None)`` returns ``a``;
* ``derivative(z, a, out=None)`` returns the elementwise ``da/dz``;
* ``backward(z, a, grad_a, out=None)`` returns the vector-Jacobian product ``grad_z``. For
  elementwise activations it is ``grad_a * derivative(z, a)``; softmax overrides it.

Every method accepts ``out=`` so that the training loop can reuse preallocated buffers.

To write your own activation, subclass :class:`Activation` and implement ``forward`` and
``derivative``; the result works with every solver, ``clone``, pickle and ``GridSearchCV``.
Any object with the same three methods works too.

All built-ins stay finite and raise no overflow, divide-by-zero or invalid-operation
floating point error for inputs anywhere in ``[-1e4, 1e4]`` (underflow to 0 is allowed).
"""

import math

import numpy as np
from scipy.special import erfc, expit
from sklearn.base import BaseEstimator

__all__ = [
    "Activation",
    "Identity",
    "Logistic",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "SELU",
    "GELU",
    "SiLU",
    "Softplus",
    "Softsign",
    "HardSigmoid",
    "Mish",
    "ReLU6",
    "Softmax",
    "Exp",
    "EXP_RAW_MAX",
    "get_activation",
    "ACTIVATION_ALIASES",
]

#: Inputs of :class:`Exp` (and of the losses with a log link) are capped at this value before
#: exponentiating, so ``exp`` never overflows, even in float32 (``exp(50) ~ 5.2e21``).
EXP_RAW_MAX = 50.0


_CONSTANTS = {}


def _constant(value, n, dtype):
    """A read-only vector of ``n`` copies of ``value`` in ``dtype``, shared between calls.

    The training loop needs the same rows of zeros and ones on every batch; allocating them
    anew each time costs more than the operation that uses them (a fresh array is one more
    call into numpy, made while the caches are cold from the matrix products).
    """
    key = (value, n, np.dtype(dtype))
    vector = _CONSTANTS.get(key)
    if vector is None:
        if len(_CONSTANTS) >= 256:  # many network shapes in one process: start over
            _CONSTANTS.clear()
        vector = np.full(n, value, dtype=dtype)
        vector.flags.writeable = False
        _CONSTANTS[key] = vector
    return vector


def _zeros_row(z):
    """Zeros broadcasting against ``z`` along its last axis, in its dtype."""
    return _constant(0, z.shape[-1], z.dtype)


def _row_sums(a):
    """Row sums of a 2-D array as a matrix-vector product with a shared ones vector: much
    faster than ``a.sum(axis=1)`` over short rows."""
    return a @ _constant(1, a.shape[1], a.dtype)


def _out(out, like):
    """Return ``out`` or a fresh array shaped like ``like``."""
    return np.empty_like(like) if out is None else out


class Activation(BaseEstimator):
    """Base class of all activations.

    Subclasses implement :meth:`forward` and :meth:`derivative` (elementwise activations)
    or :meth:`forward` and :meth:`backward` (activations that couple units, like softmax).

    Class attributes describe the function to the estimators:

    ``name``
        The scikit-learn name of the function (used for ``out_activation_``).
    ``output_range``
        ``(low, high)``, the range of the outputs.
    ``gives_probabilities``
        ``"independent"`` if every output is a probability in [0, 1] (sigmoid),
        ``"simplex"`` if each row is a probability distribution (softmax), else ``None``.
    ``elementwise``
        Whether ``a[i, j]`` depends on ``z[i, j]`` only.
    ``derivative_from_output``
        Whether :meth:`derivative` and :meth:`backward` need only the output ``a`` (as for
        ``a (1 - a)``, ``1 - a^2`` or ``a > 0``). The training loop then computes a hidden
        layer's activation in place over its pre-activation, which saves one array per layer
        and its memory traffic, and calls both methods with ``z=None``. Leave it False (the
        default) unless both methods really never read ``z``.
    """

    name = None
    output_range = (-np.inf, np.inf)
    gives_probabilities = None
    elementwise = True
    derivative_from_output = False

    def forward(self, z, out=None):
        """Compute the activation ``a = f(z)``.

        Parameters
        ----------
        z : ndarray of shape (n_samples, n_units)
            Pre-activation values.
        out : ndarray of the same shape, default=None
            Where to write the result; may be ``z`` itself.

        Returns
        -------
        a : ndarray of shape (n_samples, n_units)
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement forward(z, out=None)."
        )

    def derivative(self, z, a, out=None):
        """Elementwise derivative ``da/dz`` evaluated at ``z`` (with ``a = f(z)``).

        Parameters
        ----------
        z : ndarray of shape (n_samples, n_units)
            Pre-activation values.
        a : ndarray of shape (n_samples, n_units)
            ``forward(z)``, passed so that derivatives such as ``a * (1 - a)`` are cheap.
        out : ndarray of the same shape, default=None
            Where to write the result.

        Returns
        -------
        da_dz : ndarray of shape (n_samples, n_units)
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement derivative(z, a, out=None) "
            "(elementwise activations) or backward(z, a, grad_a, out=None)."
        )

    def backward(self, z, a, grad_a, out=None):
        """Vector-Jacobian product: the gradient with respect to ``z``.

        Parameters
        ----------
        z, a : ndarray of shape (n_samples, n_units)
            Pre-activation values and ``forward(z)``.
        grad_a : ndarray of shape (n_samples, n_units)
            Gradient of the objective with respect to ``a``.
        out : ndarray of the same shape, default=None
            Where to write the result; may be ``grad_a`` itself.

        Returns
        -------
        grad_z : ndarray of shape (n_samples, n_units)
            ``grad_a * derivative(z, a)`` for elementwise activations.
        """
        derivative = self.derivative(z, a)
        return np.multiply(grad_a, derivative, out=out)


class Identity(Activation):
    """Identity ``f(z) = z``; ``f'(z) = 1``.

    The canonical output activation of squared, absolute and hinge losses: the network's raw
    output is the prediction.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Identity
    >>> Identity().forward(np.array([[-1.0, 2.0]]))
    array([[-1.,  2.]])
    """

    name = "identity"
    derivative_from_output = True

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def derivative(self, z, a, out=None):
        out = _out(out, a)
        out.fill(1)
        return out

    def backward(self, z, a, grad_a, out=None):
        return self.forward(grad_a, out=out)


class Logistic(Activation):
    """Logistic sigmoid ``f(z) = 1 / (1 + exp(-z))``; ``f'(z) = a (1 - a)``.

    The canonical output activation of binary cross-entropy (the Bernoulli likelihood):
    one independent probability per output, for binary and multi-label targets. As a hidden
    activation it saturates: ``f'(z) <= 1/4`` and vanishes for large ``|z|``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Logistic
    >>> Logistic().forward(np.array([[0.0]]))
    array([[0.5]])
    """

    name = "logistic"
    output_range = (0.0, 1.0)
    gives_probabilities = "independent"
    derivative_from_output = True

    def forward(self, z, out=None):
        return expit(z, out=_out(out, z))

    def derivative(self, z, a, out=None):
        out = np.subtract(1, a, out=out)
        out *= a
        return out


class Tanh(Activation):
    """Hyperbolic tangent ``f(z) = tanh(z)``; ``f'(z) = 1 - a^2``.

    Zero-centred, with outputs in (-1, 1); saturates for large ``|z|`` like the sigmoid.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Tanh
    >>> Tanh().forward(np.array([[0.0]]))
    array([[0.]])
    """

    name = "tanh"
    output_range = (-1.0, 1.0)
    derivative_from_output = True

    def forward(self, z, out=None):
        return np.tanh(z, out=_out(out, z))

    def derivative(self, z, a, out=None):
        out = np.multiply(a, a, out=out)
        np.subtract(1, out, out=out)
        return out


class ReLU(Activation):
    """Rectified linear unit ``f(z) = max(z, 0)``; ``f'(z) = 1 if z > 0 else 0``.

    Does not saturate for positive inputs, but a unit whose pre-activation is negative for
    every sample passes no gradient at all (a "dead" unit); see :class:`LeakyReLU`.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import ReLU
    >>> ReLU().forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    """

    name = "relu"
    output_range = (0.0, np.inf)
    derivative_from_output = True  # a > 0 exactly where z > 0

    def forward(self, z, out=None):
        # Against a row of zeros rather than the scalar 0: numpy's vectorised loop for two
        # arrays is about twice as fast as its loop for an array and a scalar.
        return np.maximum(z, _zeros_row(z), out=_out(out, z))

    def derivative(self, z, a, out=None):
        out = _out(out, a)
        np.greater(a, 0, out=out, casting="unsafe")
        return out

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, a > 0, out=out)


class LeakyReLU(Activation):
    """Leaky ReLU ``f(z) = z if z > 0 else negative_slope * z``.

    ``f'(z) = 1 if z > 0 else negative_slope``: a small gradient keeps flowing through negative
    inputs, which cures dying ReLUs.

    Parameters
    ----------
    negative_slope : float, default=0.01
        Slope for negative inputs (PyTorch's default; Keras uses 0.3).

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import LeakyReLU
    >>> LeakyReLU(negative_slope=0.1).forward(np.array([[-1.0, 2.0]]))
    array([[-0.1,  2. ]])
    """

    name = "leaky_relu"

    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    def forward(self, z, out=None):
        return np.multiply(z, self.derivative(z, z), out=out)

    def derivative(self, z, a, out=None):
        out = _out(out, z)
        out.fill(self.negative_slope)
        out[z > 0] = 1
        return out


class Softplus(Activation):
    """Softplus ``f(z) = log(1 + exp(z))``; ``f'(z) = sigmoid(z)``.

    A smooth ReLU with positive outputs; as an output activation it keeps predictions of a
    positive target positive. Computed as ``logaddexp(0, z)``, exact for large ``|z|``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Softplus
    >>> Softplus().forward(np.array([[0.0]]))
    array([[0.69314718]])
    """

    name = "softplus"
    output_range = (0.0, np.inf)

    def forward(self, z, out=None):
        return np.logaddexp(0, z, out=_out(out, z))

    def derivative(self, z, a, out=None):
        return expit(z, out=_out(out, z))


class Exp(Activation):
    """Exponential ``f(z) = exp(min(z, EXP_RAW_MAX))``; ``f'(z) = a`` below the cap, else 0.

    The canonical output activation of the Poisson (and other log-link) losses: the inverse
    of the log link, so predictions are positive. The input is capped at
    :data:`EXP_RAW_MAX` (= 50) so that the output never overflows.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Exp
    >>> Exp().forward(np.array([[0.0]]))
    array([[1.]])
    """

    name = "exp"
    output_range = (0.0, np.inf)

    def forward(self, z, out=None):
        out = np.minimum(z, EXP_RAW_MAX, out=_out(out, z))
        return np.exp(out, out=out)

    def derivative(self, z, a, out=None):
        out = _out(out, z)
        np.copyto(out, a)
        out[z > EXP_RAW_MAX] = 0
        return out


class Softmax(Activation):
    """Softmax over each row: ``a_k = exp(z_k) / sum_j exp(z_j)``.

    The canonical output activation of categorical cross-entropy (the multinomial likelihood):
    each row is a probability distribution over the classes. It couples the units of a row, so
    it has no elementwise derivative; :meth:`backward` computes the vector-Jacobian product
    ``a * (grad_a - sum_k grad_a_k a_k)``. Computed as ``exp(z - max(z))``, exact for any input.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Softmax
    >>> Softmax().forward(np.array([[0.0, 0.0]]))
    array([[0.5, 0.5]])
    """

    name = "softmax"
    output_range = (0.0, 1.0)
    gives_probabilities = "simplex"
    elementwise = False

    def forward(self, z, out=None):
        row_max = np.maximum.reduce(z, axis=1)
        out = np.subtract(z, row_max[:, np.newaxis], out=_out(out, z))
        np.exp(out, out=out)
        # Row sums as a matrix-vector product, and one division per row: after subtracting
        # the row maximum every sum is in [1, n_units].
        total = _row_sums(out)
        np.reciprocal(total, out=total)
        out *= total[:, np.newaxis]
        return out

    def derivative(self, z, a, out=None):
        raise TypeError(
            "Softmax couples the units of a row and has no elementwise derivative; "
            "use Softmax.backward(z, a, grad_a)."
        )

    def backward(self, z, a, grad_a, out=None):
        inner = np.einsum("ij,ij->i", grad_a, a)[:, np.newaxis]
        out = np.subtract(grad_a, inner, out=out)
        out *= a
        return out


class PReLU(Activation):
    """Parametric ReLU ``f(z) = z if z > 0 else slope_j * z`` with a slope **trained per unit**.

    ``df/dz = 1 if z > 0 else slope_j`` and ``df/dslope_j = min(z, 0)``. The slopes live in
    the network's flat parameter vector, so every solver (lbfgs included) trains them; they are
    not L2-penalised (as He et al., 2015 advise). After fitting, the estimator exposes them in
    ``activation_params_``.

    Parameters
    ----------
    init : float, default=0.25
        Initial slope of every unit (PyTorch's default).

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import PReLU
    >>> PReLU().forward(np.array([[-2.0, 3.0]]), params=np.array([0.5, 0.5]))
    array([[-1.,  3.]])
    """

    name = "prelu"
    trainable = True

    def __init__(self, init=0.25):
        self.init = init

    def n_params(self, n_units):
        """One slope per unit."""
        return n_units

    def init_params(self, n_units, dtype):
        """Every slope starts at ``init``."""
        return np.full(n_units, self.init, dtype=dtype)

    def _slopes(self, z, params):
        if params is None:
            return z.dtype.type(self.init)
        return params

    def forward(self, z, out=None, params=None):
        factor = np.where(z > 0, z.dtype.type(1), self._slopes(z, params))
        return np.multiply(z, factor, out=out)

    def derivative(self, z, a, out=None, params=None):
        out = _out(out, z)
        np.copyto(out, np.where(z > 0, z.dtype.type(1), self._slopes(z, params)))
        return out

    def backward(self, z, a, grad_a, out=None, params=None):
        return np.multiply(grad_a, self.derivative(z, a, params=params), out=out)

    def param_gradient(self, z, a, grad_a, params, out=None):
        """Gradient with respect to the slopes: ``sum_i grad_a[i, j] * min(z[i, j], 0)``."""
        negative = np.minimum(z, 0)
        return np.einsum("ij,ij->j", grad_a, negative, out=out)


class ELU(Activation):
    """Exponential linear unit ``f(z) = z if z > 0 else alpha (exp(z) - 1)``.

    ``f'(z) = 1 if z > 0 else a + alpha``. Smooth for ``alpha = 1``, with negative outputs that
    push mean activations towards zero (Clevert et al., 2015).

    Parameters
    ----------
    alpha : float, default=1.0
        Value the function approaches for large negative inputs is ``-alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import ELU
    >>> ELU().forward(np.array([[0.0, 1.0]]))
    array([[0., 1.]])
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, z, out=None):
        negative = np.expm1(np.minimum(z, 0))
        negative *= self.alpha
        return _where(z > 0, z, negative, out)

    def derivative(self, z, a, out=None):
        return _where(z > 0, 1, np.exp(np.minimum(z, 0)) * self.alpha, _out(out, z))


class SELU(Activation):
    """Scaled ELU ``f(z) = scale * (z if z > 0 else alpha (exp(z) - 1))``.

    With ``scale ~ 1.0507`` and ``alpha ~ 1.6733`` (Klambauer et al., 2017), activations of a
    network initialised with LeCun-normal weights keep zero mean and unit variance.
    ``f'(z) = scale if z > 0 else scale * alpha * exp(z)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import SELU
    >>> SELU().forward(np.array([[1.0]]))
    array([[1.05070099]])
    """

    name = "selu"
    ALPHA = 1.6732632423543772
    SCALE = 1.0507009873554805

    def forward(self, z, out=None):
        negative = np.expm1(np.minimum(z, 0))
        negative *= self.ALPHA
        out = _where(z > 0, z, negative, out)
        out *= self.SCALE
        return out

    def derivative(self, z, a, out=None):
        negative = np.exp(np.minimum(z, 0))
        negative *= self.ALPHA * self.SCALE
        return _where(z > 0, self.SCALE, negative, _out(out, z))


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Activation):
    """Gaussian error linear unit ``f(z) = z * Phi(z)``, ``Phi`` the standard normal CDF.

    Exact form (default): ``Phi(z) = (1 + erf(z / sqrt(2))) / 2`` and
    ``f'(z) = Phi(z) + z * phi(z)`` with ``phi`` the normal density. With
    ``approximate="tanh"``: ``f(z) = z/2 (1 + tanh(u))``, ``u = sqrt(2/pi) (z + 0.044715 z^3)``
    (Hendrycks & Gimpel, 2016), as PyTorch's ``GELU(approximate="tanh")``.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default="none"

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import GELU
    >>> GELU().forward(np.array([[0.0, 1.0]])).round(4)
    array([[0.    , 0.8413]])
    """

    name = "gelu"

    def __init__(self, approximate="none"):
        self.approximate = approximate

    def _check(self):
        if self.approximate not in ("none", "tanh"):
            raise ValueError(
                f"GELU(approximate={self.approximate!r}): pass 'none' (exact erf form) or "
                "'tanh'."
            )
        return self.approximate == "tanh"

    def _u(self, z):
        return _SQRT_2_OVER_PI * (z + 0.044715 * z * z * z)

    def _cdf(self, z):
        # (1 + erf(x)) / 2 written as erfc(-x) / 2 and (1 + tanh(u)) / 2 as sigmoid(2u): no
        # cancellation for negative z.
        if self._check():
            return expit(2 * self._u(z))
        return 0.5 * erfc(-z / _SQRT_2)

    def forward(self, z, out=None):
        return np.multiply(z, self._cdf(z), out=out)

    def derivative(self, z, a, out=None):
        if self._check():
            t = np.tanh(self._u(z))
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * z * z)
            result = self._cdf(z) + 0.5 * z * (1 - t * t) * du
        else:
            cdf = self._cdf(z)
            # The density underflows to 0 for |z| > ~38: z * phi(z) is then 0 too.
            result = cdf + z * (np.exp(-0.5 * np.minimum(z * z, 1e4)) * _INV_SQRT_2PI)
        if out is None:
            return result.astype(z.dtype, copy=False)
        np.copyto(out, result, casting="same_kind")
        return out


class SiLU(Activation):
    """Sigmoid linear unit / swish ``f(z) = z * sigmoid(z)``.

    ``f'(z) = s (1 + z (1 - s))`` with ``s = sigmoid(z)`` (Ramachandran et al., 2017).

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import SiLU
    >>> SiLU().forward(np.array([[0.0]]))
    array([[0.]])
    """

    name = "silu"

    def forward(self, z, out=None):
        return np.multiply(z, expit(z), out=out)

    def derivative(self, z, a, out=None):
        s = expit(z)
        out = np.subtract(1, s, out=out)
        out *= z
        out += 1
        out *= s
        return out


class Softsign(Activation):
    """Softsign ``f(z) = z / (1 + |z|)``; ``f'(z) = 1 / (1 + |z|)^2``.

    Like tanh with outputs in (-1, 1), but it approaches its asymptotes polynomially, so it
    saturates more slowly.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Softsign
    >>> Softsign().forward(np.array([[1.0]]))
    array([[0.5]])
    """

    name = "softsign"
    output_range = (-1.0, 1.0)

    def forward(self, z, out=None):
        denominator = np.abs(z)
        denominator += 1
        return np.divide(z, denominator, out=out)

    def derivative(self, z, a, out=None):
        out = np.abs(z, out=out)
        out += 1
        np.multiply(out, out, out=out)
        np.reciprocal(out, out=out)
        return out


class HardSigmoid(Activation):
    """Hard sigmoid ``f(z) = clip(z / 6 + 1/2, 0, 1)``, a piecewise-linear sigmoid.

    ``f'(z) = 1/6`` for ``-3 < z < 3``, else 0. The definition of PyTorch and Keras 3
    (Keras 2 used ``clip(0.2 z + 0.5, 0, 1)``). Outputs are in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import HardSigmoid
    >>> HardSigmoid().forward(np.array([[-4.0, 0.0, 4.0]]))
    array([[0. , 0.5, 1. ]])
    """

    name = "hard_sigmoid"
    output_range = (0.0, 1.0)
    gives_probabilities = "independent"

    def forward(self, z, out=None):
        out = np.divide(z, 6, out=out)
        out += 0.5
        return np.clip(out, 0, 1, out=out)

    def derivative(self, z, a, out=None):
        return _where((z > -3) & (z < 3), 1 / 6, 0, _out(out, z))


class Mish(Activation):
    """Mish ``f(z) = z * tanh(softplus(z))`` (Misra, 2019).

    ``f'(z) = t + z * sigmoid(z) * (1 - t^2)`` with ``t = tanh(softplus(z))``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import Mish
    >>> Mish().forward(np.array([[0.0]]))
    array([[0.]])
    """

    name = "mish"

    def forward(self, z, out=None):
        t = np.tanh(np.logaddexp(0, z))
        return np.multiply(z, t, out=out)

    def derivative(self, z, a, out=None):
        t = np.tanh(np.logaddexp(0, z))
        out = np.multiply(t, t, out=out)
        np.subtract(1, out, out=out)
        out *= expit(z)
        out *= z
        out += t
        return out


class ReLU6(Activation):
    """ReLU capped at 6: ``f(z) = min(max(z, 0), 6)``; ``f'(z) = 1`` for ``0 < z < 6``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnloss.activations import ReLU6
    >>> ReLU6().forward(np.array([[-1.0, 3.0, 9.0]]))
    array([[0., 3., 6.]])
    """

    name = "relu6"
    output_range = (0.0, 6.0)

    def forward(self, z, out=None):
        return np.clip(z, 0, 6, out=_out(out, z))

    def derivative(self, z, a, out=None):
        return _where((z > 0) & (z < 6), 1, 0, _out(out, z))


def _where(condition, x, y, out):
    """``np.where(condition, x, y)`` written into ``out`` (allocated when None)."""
    result = np.where(condition, x, y)
    if out is None:
        return result
    np.copyto(out, result, casting="same_kind")
    return out


#: Every string accepted by :func:`get_activation`, mapped to its class: scikit-learn's names
#: ('identity', 'logistic', 'tanh', 'relu') and Keras' ('linear', 'sigmoid', ...).
ACTIVATION_ALIASES = {
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

_REQUIRED_METHODS = ("forward", "backward")


def get_activation(activation):
    """Resolve an activation given by name or as an object.

    Parameters
    ----------
    activation : str or Activation
        One of :data:`ACTIVATION_ALIASES` (a fresh instance with default parameters is
        returned), or an object with ``forward(z, out=None)`` and
        ``backward(z, a, grad_a, out=None)`` (returned unchanged).

    Returns
    -------
    activation : Activation

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    TypeError
        For an object that lacks the protocol's methods.

    Examples
    --------
    >>> from sknnloss.activations import get_activation
    >>> get_activation("sigmoid")
    Logistic()
    """
    if isinstance(activation, str):
        try:
            return ACTIVATION_ALIASES[activation]()
        except KeyError:
            raise ValueError(
                f"Unknown activation {activation!r}. Pass one of "
                f"{sorted(ACTIVATION_ALIASES)} or an Activation object."
            ) from None
    missing = [m for m in _REQUIRED_METHODS if not callable(getattr(activation, m, None))]
    if missing:
        raise TypeError(
            f"{activation!r} is not an activation: it lacks {missing}. Pass one of "
            f"{sorted(ACTIVATION_ALIASES)} or an object implementing forward(z, out=None) "
            "and backward(z, a, grad_a, out=None) (subclass sknnloss.activations.Activation "
            "and implement forward and derivative)."
        )
    return activation

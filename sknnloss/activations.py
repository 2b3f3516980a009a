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

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator

__all__ = [
    "Activation",
    "Identity",
    "Logistic",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softplus",
    "Softmax",
    "Exp",
    "EXP_RAW_MAX",
    "get_activation",
    "ACTIVATION_ALIASES",
]

#: Inputs of :class:`Exp` (and of the losses with a log link) are capped at this value before
#: exponentiating, so ``exp`` never overflows, even in float32 (``exp(50) ~ 5.2e21``).
EXP_RAW_MAX = 50.0


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
    """

    name = None
    output_range = (-np.inf, np.inf)
    gives_probabilities = None
    elementwise = True

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

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def derivative(self, z, a, out=None):
        out = _out(out, z)
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

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=_out(out, z))

    def derivative(self, z, a, out=None):
        out = _out(out, z)
        np.greater(z, 0, out=out, casting="unsafe")
        return out

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, z > 0, out=out)


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
        out = np.subtract(z, z.max(axis=1, keepdims=True), out=_out(out, z))
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
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


_BUILTINS = (Identity, Logistic, Tanh, ReLU, LeakyReLU, Softplus, Softmax, Exp)

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
    "softplus": Softplus,
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

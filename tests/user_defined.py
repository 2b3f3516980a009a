"""A user-defined activation and loss, written as the docs tell users to write them.

They live in an importable module (not inside a test function) so that pickling works, as it
would for a user's own module.
"""

import numpy as np

from sknnloss.activations import Activation
from sknnloss.losses import Loss


class ScaledTanh(Activation):
    """``f(z) = scale * tanh(z / scale)``: tanh with a tunable saturation level."""

    def __init__(self, scale=2.0):
        self.scale = scale

    def forward(self, z, out=None):
        out = np.divide(z, self.scale, out=out)
        np.tanh(out, out=out)
        out *= self.scale
        return out

    def derivative(self, z, a, out=None):
        out = np.divide(a, self.scale, out=out)
        np.multiply(out, out, out=out)
        np.subtract(1, out, out=out)
        return out


class PseudoHuber(Loss):
    """``delta^2 (sqrt(1 + (r / delta)^2) - 1)``: a smooth Huber loss."""

    canonical_activation = "identity"
    target_kind = "real"

    def __init__(self, delta=1.0):
        self.delta = delta

    def pointwise_loss(self, y_true, y_pred):
        r = (y_pred - y_true) / self.delta
        return (self.delta**2 * (np.sqrt(1 + r * r) - 1)).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        r = (y_pred - y_true) / self.delta
        out = np.multiply(r, self.delta, out=out)
        out /= np.sqrt(1 + r * r)
        return out

"""check_activation / check_loss: they pass every built-in and name what is wrong otherwise."""

import numpy as np
import pytest

from sknnloss.activations import ACTIVATION_ALIASES, Activation, PReLU
from sknnloss.checks import check_activation, check_loss
from sknnloss.losses import LOSS_ALIASES, Loss


@pytest.mark.parametrize("name", sorted(ACTIVATION_ALIASES))
def test_every_builtin_activation_passes(name):
    check_activation(name)


@pytest.mark.parametrize("name", sorted(LOSS_ALIASES))
def test_every_builtin_loss_passes(name):
    check_loss(name)


class WrongDerivative(Activation):
    """tanh with the derivative of the logistic sigmoid: a typical slip."""

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        return np.multiply(a, 1 - a, out=out)


class WrongShape(Activation):
    def forward(self, z, out=None):
        return z.sum(axis=1)

    def derivative(self, z, a, out=None):
        return np.ones_like(z)


class NanActivation(Activation):
    def forward(self, z, out=None):
        return np.log(z + 10) * np.nan

    def derivative(self, z, a, out=None):
        return np.ones_like(z)


class IgnoresOut(Activation):
    def forward(self, z, out=None):
        return np.tanh(z)

    def derivative(self, z, a, out=None):
        return 1 - a * a


class BadParams(Activation):
    """Stores its argument under another name: clone cannot rebuild it."""

    def __init__(self, scale=1.0):
        self.factor = scale

    def forward(self, z, out=None):
        return np.multiply(z, self.factor, out=out)

    def derivative(self, z, a, out=None):
        return np.full_like(z, self.factor)


@pytest.mark.parametrize(
    "activation, error, match",
    [
        (WrongDerivative(), ValueError, "backward disagrees with central finite differences"),
        (WrongShape(), ValueError, "forward returned an array of shape"),
        (NanActivation(), ValueError, "nan or inf"),
        (IgnoresOut(), ValueError, "must write the result to out"),
        (BadParams(), TypeError, "cannot be cloned or pickled"),
        (object(), TypeError, "lacks"),
    ],
)
def test_check_activation_names_the_problem(activation, error, match):
    with pytest.raises(error, match=match):
        check_activation(activation)


class BrokenPReLU(PReLU):
    def param_gradient(self, z, a, grad_a, params, out=None):
        return np.einsum("ij,ij->j", grad_a, np.maximum(z, 0), out=out)  # wrong side


def test_check_activation_checks_trainable_parameters():
    check_activation(PReLU(init=0.1))
    with pytest.raises(ValueError, match="param_gradient disagrees"):
        check_activation(BrokenPReLU())


class HalfGradient(Loss):
    def pointwise_loss(self, y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.subtract(y_pred, y_true, out=out)  # should be 2 (y_pred - y_true)


class SumNotMean(Loss):
    """Overrides __call__ with a sum over samples: weights are no longer a weighted mean."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        w = 1.0 if sample_weight is None else sample_weight[:, None]
        return float(np.sum(w * 0.5 * (y_pred - y_true) ** 2))

    def pointwise_loss(self, y_true, y_pred):
        return 0.5 * ((y_pred - y_true) ** 2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.subtract(y_pred, y_true, out=out)


class NotFused(Loss):
    """Claims a logistic canonical output, but its raw form is computed for the identity."""

    canonical_activation = "logistic"
    target_kind = "probability"

    def pointwise_loss(self, y_true, y_pred):
        return 0.5 * ((y_pred - y_true) ** 2).sum(axis=1)

    def pointwise_gradient(self, y_true, y_pred, out=None):
        return np.subtract(y_pred, y_true, out=out)

    def pointwise_loss_gradient_raw(self, y_true, raw, out=None):
        return self.pointwise_loss(y_true, raw), self.pointwise_gradient(y_true, raw, out=out)


@pytest.mark.parametrize(
    "loss, match",
    [
        (HalfGradient(), "gradient disagrees with central finite differences"),
        (SumNotMean(), "uniform sample weights changed the value"),
        (NotFused(), "must equal the composition"),
    ],
)
def test_check_loss_names_the_problem(loss, match):
    with pytest.raises(ValueError, match=match):
        check_loss(loss)


def test_check_loss_rejects_non_losses():
    with pytest.raises(TypeError, match="lacks"):
        check_loss(object())

"""The network engine: layer shapes, the flat parameter vector, initialisation, forward and
backward passes with reusable buffers, the L2 penalty, and the objective every solver calls.

The parameters of a network live in **one flat vector**, ordered as scikit-learn packs them: all
coefficient matrices first (layer by layer, C order), then all intercept vectors. The
coefficient matrices and intercepts are views into it, so a solver step is a handful of
whole-vector operations and the L2 penalty is a single dot product over the leading
``n_coef`` entries.
"""

import numpy as np
from scipy import sparse
from sklearn.utils.extmath import safe_sparse_dot

from .activations import Logistic

__all__ = ["Network", "Objective", "INITIALIZERS"]


class Network:
    """Shapes and flat-vector layout of a multi-layer perceptron.

    Parameters
    ----------
    layer_units : list of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    hidden_activations : list of Activation
        One per hidden layer. A *trainable* activation (``trainable = True``, e.g. PReLU)
        declares ``n_params(n_units)`` and ``init_params(n_units, dtype)``; its parameters
        follow the intercepts in the flat vector, so every solver trains them, and the L2
        penalty leaves them alone.
    output_activation : Activation
        Applied to the raw output.
    """

    def __init__(self, layer_units, hidden_activations, output_activation):
        self.layer_units = [int(u) for u in layer_units]
        self.hidden_activations = list(hidden_activations)
        self.output_activation = output_activation
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.coef_slices = []
        start = 0
        for shape in shapes:
            end = start + shape[0] * shape[1]
            self.coef_slices.append((start, end, shape))
            start = end
        self.n_coef = start
        self.intercept_slices = []
        for _, fan_out in shapes:
            self.intercept_slices.append((start, start + fan_out))
            start += fan_out
        self.activation_param_slices = []
        for units, activation in zip(self.layer_units[1:-1], self.hidden_activations):
            if _is_trainable(activation):
                end = start + int(activation.n_params(units))
                self.activation_param_slices.append((start, end))
                start = end
            else:
                self.activation_param_slices.append(None)
        if _is_trainable(output_activation):
            raise ValueError(
                f"{output_activation!r} has trainable parameters; trainable activations are "
                "for hidden layers. Pass an output activation without parameters."
            )
        self.n_params = start

    @property
    def n_weight_layers(self):
        """Number of affine layers (hidden layers + the output layer)."""
        return len(self.coef_slices)

    def unpack(self, params):
        """Views of ``params`` as lists ``(coefs, intercepts)``; nothing is copied."""
        coefs = [params[s:e].reshape(shape) for s, e, shape in self.coef_slices]
        intercepts = [params[s:e] for s, e in self.intercept_slices]
        return coefs, intercepts

    def unpack_activation_params(self, params):
        """Per hidden layer, a view of its activation's trained parameters (or None)."""
        return [None if sl is None else params[sl[0]:sl[1]]
                for sl in self.activation_param_slices]

    def initialize(self, random_state, dtype, init="glorot_uniform"):
        """Draw the initial parameter vector.

        ``"glorot_uniform"`` is exactly scikit-learn's MLP scheme: for each layer,
        coefficients then intercepts are drawn from ``U(-b, b)`` with
        ``b = sqrt(factor / (fan_in + fan_out))``, ``factor = 2`` when the activation fed by the
        layer is the logistic sigmoid (the last hidden activation for the output layer) and 6
        otherwise; the same seed gives scikit-learn's weights. The other schemes draw
        coefficients only (intercepts start at 0), from untruncated distributions as
        PyTorch's ``torch.nn.init`` functions do:

        - ``"glorot_normal"``: ``N(0, 2 / (fan_in + fan_out))`` (Glorot & Bengio, 2010);
        - ``"he_uniform"``: ``U(-sqrt(6 / fan_in), sqrt(6 / fan_in))`` and
        - ``"he_normal"``: ``N(0, 2 / fan_in)`` (He et al., 2015), for the ReLU family;
        - ``"lecun_normal"``: ``N(0, 1 / fan_in)``, what SELU needs to self-normalise;
        - a callable ``init(fan_in, fan_out, random_state, dtype)`` returning the
          ``(fan_in, fan_out)`` coefficient matrix.
        """
        params = np.empty(self.n_params, dtype=dtype)
        coefs, intercepts = self.unpack(params)
        fed = self.hidden_activations + self.hidden_activations[-1:]
        for coef, intercept, activation in zip(coefs, intercepts, fed or [None]):
            fan_in, fan_out = coef.shape
            if init == "glorot_uniform":
                factor = 2.0 if isinstance(activation, Logistic) else 6.0
                bound = np.sqrt(factor / (fan_in + fan_out))
                coef[...] = random_state.uniform(-bound, bound, coef.shape)
                intercept[...] = random_state.uniform(-bound, bound, fan_out)
                continue
            coef[...] = _draw_coef(init, fan_in, fan_out, random_state, dtype)
            intercept[...] = 0
        # Trainable activations start from their own fixed values (no random draws, so the
        # weights above stay scikit-learn's for the same seed).
        for units, activation, view in zip(self.layer_units[1:-1], self.hidden_activations,
                                           self.unpack_activation_params(params)):
            if view is not None:
                view[...] = activation.init_params(units, dtype)
        return params

    def forward(self, params, X):
        """Raw output and prediction for ``X``; allocates its own arrays (thread-safe).

        Returns
        -------
        raw : ndarray of shape (n_samples, n_outputs)
        y_pred : ndarray of shape (n_samples, n_outputs)
            ``output_activation(raw)``.
        """
        coefs, intercepts = self.unpack(params)
        a = X
        for coef, intercept, activation, act_params in zip(
            coefs, intercepts, self.hidden_activations, self.unpack_activation_params(params)
        ):
            z = _affine(a, coef, intercept)
            a = activation.forward(z, out=z, **_params_kwarg(act_params))
        raw = _affine(a, coefs[-1], intercepts[-1])
        y_pred = self.output_activation.forward(raw)
        return raw, y_pred


#: The named weight initialisers of :meth:`Network.initialize`.
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal")


def _draw_coef(init, fan_in, fan_out, random_state, dtype):
    shape = (fan_in, fan_out)
    if init == "glorot_normal":
        return random_state.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
    if init == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        return random_state.uniform(-bound, bound, shape)
    if init == "he_normal":
        return random_state.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if init == "lecun_normal":
        return random_state.normal(0.0, np.sqrt(1.0 / fan_in), shape)
    coef = np.asarray(init(fan_in, fan_out, random_state, dtype))
    if coef.shape != shape or not np.all(np.isfinite(coef)):
        raise ValueError(
            f"init={init!r} returned an array of shape {coef.shape}"
            + ("" if coef.shape != shape else " with nan or inf values")
            + f"; it must return finite coefficients of shape (fan_in, fan_out) = {shape}."
        )
    return coef


def _is_trainable(activation):
    return bool(getattr(activation, "trainable", False))


def _params_kwarg(act_params):
    """Keyword arguments passing a trainable activation its parameters (none otherwise)."""
    return {} if act_params is None else {"params": act_params}


def _affine(a, coef, intercept, out=None):
    """``a @ coef + intercept`` (``a`` dense or sparse), written into ``out`` if given."""
    if sparse.issparse(a):
        product = safe_sparse_dot(a, coef)
        if out is None:
            out = np.asarray(product)
        else:
            np.copyto(out, product)
    else:
        out = np.matmul(a, coef, out=out)
    out += intercept
    return out


def _input_gradient(a, delta, out):
    """``a.T @ delta`` written into ``out`` (``a`` dense or sparse)."""
    if sparse.issparse(a):
        np.copyto(out, safe_sparse_dot(a.T, delta))
    else:
        np.matmul(a.T, delta, out=out)
    return out


class _Buffers:
    """Per-batch work arrays, allocated once for ``capacity`` rows and sliced per batch."""

    def __init__(self, network, capacity, dtype, fused):
        self.capacity = capacity
        hidden = network.layer_units[1:-1]
        n_outputs = network.layer_units[-1]
        self.z = [np.empty((capacity, u), dtype) for u in hidden]
        self.a = [np.empty((capacity, u), dtype) for u in hidden]
        self.delta = [np.empty((capacity, u), dtype) for u in network.layer_units[1:]]
        self.raw = np.empty((capacity, n_outputs), dtype)
        if not fused:
            self.y_pred = np.empty((capacity, n_outputs), dtype)
            self.grad_pred = np.empty((capacity, n_outputs), dtype)


class Objective:
    """The training objective: network, loss, output activation and L2 penalty bound together.

    ``loss_gradient(params, X, y, sample_weight)`` returns the objective value and its gradient
    with respect to the flat parameter vector. It is the only thing a solver calls.

    The value is ``loss(y, y_pred, sample_weight) + alpha / (2 * s) * ||coefs||^2`` with ``s``
    the sum of the sample weights (the number of samples without weights), exactly
    scikit-learn's MLP scaling; intercepts are not penalised.

    Parameters
    ----------
    network : Network
    loss : Loss
    alpha : float
        L2 penalty strength.
    fused : bool
        Whether the output activation is the loss's canonical one, so that the loss's fused
        ``loss_gradient_raw`` is used; otherwise the chain rule composes
        ``loss.loss_gradient`` with ``output_activation.backward``.
    """

    def __init__(self, network, loss, alpha, fused):
        self.network = network
        self.loss = loss
        self.alpha = alpha
        self.fused = fused
        self._buffers = None
        #: An optional diagnostics.LayerMonitor that sees every batch.
        self.monitor = None

    def _get_buffers(self, n_samples, dtype):
        buffers = self._buffers
        if buffers is None or buffers.capacity < n_samples or buffers.raw.dtype != dtype:
            buffers = _Buffers(self.network, n_samples, dtype, self.fused)
            self._buffers = buffers
        return buffers

    def loss_gradient(self, params, X, y, sample_weight=None, out=None):
        """Objective value and gradient at ``params``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter vector.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray
            Targets encoded for the loss.
        sample_weight : ndarray of shape (n_samples,), default=None
        out : ndarray of shape (n_params,), default=None
            Where to write the gradient.

        Returns
        -------
        value : float
        gradient : ndarray of shape (n_params,)
        """
        network = self.network
        n_samples = X.shape[0]
        buffers = self._get_buffers(n_samples, params.dtype)
        coefs, intercepts = network.unpack(params)
        act_params = network.unpack_activation_params(params)
        grad = np.empty_like(params) if out is None else out
        coef_grads, intercept_grads = network.unpack(grad)
        act_param_grads = network.unpack_activation_params(grad)

        # Forward pass, keeping each hidden layer's z and a.
        a = X
        for i, activation in enumerate(network.hidden_activations):
            z = _affine(a, coefs[i], intercepts[i], out=buffers.z[i][:n_samples])
            a = activation.forward(z, out=buffers.a[i][:n_samples],
                                   **_params_kwarg(act_params[i]))
        raw = _affine(a, coefs[-1], intercepts[-1], out=buffers.raw[:n_samples])

        # Gradient of the loss with respect to the raw output.
        last = network.n_weight_layers - 1
        delta_out = buffers.delta[last][:n_samples]
        if self.fused:
            value, delta = _call_loss_gradient(
                self.loss, "loss_gradient_raw", y, raw, sample_weight, delta_out
            )
        else:
            output_activation = network.output_activation
            y_pred = output_activation.forward(raw, out=buffers.y_pred[:n_samples])
            value, grad_pred = _call_loss_gradient(
                self.loss, "loss_gradient", y, y_pred, sample_weight,
                buffers.grad_pred[:n_samples],
            )
            delta = output_activation.backward(raw, y_pred, grad_pred, out=delta_out)

        # Backward pass.
        for i in range(last, -1, -1):
            a_prev = X if i == 0 else buffers.a[i - 1][:n_samples]
            _input_gradient(a_prev, delta, coef_grads[i])
            np.sum(delta, axis=0, out=intercept_grads[i])
            if i > 0:
                grad_a = np.matmul(delta, coefs[i].T, out=buffers.delta[i - 1][:n_samples])
                activation = network.hidden_activations[i - 1]
                z_prev = buffers.z[i - 1][:n_samples]
                if act_params[i - 1] is not None:
                    activation.param_gradient(z_prev, a_prev, grad_a, act_params[i - 1],
                                              out=act_param_grads[i - 1])
                delta = activation.backward(z_prev, a_prev, grad_a, out=grad_a,
                                            **_params_kwarg(act_params[i - 1]))

        if self.alpha:
            weight_sum = n_samples if sample_weight is None else sample_weight.sum()
            if weight_sum > 0:
                coef_flat = params[: network.n_coef]
                scale = self.alpha / weight_sum
                value += 0.5 * scale * float(np.dot(coef_flat, coef_flat))
                grad[: network.n_coef] += params.dtype.type(scale) * coef_flat
        if self.monitor is not None:
            self.monitor.observe(buffers.z, buffers.a, n_samples, act_params, coef_grads)
        return float(value), grad


def _call_loss_gradient(loss, method, y, prediction, sample_weight, out):
    """Call a loss's fused value-and-gradient method, or compose ``__call__`` and ``gradient``.

    A user-defined loss that only implements the minimal protocol still works; a result that
    comes back in a new array is copied into ``out`` so the backward pass keeps its buffers.
    """
    fused = getattr(loss, method, None)
    if fused is not None:
        value, grad = fused(y, prediction, sample_weight, out=out)
    elif method == "loss_gradient":
        value = loss(y, prediction, sample_weight)
        grad = loss.gradient(y, prediction, sample_weight)
    else:
        value = loss.loss_from_raw(y, prediction, sample_weight)
        grad = loss.gradient_raw(y, prediction, sample_weight)
    if grad is not out:
        grad = np.asarray(grad)
        if grad.shape != out.shape:
            raise ValueError(
                f"{loss!r}.{method} returned a gradient of shape {grad.shape}; expected "
                f"{out.shape}, the shape of the network output."
            )
        np.copyto(out, grad, casting="same_kind")
    return value, out

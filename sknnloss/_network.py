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

from ._parallel import run_blocks
from .activations import Logistic
from .losses import SparseCategoricalCrossEntropy

__all__ = ["Network", "Objective", "INITIALIZERS", "BN_MOMENTUM", "BN_EPSILON", "sample_keys"]


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
    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activation (batch normalisation). The trained scale
        and shift of every hidden layer follow the activation parameters in the flat vector;
        the running means and variances used for prediction come last. They are *state*,
        not trained parameters: their gradient is always zero, so no solver moves them, and
        they travel with the weights whenever the vector is copied (best-epoch snapshots,
        divergence restores, pickling). ``n_trainable`` is where they begin.
    """

    def __init__(self, layer_units, hidden_activations, output_activation, batch_norm=False):
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
        self.batch_norm = bool(batch_norm)
        hidden_units = self.layer_units[1:-1] if self.batch_norm else []
        self.bn_slices = {}
        for name in ("scale", "shift", "running_mean", "running_var"):
            if name == "running_mean":
                self.n_trainable = start
            slices = []
            for units in hidden_units:
                slices.append((start, start + units))
                start += units
            self.bn_slices[name] = slices
        if not self.batch_norm:
            self.n_trainable = start
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

    def unpack_batch_norm(self, params):
        """Views ``(scales, shifts, running_means, running_vars)``, one per hidden layer (four
        empty lists without batch normalisation)."""
        return tuple([params[s:e] for s, e in self.bn_slices[name]]
                     for name in ("scale", "shift", "running_mean", "running_var"))

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
        # Batch normalisation starts as the identity map, with PyTorch's initial statistics.
        scales, shifts, means, variances = self.unpack_batch_norm(params)
        for views, value in ((scales, 1), (shifts, 0), (means, 0), (variances, 1)):
            for view in views:
                view[...] = value
        return params

    def forward(self, params, X, keep_raw=True, apply_output=True):
        """Raw output and prediction for ``X``; allocates its own arrays (thread-safe).

        With ``keep_raw=False`` the output activation runs in place on the raw output (half
        the memory for wide outputs) and ``raw`` is returned as None. With
        ``apply_output=False`` there is no output activation: ``(None, raw)`` is returned.

        Large inputs are processed in blocks of rows (``FORWARD_BLOCK_ELEMENTS`` elements of
        the widest layer per block, 256 to 1024 rows), so the hidden activations stay small
        enough for the CPU caches and the memory held at once does not grow with the number
        of rows beyond the outputs themselves. From ``MIN_PARALLEL_BLOCKS`` blocks on, the
        blocks are shared out between threads, one per BLAS thread (``_parallel``); the
        result is the same on any number of threads.

        Returns
        -------
        raw : ndarray of shape (n_samples, n_outputs)
        y_pred : ndarray of shape (n_samples, n_outputs)
            ``output_activation(raw)``.
        """
        weights = self._prediction_weights(params)
        n_samples = X.shape[0]
        block = self._forward_block_rows()
        output = self.output_activation if apply_output else None
        if not apply_output:
            keep_raw = False
        if n_samples <= block:
            raw = self._forward_block(X, *weights)
            if output is None:
                return None, raw
            if not keep_raw:
                return None, output.forward(raw, out=raw)
            return raw, output.forward(raw)
        if sparse.issparse(X):
            X = X.tocsr()  # cheap row blocks
        dtype = np.result_type(X.dtype, params.dtype)
        raw = np.empty((n_samples, self.layer_units[-1]), dtype=dtype)
        y_pred = np.empty_like(raw) if keep_raw else raw

        def predict_rows(start, stop):
            self._forward_block(X[start:stop], *weights, out=raw[start:stop])
            if output is not None:
                output.forward(raw[start:stop], out=y_pred[start:stop])

        run_blocks(n_samples, block, lambda: predict_rows)
        return (raw if keep_raw else None), y_pred

    def raw_argmax(self, params, X):
        """Index of the largest raw output of each row (thread-safe).

        Block by block, like :meth:`forward`, but only one block of raw outputs exists at a
        time: for 100,000 rows of 1000 outputs that is 2 MB instead of 800 MB, and none of
        the page faults of a fresh 800 MB array (one such block per thread).

        Returns
        -------
        index : ndarray of shape (n_samples,) of intp
        """
        weights = self._prediction_weights(params)
        n_samples = X.shape[0]
        block = self._forward_block_rows()
        if sparse.issparse(X):
            X = X.tocsr()
        index = np.empty(n_samples, dtype=np.intp)
        shape = (min(block, n_samples), self.layer_units[-1])
        dtype = np.result_type(X.dtype, params.dtype)

        def make_worker():
            raw = np.empty(shape, dtype=dtype)  # one block's outputs, per thread

            def argmax_rows(start, stop):
                out = self._forward_block(X[start:stop], *weights, out=raw[: stop - start])
                np.argmax(out, axis=1, out=index[start:stop])
            return argmax_rows

        run_blocks(n_samples, block, make_worker)
        return index

    def _prediction_weights(self, params):
        """The views :meth:`_forward_block` needs: coefficients, intercepts, activation
        parameters and prediction-mode batch normalisation ``(mean, factor, shift)`` per
        hidden layer (None without batch normalisation)."""
        coefs, intercepts = self.unpack(params)
        act_params = self.unpack_activation_params(params)
        bn = None
        if self.batch_norm:  # (z - mean) * factor + shift
            scales, shifts, means, variances = self.unpack_batch_norm(params)
            bn = [(mean, scale / np.sqrt(variance + BN_EPSILON), shift)
                  for scale, shift, mean, variance in zip(scales, shifts, means, variances)]
        return coefs, intercepts, act_params, bn

    def _forward_block_rows(self):
        """Rows per block of the prediction passes (see ``FORWARD_BLOCK_ELEMENTS``)."""
        return min(FORWARD_BLOCK_ROWS,
                   max(FORWARD_MIN_ROWS, FORWARD_BLOCK_ELEMENTS // max(self.layer_units[1:])))

    def _forward_block(self, X, coefs, intercepts, act_params, bn, out=None):
        a = X
        for i, activation in enumerate(self.hidden_activations):
            z = _affine(a, coefs[i], intercepts[i])
            if bn is not None:
                mean, factor, shift = bn[i]
                z -= mean
                z *= factor
                z += shift
            a = activation.forward(z, out=z, **_params_kwarg(act_params[i]))
        return _affine(a, coefs[-1], intercepts[-1], out=out)


#: Rows per block of :meth:`Network.forward` times the widest layer's units: 2**18 elements
#: (2 MiB of float64 per hidden array), between ``FORWARD_MIN_ROWS`` and
#: ``FORWARD_BLOCK_ROWS`` rows: blocks of 512 to 1024 rows were the fastest for every network
#: measured (100,000 rows; a narrow (64, 64) network took twice as long in blocks of 4096).
FORWARD_BLOCK_ELEMENTS = 2 ** 18
FORWARD_BLOCK_ROWS = 1024
FORWARD_MIN_ROWS = 256

#: The same for the blocks of a large training batch (:meth:`Objective.loss_gradient`), which
#: keeps several arrays per layer (pre-activations, gradients) in the caches at once: 2**15
#: elements, at least 256 rows (measured on 20,000 x 50 with 100 tanh units: an evaluation
#: about 25% faster than the whole batch at once, with blocks of 256 to 330 rows).
TRAIN_BLOCK_ELEMENTS = 2 ** 15

#: Batch normalisation constants, PyTorch's ``BatchNorm1d`` defaults: the running statistics
#: move by ``momentum`` towards each training batch's statistics, and ``epsilon`` is added to
#: the variance before its square root.
BN_MOMENTUM = 0.1
BN_EPSILON = 1e-5

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


def output_only(activation):
    """Whether ``activation`` computes its derivative from its output alone, so that the
    training loop may overwrite the pre-activation with it (see
    ``Activation.derivative_from_output``)."""
    return bool(getattr(activation, "derivative_from_output", False))


def _is_trainable(activation):
    return bool(getattr(activation, "trainable", False))


def _params_kwarg(act_params):
    """Keyword arguments passing a trainable activation its parameters (none otherwise)."""
    return {} if act_params is None else {"params": act_params}


def _affine(a, coef, intercept, out=None):
    """``a @ coef + intercept`` (``a`` dense or sparse), written into ``out`` if given."""
    if _is_sparse(a):
        product = safe_sparse_dot(a, coef)
        if out is None:
            out = np.asarray(product)
        else:
            np.copyto(out, product)
    else:
        out = np.matmul(a, coef, out=out)
    out += intercept
    return out


def _is_sparse(X):
    """``scipy.sparse.issparse(X)``, answered at once for the usual dense batch (the training
    loop asks on every batch)."""
    return not isinstance(X, np.ndarray) and sparse.issparse(X)


def _input_gradient(a, delta, out):
    """``a.T @ delta`` written into ``out`` (``a`` dense or sparse)."""
    if _is_sparse(a):
        np.copyto(out, safe_sparse_dot(a.T, delta))
    else:
        np.matmul(a.T, delta, out=out)
    return out


class _Buffers:
    """Per-batch work arrays, allocated once for ``capacity`` rows and sliced per batch."""

    def __init__(self, network, capacity, dtype, fused, dropout, in_place):
        self.capacity = capacity
        hidden = network.layer_units[1:-1]
        n_outputs = network.layer_units[-1]
        self.z = [np.empty((capacity, u), dtype) for u in hidden]
        self.delta = [np.empty((capacity, u), dtype) for u in network.layer_units[1:]]
        self.raw = np.empty((capacity, n_outputs), dtype)
        self.ones = np.ones(capacity, dtype)
        # With batch normalisation, z holds the normalised pre-activation and h the scaled and
        # shifted one that the activation receives; without it, h is z.
        self.h = ([np.empty((capacity, u), dtype) for u in hidden] if network.batch_norm
                  else self.z)
        # An activation whose derivative needs only its output runs in place over h.
        self.a = [h if same else np.empty((capacity, u), dtype)
                  for u, h, same in zip(hidden, self.h, in_place)]
        self.inv_std = [np.empty(u, dtype) for u in hidden]
        # With dropout, a holds the activation's output and d what the next layer receives.
        self.mask = [np.empty((capacity, u), dtype) if p else None
                     for u, p in zip(hidden, dropout)]
        self.d = [np.empty((capacity, u), dtype) if p else a
                  for u, p, a in zip(hidden, dropout, self.a)]
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

    The network is evaluated in *training mode*: batch normalisation uses the statistics of
    the batch (weighted by the sample weights), and dropout, if any, drops units.

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
    dropout : sequence of float, default=None
        Per hidden layer, the probability of dropping each unit's output in training (inverted
        dropout: kept outputs are divided by ``1 - p``). Masks need ``sample_keys`` and a
        seed, see :meth:`set_dropout_seed` and :func:`sample_keys`.
    update_running_stats : bool, default=False
        Move batch normalisation's running statistics (in ``params``) towards each batch's
        statistics on every call: what a minibatch solver wants, and not a line search.
    targets_checked : bool, default=False
        The targets passed to :meth:`loss_gradient` are valid for the loss as they are:
        for class indices, 1-D integer arrays with every value in ``[0, n_outputs)``, as the
        estimators' label encoder makes them (and ``loss.check_target`` passes once per fit).
        The loss may then skip its check on every batch.
    """

    def __init__(self, network, loss, alpha, fused, dropout=None,
                 update_running_stats=False, targets_checked=False):
        self.network = network
        self.loss = loss
        # Class indices the estimator's encoder made need no check on every batch: the
        # sparse cross-entropy has a twin of its fused method without it. Only the class
        # itself, as written: a subclass (whatever it overrides) or a method set on the
        # instance runs through loss_gradient_raw.
        self._raw_method = "loss_gradient_raw"
        if (targets_checked and fused and type(loss) is SparseCategoricalCrossEntropy
                and "loss_gradient_raw" not in vars(loss)):
            self._raw_method = "_loss_gradient_raw_checked"
        self.alpha = alpha
        self.fused = fused
        n_hidden = len(network.layer_units) - 2
        self.dropout = [0.0] * n_hidden if dropout is None else [float(p) for p in dropout]
        self.update_running_stats = update_running_stats
        # Per-batch decisions made once: whether a layer's activation runs in place (its
        # derivative needs only its output) and whether any layer drops units.
        self._in_place = [output_only(act) for act in network.hidden_activations]
        self._uses_dropout = any(self.dropout)
        self._dropout_seed = 0
        self._buffers = None
        self._l2_scratch = None
        self._block_scratch = None
        self._last_rows = 0
        self._view_cache = {}
        #: An optional diagnostics.LayerMonitor that sees every batch.
        self.monitor = None

    @property
    def uses_dropout(self):
        return self._uses_dropout

    def set_dropout_seed(self, seed, epoch=0):
        """Seed the dropout masks of the following calls from ``(seed, epoch)``."""
        self._dropout_seed = _mix_int(_mix_int(int(seed)) + _GOLDEN * (int(epoch) + 1))

    def _views(self, role, array):
        """``(coefs, intercepts, activation params, batch-norm views)`` of ``array``, kept
        while the same array comes back: a solver passes the same parameter and gradient
        vectors on every call, so the views are made once per fit, not once per batch."""
        cached = self._view_cache.get(role)
        if cached is None or cached[0] is not array:
            network = self.network
            cached = (array, (*network.unpack(array), network.unpack_activation_params(array),
                              network.unpack_batch_norm(array)))
            self._view_cache[role] = cached
        return cached[1]

    def _get_buffers(self, n_samples, dtype):
        buffers = self._buffers
        if buffers is None or buffers.capacity < n_samples or buffers.raw.dtype != dtype:
            buffers = _Buffers(self.network, n_samples, dtype, self.fused, self.dropout,
                               self._in_place)
            self._buffers = buffers
        return buffers

    def loss_gradient(self, params, X, y, sample_weight=None, out=None, sample_keys=None):
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
        sample_keys : ndarray of uint64 of shape (n_samples,), default=None
            The rows' keys from :func:`sample_keys`; needed with dropout.

        Returns
        -------
        value : float
        gradient : ndarray of shape (n_params,)

        Notes
        -----
        A large dense batch without batch normalisation (the whole training set of the scipy
        solvers) is processed in blocks of rows (:data:`TRAIN_BLOCK_ELEMENTS` elements of the
        widest layer each): every block's forward and backward pass runs while its hidden
        arrays are still in the CPU caches, and the blocks' gradients are summed with their
        share of the sample weight. The result is the same sum, in another order.
        """
        network = self.network
        grad = np.empty_like(params) if out is None else out
        blocks = self._row_blocks(X)
        if blocks is None:
            value = self._data_term(params, X, y, sample_weight, grad, sample_keys)
        else:
            total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
            partial = self._block_scratch
            if partial is None or partial.dtype != params.dtype or partial.shape != grad.shape:
                partial = self._block_scratch = np.empty_like(params)
            value, first = 0.0, True
            for rows in blocks:
                sw = None if sample_weight is None else sample_weight[rows]
                share = (rows.stop - rows.start) if sw is None else float(sw.sum())
                if share == 0:
                    continue  # rows of zero weight add nothing
                share /= total
                target = grad if first else partial
                value += share * self._data_term(
                    params, X[rows], y[rows], sw, target,
                    None if sample_keys is None else sample_keys[rows])
                target *= target.dtype.type(share)
                if not first:
                    grad += partial
                first = False
            if first:  # every weight is zero
                grad.fill(0)
        value += self._add_l2(params, grad, X.shape[0], sample_weight)
        if self.monitor is not None and self.monitor.due():
            # The activations of the last block (or the batch), the gradient of the batch;
            # the back-propagation buffers of the hidden layers are free now.
            buffers = self._buffers
            coefs_grad = self._views("grad", grad)[0]
            act_params = self._views("params", params)[2]
            self.monitor.observe(buffers.h, buffers.a, self._last_rows, act_params, coefs_grad,
                                 scratch=buffers.delta[:-1])
        return float(value), grad

    def _row_blocks(self, X):
        """Row slices of a batch processed block by block, or None (all at once)."""
        network = self.network
        n_samples = X.shape[0]
        rows = max(256, TRAIN_BLOCK_ELEMENTS // max(network.layer_units[1:]))
        if n_samples <= rows or network.batch_norm or _is_sparse(X):
            return None  # batch statistics need the whole batch; sparse rows stay as given
        n_blocks = -(-n_samples // rows)
        size = -(-n_samples // n_blocks)  # blocks of (nearly) equal size
        return [slice(start, min(start + size, n_samples))
                for start in range(0, n_samples, size)]

    def _data_term(self, params, X, y, sample_weight, grad, sample_keys):
        """The weighted-mean loss of one batch (or block) and its gradient, written into
        ``grad``; the L2 penalty is not included."""
        network = self.network
        n_samples = X.shape[0]
        self._last_rows = n_samples
        buffers = self._get_buffers(n_samples, params.dtype)
        coefs, intercepts, act_params, bn = self._views("params", params)
        coef_grads, intercept_grads, act_param_grads, bn_grads = self._views(
            "grad" if grad is not self._block_scratch else "block", grad)
        weights = self._weight_sum = None
        if network.batch_norm and sample_weight is not None:
            self._weight_sum = float(sample_weight.sum())
            weights = sample_weight / sample_weight.dtype.type(self._weight_sum)
        if self._uses_dropout and sample_keys is None:
            raise ValueError("dropout needs the sample keys of the batch")
        x_sparse = _is_sparse(X)  # only the input can be sparse

        # Forward pass, keeping each hidden layer's z, h, a (and dropout's masked output d).
        a = X
        for i, activation in enumerate(network.hidden_activations):
            z = buffers.z[i][:n_samples]
            if i == 0 and x_sparse:
                _affine(a, coefs[i], intercepts[i], out=z)
            else:
                np.matmul(a, coefs[i], out=z)
                z += intercepts[i]
            h = z
            if network.batch_norm:
                h = self._batch_norm_forward(i, z, buffers.h[i][:n_samples], weights, bn,
                                             buffers.inv_std[i])
            a = activation.forward(h, out=buffers.a[i][:n_samples],
                                   **_params_kwarg(act_params[i]))
            if self.dropout[i]:
                mask = buffers.mask[i][:n_samples]
                _dropout_mask(sample_keys, self._dropout_seed, i, self.dropout[i], out=mask)
                a = np.multiply(a, mask, out=buffers.d[i][:n_samples])
        raw = buffers.raw[:n_samples]
        if network.n_weight_layers == 1 and x_sparse:
            _affine(a, coefs[-1], intercepts[-1], out=raw)
        else:
            np.matmul(a, coefs[-1], out=raw)
            raw += intercepts[-1]

        # Gradient of the loss with respect to the raw output.
        last = network.n_weight_layers - 1
        delta_out = buffers.delta[last][:n_samples]
        if self.fused:
            value, delta = _call_loss_gradient(
                self.loss, self._raw_method, y, raw, sample_weight, delta_out
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
            if i == 0:
                _input_gradient(X, delta, coef_grads[0])
            else:
                np.matmul(buffers.d[i - 1][:n_samples].T, delta, out=coef_grads[i])
            # Column sums as ones @ delta: a BLAS matrix-vector product, faster than sum().
            np.matmul(buffers.ones[:n_samples], delta, out=intercept_grads[i])
            if i > 0:
                j = i - 1
                grad_a = np.matmul(delta, coefs[i].T, out=buffers.delta[j][:n_samples])
                if self.dropout[j]:
                    grad_a *= buffers.mask[j][:n_samples]
                activation = network.hidden_activations[j]
                a_act = buffers.a[j][:n_samples]
                # h was overwritten by the activation when it works from its output alone.
                h_prev = None if self._in_place[j] else buffers.h[j][:n_samples]
                if act_params[j] is not None:
                    activation.param_gradient(h_prev, a_act, grad_a, act_params[j],
                                              out=act_param_grads[j])
                delta = activation.backward(h_prev, a_act, grad_a, out=grad_a,
                                            **_params_kwarg(act_params[j]))
                if network.batch_norm:
                    delta = _batch_norm_backward(
                        delta, buffers.z[j][:n_samples], buffers.inv_std[j], bn[0][j],
                        weights, bn_grads[0][j], bn_grads[1][j],
                    )
        if network.batch_norm:  # the running statistics are state, not trained
            grad[network.n_trainable:] = 0
        return float(value)

    def _add_l2(self, params, grad, n_samples, sample_weight):
        """Add the L2 penalty's gradient to ``grad``; return the penalty."""
        if not self.alpha:
            return 0.0
        network = self.network
        weight_sum = n_samples if sample_weight is None else sample_weight.sum()
        penalty = 0.0
        if weight_sum > 0:
            coef_flat = params[: network.n_coef]
            scale = self.alpha / weight_sum
            penalty = 0.5 * scale * float(np.dot(coef_flat, coef_flat))
            # grad += scale * coefs, through a scratch buffer kept between calls (numpy's
            # own BLAS only: scipy ships a second OpenBLAS whose threads would fight it).
            scratch = self._l2_scratch
            if scratch is None or scratch.dtype != params.dtype:
                scratch = self._l2_scratch = np.empty(network.n_coef, params.dtype)
            np.multiply(coef_flat, params.dtype.type(scale), out=scratch)
            grad[: network.n_coef] += scratch
        return penalty

    def _batch_norm_forward(self, i, z, h, weights, bn, inv_std):
        """Normalise ``z`` in place with the batch statistics; write ``scale * z + shift``
        into ``h``; update the running statistics if asked; return ``h``."""
        scales, shifts, running_means, running_vars = bn
        n_samples = z.shape[0]
        mean = z.mean(axis=0) if weights is None else weights @ z
        z -= mean
        np.multiply(z, z, out=h)  # h as scratch space for the squared deviations
        var = h.mean(axis=0) if weights is None else weights @ h
        np.sqrt(var + z.dtype.type(BN_EPSILON), out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        z *= inv_std
        np.multiply(z, scales[i], out=h)
        h += shifts[i]
        if self.update_running_stats:
            # The unbiased variance, as PyTorch keeps; with sample weights the weights count
            # as frequencies, so a weight of k is k copies of the row.
            count = n_samples if self._weight_sum is None else self._weight_sum
            correction = count / (count - 1) if count > 1 else 1.0
            momentum = z.dtype.type(BN_MOMENTUM)
            running_means[i] *= 1 - momentum
            running_means[i] += momentum * mean
            running_vars[i] *= 1 - momentum
            running_vars[i] += (momentum * correction) * var
        return h

    def population_statistics(self, params, X, sample_weight=None):
        """Set the running statistics in ``params`` to the exact (weighted) means and biased
        variances of the whole of ``X`` at these weights: batch normalisation's prediction
        mode then computes exactly the function a full-batch solver optimised."""
        network = self.network
        if not network.batch_norm:
            return
        coefs, intercepts = network.unpack(params)
        act_params = network.unpack_activation_params(params)
        scales, shifts, means, variances = network.unpack_batch_norm(params)
        weights = None if sample_weight is None else sample_weight / sample_weight.sum()
        a = X
        for i, activation in enumerate(network.hidden_activations):
            z = _affine(a, coefs[i], intercepts[i])
            means[i][...] = z.mean(axis=0) if weights is None else weights @ z
            z -= means[i]
            squared = z * z
            variances[i][...] = squared.mean(axis=0) if weights is None else weights @ squared
            z *= scales[i] / np.sqrt(variances[i] + BN_EPSILON)
            z += shifts[i]
            a = activation.forward(z, out=z, **_params_kwarg(act_params[i]))


def _batch_norm_backward(grad_h, zhat, inv_std, scale, weights, scale_grad, shift_grad):
    """Gradient through batch normalisation, in place in ``grad_h``; ``zhat`` is destroyed.

    With ``h = scale * zhat + shift``, ``zhat = (z - mean) / std`` and batch weights ``p``
    (``1/n`` each without sample weights, summing to 1):
    ``dz = scale / std * (dh - p * (sum(dh) + zhat * sum(dh * zhat)))``.
    """
    np.einsum("ij,ij->j", grad_h, zhat, out=scale_grad)
    np.sum(grad_h, axis=0, out=shift_grad)
    zhat *= scale_grad
    zhat += shift_grad
    if weights is None:
        zhat *= zhat.dtype.type(1.0 / zhat.shape[0])
    else:
        zhat *= weights[:, None]
    grad_h -= zhat
    grad_h *= scale * inv_std
    return grad_h


_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix(x):
    """splitmix64's finaliser, in place on a uint64 array (wrapping arithmetic)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _mix_int(x):
    """splitmix64's finaliser on a Python int."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def sample_keys(X):
    """One 64-bit key per row of ``X``, a hash of its non-zero values and their columns.

    Dropout masks are a function of (seed, layer, unit, row key): identical rows get
    identical masks within an epoch, so a sample weight of ``k`` is exactly ``k`` copies of a
    row, and a row's mask does not depend on the batch it falls in. Dense and sparse forms of
    the same data give the same keys.
    """
    n_samples, n_features = X.shape
    keys = np.zeros(n_samples, dtype=np.uint64)
    bits_dtype = np.uint64 if X.dtype == np.float64 else np.uint32
    columns = _mix((np.arange(n_features, dtype=np.uint64) + np.uint64(1))
                   * np.uint64(_GOLDEN))
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
        values = X.data.view(bits_dtype).astype(np.uint64)
        contributions = _mix(values ^ columns[X.indices])
        contributions[X.data == 0] = 0
        rows = np.repeat(np.arange(n_samples), np.diff(X.indptr))
        np.add.at(keys, rows, contributions)
        return keys
    X = np.ascontiguousarray(X)
    for start in range(0, n_samples, 4096):
        block = X[start:start + 4096]
        contributions = _mix(block.view(bits_dtype).astype(np.uint64) ^ columns)
        contributions[block == 0] = 0
        keys[start:start + 4096] = contributions.sum(axis=1, dtype=np.uint64)
    return keys


def _dropout_mask(keys, seed, layer, rate, out):
    """Inverted-dropout mask: ``0`` with probability ``rate``, else ``1 / (1 - rate)``.

    Each row's key is fully mixed with the seed and layer once; each (row, unit) then gets
    one multiply-xorshift-multiply round, whose high bits are compared with
    ``rate * 2**64`` (no conversion to floats).
    """
    n_units = out.shape[1]
    layer_seed = np.uint64(_mix_int(_mix_int(seed + _GOLDEN * (layer + 1))))
    rows = _mix(keys ^ layer_seed)
    bits = np.add(rows[:, None], np.arange(1, n_units + 1, dtype=np.uint64)
                  * np.uint64(_GOLDEN))
    bits *= np.uint64(0xBF58476D1CE4E5B9)
    bits ^= bits >> np.uint64(29)
    bits *= np.uint64(0x94D049BB133111EB)
    keep = bits >= np.uint64(min(int(rate * 2.0 ** 64), _MASK64))
    np.multiply(keep, out.dtype.type(1.0 / (1.0 - rate)), out=out)
    return out


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

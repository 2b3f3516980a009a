"""What a user inspects about training: the per-epoch record ``history_`` and the per-layer
diagnostics of vanishing gradients and dying units.

Each epoch of the stochastic solvers appends one row: the epoch number, the training loss,
the validation score (with early stopping), the learning rate used, the elapsed time, the
norm of the epoch's total step and, with ``diagnostics=True``, per layer the fraction of
dead units, the fraction of saturated activations, the gradient norm and the weight norm.
``history_["loss"]`` gives a column as an array, ``history_.to_frame()`` a pandas DataFrame
when pandas is installed.
"""

import math

import numpy as np

from ._network import output_only
from .activations import ReLU, _constant

__all__ = ["TrainingHistory", "LayerMonitor", "SATURATION_THRESHOLD", "MONITORED_BATCHES",
           "MONITORED_ROWS"]


#: A hidden activation counts as saturated where its derivative is non-zero but below this.
SATURATION_THRESHOLD = 0.05


class TrainingHistory:
    """Per-epoch training record; columns are numpy arrays.

    Columns: ``epoch``, ``loss``, ``validation_score`` (nan without early stopping),
    ``learning_rate``, ``elapsed`` (seconds since the start of the ``fit`` or
    ``partial_fit`` call) and ``step_norm`` (L2 norm of the change of the parameter vector
    over the epoch). With ``diagnostics=True`` (the default), per-layer columns of shape
    ``(n_epochs, n_layers)`` too (see :class:`LayerMonitor`): ``dead_fraction`` and
    ``saturated_fraction`` per hidden layer, ``gradient_norm`` and ``weight_norm`` per
    weight layer. The record accumulates over ``partial_fit`` and warm-started ``fit`` calls,
    like ``loss_curve_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknnloss import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.history_["dead_fraction"].shape  # doctest: +SKIP
    (5, 1)
    """

    def __init__(self):
        self._columns = {}

    def append(self, **row):
        """Add one epoch; a value may be a number, None (recorded as nan) or an array."""
        columns = self._columns
        if row.keys() == columns.keys():  # every epoch of a fit: the same columns
            for name, value in row.items():
                columns[name].append(np.nan if value is None else value)
            return
        n_before = len(self)
        for name, value in row.items():
            column = self._columns.setdefault(name, [np.nan] * n_before)
            column.append(np.nan if value is None else value)
        for name, column in self._columns.items():
            if name not in row:
                column.append(np.nan)

    def __len__(self):
        return len(next(iter(self._columns.values()), []))

    def __getitem__(self, name):
        try:
            column = self._columns[name]
        except KeyError:
            raise KeyError(f"{name!r} is not recorded; the columns are {self.keys()}.") from None
        widths = {np.size(v) for v in column if np.ndim(v)}
        if not widths:
            return np.asarray(column, dtype=float)
        width = max(widths)
        return np.vstack([np.full(width, np.nan) if np.ndim(v) == 0 else v for v in column])

    def keys(self):
        """The column names."""
        return list(self._columns)

    def to_dict(self):
        """The record as a dict of numpy arrays."""
        return {name: self[name] for name in self._columns}

    def to_frame(self):
        """The record as a pandas DataFrame, one row per epoch; per-layer columns are split
        into ``name[layer]``. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "history_.to_frame() needs pandas (pip install pandas); history_.to_dict() "
                "gives the same columns as numpy arrays."
            ) from exc
        flat = {}
        for name, values in self.to_dict().items():
            if values.ndim == 1:
                flat[name] = values
            else:
                for layer in range(values.shape[1]):
                    flat[f"{name}[{layer}]"] = values[:, layer]
        return pd.DataFrame(flat).set_index("epoch")

    def format_last(self, max_iter=None, verbose=1):
        """One readable line for the last epoch (what ``verbose`` prints)."""
        row = {name: column[-1] for name, column in self._columns.items()}
        parts = [f"Epoch {int(row['epoch'])}" + (f"/{max_iter}" if max_iter else ""),
                 f"loss {row['loss']:.6f}"]
        if not np.isnan(row["validation_score"]):
            parts.append(f"validation score {row['validation_score']:.4f}")
        parts += [f"learning rate {row['learning_rate']:.3g}", f"{row['elapsed']:.2f}s"]
        if verbose >= 2:
            parts.append(f"step norm {row['step_norm']:.3g}")
            for name, label in [("dead_fraction", "dead"), ("saturated_fraction", "saturated"),
                                ("gradient_norm", "grad norm"), ("weight_norm", "weight norm")]:
                values = row.get(name)
                if values is not None and np.ndim(values):
                    parts.append(f"{label} [" + ", ".join(f"{v:.3g}" for v in values) + "]")
        return ", ".join(parts)

    def __repr__(self):
        return f"TrainingHistory({len(self)} epochs, columns={self.keys()})"


#: Activation statistics are gathered on at most this many batches per epoch.
MONITORED_BATCHES = 2

#: ... and on at most this many rows of each of those batches (the rows are shuffled).
MONITORED_ROWS = 512


class LayerMonitor:
    """Accumulates, over the batches of an epoch, what the per-layer diagnostics need.

    Per hidden layer: which units had a non-zero activation derivative for at least one
    monitored sample (the others are **dead**: no gradient reaches their inputs, the
    dying-ReLU symptom), and the fraction of activations with a non-zero derivative below
    :data:`SATURATION_THRESHOLD` (**saturated**: the vanishing-gradient symptom of sigmoid
    and tanh units; the negative side of a leaky ReLU with a slope below the threshold counts
    too, its gradient being shrunk as much). These activation statistics are gathered on every
    batch of an epoch of at most :data:`MONITORED_BATCHES` batches, else on that many batches
    spread evenly over the epoch, and on the first :data:`MONITORED_ROWS` rows of each, which
    keeps their cost within a few percent of fit time (see ``benchmarks/overhead.py``). Per
    weight layer, from the same batches: the root mean square of the norm of the coefficient
    gradient (L2 term included), and at the end of the epoch the norm of the coefficients.
    Activations without an elementwise derivative (softmax) report nan.

    The training loop calls :meth:`due` on every batch and :meth:`observe` on those it
    answers True for, then :meth:`end_epoch`.
    """

    def __init__(self, network):
        self.network = network
        self._derivative = [None] * len(network.hidden_activations)
        self._flags = [None] * len(network.hidden_activations)
        self._stride = 1
        self._alive = None
        self._reset()

    def start_epoch(self, n_batches):
        """Spread the activation statistics over an epoch of ``n_batches`` batches."""
        self._stride = max(1, -(-n_batches // MONITORED_BATCHES))

    def _buffers(self, i, z, own=True):
        """Reusable work arrays for layer ``i`` (no allocation per batch): the derivative's,
        if ``own`` (else None), and two of flags."""
        n = z.shape[0]
        flags = self._flags[i]
        if flags is None or flags[0].shape[0] < n:
            flags = self._flags[i] = (np.empty(z.shape, dtype=bool),
                                      np.empty(z.shape, dtype=bool))
        d = None
        if own:
            d = self._derivative[i]
            if d is None or d.shape[0] < n or d.dtype != z.dtype:
                d = self._derivative[i] = np.empty_like(z)
            d = d[:n]
        return d, flags[0][:n], flags[1][:n]

    def _reset(self):
        units = self.network.layer_units[1:-1]
        if self._alive is None:
            self._alive = [np.zeros(u, dtype=bool) for u in units]
            self._saturated = np.zeros(len(units))
            self._seen = np.zeros(len(units))
            self._grad_sq = np.zeros(self.network.n_weight_layers)
        else:  # in place: end_epoch's result holds new arrays, never these
            for alive in self._alive:
                alive.fill(False)
            for array in (self._saturated, self._seen, self._grad_sq):
                array.fill(0)
        self._batches = 0
        self._monitored = 0

    def due(self):
        """Count one batch; whether :meth:`observe` should record it (the training loop asks
        first, and skips gathering what ``observe`` needs for the other batches)."""
        self._batches += 1
        return not (self._batches - 1) % self._stride

    def observe(self, zs, activations, n_samples, act_params, coef_grads, scratch=None):
        """Record one batch: hidden pre-activations and activations (the first ``n_samples``
        rows of each buffer), and the coefficient gradients.

        ``scratch``, per hidden layer an array of the dtype of ``zs`` with at least as many
        rows and the same columns, receives the activation derivatives; the training loop
        passes its back-propagation buffers, free once the gradient is computed and still in
        the CPU caches (a buffer of the monitor's own, touched twice an epoch, is not).
        """
        rows = min(n_samples, MONITORED_ROWS)
        for i, (activation, z, a) in enumerate(
                zip(self.network.hidden_activations, zs, activations)):
            d = None if scratch is None else scratch[i][:rows]
            self._observe_layer(i, activation, z[:rows], a[:rows], act_params[i], d)
        for j, coef_grad in enumerate(coef_grads):
            flat = coef_grad.ravel()
            self._grad_sq[j] += float(np.dot(flat, flat))
        self._monitored += 1

    def _observe_layer(self, i, activation, z, a, params, d=None):
        if type(activation) is ReLU:
            # Its derivative is 1 where the output is positive and 0 elsewhere: never
            # saturated, and alive where a column of outputs has a positive sum (a BLAS
            # matrix-vector product; the outputs are >= 0). A subclass may differ: not here.
            column_sums = np.matmul(_constant(1, a.shape[0], a.dtype), a)
            if math.isnan(float(np.add.reduce(column_sums))):
                column_sums = (a > 0).any(axis=0)  # a nan output hides the others in a sum
            np.logical_or(self._alive[i], column_sums > 0, out=self._alive[i])
            self._seen[i] += a.size
            return
        own, active, small = self._buffers(i, z, own=d is None)
        d = own if d is None else d
        try:
            kwargs = {} if params is None else {"params": params}
            # The training loop computed such an activation in place over z.
            z = None if output_only(activation) else z
            d = activation.derivative(z, a, out=d, **kwargs)
        except (AttributeError, TypeError, NotImplementedError):
            self._seen[i] = np.nan  # no elementwise derivative (softmax)
            return
        np.not_equal(d, 0, out=active)
        np.logical_or(self._alive[i], active.any(axis=0), out=self._alive[i])
        np.abs(d, out=d)
        np.less(d, SATURATION_THRESHOLD, out=small)
        small &= active  # small but not zero
        self._saturated[i] += np.count_nonzero(small)
        self._seen[i] += d.size

    def end_epoch(self, params):
        """The epoch's diagnostics (a dict of per-layer arrays); starts a new epoch."""
        # Python floats and one array per column: this runs once an epoch, and numpy's mean
        # and norm cost more on arrays this small than the arithmetic they do.
        dead, saturated = [], []
        for alive, n_saturated, seen in zip(self._alive, self._saturated, self._seen):
            ok = seen > 0  # False for nan (no derivative) and for an epoch with no batch seen
            dead.append(1.0 - np.count_nonzero(alive) / alive.size if ok else np.nan)
            saturated.append(float(n_saturated) / float(seen) if ok else np.nan)
        monitored = max(self._monitored, 1)
        with np.errstate(over="ignore"):  # weights diverging to ~1e200 have an inf norm
            weight_sq = [float(np.dot(c, c)) for c in
                         (params[start:stop] for start, stop, _ in self.network.coef_slices)]
        result = {
            "dead_fraction": np.array(dead),
            "saturated_fraction": np.array(saturated),
            "gradient_norm": np.sqrt(self._grad_sq / monitored),
            "weight_norm": np.sqrt(weight_sq),
        }
        self._reset()
        return result

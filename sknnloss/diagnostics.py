"""What a user inspects about training: the per-epoch record ``history_``.

Each epoch of the stochastic solvers appends one row: the epoch number, the training loss,
the validation score (with early stopping), the learning rate used, the elapsed time and the
norm of the epoch's total step. ``history_["loss"]`` gives a column as an array,
``history_.to_frame()`` a pandas DataFrame when pandas is installed.
"""

import numpy as np

__all__ = ["TrainingHistory"]


class TrainingHistory:
    """Per-epoch training record; columns are numpy arrays.

    Columns: ``epoch``, ``loss``, ``validation_score`` (nan without early stopping),
    ``learning_rate``, ``elapsed`` (seconds since the start of the ``fit`` or
    ``partial_fit`` call) and ``step_norm`` (L2 norm of the change of the parameter vector
    over the epoch). The record accumulates over ``partial_fit`` and warm-started ``fit`` calls,
    like ``loss_curve_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknnloss import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.history_["loss"].shape  # doctest: +SKIP
    (5,)
    """

    COLUMNS = ("epoch", "loss", "validation_score", "learning_rate", "elapsed", "step_norm")

    def __init__(self):
        self._rows = {name: [] for name in self.COLUMNS}

    def append(self, **row):
        """Add one epoch (every column, ``validation_score`` may be None)."""
        for name in self.COLUMNS:
            value = row[name]
            self._rows[name].append(np.nan if value is None else float(value))

    def __len__(self):
        return len(self._rows["epoch"])

    def __getitem__(self, name):
        try:
            column = self._rows[name]
        except KeyError:
            raise KeyError(f"{name!r} is not recorded; the columns are {self.keys()}.") from None
        return np.asarray(column, dtype=float)

    def keys(self):
        """The column names."""
        return list(self.COLUMNS)

    def to_dict(self):
        """The record as a dict of numpy arrays."""
        return {name: self[name] for name in self.COLUMNS}

    def to_frame(self):
        """The record as a pandas DataFrame (one row per epoch); needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "history_.to_frame() needs pandas (pip install pandas); history_.to_dict() "
                "gives the same columns as numpy arrays."
            ) from exc
        return pd.DataFrame(self.to_dict()).set_index("epoch")

    def format_last(self, max_iter=None, verbose=1):
        """One readable line for the last epoch (what ``verbose`` prints)."""
        row = {name: column[-1] for name, column in self._rows.items()}
        epoch = int(row["epoch"])
        parts = [f"Epoch {epoch}" + (f"/{max_iter}" if max_iter else ""),
                 f"loss {row['loss']:.6f}"]
        if not np.isnan(row["validation_score"]):
            parts.append(f"validation score {row['validation_score']:.4f}")
        parts += [f"learning rate {row['learning_rate']:.3g}", f"{row['elapsed']:.2f}s"]
        if verbose >= 2:
            parts.append(f"step norm {row['step_norm']:.3g}")
        return ", ".join(parts)

    def __repr__(self):
        return f"TrainingHistory({len(self)} epochs, columns={self.keys()})"

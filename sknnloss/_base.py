"""BaseMLP: parameter validation, the fit / partial_fit loop, warm start, the validation split
and the fitted state (one flat parameter vector, with ``coefs_`` and ``intercepts_`` as views).
"""

import inspect
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._network import INITIALIZERS, Network, Objective, sample_keys
from ._solvers import (
    SCIPY_METHODS,
    SGD,
    Adam,
    minimize_scipy,
    optimizer_from_state_dict,
    run_stochastic,
)
from ._validation import (
    check_fitted_outputs,
    check_input_scale,
    check_protocol,
    check_sample_weight,
    check_target_input,
    check_training_progress,
    check_validation_split,
)
from .activations import ACTIVATION_ALIASES, get_activation
from .diagnostics import LayerMonitor, TrainingHistory
from .losses import LOSS_ALIASES, get_loss
from .pairing import PairingWarning, pairing

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - exercised by the lower-bound CI job
    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callback framework."""

        def set_callbacks(self, *callbacks):
            """Callbacks need scikit-learn >= 1.9."""
            import sklearn

            raise RuntimeError(
                "set_callbacks needs scikit-learn's callback framework (sklearn.callback), "
                f"new in scikit-learn 1.9; this is scikit-learn {sklearn.__version__}. "
                "Upgrade with: pip install 'scikit-learn>=1.9'. Everything else works "
                "without it (verbose=1 prints progress, history_ records every epoch)."
            )

STOCHASTIC_SOLVERS = ("sgd", "adam")


class _FitTasks:
    """The fit's callback tasks (scikit-learn's callback framework): one root task, and one
    sub-task per epoch (stochastic solvers) or iteration (scipy solvers).

    ``end_step()`` returns True when a callback asks to stop. Without callbacks set (or
    without scikit-learn >= 1.9) every method does nothing.
    """

    def __init__(self, estimator, X, y, sample_weight, params, max_steps):
        self.estimator, self.X, self.y, self.params = estimator, X, y, params
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.root = self.step = None
        if getattr(estimator, "_skl_callbacks", None) and hasattr(
                estimator, "_init_callback_context"):
            self.root = estimator._init_callback_context(max_subtasks=max_steps)
            self.root.call_on_fit_task_begin(estimator=estimator, X=X, y=y,
                                             metadata=self.metadata)

    def _reconstruction(self):
        # A ready-to-predict copy sees a snapshot of the weights at this point.
        return {"_params": self.params.copy()}

    def begin_step(self):
        if self.root is not None:
            self.step = self.root.subcontext(task_name="epoch" if self.estimator.solver in
                                             STOCHASTIC_SOLVERS else "iteration")
            self.step.call_on_fit_task_begin(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                reconstruction_attributes=self._reconstruction)

    def end_step(self):
        if self.step is None:
            return False
        step, self.step = self.step, None
        return bool(step.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes=self._reconstruction))

    def finish(self):
        if self.root is not None:
            if self.step is not None:  # a step that never ran (e.g. divergence)
                self.step.call_on_fit_task_end(estimator=self.estimator)
            self.root.call_on_fit_task_end(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                reconstruction_attributes={})
_ACTIVATION_PROTOCOL = HasMethods(["forward", "backward"])


def _activation_name(activation):
    """A built-in activation's alias (as scikit-learn's ``out_activation_``), else the object;
    a user's activation may carry any ``name``, alias or not."""
    name = getattr(activation, "name", None)
    if isinstance(name, str) and name in ACTIVATION_ALIASES:
        if type(activation) is type(get_activation(name)):
            return name
    return activation


class _ViewList(list):
    """A list of views into the flat parameter vector; item assignment writes through.

    ``est.coefs_[0] = new_matrix`` copies ``new_matrix`` into the parameter vector (its shape
    must match), so an assignment is never lost on a temporary list.
    """

    def __setitem__(self, index, value):
        if not isinstance(index, Integral):
            raise TypeError("Assign one layer at a time, e.g. coefs_[0] = array.")
        target = self[index]
        if target is None:
            raise ValueError(f"Layer {index} has no trainable activation parameters.")
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(
                f"Layer {index} has shape {target.shape}; cannot assign an array of shape "
                f"{value.shape}."
            )
        target[...] = value


class BaseMLP(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of MLPClassifier and MLPRegressor; use those instead."""

    # The HTML repr's "?" link and its per-parameter documentation (scikit-learn shows a
    # parameter's docstring only when the estimator has a doc link): the API page that
    # autosummary writes for the class (docs/generated/sknnloss.<Class>.html).
    _doc_link_module = "sknnloss"
    _doc_link_template = ("https://sknnloss.readthedocs.io/en/stable/generated/"
                          "{estimator_module}.{estimator_name}.html")

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATION_ALIASES)), _ACTIVATION_PROTOCOL, list, tuple],
        "solver": [StrOptions({*SCIPY_METHODS, *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions({*LOSS_ALIASES, "log_loss"}), HasMethods(["__call__", "gradient"])],
        "output_activation": [
            StrOptions({"auto", *ACTIVATION_ALIASES}),
            _ACTIVATION_PROTOCOL,
        ],
        "scoring": [None, str, callable],
        "restore_best_weights": [StrOptions({"auto"}), "boolean"],
        "diagnostics": ["boolean"],
        "init": [StrOptions(set(INITIALIZERS)), callable],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "batch_norm": ["boolean"],
    }

    @abstractmethod
    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, loss, shuffle,
                 random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                 early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                 n_iter_no_change, max_fun, output_activation, scoring, restore_best_weights,
                 diagnostics, init, max_grad_norm, dropout, batch_norm):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.scoring = scoring
        self.restore_best_weights = restore_best_weights
        self.diagnostics = diagnostics
        self.init = init
        self.max_grad_norm = max_grad_norm
        self.dropout = dropout
        self.batch_norm = batch_norm

    # -- fitted weights: views into the flat parameter vector ---------------------------
    @property
    def coefs_(self):
        """list of ndarray: ``coefs_[i]`` is the weight matrix of layer ``i`` (a view)."""
        return _ViewList(self._network_().unpack(self._params)[0])

    @coefs_.setter
    def coefs_(self, values):
        self._assign_layers(self.coefs_, values, "coefs_")

    @property
    def intercepts_(self):
        """list of ndarray: ``intercepts_[i]`` is the bias vector of layer ``i + 1`` (a view)."""
        return _ViewList(self._network_().unpack(self._params)[1])

    @intercepts_.setter
    def intercepts_(self, values):
        self._assign_layers(self.intercepts_, values, "intercepts_")

    @property
    def activation_params_(self):
        """list: per hidden layer, the trained parameters of its activation (a view into the
        flat vector, e.g. the slopes of PReLU), or None for activations without parameters."""
        network = self._network_()
        return _ViewList(network.unpack_activation_params(self._params))

    def _batch_norm_views(self, index):
        network = self._network_()
        if not network.batch_norm:
            raise AttributeError(
                f"This {type(self).__name__} was fitted with batch_norm=False; it has no batch "
                "normalisation parameters."
            )
        return _ViewList(network.unpack_batch_norm(self._params)[index])

    @property
    def bn_scales_(self):
        """list of ndarray: per hidden layer, batch normalisation's trained scale (a view;
        only with ``batch_norm=True``)."""
        return self._batch_norm_views(0)

    @property
    def bn_shifts_(self):
        """list of ndarray: per hidden layer, batch normalisation's trained shift (a view)."""
        return self._batch_norm_views(1)

    @property
    def bn_running_means_(self):
        """list of ndarray: per hidden layer, the running mean of the pre-activation that
        prediction uses (a view)."""
        return self._batch_norm_views(2)

    @property
    def bn_running_vars_(self):
        """list of ndarray: per hidden layer, the running variance of the pre-activation that
        prediction uses (a view)."""
        return self._batch_norm_views(3)

    def _network_(self):
        try:
            return self._network
        except AttributeError:
            raise AttributeError(
                f"This {type(self).__name__} has no weights yet; call fit first."
            ) from None

    # The fitted state is plain (arrays, dicts, lists, scalars, and the public activation
    # and loss objects): the network and the optimizer are rebuilt from it on demand, so a
    # fitted model persists with pickle, or with skops trusting sknnloss's public types only.
    @property
    def _network(self):
        """The fitted Network, rebuilt from ``_network_layout``: its constructor arguments."""
        try:
            layout = self._network_layout
        except AttributeError:
            raise AttributeError("_network") from None
        return Network(**layout)

    @_network.setter
    def _network(self, network):
        # Network keeps each constructor argument under its own name (as an estimator does).
        self._network_layout = {
            name: getattr(network, name) for name in inspect.signature(Network).parameters
        }

    @staticmethod
    def _assign_layers(views, values, name):
        values = list(values)
        if len(values) != len(views):
            raise ValueError(f"{name} has {len(views)} layers; got {len(values)} arrays.")
        for i, value in enumerate(values):
            views[i] = value

    # -- what subclasses provide ---------------------------------------------------------
    @abstractmethod
    def _prepare_targets(self, y, dtype, first_pass, incremental, classes):
        """Validate ``y``, resolve the loss; return ``(loss, y_encoded, n_outputs)``."""

    def _combine_class_weight(self, y, sample_weight, dtype, incremental):
        """``sample_weight`` times the class weights (classifier); unchanged by default."""
        return sample_weight

    @abstractmethod
    def _pairing_task(self, y_encoded):
        """The task name for :func:`sknnloss.pairing` and the targets to range-check (or None)."""

    @abstractmethod
    def _score_validation(self, X, y, sample_weight):
        """Score of the current weights on the validation split (accuracy or R^2)."""

    _validate_y_numeric = False

    # -- resolution of the activation/loss parameters ----------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(s, Integral) or s <= 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes}."
            )
        return [int(s) for s in sizes]

    def _hidden_activations(self, hidden_sizes):
        """One activation object per hidden layer, from one activation or a list of them."""
        if isinstance(self.activation, (list, tuple)):
            if len(self.activation) != len(hidden_sizes):
                raise ValueError(
                    f"activation has {len(self.activation)} entries for "
                    f"{len(hidden_sizes)} hidden layers (hidden_layer_sizes="
                    f"{self.hidden_layer_sizes}); pass one activation per hidden layer, or "
                    "a single activation for all of them."
                )
            return [get_activation(a) for a in self.activation]
        return [get_activation(self.activation)] * len(hidden_sizes)

    def _dropout_rates(self, hidden_sizes):
        """One dropout rate per hidden layer, from one rate or a list of them."""
        rates = self.dropout
        if not isinstance(rates, (list, tuple)):
            return [float(rates)] * len(hidden_sizes)
        if len(rates) != len(hidden_sizes):
            raise ValueError(
                f"dropout has {len(rates)} entries for {len(hidden_sizes)} hidden layers "
                f"(hidden_layer_sizes={self.hidden_layer_sizes}); pass one rate per hidden "
                "layer, or a single rate for all of them."
            )
        for rate in rates:
            if not isinstance(rate, Real) or not 0 <= rate < 1:
                raise ValueError(
                    f"dropout={rates!r}: each rate must be a number in [0, 1) (the probability "
                    f"of dropping a unit in training); got {rate!r}."
                )
        return [float(r) for r in rates]

    def _resolve_output_activation(self, loss):
        """The output activation object and whether the loss's fused form applies to it."""
        canonical = get_activation(loss.canonical_activation) if hasattr(
            loss, "canonical_activation") else None
        if self.output_activation == "auto":
            if canonical is None:
                raise ValueError(
                    f"output_activation='auto' needs the loss to name its "
                    f"canonical_activation; {loss!r} does not. Pass output_activation."
                )
            return canonical, hasattr(loss, "loss_gradient_raw") or hasattr(
                loss, "loss_from_raw")
        activation = get_activation(self.output_activation)
        fused = (
            canonical is not None
            and type(activation) is type(canonical)
            and activation.get_params() == canonical.get_params()
            and (hasattr(loss, "loss_gradient_raw") or hasattr(loss, "loss_from_raw"))
        ) if hasattr(activation, "get_params") else False
        return activation, fused

    # -- fit -----------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "_params") or (not self.warm_start and not incremental)
        if self.max_grad_norm is not None and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"max_grad_norm={self.max_grad_norm} clips the steps of 'sgd' and 'adam'; "
                f"solver={self.solver!r} takes no steps of that kind. Use a stochastic solver "
                "or max_grad_norm=None."
            )
        dropout = self._dropout_rates(hidden_sizes)
        if any(dropout) and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"dropout={self.dropout!r} makes the objective random, and solver="
                f"{self.solver!r} needs a deterministic one (its line search compares "
                "objective values). Use solver='adam' or 'sgd' with dropout, or dropout=0."
            )
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True; use fit, or set "
                "early_stopping=False."
            )
        y = check_target_input(self, y)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), y_numeric=self._validate_y_numeric,
            reset=first_pass,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        sample_weight = check_sample_weight(sample_weight, X)
        loss, y_encoded, n_outputs = self._prepare_targets(
            y, X.dtype, first_pass, incremental, classes
        )
        sample_weight = self._combine_class_weight(y, sample_weight, X.dtype, incremental)

        hidden_activations = self._hidden_activations(hidden_sizes)
        output_activation, fused = self._resolve_output_activation(loss)
        if first_pass:
            check_protocol(hidden_activations, hidden_sizes, output_activation, loss, fused,
                           y_encoded, sample_weight, n_outputs, X.dtype)
            check_input_scale(self, X, y_encoded if self._validate_y_numeric else None, loss)
            self._check_pairing(loss, output_activation, y_encoded)
        layer_units = [X.shape[1], *hidden_sizes, n_outputs]
        network = Network(layer_units, hidden_activations, output_activation,
                          batch_norm=self.batch_norm)
        self._random_state = check_random_state(self.random_state)

        if first_pass:
            params = network.initialize(self._random_state, X.dtype, init=self.init)
            self._init_training_state()
        else:
            if layer_units != self._network.layer_units:
                raise ValueError(
                    f"The network was fitted with layer sizes {self._network.layer_units}; this "
                    f"call needs {layer_units}. Change hidden_layer_sizes only for a fresh fit "
                    "(warm_start=False)."
                )
            if network.n_params != self._params.size:
                raise ValueError(
                    f"The network was fitted with batch_norm={self._network.batch_norm} and "
                    f"activations {self._network.hidden_activations}; this call has "
                    f"batch_norm={self.batch_norm} and {hidden_activations}, which changes the "
                    "parameters. Change them only for a fresh fit (warm_start=False)."
                )
            params = self._params.astype(X.dtype, copy=False)
        self._params = params
        self._network = network
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = n_outputs
        self.out_activation_ = _activation_name(output_activation)
        self.loss_function_ = loss

        stochastic = self.solver in STOCHASTIC_SOLVERS
        objective = Objective(network, loss, self.alpha, fused, dropout=dropout,
                              update_running_stats=stochastic, targets_checked=True)
        if self.diagnostics and stochastic:
            objective.monitor = LayerMonitor(network)
        tasks = _FitTasks(self, X, y, sample_weight, params,
                          max_steps=1 if incremental else self.max_iter)
        if stochastic:
            self._fit_stochastic(objective, X, y, y_encoded, sample_weight, incremental, tasks)
        else:
            # An overflow at a line-search trial point is an infinite objective, which scipy
            # backs off from; a failed search warns (ConvergenceWarning), and weights that
            # overflow the output are caught below (check_fitted_outputs).
            with np.errstate(over="ignore", invalid="ignore"):
                self.n_iter_, self.loss_, curve = minimize_scipy(
                    objective, params, X, y_encoded, sample_weight, solver=self.solver,
                    max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                    verbose=self.verbose, tasks=tasks,
                )
            self.loss_curve_ = curve
            self.best_loss_ = min(curve, default=self.loss_)
            # Full batch: prediction uses the training set's own statistics.
            objective.population_statistics(self._params, X, sample_weight)
        tasks.finish()
        if stochastic and first_pass and not incremental:
            check_training_progress(self)

        if not np.all(np.isfinite(self._params)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed (e.g. StandardScaler), or the "
                "learning rate may be too high for this activation/loss pair."
            )
        check_fitted_outputs(self, X)
        return self

    def _check_pairing(self, loss, output_activation, y_encoded):
        """Raise for a pair that cannot work on this target; warn once for a poor one."""
        task, y_range = self._pairing_task(y_encoded)
        verdict = pairing(loss, output_activation, task=task, y=y_range)
        if verdict.errors:
            raise ValueError(
                f"loss={self.loss!r} with output_activation={self.output_activation!r} cannot "
                f"work on this {task} target: " + " ".join(verdict.errors)
            )
        if verdict.warnings:
            warnings.warn(
                f"loss={self.loss!r} with output_activation={self.output_activation!r} on a "
                f"{task} target: " + " ".join(verdict.warnings),
                PairingWarning,
                stacklevel=4,
            )

    def _init_training_state(self):
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.history_ = TrainingHistory()
        self._no_improvement_count = 0
        if self.early_stopping and self.solver in STOCHASTIC_SOLVERS:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _fit_stochastic(self, objective, X, y, y_encoded, sample_weight, incremental, tasks):
        params = self._params
        # As scikit-learn: partial_fit continues with the optimizer of the previous call (its
        # momentum, moments and learning rate), fit starts a new one. The estimator keeps
        # only the optimizer's plain state_dict(), rebuilt here.
        optimizer = self._previous_optimizer(params) if incremental else None
        if optimizer is None:
            optimizer = self._make_optimizer(params)
        self._optimizer_state = optimizer.state_dict()
        validation = None
        X_train, y_train, sw_train = X, y_encoded, sample_weight
        if self.early_stopping:
            stratify = y if self._stratify_validation(y) else None
            check_validation_split(X.shape[0], self.validation_fraction, stratify)
            train_idx, val_idx = train_test_split(
                np.arange(X.shape[0]), random_state=self._random_state,
                test_size=self.validation_fraction, stratify=stratify,
            )
            if len(val_idx) < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the "
                    "size of your dataset."
                )
            X_train, y_train = X[train_idx], y_encoded[train_idx]
            sw_train = None if sample_weight is None else sample_weight[train_idx]
            validation = self._validation_scorer(
                X[val_idx], y[val_idx], None if sample_weight is None else sample_weight[val_idx]
            )
        keys, dropout_seed = None, 0
        if objective.uses_dropout:
            keys = sample_keys(X_train)
            dropout_seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        restore = self.restore_best_weights
        if restore == "auto":  # scikit-learn's behaviour
            restore = self.early_stopping
        best_params = params.copy() if restore else None

        n_samples = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        description = (
            f" (solver={self.solver!r}, learning_rate_init={self.learning_rate_init}, "
            f"activation={self.activation!r}, loss={self.loss!r})"
        )
        try:
            run_stochastic(
                objective, params, optimizer, X_train, y_train, sw_train, state=self,
                batch_size=batch_size, max_iter=self.max_iter, shuffle=self.shuffle,
                random_state=self._random_state, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change, incremental=incremental,
                validation=validation, best_params=best_params, verbose=self.verbose,
                description=description, tasks=tasks, max_grad_norm=self.max_grad_norm,
                sample_keys=keys, dropout_seed=dropout_seed,
            )
        finally:
            self._optimizer_state = optimizer.state_dict()  # its scalars moved too
            if best_params is not None:
                np.copyto(params, best_params)

    def _validation_scorer(self, X_val, y_val, sw_val):
        """A function scoring the current weights on the validation split.

        ``scoring=None`` is scikit-learn's rule (accuracy or R^2, computed without input
        validation); otherwise any scikit-learn scorer name or callable.
        """
        if self.scoring is None:
            return lambda: self._score_validation(X_val, y_val, sw_val)
        scorer = check_scoring(self, scoring=self.scoring)

        def score():
            with warnings.catch_warnings():
                # X_val is already validated: its column names were checked at fit.
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                return float(scorer(self, X_val, y_val, sample_weight=sw_val))

        return score

    def _previous_optimizer(self, params):
        """The optimizer of the previous fit or partial_fit, rebuilt from its state_dict(); None
        if there is none or its arrays do not match ``params`` (size or dtype)."""
        state = getattr(self, "_optimizer_state", None)
        if state is None:
            return None
        optimizer = optimizer_from_state_dict(state)
        moments = optimizer.m_sum if hasattr(optimizer, "m_sum") else optimizer.velocity
        if moments.shape != params.shape or moments.dtype != params.dtype:
            return None
        return optimizer

    def _make_optimizer(self, params):
        if self.solver == "sgd":
            return SGD(params.size, params.dtype, self.learning_rate_init, self.learning_rate,
                       self.momentum, self.nesterovs_momentum, self.power_t)
        return Adam(params.size, params.dtype, self.learning_rate_init, self.beta_1,
                    self.beta_2, self.epsilon)

    def _stratify_validation(self, y):
        return False

    def _check_stochastic(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic solvers ('sgd', 'adam'); "
                f"solver={self.solver!r} optimises the whole training set at once."
            )
        return True

    # -- prediction ----------------------------------------------------------------------
    def _forward(self, X):
        """The network's prediction (output activation applied) for raw input ``X``."""
        X = self._validate_for_prediction(X)
        return self._network.forward(self._params, X, keep_raw=False)[1]

    def _validate_for_prediction(self, X):
        """``X`` checked against the fitted model (features, dtype, sparse format)."""
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"],
                             dtype=(np.float64, np.float32), reset=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

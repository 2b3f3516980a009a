"""Solvers on the flat parameter vector: scipy.optimize methods, minibatch SGD and Adam,
learning-rate schedules and the stopping rules of scikit-learn's MLP.

Every solver sees only an :class:`~sknnloss._network.Objective` (``loss_gradient(params, X, y,
sample_weight)``) and the flat vector, which it updates in place.
"""

import contextlib
import math
import os
import time
import warnings

import numpy as np
import scipy.optimize
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

__all__ = ["SCIPY_METHODS", "SGD", "Adam", "DivergenceWarning", "minimize_scipy",
           "run_stochastic", "optimizer_from_state_dict"]

#: solver name -> scipy.optimize.minimize method, for the full-batch gradient-based solvers.
SCIPY_METHODS = {"lbfgs": "L-BFGS-B", "cg": "CG", "bfgs": "BFGS"}


class SGD:
    """Stochastic gradient descent with momentum or Nesterov momentum on a flat vector.

    The update is scikit-learn's: ``v <- momentum * v - lr * g``, then ``params += v`` (or
    ``params += momentum * v - lr * g`` with Nesterov momentum).

    Parameters
    ----------
    n_params : int
    dtype : dtype
    learning_rate_init : float
    learning_rate : {"constant", "invscaling", "adaptive"}
        ``invscaling`` sets ``lr = learning_rate_init / (t + 1) ** power_t`` at the end of each
        epoch (``t`` the number of samples seen); ``adaptive`` divides the rate by 5 each time
        the stopping criterion triggers, until it falls below 1e-6.
    momentum : float
    nesterov : bool
    power_t : float
    """

    def __init__(self, n_params, dtype, learning_rate_init=0.1, learning_rate="constant",
                 momentum=0.9, nesterov=True, power_t=0.5):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def update(self, params, grad):
        """Apply one step to ``params`` in place; ``grad`` is used as scratch space (its
        values are lost), which keeps one array fewer in the caches."""
        velocity, step = self.velocity, grad
        velocity *= self.momentum
        step *= self.learning_rate
        velocity -= step
        if self.nesterov:
            # params += momentum * v - lr * g, without a temporary.
            params -= step
            np.multiply(velocity, self.momentum, out=step)
            params += step
        else:
            params += velocity

    @property
    def nominal_learning_rate(self):
        """The step size of the schedule (what progress reports show)."""
        return self.learning_rate

    def iteration_ends(self, time_step):
        """End-of-epoch schedule update; ``time_step`` is the number of samples seen."""
        if self.schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        """Whether to stop when the loss stalls; the adaptive schedule first lowers the rate."""
        if self.schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def state_dict(self):
        """The optimizer's state as a plain dict: numpy arrays and scalars, no object.

        A fitted estimator stores this dict, never the optimizer, so that it persists with
        pickle or skops without private types; :meth:`from_state_dict` rebuilds the optimizer
        where ``partial_fit`` left it (the arrays are shared, not copied).
        """
        return {"solver": "sgd", "learning_rate_init": self.learning_rate_init,
                "learning_rate": self.learning_rate, "schedule": self.schedule,
                "momentum": self.momentum, "nesterov": self.nesterov,
                "power_t": self.power_t, "velocity": self.velocity}

    @classmethod
    def from_state_dict(cls, state):
        """The optimizer described by :meth:`state_dict`, working on the same arrays."""
        velocity = state["velocity"]
        optimizer = cls(0, velocity.dtype, state["learning_rate_init"], state["schedule"],
                        state["momentum"], state["nesterov"], state["power_t"])
        optimizer.learning_rate = state["learning_rate"]
        optimizer.velocity = velocity
        return optimizer


class Adam:
    """Adam (Kingma & Ba, 2014) on a flat vector, with scikit-learn's bias correction.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``params -= lr_t m / (sqrt(v) + eps)`` with ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    The moments are kept unnormalised, ``m_sum = m / (1 - b1)`` and ``v_sum = v / (1 - b2)``
    (``m_sum <- b1 m_sum + g``, ``v_sum <- b2 v_sum + g^2``), and the constant factors move
    into the step: ``params -= lr_t (1 - b1) / sqrt(1 - b2) * m_sum / (sqrt(v_sum) + eps /
    sqrt(1 - b2))``, the same update in two whole-vector passes fewer.
    """

    def __init__(self, n_params, dtype, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m_sum = np.zeros(n_params, dtype=dtype)
        self.v_sum = np.zeros(n_params, dtype=dtype)

    @property
    def m(self):
        """First-moment estimate ``m`` (a new array)."""
        return self.m_sum * (1 - self.beta_1)

    @property
    def v(self):
        """Second-moment estimate ``v`` (a new array)."""
        return self.v_sum * (1 - self.beta_2)

    def update(self, params, grad):
        """Apply one step to ``params`` in place; ``grad`` is used as scratch space (its
        values are lost), which keeps one array fewer in the caches."""
        self.t += 1
        m_sum, v_sum, work = self.m_sum, self.v_sum, grad
        b1, b2 = self.beta_1, self.beta_2
        m_sum *= b1
        m_sum += grad
        np.multiply(grad, grad, out=work)
        v_sum *= b2
        v_sum += work
        self.learning_rate = (
            self.learning_rate_init * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        root = math.sqrt(1 - b2)
        np.sqrt(v_sum, out=work)
        work += self.epsilon / root
        np.divide(m_sum, work, out=work)
        work *= self.learning_rate * (1 - b1) / root
        params -= work

    @property
    def nominal_learning_rate(self):
        """Adam's base step size (``learning_rate`` holds the bias-corrected one)."""
        return self.learning_rate_init

    def iteration_ends(self, time_step):
        """Adam has no epoch schedule."""

    def trigger_stopping(self, msg, verbose):
        """Adam stops as soon as the loss stalls."""
        if verbose:
            print(msg + " Stopping.")
        return True

    def state_dict(self):
        """The optimizer's state as a plain dict (see :meth:`SGD.state_dict`)."""
        return {"solver": "adam", "learning_rate_init": self.learning_rate_init,
                "learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon, "t": self.t,
                "m_sum": self.m_sum, "v_sum": self.v_sum}

    @classmethod
    def from_state_dict(cls, state):
        """The optimizer described by :meth:`state_dict`, working on the same arrays."""
        m_sum, v_sum = state["m_sum"], state["v_sum"]
        optimizer = cls(0, m_sum.dtype, state["learning_rate_init"], state["beta_1"],
                        state["beta_2"], state["epsilon"])
        optimizer.learning_rate = state["learning_rate"]
        optimizer.t = state["t"]
        optimizer.m_sum, optimizer.v_sum = m_sum, v_sum
        return optimizer


def optimizer_from_state_dict(state):
    """Rebuild the SGD or Adam optimizer whose ``state_dict()`` is ``state``."""
    return {"sgd": SGD, "adam": Adam}[state["solver"]].from_state_dict(state)


def minimize_scipy(objective, params, X, y, sample_weight, *, solver, max_iter, max_fun,
                   tol, verbose, tasks=None):
    """Full-batch optimisation with ``scipy.optimize.minimize(jac=True)``.

    ``params`` (any float dtype) is updated in place with the solution; scipy works in float64
    and each evaluation copies its point into ``params``, so a float32 network stays float32.

    Returns
    -------
    n_iter : int
    loss : float
        The objective at the solution.
    loss_curve : list of float
        The objective after each iteration.
    """
    method = SCIPY_METHODS[solver]
    grad = np.empty_like(params)
    curve = []

    def fun(x):
        np.copyto(params, x, casting="unsafe")
        value, gradient = objective.loss_gradient(params, X, y, sample_weight, out=grad)
        return value, gradient.astype(np.float64)

    start_time = time.perf_counter()

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}/{max_iter}, loss {curve[-1]:.6f}, "
                  f"{time.perf_counter() - start_time:.2f}s")
        if tasks is not None and tasks.root is not None:
            np.copyto(params, intermediate_result.x, casting="unsafe")
            tasks.begin_step()
            if tasks.end_step():
                raise StopIteration  # a callback asked to stop: scipy ends cleanly

    options = {"maxiter": max_iter, "gtol": tol}
    if method == "L-BFGS-B":
        options["maxfun"] = max_fun
    with _scipy_blas_single_thread():
        result = scipy.optimize.minimize(
            fun, params.astype(np.float64), method=method, jac=True, options=options,
            callback=callback,
        )
    np.copyto(params, result.x, casting="unsafe")
    n_iter = int(min(result.get("nit", len(curve)), max_iter))
    if result.status == 99:  # stopped by a callback (scipy's StopIteration status)
        return max(n_iter, 1), float(result.fun), curve
    if result.status != 0:
        message = result.message
        if isinstance(message, bytes):
            message = message.decode("latin1")
        # scipy's L-BFGS-B can say no more than "ABNORMAL: " (scipy >= 1.15).
        message = str(message).strip().rstrip(".:").strip() or "no reason given by scipy"
        if result.status == 1:  # iteration or evaluation budget exhausted
            advice = ("Increase the number of iterations (max_iter) or the number of function "
                      "evaluations (max_fun), or scale the data (e.g. StandardScaler).")
        else:  # the line search could not make progress
            advice = ("The line search could not decrease the objective any further (precision "
                      "loss, or a loss that is not smooth such as absolute error or hinge); the "
                      "best weights found are kept. Scaling the data, a smooth loss (huber, "
                      "log_cosh, squared_hinge) or a stochastic solver may help.")
        warnings.warn(
            f"{solver} failed to converge after {n_iter} iteration(s) (status={result.status}):"
            f" {message}. {advice}",
            ConvergenceWarning,
            stacklevel=3,
        )
    return max(n_iter, 1), float(result.fun), curve


def _scipy_blas_single_thread():
    """Limit the BLAS that scipy bundles (not numpy's) to one thread.

    scipy and numpy wheels each ship their own OpenBLAS, each with its own thread pool. The
    optimiser's vector operations run in scipy's, the network's matrix products in numpy's;
    alternating between two pools that both want every core makes them wait on each other
    (a 3-4x slower L-BFGS fit was measured on 2 cores). The optimiser's operations are on
    one parameter vector and gain nothing from threads.
    """
    controller = ThreadpoolController()
    paths = [lib.filepath for lib in controller.select(user_api="blas").lib_controllers
             if os.path.basename(os.path.dirname(lib.filepath)) == "scipy.libs"]
    if not paths:  # one shared BLAS (e.g. conda): nothing to separate
        return contextlib.nullcontext()
    return controller.select(filepath=paths).limit(limits=1)


class DivergenceWarning(ConvergenceWarning):
    """Training stopped because the loss or the weights stopped being finite."""


def run_stochastic(objective, params, optimizer, X, y, sample_weight, *, state, batch_size,
                   max_iter, shuffle, random_state, tol, n_iter_no_change, incremental,
                   validation, best_params, verbose, description="", tasks=None,
                   max_grad_norm=None, sample_keys=None, dropout_seed=0):
    """Minibatch training with SGD or Adam, following scikit-learn's MLP epoch logic.

    Parameters
    ----------
    state : object
        Holds the training record and is updated in place: ``n_iter_``, ``t_``,
        ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
        ``best_validation_score_``, ``_no_improvement_count``, ``history_``.
    validation : None or callable
        With early stopping: ``validation()`` scores the current parameters on the
        validation split.
    best_params : None or ndarray
        Receives a copy of the best parameters seen: those with the best validation score
        with early stopping, else those with the lowest training loss.
    incremental : bool
        Run exactly one epoch (``partial_fit``).
    description : str
        Names the model in warnings (its activation/loss pair and learning rate).
    max_grad_norm : None or float
        Rescale each batch gradient to at most this L2 norm before the step, as
        ``torch.nn.utils.clip_grad_norm_`` does (factor ``max_norm / (norm + 1e-6)``).
    tasks : None or object
        scikit-learn callback tasks: ``begin_step()`` before each epoch, ``end_step()``
        after it (after ``history_`` has the epoch's row); True from it stops training.
    sample_keys : None or ndarray of uint64
        With dropout, the rows' keys (``_network.sample_keys``), shuffled with the rows.
    dropout_seed : int
        With dropout, the seed of this call; each epoch's masks use ``(seed, epoch)``.

    Notes
    -----
    When a batch makes the loss or the weights non-finite, the epoch is abandoned, the
    weights of the last completed epoch are restored and a :class:`DivergenceWarning` says
    so; training stops. The model never ends with nan weights.
    """
    n_samples = X.shape[0]
    sample_idx = np.arange(n_samples)
    start_time = time.perf_counter()
    total_weight = n_samples if sample_weight is None else float(sample_weight.sum())
    grad = np.empty_like(params)
    epoch_start = np.empty_like(params)
    call_start = params.copy()  # fallback weights if training diverges
    good_params, good_loss = None, np.inf  # the best completed epoch of this call
    state.n_iter_ = 0  # as scikit-learn: epochs of this call; t_ and loss_curve_ accumulate
    # Several shuffled batches: each is gathered into preallocated buffers (no per-epoch copy
    # of the data); one batch, or no shuffling: contiguous slices of the data themselves.
    single_batch = batch_size >= n_samples
    gather = _BatchGather([X, y, sample_weight, sample_keys], batch_size)

    n_trainable = objective.network.n_trainable
    for epoch in range(max_iter):
        permuted = False
        if shuffle:
            # In place: the same draws as scikit-learn's ``shuffle(sample_idx,
            # random_state=random_state)``, without its validation overhead.
            random_state.shuffle(sample_idx)
            permuted = not single_batch
        if sample_keys is not None:
            objective.set_dropout_seed(dropout_seed, epoch)

        np.copyto(epoch_start, params)
        if tasks is not None:
            tasks.begin_step()
        if objective.monitor is not None:
            objective.monitor.start_epoch(-(-n_samples // batch_size))
        learning_rate = optimizer.nominal_learning_rate
        accumulated_loss = 0.0
        diverged = False
        # Overflow while diverging is detected below and reported once, clearly.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for start in range(0, n_samples, batch_size):
                stop = min(start + batch_size, n_samples)
                X_batch, y_batch, sw_batch, keys_batch = gather(
                    sample_idx[start:stop] if permuted else slice(start, stop))
                batch_weight = stop - start if sw_batch is None else float(sw_batch.sum())
                if batch_weight == 0:
                    continue
                value, _ = objective.loss_gradient(
                    params, X_batch, y_batch, sw_batch, out=grad, sample_keys=keys_batch,
                )
                if not math.isfinite(value):
                    diverged = True
                    break
                accumulated_loss += value * batch_weight
                if max_grad_norm is not None:
                    clip_gradient(grad, max_grad_norm)
                optimizer.update(params, grad)
            # The epoch's step over the trained parameters (not batch normalisation's running
            # statistics), written over its start. A non-finite weight makes its squared norm
            # non-finite, so the weights are checked one by one only then.
            step = np.subtract(params[:n_trainable], epoch_start[:n_trainable],
                               out=epoch_start[:n_trainable])
            step_sq = float(np.dot(step, step))
            if not diverged and not math.isfinite(step_sq):
                diverged = not np.all(np.isfinite(params[:n_trainable]))
            if not diverged and n_trainable < params.shape[0]:
                diverged = not np.all(np.isfinite(params[n_trainable:]))
            step_norm = math.sqrt(step_sq)
        if diverged:
            if objective.monitor is not None:
                objective.monitor.end_epoch(params)  # discard the abandoned epoch
            kept = _restore_after_divergence(objective, params, X[:batch_size], good_params,
                                             call_start)
            warnings.warn(
                f"Training diverged in epoch {state.n_iter_ + 1}: the loss or the weights "
                f"became infinite or nan{description}. The learning rate is likely too high "
                "for this activation/loss pair (or the inputs are badly scaled). Kept the "
                f"weights of {kept}. Lower learning_rate_init, scale the inputs "
                "(e.g. StandardScaler), or bound the steps with max_grad_norm.",
                DivergenceWarning,
                stacklevel=3,
            )
            break

        state.n_iter_ += 1
        state.loss_ = accumulated_loss / total_weight
        if state.loss_ < good_loss:
            good_loss = state.loss_
            good_params = params.copy() if good_params is None else good_params
            np.copyto(good_params, params)
        state.t_ += n_samples
        state.loss_curve_.append(state.loss_)
        score = _update_no_improvement_count(state, tol, validation, params, best_params)
        optimizer.iteration_ends(state.t_)
        elapsed = time.perf_counter() - start_time
        diagnostics = {} if objective.monitor is None else objective.monitor.end_epoch(params)
        state.history_.append(
            epoch=len(state.loss_curve_), loss=state.loss_, validation_score=score,
            learning_rate=learning_rate, elapsed=elapsed, step_norm=step_norm, **diagnostics,
        )
        if verbose:
            print(state.history_.format_last(max_iter=max_iter, verbose=verbose))
        if tasks is not None and tasks.end_step():
            break  # a callback asked to stop

        if state._no_improvement_count > n_iter_no_change:
            if validation is not None:
                msg = (
                    f"Validation score did not improve more than tol={tol:f} for "
                    f"{n_iter_no_change} consecutive epochs."
                )
            else:
                msg = (
                    f"Training loss did not improve more than tol={tol:f} for "
                    f"{n_iter_no_change} consecutive epochs."
                )
            if optimizer.trigger_stopping(msg, verbose):
                break
            state._no_improvement_count = 0

        if incremental:
            break
        if state.n_iter_ == max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )


class _BatchGather:
    """Rows of several arrays (``None`` entries stay ``None``) for a slice or an index array;
    dense rows picked by an index array are written into buffers allocated once."""

    def __init__(self, arrays, batch_size):
        self.arrays = arrays
        self.buffers = [
            None if a is None or sparse.issparse(a)
            else np.empty((min(batch_size, a.shape[0]), *a.shape[1:]), a.dtype)
            for a in arrays
        ]

    def __call__(self, rows):
        if isinstance(rows, slice):
            return [None if a is None else a[rows] for a in self.arrays]
        n = len(rows)
        # mode="clip": the indices are valid by construction, and with the default
        # mode="raise" numpy gathers into a temporary array and copies it into ``out``.
        return [
            None if a is None else a[rows] if buffer is None
            else a.take(rows, axis=0, out=buffer[:n], mode="clip")
            for a, buffer in zip(self.arrays, self.buffers)
        ]


def clip_gradient(grad, max_norm):
    """Rescale ``grad`` in place to an L2 norm of at most ``max_norm``; return the norm before.

    The factor is ``max_norm / (norm + 1e-6)`` when below 1, as in
    ``torch.nn.utils.clip_grad_norm_``.
    """
    norm = math.sqrt(float(np.dot(grad, grad)))
    factor = max_norm / (norm + 1e-6)
    if factor < 1:
        grad *= grad.dtype.type(factor)
    return norm


def _restore_after_divergence(objective, params, X_probe, good_params, call_start):
    """Put finite, usable weights back into ``params``; say which ones.

    The best completed epoch of this call is preferred; if there is none, or its weights
    already overflow the network's output on a probe batch, the weights the call started from.
    """
    if good_params is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            _, probe = objective.network.forward(good_params, X_probe)
        if np.all(np.isfinite(probe)):
            np.copyto(params, good_params)
            return "the epoch with the lowest training loss before it diverged"
    np.copyto(params, call_start)
    return "the start of this call (no earlier epoch gave usable weights)"


def _update_no_improvement_count(state, tol, validation, params, best_params):
    """scikit-learn's stopping rule; also keeps a copy of the best parameters."""
    if validation is not None:
        score = validation()
        state.validation_scores_.append(score)
        if score < state.best_validation_score_ + tol:
            state._no_improvement_count += 1
        else:
            state._no_improvement_count = 0
        if score > state.best_validation_score_:
            state.best_validation_score_ = score
            if best_params is not None:
                np.copyto(best_params, params)
        return score
    last = state.loss_curve_[-1]
    if last > state.best_loss_ - tol:
        state._no_improvement_count += 1
    else:
        state._no_improvement_count = 0
    if last < state.best_loss_:
        state.best_loss_ = last
        if best_params is not None:
            np.copyto(best_params, params)
    return None

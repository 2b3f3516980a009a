"""MLPClassifier and MLPRegressor: target handling, predict, predict_proba, tags."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMLP
from ._targets import ClassEncoder
from ._validation import check_classifier_target
from .activations import Softmax
from .losses import get_loss

_COMMON_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : str, Activation or list of them, default='relu'
        Activation of the hidden layers: a name from
        :data:`sknnloss.activations.ACTIVATION_ALIASES` (scikit-learn's 'identity',
        'logistic', 'tanh', 'relu', and Keras' names such as 'sigmoid', 'leaky_relu',
        'softplus') or an activation object such as ``LeakyReLU(negative_slope=0.1)``; or
        a list with one per hidden layer (its length must match ``hidden_layer_sizes``).

    solver : {'lbfgs', 'sgd', 'adam', 'cg', 'bfgs'}, default='adam'
        'sgd' and 'adam' train on minibatches; the others minimise the full-batch objective
        with ``scipy.optimize.minimize`` ('lbfgs' is L-BFGS-B, as in scikit-learn; 'bfgs'
        stores a dense n_params x n_params matrix: small networks only).

    alpha : float, default=0.0001
        L2 penalty strength, scaled as scikit-learn does: the objective adds
        ``alpha / (2 * s) * ||W||^2`` with ``s`` the (weighted) number of samples in the batch.

    batch_size : int or 'auto', default='auto'
        Minibatch size of the stochastic solvers; 'auto' is ``min(200, n_samples)``.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of 'sgd' (see scikit-learn's MLP).

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Epochs for 'sgd'/'adam'; iterations for the scipy solvers.

    shuffle : bool, default=True
        Shuffle samples each epoch ('sgd', 'adam').

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split and shuffling.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress (stochastic solvers), or the
        gradient tolerance of the scipy solvers.

    verbose : bool, default=False
        Print progress.

    warm_start : bool, default=False
        Reuse the previous solution as the starting point of the next ``fit``.

    momentum : float, default=0.9
        Momentum of 'sgd'.

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the validation score stops
        improving; the best weights are restored ('sgd', 'adam'). The split is stratified
        for every single-label classification target (scikit-learn stratifies binary
        targets only, so multiclass splits differ from its own).

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Adam's decay rate of the first moment (mean) estimates, in [0, 1).

    beta_2 : float, default=0.999
        Adam's decay rate of the second moment (uncentred variance) estimates, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical stability constant.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.

    max_fun : int, default=15000
        Maximum number of objective evaluations of 'lbfgs'.
"""

_TRAINING_PARAMS_DOC = """
    scoring : str, callable or None, default=None
        What early stopping watches on the validation split: None is scikit-learn's rule
        (accuracy for the classifier, R^2 for the regressor), or any scikit-learn scorer
        name (e.g. 'balanced_accuracy', 'neg_log_loss', 'neg_mean_absolute_error') or
        callable ``scorer(estimator, X, y)``. Greater is better.

    restore_best_weights : 'auto' or bool, default='auto'
        Which weights the model ends with ('sgd', 'adam'). 'auto' is scikit-learn's
        behaviour: the best validation weights with ``early_stopping``, the last weights
        otherwise. True always restores the best: the best validation weights with
        ``early_stopping``, else the weights after the epoch with the lowest training loss.
        False always keeps the last weights.

    init : str or callable, default='glorot_uniform'
        Weight initialisation. 'glorot_uniform' is scikit-learn's scheme (results unchanged);
        'glorot_normal' suits tanh and sigmoid layers; 'he_uniform' and 'he_normal' the
        ReLU family; 'lecun_normal' is what SELU needs to self-normalise. Or a callable
        ``init(fan_in, fan_out, random_state, dtype)`` returning the coefficient matrix.
        Seeded by ``random_state``; the non-default schemes start intercepts at 0.

    max_grad_norm : float or None, default=None
        With 'sgd' and 'adam', rescale each batch gradient to at most this L2 norm before the
        step (as ``torch.nn.utils.clip_grad_norm_``): a guard against exploding gradients.

    diagnostics : bool, default=True
        Record per-layer diagnostics in ``history_`` each epoch ('sgd', 'adam'): the
        fraction of dead units and of saturated activations of each hidden layer, and the
        gradient and weight norms of each layer (see :mod:`sknnloss.diagnostics`).

    dropout : float or list of float, default=0.0
        Probability of dropping each hidden unit's output in training, for all hidden layers
        or one rate per hidden layer. Inverted dropout (kept outputs are divided by
        ``1 - rate``), so prediction needs no rescaling and uses every unit. 'sgd' and 'adam'
        only: a non-zero rate with a scipy solver is an error, since their line search needs
        a deterministic objective. The masks are drawn from ``random_state`` and are a
        function of the epoch, the unit and the sample's values, so fits are reproducible,
        duplicated rows share their mask in an epoch, and a sample weight of ``k`` is exactly
        ``k`` copies of a row.

    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activation over the batch, then scale and shift it
        with trained parameters (``bn_scales_``, ``bn_shifts_``, in the flat parameter vector,
        so every solver trains them; not L2-penalised). In training the (weighted) batch
        statistics are used; prediction uses running statistics (``bn_running_means_``,
        ``bn_running_vars_``) updated after every batch with PyTorch's ``BatchNorm1d``
        defaults: momentum 0.1, epsilon 1e-5, unbiased variance. The scipy solvers see the
        whole training set as one batch; their running statistics are the training set's
        exact mean and (biased) variance at the final weights, so prediction computes exactly
        the function they optimised. The statistics are kept through pickling, warm_start
        and partial_fit.
"""

_COMMON_ATTRIBUTES_DOC = """
    loss_ : float
        Objective (loss plus L2 penalty) at the end of training.

    best_loss_ : float or None
        Smallest training loss seen (None with early stopping).

    loss_curve_ : list of float
        Training loss after each epoch (stochastic solvers) or iteration (scipy solvers).

    validation_scores_ : list of float or None
        Validation score after each epoch with ``early_stopping=True``.

    best_validation_score_ : float or None
        Best validation score with ``early_stopping=True``.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix of layer ``i``: a view into the flat parameter
        vector, so editing it in place changes the model.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1`` (also a view).

    bn_scales_ : list of ndarray
        With ``batch_norm=True`` only: per hidden layer, batch normalisation's trained scale
        (a view into the flat parameter vector).

    bn_shifts_ : list of ndarray
        With ``batch_norm=True`` only: per hidden layer, the trained shift (a view).

    bn_running_means_ : list of ndarray
        With ``batch_norm=True`` only: per hidden layer, the running mean of the
        pre-activation that prediction uses (a view).

    bn_running_vars_ : list of ndarray
        With ``batch_norm=True`` only: per hidden layer, the running variance of the
        pre-activation that prediction uses (a view).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    n_iter_ : int
        Number of epochs (stochastic solvers) or iterations (scipy solvers) run by the last
        call to ``fit`` or ``partial_fit`` (as in scikit-learn; ``t_`` and ``loss_curve_``
        accumulate over calls).

    t_ : int
        Number of training samples seen by the stochastic solvers, over all calls.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of network outputs.

    out_activation_ : str or Activation
        Output activation: its name for a built-in activation, else the object.

    loss_function_ : Loss
        The resolved loss object.

    history_ : TrainingHistory
        Per-epoch record of the stochastic solvers: loss, validation score, learning rate,
        elapsed time, step norm (see :mod:`sknnloss.diagnostics`).

    activation_params_ : list
        Per hidden layer, the trained parameters of its activation (PReLU slopes; a
        view), or None.
"""


def _doc(text):
    return (text.replace("%(params)s", _COMMON_PARAMS_DOC)
            .replace("%(training)s", _TRAINING_PARAMS_DOC)
            .replace("%(attributes)s", _COMMON_ATTRIBUTES_DOC))


def _has_probabilities(est):
    return _output_probability_kind(est) is not None


def _has_no_probabilities(est):
    return _output_probability_kind(est) is None


def _output_probability_kind(est):
    """'independent', 'simplex' or None: whether the outputs are (or map to) probabilities.

    A loss that turns its outputs into probabilities itself (``gives_probabilities`` and
    ``probabilities(y_pred)``, e.g. modified Huber) decides; otherwise the output activation
    does. Read from the fitted model, or else from the parameters.
    """
    network = getattr(est, "_network", None)
    if network is not None:
        loss, activation = est.loss_function_, network.output_activation
    else:
        try:
            loss = get_loss(est.loss)
            activation, _ = est._resolve_output_activation(loss)
        except (ValueError, TypeError):
            return "independent"  # invalid parameters: let fit raise the informative error
    if callable(getattr(loss, "probabilities", None)):
        return getattr(loss, "gives_probabilities", None) or "independent"
    return getattr(activation, "gives_probabilities", None)


class MLPClassifier(ClassifierMixin, BaseMLP):
    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    __doc__ = _doc(
        """Multi-layer perceptron classifier with pluggable activations and losses.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier` (same parameters,
    defaults and fitted attributes) that also takes a ``loss`` and an ``output_activation``.
    By default (``loss='log_loss'``, ``output_activation='auto'``) it trains the maximum
    likelihood pair for the target: one sigmoid with binary cross-entropy for a binary target,
    one sigmoid per label for a multi-label indicator matrix, and a softmax with sparse
    categorical cross-entropy (integer targets, no one-hot matrix) for a multiclass target.

    Parameters
    ----------
%(params)s
    loss : str or Loss, default='log_loss'
        'log_loss' resolves to binary cross-entropy (binary, multi-label) or sparse categorical
        cross-entropy (multiclass). Any name of :data:`sknnloss.losses.LOSS_ALIASES` or a loss
        object works: 'hinge' trains a margin head (``decision_function`` instead of
        ``predict_proba``), 'binary_crossentropy' on a multiclass target trains one sigmoid per
        class (one-vs-rest), 'squared_error' regresses the 0/1 indicators.

    output_activation : str or Activation, default='auto'
        'auto' uses the loss's canonical activation (the fused, stable gradient); any other
        activation is composed with the loss by the chain rule.

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``, as scikit-learn's linear
        classifiers define them: a dict ``{label: weight}``, or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``. Works with every loss, in ``fit`` and
        (as a dict) in ``partial_fit``; single-label targets only.
%(training)s
    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.
%(attributes)s
    See Also
    --------
    MLPRegressor : The regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknnloss import MLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     MLPClassifier(activation="tanh", loss="hinge", random_state=0,
    ...                                   max_iter=300)).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """
    )

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="log_loss", output_activation="auto", class_weight=None, scoring=None,
                 restore_best_weights="auto", diagnostics=True, init="glorot_uniform",
                 max_grad_norm=None, dropout=0.0, batch_norm=False):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss=loss, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, output_activation=output_activation, scoring=scoring,
            restore_best_weights=restore_best_weights, diagnostics=diagnostics, init=init,
            max_grad_norm=max_grad_norm, dropout=dropout, batch_norm=batch_norm,
        )

    def _prepare_targets(self, y, dtype, first_pass, incremental, classes):
        check_classifier_target(y, type(self).__name__)
        if first_pass and not incremental:
            encoder = ClassEncoder.from_targets(y)
        elif not hasattr(self, "_encoder"):  # first partial_fit call
            if classes is None and type_of_target(y) != "multilabel-indicator":
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: all the labels "
                    "that can occur, e.g. classes=np.unique(y_all)."
                )
            encoder = ClassEncoder.from_targets(y, classes)
            encoder.check_labels(y)
        else:
            encoder = self._encoder
            if incremental and classes is not None and not np.array_equal(
                np.unique(classes), encoder.classes
            ):
                raise ValueError(
                    f"`classes={classes}` is not the same as on the first call to partial_fit: "
                    f"{encoder.classes}."
                )
            if self.warm_start and not incremental and not encoder.multilabel:
                seen = np.unique(y)
                if not np.array_equal(seen, encoder.classes):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {encoder.classes}, `y` has "
                        f"{seen}."
                    )
            encoder.check_labels(y)
        if len(encoder.classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least two classes to learn from; "
                f"y holds only one class ({encoder.classes[0]!r}). Pass data with at least "
                "two classes (or all classes via `classes=` in partial_fit)."
            )
        loss = get_loss(self.loss, target_type=encoder.target_type)
        kind = getattr(loss, "target_kind", "probability")
        y_encoded = encoder.encode(y, kind, dtype)
        if hasattr(loss, "check_target"):
            loss.check_target(y_encoded)
        self._encoder = encoder
        self.classes_ = encoder.classes
        self._decision_threshold = 0.0 if kind == "sign" else 0.5
        return loss, y_encoded, encoder.n_outputs(kind)

    # The fitted state stays plain: the label encoder is rebuilt from ``classes_`` and the
    # target type, so a fitted model persists with skops trusting public types only.
    @property
    def _encoder(self):
        try:
            return ClassEncoder(self.classes_, self._target_type)
        except AttributeError:
            raise AttributeError("_encoder") from None

    @_encoder.setter
    def _encoder(self, encoder):
        self.classes_ = encoder.classes
        self._target_type = encoder.target_type

    def _stratify_validation(self, y):
        return y.ndim == 1

    def _combine_class_weight(self, y, sample_weight, dtype, incremental):
        if self.class_weight is None:
            return sample_weight
        if self._encoder.multilabel:
            raise ValueError(
                "class_weight weighs the classes of a single-label target; for a multi-label "
                "indicator matrix pass per-sample weights through sample_weight instead."
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: one batch does not "
                "show the class frequencies. Compute them once with sklearn.utils."
                "compute_class_weight('balanced', classes=classes, y=y) on enough of the "
                "training targets and pass the result as class_weight (a dict)."
            )
        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        per_sample = weights[np.searchsorted(self.classes_, y)].astype(dtype)
        return per_sample if sample_weight is None else sample_weight * per_sample

    def _pairing_task(self, y_encoded):
        return {"multilabel-indicator": "multilabel"}.get(
            self._encoder.target_type, self._encoder.target_type), None

    def _score_validation(self, X, y, sample_weight):
        _, y_pred = self._network.forward(self._params, X, keep_raw=False)
        if not np.all(np.isfinite(y_pred)):
            return np.nan
        labels = self._encoder.decode(y_pred, self._decision_threshold)
        return accuracy_score(y, labels, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data; float32 input is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix for multi-label classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPClassifier
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_stochastic())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data ('sgd' and 'adam' only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            All the classes that can occur; required on the first call (except for
            multi-label indicator targets), ignored after.

        Returns
        -------
        self : MLPClassifier
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def predict(self, X):
        """Predict class labels (or a label indicator matrix for multi-label targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        check_is_fitted(self)
        encoder = self._encoder
        layout = self._network_layout
        if (type(layout["output_activation"]) is Softmax and not encoder.multilabel
                and layout["layer_units"][-1] > 1):
            # The softmax keeps the order within each row: the class of the largest output
            # is the class of the largest input, without the exponentials (and without
            # holding every row's outputs at once).
            X = self._validate_for_prediction(X)
            return encoder.classes[self._network.raw_argmax(self._params, X)]
        y_pred = self._forward(X)
        return encoder.decode(y_pred, self._decision_threshold)

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Probability estimates, when the output activation gives probabilities.

        Binary: ``[1 - p, p]`` from the sigmoid; multiclass: the softmax rows (or the
        one-vs-rest sigmoids normalised to sum to 1); multi-label: one probability per label,
        shape (n_samples, n_labels).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        y_pred = self._forward(X)
        kind = _output_probability_kind(self)
        to_probabilities = getattr(self.loss_function_, "probabilities", None)
        if callable(to_probabilities):
            y_pred = to_probabilities(y_pred)
        return self._encoder.probabilities(y_pred, kind)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    @available_if(_has_no_probabilities)
    def decision_function(self, X):
        """Raw scores, when the output activation gives no probabilities (e.g. hinge).

        Positive scores mean the positive class (binary, multi-label); for multiclass the
        predicted class has the largest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            One score per sample for a binary target (positive: ``classes_[1]``).
        """
        y_pred = self._forward(X)
        if self._encoder.multilabel:
            return y_pred - self._decision_threshold
        if y_pred.shape[1] == 1:
            return y_pred[:, 0] - self._decision_threshold
        if len(self.classes_) == 2:  # two outputs (e.g. categorical hinge): one score, as usual
            return y_pred[:, 1] - y_pred[:, 0]
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Multi-label targets need one independent output per label: not a softmax loss.
        try:
            kind = getattr(get_loss(self.loss), "target_kind", None)
        except (ValueError, TypeError):
            kind = None
        multi_label = kind not in ("class_index", "distribution")
        tags.classifier_tags.multi_label = multi_label
        tags.target_tags.multi_output = multi_label  # a label indicator matrix is multi-output
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = _doc(
        """Multi-layer perceptron regressor with pluggable activations and losses.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor` (same parameters,
    defaults and fitted attributes) whose ``loss`` and ``output_activation`` can be any pair:
    squared error estimates the conditional mean, absolute error the median, Poisson deviance
    with an exp output the mean of counts.

    Parameters
    ----------
    loss : str or Loss, default='squared_error'
        A regression loss name ('squared_error', 'absolute_error', 'poisson', ...) or object.
%(params)s
    output_activation : str or Activation, default='auto'
        'auto' uses the loss's canonical activation (identity for squared and absolute error,
        exp for Poisson); e.g. 'softplus' keeps predictions of a positive target positive.
%(training)s
    Attributes
    ----------
%(attributes)s
    See Also
    --------
    MLPClassifier : The classifier.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sknnloss import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = MLPRegressor(loss="absolute_error", output_activation="softplus",
    ...                    solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    >>> bool((reg.predict(X) > 0).all())
    True
    """
    )

    _validate_y_numeric = True

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 output_activation="auto", scoring=None, restore_best_weights="auto",
                 diagnostics=True, init="glorot_uniform", max_grad_norm=None, dropout=0.0, batch_norm=False):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss=loss, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, output_activation=output_activation, scoring=scoring,
            restore_best_weights=restore_best_weights, diagnostics=diagnostics, init=init,
            max_grad_norm=max_grad_norm, dropout=dropout, batch_norm=batch_norm,
        )

    def _prepare_targets(self, y, dtype, first_pass, incremental, classes):
        loss = get_loss(self.loss)
        kind = getattr(loss, "target_kind", "real")
        if kind in ("class_index", "sign"):
            raise ValueError(
                f"loss={self.loss!r} is a classification loss (targets: {kind.replace('_', ' ')})"
                "; MLPRegressor needs a regression loss such as 'squared_error', "
                "'absolute_error' or 'poisson'. Use MLPClassifier for class labels."
            )
        y_2d = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(dtype, copy=False)
        if hasattr(loss, "check_target"):
            loss.check_target(y_2d)
        self._y_ndim = y.ndim
        if not first_pass and y_2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"The model was fitted with {self.n_outputs_} output(s); y has "
                f"{y_2d.shape[1]}."
            )
        return loss, y_2d, y_2d.shape[1]

    def _pairing_task(self, y_encoded):
        return "regression", y_encoded

    def _score_validation(self, X, y, sample_weight):
        y_pred = self._predict_values(X, validated=True)
        if not np.all(np.isfinite(y_pred)):
            return np.nan
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def _predict_values(self, X, validated=False):
        if validated:
            _, y_pred = self._network.forward(self._params, X, keep_raw=False)
        else:
            y_pred = self._forward(X)
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data; float32 input is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPRegressor
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_stochastic())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data ('sgd' and 'adam' only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MLPRegressor
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return self._predict_values(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

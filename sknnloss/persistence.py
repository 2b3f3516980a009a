"""Saving fitted models and loading them safely: the sknnloss types skops may trust.

A fitted :class:`~sknnloss.MLPClassifier` or :class:`~sknnloss.MLPRegressor` keeps plain
state only: numpy arrays, dicts, lists and scalars (the flat parameter vector, the optimizer's
moments as a dict, the layer sizes), plus the activation and loss objects it was given and its
:class:`~sknnloss.diagnostics.TrainingHistory`. Nothing private is stored: the network layout,
the label encoding and the ``sgd``/``adam`` optimizer are rebuilt from that state when they
are needed, so a model continues with ``partial_fit`` after a round trip exactly where it
stopped.

So a model saved with ``skops.io`` loads trusting sknnloss's public types and nothing else::

    import skops.io as sio
    from sknnloss.persistence import trusted_types

    data = sio.dumps(model)
    unknown = set(sio.get_untrusted_types(data=data)) - set(trusted_types())
    # review `unknown`: your own activation or loss classes, callables passed as parameters
    model = sio.loads(data, trusted=trusted_types())

A user-defined activation or loss is still reported untrusted, as it should be: skops cannot
know what its code does; review it and add its name to ``trusted`` yourself.
"""

from . import activations, losses
from ._classes import MLPClassifier, MLPRegressor
from .diagnostics import TrainingHistory

__all__ = ["trusted_types"]


def _type_name(cls):
    """The name skops gives a type: ``module.ClassName``."""
    return f"{cls.__module__}.{cls.__name__}"


def trusted_types():
    """Names of the sknnloss types a fitted model may contain, for ``skops.io.load(s)``.

    These are the estimators, every built-in activation and loss class, and
    :class:`~sknnloss.diagnostics.TrainingHistory`: public, documented types whose loading
    only sets numbers, arrays, strings and other trusted objects. Pass the list as
    ``trusted=`` to :func:`skops.io.loads` or :func:`skops.io.load`; skops's own defaults
    (numpy arrays and scalars, builtins, scikit-learn estimators) still apply.

    Returns
    -------
    names : list of str
        Sorted fully qualified type names, as :func:`skops.io.get_untrusted_types` reports
        them (``"sknnloss.activations.ReLU"``, ``"sknnloss.losses.SquaredError"``, ...). The
        estimators appear under the module that defines them,
        ``"sknnloss._classes.MLPClassifier"``, as scikit-learn's own estimators do.

    Examples
    --------
    >>> import skops.io as sio  # doctest: +SKIP
    >>> from sklearn.datasets import load_iris
    >>> from sknnloss import MLPClassifier
    >>> from sknnloss.persistence import trusted_types
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(solver="adam", max_iter=5, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> data = sio.dumps(clf)  # doctest: +SKIP
    >>> set(sio.get_untrusted_types(data=data)) <= set(trusted_types())  # doctest: +SKIP
    True
    >>> restored = sio.loads(data, trusted=trusted_types())  # doctest: +SKIP
    """
    types = [MLPClassifier, MLPRegressor, TrainingHistory]
    for module, base in [(activations, activations.Activation), (losses, losses.Loss)]:
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
                types.append(obj)
    return sorted(_type_name(cls) for cls in types)

"""Sphinx extension: reference tables read from the package when the docs are built.

Three directives, each replaced by a ``list-table`` built from the code itself, so the tables
cannot drift from it:

``.. sknnloss-loss-table::``
    Every loss class in ``sknnloss.losses.__all__``: its names (``LOSS_ALIASES`` and how
    ``"log_loss"`` resolves), default parameters, ``canonical_activation``, ``target_kind``,
    ``distribution``, ``estimates``, whether a classifier trained with it has
    ``predict_proba``, and when to use it (the only hand-written column, in
    :data:`WHEN_TO_USE`; a loss missing from it fails the build).

``.. sknnloss-activation-table::``
    Every activation class in ``sknnloss.activations.__all__``: its names
    (``ACTIVATION_ALIASES``), default parameters and what kind of function it is.

``.. sknnloss-new-parameters::``
    The parameters of the estimators that scikit-learn's MLPs do not have, with their
    defaults and the first sentence of their docstring entries (migration page).

The functions :func:`loss_table_rst`, :func:`activation_table_rst` and
:func:`new_parameters_rst` return the tables' reStructuredText; ``tests/test_docs.py`` calls
them without building the documentation.
"""

import inspect
import re

import numpy as np
from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

from sknnloss import _classes
from sknnloss import activations as _activations
from sknnloss import losses as _losses

#: When to reach for each loss: the one column of the loss table that is prose.
WHEN_TO_USE = {
    "SquaredError": "The default for regression. Sensitive to outliers: one large residual "
                    "weighs as much as many small ones.",
    "AbsoluteError": "Regression with outliers or heavy tails, when the median is the right "
                     "summary. Not differentiable at a zero residual, which can stop "
                     "``lbfgs`` early; ``adam`` copes.",
    "Huber": "Regression with a few gross outliers: squared error near the target, absolute "
             "error beyond ``delta`` (in the units of the target).",
    "Quantile": "Prediction intervals: one model per quantile, e.g. ``quantile=0.1`` and "
                "``0.9`` for an 80% interval.",
    "LogCosh": "A smooth robust loss without a parameter to tune; twice differentiable, so "
               "``lbfgs`` handles it well.",
    "Poisson": "Counts (events, visits, claims), or rates with the exposure as "
               "``sample_weight``.",
    "Gamma": "Positive, right-skewed amounts (sizes, durations, costs) whose spread grows "
             "with their mean.",
    "Tweedie": "Non-negative targets with many exact zeros and a skewed positive part "
               "(insurance losses, rainfall): ``1 < power < 2``.",
    "BinaryCrossEntropy": "Binary and multi-label classification with probabilities "
                          "(``loss='log_loss'`` picks it); one-vs-rest heads on a "
                          "multiclass target.",
    "Focal": "Imbalanced binary or multi-label problems dominated by easy examples; the "
             "probabilities are less calibrated than with cross-entropy.",
    "SparseCategoricalCrossEntropy": "Multiclass classification (what ``loss='log_loss'`` "
                                     "means for a multiclass target): no one-hot matrix.",
    "CategoricalCrossEntropy": "Soft or one-hot target rows. The classifier builds one-hot "
                               "rows from labels; the sparse form does the same with less "
                               "memory.",
    "KLDivergence": "Soft targets such as label distributions or a teacher model's "
                    "probabilities; zero when the prediction matches the target.",
    "Hinge": "A margin classifier in the manner of a linear SVM; ``decision_function`` "
             "only.",
    "SquaredHinge": "A smooth margin loss, easier on ``lbfgs`` than the hinge; "
                    "``decision_function`` only.",
    "ModifiedHuber": "A margin loss that is robust to label noise and still gives rough "
                     "probabilities.",
    "CategoricalHinge": "A multiclass margin (Crammer and Singer), one score per class; "
                        "``decision_function`` only.",
}

_TARGET_KINDS = {
    "real": "real numbers",
    "nonnegative": None,  # non-negative or positive: asked of the loss's check_target
    "probability": "0/1 labels or frequencies in [0, 1], one column per label",
    "sign": "binary labels coded 0/1 or -1/+1, one column per label",
    "class_index": "integer class indices, shape ``(n_samples,)``",
    "distribution": "rows ``(n_samples, n_classes)``: one-hot or probabilities",
}

_CLASSIFICATION_KINDS = ("probability", "sign", "class_index", "distribution")

_LOG_LOSS_TARGETS = {
    "binary": "binary",
    "multilabel-indicator": "multi-label",
    "multiclass": "multiclass",
}


def _public_classes(module, base):
    """The subclasses of ``base`` listed in ``module.__all__`` (the base excluded)."""
    classes = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            classes.append(obj)
    return classes


def loss_classes():
    """Every public loss class, in the order of ``sknnloss.losses.__all__``."""
    return _public_classes(_losses, _losses.Loss)


def activation_classes():
    """Every public activation class, in the order of ``sknnloss.activations.__all__``."""
    return _public_classes(_activations, _activations.Activation)


def _names(cls, aliases):
    return [f'``"{name}"``' for name, target in aliases.items() if target is cls]


def _parameters(obj):
    """The default parameters as `` (``a=1``, ``b=2``)``, or an empty string."""
    params = obj.get_params()
    if not params:
        return ""
    return " (" + ", ".join(f"``{name}={value!r}``" for name, value in params.items()) + ")"


def _target_text(loss):
    kind = loss.target_kind
    if kind not in _TARGET_KINDS:
        raise ValueError(f"{type(loss).__name__}.target_kind = {kind!r} is not described in "
                         "docs/_ext/sknnloss_tables.py; add it to _TARGET_KINDS.")
    if kind == "nonnegative":
        try:
            loss.check_target(np.zeros((1, 1)))
        except ValueError:
            return "positive numbers"
        return "non-negative numbers"
    return _TARGET_KINDS[kind]


def _probabilities(loss):
    if loss.target_kind not in _CLASSIFICATION_KINDS:
        return "n/a"
    if callable(getattr(loss, "probabilities", None)):
        return "yes (from the margin)"
    canonical = _activations.get_activation(loss.canonical_activation)
    return "yes" if canonical.gives_probabilities else "no: ``decision_function``"


def _estimates(loss):
    text = loss.estimates or ""
    if loss.distribution:
        return f"{text}; {loss.distribution} likelihood" if text else (
            f"{loss.distribution} likelihood")
    return f"{text}; not a likelihood" if text else "not a likelihood"


def _cell(text):
    """A list-table cell, on one line."""
    return text.replace("\n", " ")


def _list_table(title, header, rows, widths):
    lines = [f".. list-table:: {title}", "   :header-rows: 1",
             f"   :widths: {' '.join(str(w) for w in widths)}", "   :class: sknnloss-table", ""]
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {_cell(first)}")
        lines.extend(f"     - {_cell(cell)}" for cell in rest)
    return "\n".join(lines) + "\n"


def loss_table_rst():
    """The loss table, as reStructuredText (a ``list-table``)."""
    log_loss = {}
    for target_type, words in _LOG_LOSS_TARGETS.items():
        cls = type(_losses.get_loss("log_loss", target_type=target_type))
        log_loss.setdefault(cls, []).append(words)
    missing = [cls.__name__ for cls in loss_classes() if cls.__name__ not in WHEN_TO_USE]
    if missing:
        raise ValueError(f"No 'when to use' text for {missing}: add them to WHEN_TO_USE in "
                         "docs/_ext/sknnloss_tables.py.")
    rows = []
    for cls in loss_classes():
        loss = cls()
        names = _names(cls, _losses.LOSS_ALIASES)
        if cls in log_loss:
            names.insert(0, f'``"log_loss"`` ({" and ".join(log_loss[cls])} targets)')
        rows.append([
            f":class:`~sknnloss.losses.{cls.__name__}`{_parameters(loss)}",
            ", ".join(names) or "(class only)",
            f"``{loss.canonical_activation}``",
            _target_text(loss),
            _estimates(loss),
            _probabilities(loss),
            WHEN_TO_USE[cls.__name__],
        ])
    header = ["Loss (parameters)", "Names (``loss=``)", "Canonical output activation",
              "Targets", "Estimates", "Classifier has ``predict_proba``", "When to use it"]
    return _list_table("Every built-in loss", header, rows, [14, 16, 9, 15, 17, 9, 20])


def _activation_kind(act):
    notes = []
    if getattr(act, "trainable", False):
        notes.append("trainable parameters (hidden layers only)")
    if not act.elementwise:
        notes.append("couples the units of a row")
    if act.gives_probabilities == "independent":
        notes.append("one probability per output")
    elif act.gives_probabilities == "simplex":
        notes.append("each row a probability distribution")
    return "; ".join(notes) or "elementwise"


def activation_table_rst():
    """The activation table, as reStructuredText (a ``list-table``)."""
    rows = []
    for cls in activation_classes():
        act = cls()
        rows.append([
            f":class:`~sknnloss.activations.{cls.__name__}`{_parameters(act)}",
            ", ".join(_names(cls, _activations.ACTIVATION_ALIASES)) or "(class only)",
            _activation_kind(act),
        ])
    header = ["Activation (parameters)", "Names (``activation=``, ``output_activation=``)",
              "Kind"]
    return _list_table("Every built-in activation", header, rows, [35, 35, 30])


_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.(\s|$)")


def _first_sentence(text):
    match = _SENTENCE_END.search(text)
    return text if match is None else text[:match.start() + 1]


def new_parameters_rst():
    """The parameters the estimators add to scikit-learn's MLPs, as a ``list-table``.

    The names and defaults are those of ``get_params()`` missing from scikit-learn's
    estimators; the description is the first sentence of each parameter's docstring entry.
    """
    from numpydoc.docscrape import NumpyDocString
    from sklearn import neural_network

    import sknnloss

    rows = {}
    for name in ("MLPClassifier", "MLPRegressor"):
        ours, theirs = getattr(sknnloss, name), getattr(neural_network, name)
        theirs_params = theirs().get_params()
        descriptions = {}
        for entry in NumpyDocString(inspect.getdoc(ours))["Parameters"]:
            for param in entry.name.split(","):
                descriptions[param.strip()] = " ".join(line.strip() for line in entry.desc)
        for param, default in ours().get_params().items():
            if param in theirs_params:
                continue
            if param not in descriptions:
                raise ValueError(f"{name} has no docstring entry for its parameter {param!r}.")
            row = rows.setdefault(param, [default, [], _first_sentence(descriptions[param])])
            row[1].append(f":class:`~sknnloss.{name}`")
    table = [[f"``{param}``", f"``{default!r}``", ", ".join(estimators), description]
             for param, (default, estimators, description) in rows.items()]
    header = ["Parameter", "Default", "In", "What it does"]
    return _list_table("Parameters scikit-learn's MLPs do not have", header, table,
                       [18, 14, 18, 50])


def _make_directive(make_rst, module):
    class TableDirective(Directive):
        has_content = False

        def run(self):
            env = self.state.document.settings.env
            # Rebuild the page when the module the table is read from changes.
            env.note_dependency(module.__file__)
            container = nodes.container()
            source = self.state_machine.get_source_and_line(self.lineno)[0]
            lines = StringList(make_rst().splitlines(), source=source)
            self.state.nested_parse(lines, self.content_offset, container)
            return container.children

    return TableDirective


def setup(app):
    app.add_directive("sknnloss-loss-table", _make_directive(loss_table_rst, _losses))
    app.add_directive("sknnloss-activation-table",
                      _make_directive(activation_table_rst, _activations))
    app.add_directive("sknnloss-new-parameters",
                      _make_directive(new_parameters_rst, _classes))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

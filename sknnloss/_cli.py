"""The ``sknnloss`` command: cross-validate activation/loss pairs on a table, rank them.

``python -m sknnloss`` (or the ``sknnloss`` console script) loads a CSV file or a bundled
dataset, preprocesses it (numeric columns: median imputation and standardisation;
categorical columns: most-frequent imputation and one-hot encoding), and cross-validates a
grid of hidden activations crossed with (loss, output activation) pairs -- by default
:func:`sknnloss.sensible_pairs` for the task -- next to scikit-learn's own MLP. The ranked
table goes to stdout, progress to stderr.

Bad input ends with one line on stderr, ``sknnloss: error: ...``, and exit status 2.
"""

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target
from threadpoolctl import threadpool_limits

from . import __version__
from ._classes import MLPClassifier, MLPRegressor
from .activations import ACTIVATION_ALIASES, get_activation
from .losses import LOSS_ALIASES, get_loss
from ._solvers import DivergenceWarning
from .pairing import PairingWarning, pairing, sensible_pairs

__all__ = ["build_parser", "main"]

PROG = "sknnloss"

#: scikit-learn's bundled datasets, by the name ``--dataset`` takes.
SKLEARN_DATASETS = {
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "diabetes": "load_diabetes",
}
#: Every name ``--dataset`` takes; penguins needs the optional palmerpenguins package.
DATASETS = (*SKLEARN_DATASETS, "penguins")
PENGUINS_TARGET = "species"

#: With ``--task auto``, a numeric target of integers with more distinct values than this is
#: a regression target (scikit-learn's ``type_of_target`` would call it multiclass).
MAX_AUTO_CLASSES = 20

#: Hidden activations scikit-learn's own MLP knows (its reference rows use these).
_SKLEARN_ACTIVATIONS = {"identity": "identity", "linear": "identity", "logistic": "logistic",
                        "sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
_SKLEARN_SOLVERS = ("lbfgs", "sgd", "adam")

_INSTALL_HINT = 'pip install "sknnloss[datasets]"'
_NAMES_HINT = f"run `{PROG} --list` for the names"


class UsageError(Exception):
    """Bad input: reported as one ``sknnloss: error: ...`` line and exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (one line, no usage dump)."""

    def error(self, message):
        raise UsageError(f"{message} (see `{PROG} --help`)")


# -- argument types -------------------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 jobs cannot run anything; pass 1, 2, ... or -1")
    return value


def _hidden_sizes(text):
    parts = [p.strip() for p in text.split(",")]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 64,32; got {text!r}")
    return sizes


def _name_list(text):
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return list(dict.fromkeys(names))  # drop repeats, keep the order


def build_parser():
    """The ``sknnloss`` argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` instead of exiting.
    """
    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Cross-validate sknnloss MLPs over a grid of hidden activations crossed with
(loss, output activation) pairs, next to scikit-learn's own MLP, and print them
ranked by mean score. Inside each fold, numeric columns are imputed (median) and
standardised, categorical columns imputed (most frequent) and one-hot encoded.
The ranked table goes to stdout, progress to stderr.""",
        epilog=f"""\
examples:
  {PROG}
      breast cancer (binary): every sensible pair for the task, relu and tanh hidden layers
  {PROG} --dataset penguins --top 5
      a mixed numeric/categorical table with missing values ({_INSTALL_HINT})
  {PROG} --dataset diabetes --alpha 10 --loss squared_error,absolute_error,huber,poisson
      regression losses (poisson gets its canonical exp output), strongly regularised
  {PROG} --dataset wine --activation relu,gelu,elu --loss log_loss,hinge,squared_error:logistic
      LOSS:OUTPUT pairs a loss with a non-canonical output activation
  {PROG} --csv data.csv --target price --drop id --cv 3 --scoring neg_mean_absolute_error
      your own table: every column but id and price is a feature
  {PROG} --list
      the activation and loss names

exit status: 0 on success, 1 when every candidate failed, 2 on bad input.""",
    )
    data = parser.add_argument_group("data")
    source = data.add_mutually_exclusive_group()
    source.add_argument(
        "--dataset", metavar="NAME",
        help=f"a bundled dataset: {', '.join(DATASETS)} (default: breast_cancer when no --csv "
             "is given). penguins is the palmerpenguins table (target: species), which needs "
             f"{_INSTALL_HINT}.")
    source.add_argument(
        "--csv", metavar="FILE",
        help="a CSV file with a header row, instead of --dataset; needs pandas (--target "
             "names the target column) (default: none).")
    data.add_argument(
        "--target", metavar="COLUMN",
        help=f"the target column of --csv (required there) or of --dataset penguins (default: "
             f"{PENGUINS_TARGET}). Rows with a missing target are dropped and counted.")
    data.add_argument(
        "--drop", metavar="COLUMNS", type=_name_list, default=[],
        help="comma-separated columns to leave out of the features, such as identifiers "
             "(default: none).")
    data.add_argument(
        "--task", choices=("auto", "classification", "regression"), default="auto",
        help="auto infers it from the target as scikit-learn's type_of_target does: a "
             "non-numeric target, or a numeric one with two values or at most "
             f"{MAX_AUTO_CLASSES} distinct integers, is classification; any other numeric "
             "target is regression (default: auto).")

    grid = parser.add_argument_group("grid")
    grid.add_argument(
        "--activation", metavar="NAMES", type=_name_list, default=["relu", "tanh"],
        help="comma-separated hidden activations to cross with the losses (default: "
             f"relu,tanh; {_NAMES_HINT}).")
    grid.add_argument(
        "--loss", metavar="LOSSES", type=_name_list, default=None,
        help="comma-separated losses, each LOSS (with its canonical output activation) or "
             "LOSS:OUTPUT (default: sknnloss.sensible_pairs(task), the pairs worth trying "
             f"for the task; {_NAMES_HINT}).")
    grid.add_argument(
        "--no-reference", dest="reference", action="store_false",
        help="leave out scikit-learn's own MLP (by default one reference row per hidden "
             "activation scikit-learn knows: identity, logistic, tanh, relu).")

    model = parser.add_argument_group("model")
    model.add_argument(
        "--hidden", metavar="SIZES", type=_hidden_sizes, default=(64, 32),
        help="comma-separated hidden layer sizes (default: 64,32).")
    model.add_argument(
        "--solver", choices=("lbfgs", "adam", "sgd", "cg", "bfgs"), default="lbfgs",
        help="the optimiser (default: lbfgs, fast and deterministic on small tables; adam "
             "or sgd train large ones in minibatches, best with --n-jobs -1). "
             "scikit-learn's MLP has no cg or bfgs: its reference rows are left out then.")
    model.add_argument(
        "--max-iter", metavar="N", type=_positive_int, default=200,
        help="epochs (adam, sgd) or iterations (lbfgs, cg, bfgs) (default: 200).")
    model.add_argument(
        "--alpha", metavar="A", type=_non_negative_float, default=1e-4,
        help="L2 penalty strength, as scikit-learn scales it (default: 0.0001); small "
             "noisy tables want more, e.g. 1 or 10.")
    model.add_argument(
        "--no-scale-target", dest="scale_target", action="store_false",
        help="regression only: fit on the raw target. By default the target is standardised "
             "inside each fold (only divided by its standard deviation for losses that need "
             "non-negative targets, such as poisson); scores are on the original scale "
             "either way.")

    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument(
        "--cv", metavar="K", type=_positive_int, default=5,
        help="number of cross-validation folds, shuffled; stratified for classification "
             "(default: 5).")
    evaluation.add_argument(
        "--scoring", metavar="NAME",
        help="a scikit-learn scorer name, greater is better (default: accuracy for "
             "classification, r2 for regression; sklearn.metrics.get_scorer_names() lists "
             "them).")
    evaluation.add_argument(
        "--n-jobs", metavar="N", type=_n_jobs, default=1,
        help="folds cross-validated in parallel processes; -1 uses every core (default: 1). "
             "Each fit runs its linear algebra on one thread: the small matrices of an MLP "
             "gain more from parallel folds than from parallel BLAS.")
    evaluation.add_argument(
        "--random-state", metavar="SEED", type=int, default=0,
        help="seed of the folds and of every model (default: 0).")

    output = parser.add_argument_group("output")
    output.add_argument(
        "--top", metavar="N", type=_positive_int, default=None,
        help="show only the N best candidates (default: all).")
    output.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress lines on stderr (default: one line per candidate).")
    output.add_argument(
        "--list", action="store_true",
        help="print the activation and loss names, then exit.")
    output.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version, then exit.")
    return parser


# -- data -----------------------------------------------------------------------------------
@dataclass
class Dataset:
    """A loaded table: features, target and what the header reports about them."""

    name: str
    X: object  # DataFrame or ndarray
    y: np.ndarray
    numeric: list
    categorical: list
    n_dropped: int = 0
    target_name: str | None = None  # None: a bundled dataset's unnamed target


def _import_pandas(why):
    try:
        import pandas
    except ImportError:
        raise UsageError(f"{why} needs pandas: {_INSTALL_HINT}") from None
    return pandas


def _load_sklearn_dataset(name):
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, SKLEARN_DATASETS[name])()
    X = np.asarray(bunch.data, dtype=float)
    return Dataset(name=name, X=X, y=np.asarray(bunch.target), numeric=list(range(X.shape[1])),
                   categorical=[], target_name=None)


def _load_penguins(target):
    _import_pandas("--dataset penguins")
    try:
        import palmerpenguins
    except ImportError:
        raise UsageError(
            f"--dataset penguins needs the palmerpenguins package: {_INSTALL_HINT}") from None
    return palmerpenguins.load_penguins(), target or PENGUINS_TARGET


def _read_csv(path):
    pd = _import_pandas("--csv")
    if not os.path.exists(path):
        raise UsageError(f"no such file: {path!r}")
    if os.path.isdir(path):
        raise UsageError(f"{path!r} is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise UsageError(f"cannot read CSV file {path!r}: it is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise UsageError(f"cannot read CSV file {path!r}: {reason}") from None
    if frame.shape[1] < 2:
        raise UsageError(
            f"CSV file {path!r} has {frame.shape[1]} column(s); it needs a header row, a "
            "target column and at least one feature column, separated by commas")
    return frame


def _split_frame(frame, name, target, drop):
    """Features and target of a DataFrame; drops the rows whose target is missing."""
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if target not in columns:
        raise UsageError(f"no target column {target!r} in {name}; its columns are: "
                         f"{', '.join(columns)}")
    unknown = [c for c in drop if c not in columns]
    if unknown:
        raise UsageError(f"--drop names unknown column(s) {', '.join(map(repr, unknown))}; "
                         f"the columns of {name} are: {', '.join(columns)}")
    if target in drop:
        raise UsageError(f"--drop cannot drop the target column {target!r}")
    missing = frame[target].isna().to_numpy()
    frame = frame.loc[~missing]
    X = frame.drop(columns=[target, *drop])
    if X.shape[1] == 0:
        raise UsageError(f"{name} has no feature column left besides the target {target!r}")
    if len(frame) == 0:
        raise UsageError(f"the target column {target!r} of {name} has no values")
    numeric, categorical = [], []
    for column in X.columns:
        if pd.api.types.is_numeric_dtype(X[column]):
            numeric.append(column)
        else:
            categorical.append(column)
            # Uniform strings for the encoder (a column may mix numbers and text), with
            # missing values as np.nan for the imputer.
            text = X[column].astype(str).astype(object)
            X[column] = text.where(X[column].notna(), np.nan)
    y = frame[target]
    # Non-numeric labels as uniform strings (a column may mix numbers and text).
    y = y.to_numpy() if pd.api.types.is_numeric_dtype(y) else y.astype(str).to_numpy(object)
    return Dataset(name=name, X=X, y=y, numeric=numeric, categorical=categorical,
                   n_dropped=int(missing.sum()), target_name=target)


def load_data(args):
    """The dataset ``args`` asks for.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command-line arguments.

    Returns
    -------
    Dataset
    """
    if args.csv is not None:
        if args.target is None:
            raise UsageError("--csv needs --target COLUMN, the column to predict")
        return _split_frame(_read_csv(args.csv), f"CSV file {args.csv!r}", args.target,
                            args.drop)
    name = args.dataset or "breast_cancer"
    if name == "penguins":
        frame, target = _load_penguins(args.target)
        return _split_frame(frame, "penguins", target, args.drop)
    if name not in SKLEARN_DATASETS:
        raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} "
                         "(or pass --csv FILE --target COLUMN)")
    if args.target is not None:
        raise UsageError(f"--target picks a column of --csv or --dataset penguins; the {name} "
                         "dataset has a fixed target")
    if args.drop:
        raise UsageError(f"--drop names columns of --csv or --dataset penguins; the {name} "
                         "dataset has unnamed columns")
    return _load_sklearn_dataset(name)


# -- task -----------------------------------------------------------------------------------
def _is_numeric(y):
    return y.dtype.kind in "biuf"


def _example(y):
    values = [v for v in y if not (isinstance(v, float) and np.isnan(v))][:1]
    return repr(values[0].item() if hasattr(values[0], "item") else values[0]) if values else ""


def resolve_task(data, requested, cv):
    """Classification or regression; checks that the target suits it and the folds.

    Returns
    -------
    task : {"classification", "regression"}
    pair_task : str
        The task :func:`sknnloss.sensible_pairs` and :func:`sknnloss.pairing` know.
    description : str
        For the header.
    """
    y = data.y
    target = "the target" + ("" if data.target_name is None else f" {data.target_name!r}")
    if cv < 2:
        raise UsageError(f"--cv {cv}: cross-validation needs at least 2 folds")
    numeric = _is_numeric(y)
    if numeric and y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise UsageError(f"{target} holds infinite values")
    kind = type_of_target(y) if len(y) else "unknown"
    if requested == "auto":
        if not numeric or kind == "binary":
            task = "classification"
        elif kind == "multiclass" and len(np.unique(y)) <= MAX_AUTO_CLASSES:
            task = "classification"
        else:
            task = "regression"
    else:
        task = requested

    if task == "regression":
        if not numeric:
            raise UsageError(
                f"--task regression needs a numeric target, but {target} holds non-numeric "
                f"values such as {_example(y)}; use --task classification (or auto)")
        y = y.astype(float)
        data.y = y
        if len(y) < cv:
            raise UsageError(f"--cv {cv} needs at least {cv} samples; {target} has {len(y)}")
        return task, "regression", f"regression ({len(np.unique(y))} distinct target values)"

    if kind not in ("binary", "multiclass"):
        raise UsageError(
            f"{target} is {kind} (e.g. {_example(y)}), not class labels; use --task "
            "regression (or auto)")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise UsageError(f"{target} holds a single class ({_example(classes)}); "
                         "classification needs at least two")
    smallest = int(counts.min())
    if cv > smallest:
        label = classes[np.argmin(counts)]
        advice = (f"lower --cv to at most {smallest}" if smallest >= 2 else
                  "cross-validation needs at least 2 samples of every class")
        if numeric and len(classes) > MAX_AUTO_CLASSES:
            advice += (f" (or, as {target} has {len(classes)} distinct values, use --task "
                       "regression)")
        raise UsageError(
            f"--cv {cv} needs at least {cv} samples of every class, but class "
            f"{_example(np.array([label], dtype=object))} of {target} has {smallest}; "
            f"{advice}")
    pair_task = "binary" if len(classes) == 2 else "multiclass"
    return task, pair_task, (
        f"{pair_task} classification ({len(classes)} classes, the smallest with "
        f"{smallest} samples)")


# -- candidates -----------------------------------------------------------------------------
@dataclass
class Candidate:
    """One grid point: what the table shows and the model to cross-validate."""

    library: str
    activation: str
    loss: str
    output: str
    model: object
    result: dict = field(default_factory=dict)


def _check_activation(name, option):
    if name not in ACTIVATION_ALIASES:
        raise UsageError(f"unknown activation {name!r} in {option}; {_NAMES_HINT} (they are "
                         "sknnloss.activations.ACTIVATION_ALIASES)")


def _loss_pairs(args, pair_task):
    """(loss, output activation) pairs: from --loss, or sensible_pairs for the task."""
    if args.loss is None:
        return [(grid["loss"][0], grid["output_activation"][0])
                for grid in sensible_pairs(pair_task)]
    pairs = []
    for item in args.loss:
        loss, _, output = item.partition(":")
        loss, output = loss.strip(), output.strip() or "auto"
        if loss not in LOSS_ALIASES and loss != "log_loss":
            raise UsageError(f"unknown loss {loss!r} in --loss; {_NAMES_HINT} (they are "
                             "sknnloss.losses.LOSS_ALIASES and 'log_loss')")
        if output != "auto":
            _check_activation(output, f"--loss {item}")
            if output == "prelu":
                raise UsageError("prelu (a trainable activation) cannot be an output "
                                 f"activation, in --loss {item}")
        pairs.append((loss, output))
    return pairs


def _output_name(loss, output, pair_task):
    if output != "auto":
        return output
    target_type = pair_task if pair_task in ("binary", "multiclass") else None
    return get_loss(loss, target_type=target_type).canonical_activation


def _check_pair(loss, output, pair_task, y):
    report = pairing(loss, output, task=pair_task)
    if report.errors:
        raise UsageError(f"--loss {loss}{'' if output == 'auto' else ':' + output} cannot work "
                         f"on a {pair_task} target: {report.errors[0]}")
    if pair_task == "regression":
        loss_obj = get_loss(loss)
        try:
            loss_obj.check_target(y.reshape(-1, 1))
        except ValueError as exc:
            raise UsageError(f"--loss {loss} does not fit the target: {exc}") from None


def _target_scaler(loss, output):
    """Standardise a regression target; only divide it by its scale (keeping its sign) for a
    loss or an output activation that needs non-negative targets."""
    loss = get_loss(loss)
    if output == "auto":
        output = loss.canonical_activation
    low = getattr(get_activation(output), "output_range", (-np.inf, np.inf))[0]
    return StandardScaler(with_mean=getattr(loss, "target_kind", "real") == "real" and low < 0)


def build_candidates(args, task, pair_task, y):
    """The grid: sknnloss models for every (hidden activation, pair), then the references."""
    for name in args.activation:
        _check_activation(name, "--activation")
    pairs = _loss_pairs(args, pair_task)
    for loss, output in pairs:
        if args.loss is not None:
            _check_pair(loss, output, pair_task, y)
    common = dict(hidden_layer_sizes=args.hidden, solver=args.solver, max_iter=args.max_iter,
                  alpha=args.alpha, random_state=args.random_state)
    regression = task == "regression"
    Estimator = MLPRegressor if regression else MLPClassifier
    candidates = []
    for activation in args.activation:
        for loss, output in pairs:
            model = Estimator(activation=activation, loss=loss, output_activation=output,
                              diagnostics=False, **common)
            if regression and args.scale_target:
                model = TransformedTargetRegressor(model, transformer=_target_scaler(loss, output))
            candidates.append(Candidate("sknnloss", activation, loss,
                                        _output_name(loss, output, pair_task), model))
    notes = []
    if args.reference:
        if args.solver not in _SKLEARN_SOLVERS:
            notes.append(f"scikit-learn's MLP is left out: it has no solver {args.solver!r}")
        else:
            known = [a for a in args.activation if a in _SKLEARN_ACTIVATIONS]
            if not known:
                notes.append("scikit-learn's MLP is left out: it knows none of the hidden "
                             "activations asked for (only identity, logistic, tanh, relu)")
            Reference = SklearnMLPRegressor if regression else SklearnMLPClassifier
            for activation in dict.fromkeys(_SKLEARN_ACTIVATIONS[a] for a in known):
                model = Reference(activation=activation, **common)
                if regression and args.scale_target:
                    model = TransformedTargetRegressor(model, transformer=StandardScaler())
                loss = "squared_error" if regression else "log_loss"
                output = {"regression": "identity", "binary": "logistic"}.get(pair_task,
                                                                            "softmax")
                candidates.append(Candidate("scikit-learn", activation, loss, output, model))
    return candidates, notes


# -- cross-validation -----------------------------------------------------------------------
class _WarningRecordingPipeline(Pipeline):
    """A Pipeline that keeps the warnings of its ``fit`` in ``fit_warnings_``.

    Cross-validation may fit in worker processes, where warnings would print straight to the
    terminal; recorded on the fitted pipeline, they come back with ``return_estimator=True``
    and are summarised once.
    """

    def fit(self, X, y=None, **params):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            super().fit(X, y, **params)
        self.fit_warnings_ = [(w.category, " ".join(str(w.message).split())) for w in caught]
        return self


def build_preprocessor(data):
    """The ColumnTransformer: numeric (median, standardised) and categorical (one-hot)."""
    transformers = []
    if data.numeric:
        transformers.append(("numeric", Pipeline([
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]), data.numeric))
    if data.categorical:
        transformers.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]), data.categorical))
    return ColumnTransformer(transformers)


def _failure_reason(text):
    """The exception line of a scikit-learn fit-failure report (which holds tracebacks)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    reason = lines[-1] if lines else "unknown error"
    return reason.replace(_WarningRecordingPipeline.__name__, "the model")


def evaluate(candidates, data, task, args, scoring, progress):
    """Cross-validate every candidate; fills ``candidate.result``."""
    if task == "classification":
        cv = StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state)
    else:
        cv = KFold(args.cv, shuffle=True, random_state=args.random_state)
    preprocessor = build_preprocessor(data)
    # Multithreaded BLAS slows the small matrix products of an MLP down (and badly so on a
    # busy machine); worker processes of n_jobs != 1 are limited by joblib already.
    with threadpool_limits(limits=1, user_api="blas"):
        for i, candidate in enumerate(candidates, start=1):
            _evaluate_one(i, candidate, candidates, preprocessor, data, cv, args, scoring,
                          progress)


def _evaluate_one(i, candidate, candidates, preprocessor, data, cv, args, scoring, progress):
    """Cross-validate one candidate; fills ``candidate.result`` and reports progress."""
    pipeline = _WarningRecordingPipeline([("preprocess", clone(preprocessor)),
                                          ("model", candidate.model)])
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # Fit warnings are recorded by the pipeline (in whichever process fits); the rest
        # (e.g. a scorer's) would be repeated per fold: ignored, except fit failures.
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", FitFailedWarning)
        if args.n_jobs == 1:  # in this process: say why a fold could not be scored
            warnings.filterwarnings("always", message="Scoring failed", category=UserWarning)
        try:
            scores = cross_validate(pipeline, data.X, data.y, cv=cv, scoring=scoring,
                                    n_jobs=args.n_jobs, error_score=np.nan,
                                    return_estimator=True)
        except ValueError as exc:  # scikit-learn raises when every fold failed
            scores, error = None, _failure_reason(exc)
    if scores is not None:
        test = scores["test_score"]
        fitted = [est for est in scores["estimator"] if hasattr(est, "fit_warnings_")]
        error = next((_failure_reason(w.message) for w in caught), None) or (
            f"no {scoring} score on some folds (the scorer may need a method this model "
            "lacks, such as predict_proba)")
        candidate.result = dict(
            mean=float(np.mean(test)) if np.all(np.isfinite(test)) else np.nan,
            std=float(np.std(test)) if np.all(np.isfinite(test)) else np.nan,
            fit_time=float(np.mean(scores["fit_time"])),
            n_fits=len(test), error=error if not np.all(np.isfinite(test)) else None,
            warnings=[w for est in fitted for w in est.fit_warnings_],
            fits_with=[{c for c, _ in est.fit_warnings_} for est in fitted],
        )
    else:
        candidate.result = dict(mean=np.nan, std=np.nan, fit_time=np.nan, n_fits=args.cv,
                                error=error, warnings=[], fits_with=[])
    progress(f"[{i:>{len(str(len(candidates)))}}/{len(candidates)}] {_label(candidate)}: "
             f"{_score_text(candidate.result)} "
             f"({time.perf_counter() - start:.1f}s)")


def _label(candidate):
    return (f"{candidate.library} {candidate.activation} hidden, {candidate.loss} + "
            f"{candidate.output} output")


# -- report ---------------------------------------------------------------------------------
def _plus_minus():
    """'±', or '+/-' where the terminal's encoding has no '±'."""
    for stream in (sys.stdout, sys.stderr):
        try:
            "±".encode(getattr(stream, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            return "+/-"
    return "±"


def _number(value):
    if abs(value) < 1e3:
        return f"{value:.4f}"
    return f"{value:.1f}" if abs(value) < 1e7 else f"{value:.3e}"


def _score_text(result):
    if not np.isfinite(result["mean"]):
        return "failed"
    return f"{_number(result['mean'])} {_plus_minus()} {_number(result['std'])}"


def rank(candidates):
    """Best first by mean score, as shown (4 decimals); failures last.

    Candidates whose shown means are equal share a rank (the smallest, as GridSearchCV's
    ``rank_test_score``) and are listed by increasing standard deviation.

    Returns
    -------
    list of (rank or None, Candidate)
    """
    def shown_mean(c):
        mean = c.result["mean"]
        return float(_number(mean)) if np.isfinite(mean) else None

    def key(c):
        mean, std = shown_mean(c), c.result["std"]
        return (0, -mean, std) if mean is not None else (1, 0.0, 0.0)

    ordered = sorted(candidates, key=key)  # stable: the grid's order breaks exact ties
    means = [shown_mean(c) for c in ordered]
    ranks = [None if m is None else 1 + sum(o is not None and o > m for o in means)
             for m in means]
    return list(zip(ranks, ordered))


def format_table(ranked, scoring_name, top=None):
    """The ranked table, as lines."""
    shown = ranked if top is None else ranked[:top]
    header = ["rank", "model", "hidden activation", "loss", "output activation",
              f"{scoring_name} (mean {_plus_minus()} std)", "fit time"]
    rows = [[str(r) if r is not None else "-", c.library, c.activation, c.loss, c.output,
             _score_text(c.result),
             f"{c.result['fit_time']:.2f}s" if np.isfinite(c.result["fit_time"]) else "-"]
            for r, c in shown]
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    right = {0, 6}

    def line(row):
        cells = [cell.rjust(w) if j in right else cell.ljust(w)
                 for j, (cell, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    lines = [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    if top is not None and len(ranked) > top:
        lines.append(f"({len(ranked) - top} more not shown; drop --top to see them)")
    return lines


def summarise_warnings(candidates, max_iter):
    """One line per kind of trouble seen while fitting: convergence, divergence, pairing..."""
    n_fits = sum(c.result["n_fits"] for c in candidates)
    groups = {"diverged": 0, "converged": 0, "pairing": 0, "other": 0}
    examples = {}
    for c in candidates:
        for categories in c.result["fits_with"]:
            seen = set()
            for category in categories:
                if issubclass(category, DivergenceWarning):
                    seen.add("diverged")
                elif issubclass(category, ConvergenceWarning):
                    seen.add("converged")
                elif issubclass(category, PairingWarning):
                    seen.add("pairing")
                else:
                    seen.add("other")
            for group in seen:
                groups[group] += 1
        for category, message in c.result["warnings"]:
            group = ("pairing" if issubclass(category, PairingWarning) else "other"
                     if not issubclass(category, ConvergenceWarning) else None)
            if group is not None and group not in examples:
                examples[group] = (f"{c.activation} + {c.loss}/{c.output}: "
                                   f"{category.__name__}: {_shorten(message)}")
    lines = []
    if groups["converged"]:
        lines.append(f"{groups['converged']} of {n_fits} fits did not converge within "
                     f"--max-iter {max_iter} (ConvergenceWarning); raise --max-iter to train "
                     "longer")
    if groups["diverged"]:
        lines.append(f"{groups['diverged']} of {n_fits} fits diverged (DivergenceWarning) and "
                     "kept their last finite weights")
    if groups["pairing"]:
        lines.append(f"{groups['pairing']} of {n_fits} fits warned about their pairing, e.g. "
                     f"{examples['pairing']}")
    if groups["other"]:
        lines.append(f"{groups['other']} of {n_fits} fits emitted other warnings, e.g. "
                     f"{examples['other']}")
    failed = [c for c in candidates if c.result.get("error")]
    if failed:
        first = failed[0]
        lines.append(f"{len(failed)} candidate(s) failed in some fold and score nothing; "
                     f"{first.activation} + {first.loss}/{first.output}: "
                     f"{_shorten(first.result['error'])}")
    return lines


def _shorten(text, limit=200):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe_data(data):
    n_samples = len(data.y)
    n_features = len(data.numeric) + len(data.categorical)
    text = (f"{data.name}: {n_samples} samples, {n_features} features ({len(data.numeric)} "
            f"numeric, {len(data.categorical)} categorical)")
    if data.target_name is not None:
        text += f", target {data.target_name!r}"
    if data.n_dropped:
        text += f"; {data.n_dropped} rows with a missing target dropped"
    return text


def list_names():
    """The ``--list`` text: activation and loss names with their classes."""
    def block(title, aliases):
        by_class = {}
        for name, cls in aliases.items():
            by_class.setdefault(cls.__name__, []).append(name)
        lines = [title]
        lines += [f"  {', '.join(names):<42} {cls}" for cls, names in by_class.items()]
        return lines

    return [*block("activations (--activation, and LOSS:OUTPUT in --loss):", ACTIVATION_ALIASES),
            "", *block("losses (--loss):", LOSS_ALIASES),
            "  log_loss                                   binary_crossentropy (binary) or "
            "sparse_categorical_crossentropy (multiclass)",
            "", "pairs worth trying per task: sknnloss.sensible_pairs(task)"]


# -- entry point ----------------------------------------------------------------------------
def run(args, out, err):
    """Load, check, cross-validate and print; returns the exit status."""
    def progress(message):
        if not args.quiet:
            print(message, file=err, flush=True)

    if args.list:
        print("\n".join(list_names()), file=out)
        return 0
    data = load_data(args)
    task, pair_task, task_text = resolve_task(data, args.task, args.cv)
    scoring_name = args.scoring or ("accuracy" if task == "classification" else "r2")
    try:
        scoring = get_scorer(scoring_name)
    except ValueError:
        raise UsageError(f"unknown --scoring {scoring_name!r}; sklearn.metrics."
                         "get_scorer_names() lists the names") from None
    candidates, notes = build_candidates(args, task, pair_task, data.y)

    folds = f"{args.cv}-fold {'stratified ' if task == 'classification' else ''}CV"
    header = [
        f"sknnloss {__version__}: {_describe_data(data)}",
        f"task: {task_text}; {folds}; scoring: {scoring_name}",
        f"model: hidden layers {','.join(map(str, args.hidden))}, solver {args.solver}, "
        f"max_iter {args.max_iter}, alpha {args.alpha:g}, random_state {args.random_state}"
        + ("; target standardised per fold" if task == "regression" and args.scale_target
           else ""),
    ]
    progress(f"cross-validating {len(candidates)} candidates x {args.cv} folds "
             f"(n_jobs={args.n_jobs})")
    start = time.perf_counter()
    evaluate(candidates, data, task, args, scoring_name, progress)
    elapsed = time.perf_counter() - start

    ranked = rank(candidates)
    lines = [*header, "", *format_table(ranked, scoring_name, args.top), ""]
    lines += [f"note: {n}" for n in notes + summarise_warnings(candidates, args.max_iter)]
    lines.append(f"{len(candidates)} candidates x {args.cv} folds in {elapsed:.1f}s")
    print("\n".join(lines), file=out, flush=True)
    if all(not np.isfinite(c.result["mean"]) for c in candidates):
        print(f"{PROG}: error: every candidate failed; the first: "
              f"{_shorten(candidates[0].result.get('error') or 'no score')}", file=err)
        return 1
    return 0


def main(argv=None):
    """Run the ``sknnloss`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (without the program name); None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when every candidate failed, 2 on bad input (after one
        ``sknnloss: error: ...`` line on stderr), 130 when interrupted.
    """
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else 0
        return run(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1

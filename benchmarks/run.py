"""sknnloss against scikit-learn's MLP: fit time, predict time, peak memory, loss and score.

Both libraries train the same network (architecture, activation, solver, batch size, dtype,
``random_state``) on the same data for exactly the same number of epochs (or L-BFGS
iterations): ``tol=0.0`` and ``n_iter_no_change=max_iter + 1`` switch the stopping rule off,
and L-BFGS gets ``max_fun=1_000_000``. After every fit ``n_iter_`` of the two libraries is
compared and a difference is flagged ``MISMATCH`` in the table. (L-BFGS-B can still stop
early through its relative-reduction test ``ftol``, which neither library exposes, or a
failed line search; the ``n_iter_`` row then says "ok, but < max_iter" when both stopped at
the same iteration.)

Workloads (``--workload NAME``, repeatable; default all) and their fixed lengths::

    digits_adam          load_digits, X / 16, 10 classes (1,347 train / 450 held out);
                         hidden (100,) relu, adam, batch 'auto'; 50 epochs
    cls50k_adam          make_classification 50,000 x 50, 10 classes, 30 informative;
                         hidden (256, 128) relu, adam, batch 256; 5 epochs
    reg20k_lbfgs         make_regression 20,000 x 50, noise 10, standardised target;
                         hidden (100,) tanh, lbfgs; 100 iterations
    bin50k_sgd           make_classification 50,000 x 50, binary, 30 informative;
                         hidden (64, 64) relu, sgd (momentum 0.9, Nesterov), batch 200;
                         5 epochs
    cls50k_adam_float32  cls50k_adam with X as float32 (both libraries); 5 epochs
    many_class           make_classification 100,000 x 50, 1000 classes, 40 informative,
                         1 cluster per class; hidden (128,) relu, adam, batch 256; 5 epochs
                         (the point is memory: 1000 outputs)

The synthetic workloads hold out 10,000 extra samples (generated with the training set,
``random_state=0``, then split off). ``--quick`` shrinks every workload to 2,000 training
samples (500 held out), 2 epochs (5 L-BFGS iterations) and 1 repeat; ``many_class`` to 5,000
samples and 100 classes; ``digits_adam`` keeps its data and runs 2 epochs.

Protocol. Every run (one library, one workload, one repeat) is a fresh subprocess of this
script (``--_child``) that prints one JSON line. Within a repeat the libraries alternate,
scikit-learn first; the tables show medians over ``--repeats`` (5 by default). The summary
adds, besides the ratio of the fits' CPU times (below), two figures per workload: "fit
paired", the median over repeats of the fit-time ratio
*within* a repeat (the two runs follow each other, so a shared machine that slows down or
speeds up between repeats moves both and the ratio stays put; on a quiet machine it agrees
with the ratio of the medians), "fit best", the ratio of the two libraries' shortest fits
over all repeats (a machine whose neighbours take turns slowing it down only ever adds time,
so the shortest fit is the one it disturbed least; on the shared 2-core VMs this was
developed on, whole seconds ran up to twice as slow), and "loss rel. diff", the largest
relative difference of the final training losses in a repeat. In the child:

* fit time: ``time.perf_counter`` around ``fit``; ``digits_adam``, whose fit takes a fraction
  of a second, fits 5 fresh estimators in the run and reports their median. Also the fit's
  CPU time (``time.process_time``: user and system time of all the process's threads). With
  ``--threads 1`` it leaves out the time the process waited for a core, which a shared
  machine adds to the wall time; with more threads it also counts BLAS threads spinning
  while they wait for work, so compare it between libraries only on one thread;
* predict time: the best of 5 ``predict`` calls on the held-out set; then the best of 5
  ``predict`` calls on ``--predict-rows`` rows (the held-out set tiled, 100,000 by default)
  and, for the classification workloads, the best of 5 ``predict_proba`` calls on the same
  rows. Every call on a large input also pays the kernel for fresh memory pages, and that
  cost varies from call to call: for the 800 MB probabilities of ``many_class`` the system
  time of one call was measured anywhere between 0.1 s and 2 s (transparent huge pages
  being compacted), in both libraries alike;
* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` read right after ``fit``. Before
  ``fit`` (after imports, data generation and ``gc.collect()``) the child resets the kernel's
  peak-RSS mark (``/proc/self/clear_refs``, Linux), so the figure is the peak *during fit*,
  including the data and the interpreter; "fit RSS increase" subtracts the RSS measured just
  before ``fit`` (what the fit itself allocated at its peak). Where the reset is not possible
  the peak also covers imports and data generation, and the table says so;
* final training loss ``loss_``, held-out ``score`` (accuracy or R^2) and ``n_iter_``.

Threads. By default the children use the BLAS libraries' own thread count (all cores).
On a machine that is busy with other work, BLAS threads waiting for cores can slow the
small matrix products of these networks by an order of magnitude, for both libraries but
not equally; ``--threads 1`` gives steadier, comparable numbers there.

``--quick`` is a smoke test (well under a minute on two cores, BLAS limited to one thread
unless ``--threads`` says otherwise). It asserts nothing about speed, but exits with status 1
and a message when a run fails, when ``n_iter_`` differs between the libraries, or when the
held-out scores differ by more than ``SCORE_TOLERANCE`` = 0.1 (absolute; accuracy or R^2).
With the same seed sknnloss follows scikit-learn's optimisation path, so the scores agree to
far better than that; 0.1 leaves room for floating-point drift on tiny, barely trained
models without letting a broken solver through. ``--strict`` applies the same checks to a
full run.

Examples::

    python benchmarks/run.py --quick
    python benchmarks/run.py --workload digits_adam --workload reg20k_lbfgs --repeats 5
    python benchmarks/run.py --json results.json --threads 1
"""

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time

LIBRARIES = ("scikit-learn", "sknnloss")
RANDOM_STATE = 0
SCORE_TOLERANCE = 0.1
PREDICT_REPEATS = 5
FULL_PREDICT_ROWS = 100_000
QUICK_PREDICT_ROWS = 2_000


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark setting: data, network, solver and training length.

    Parameters
    ----------
    name : str
        Key used by ``--workload``.
    data : {'digits', 'classification', 'regression'}
        ``load_digits``, ``make_classification`` or ``make_regression``.
    data_params : dict
        Keyword arguments of the data generator besides ``n_samples`` and ``random_state``.
    n_samples : int
        Training samples (ignored for digits).
    n_test : int
        Held-out samples (digits: the held-out part of its 1,797 samples).
    model_params : dict
        Estimator parameters shared by both libraries (architecture, solver, batch size, ...).
    max_iter : int
        Epochs ('sgd', 'adam') or iterations ('lbfgs'); both libraries run exactly this many.
    dtype : str
        dtype of X given to both libraries.
    quick : dict
        Field overrides for ``--quick`` (``data_params`` is merged, not replaced).
    fit_repeats : int
        Fits per run, each of a fresh estimator; the run's fit time is their median. For a
        workload whose fit takes a fraction of a second, where one scheduling hiccup of a
        shared machine moves a single timing by 10-20%.
    """

    name: str
    data: str
    data_params: dict
    n_samples: int
    n_test: int
    model_params: dict
    max_iter: int
    dtype: str = "float64"
    quick: dict = dataclasses.field(default_factory=dict)
    fit_repeats: int = 1

    def describe_data(self):
        """The data, without its size."""
        data = self.data_params
        if self.data == "digits":
            text = "load_digits, X / 16, 10 classes"
        elif self.data == "regression":
            text = (f"make_regression, {data['n_features']} features, noise {data['noise']:g}, "
                    "standardised y")
        else:
            classes = "binary" if data["n_classes"] == 2 else f"{data['n_classes']} classes"
            text = (f"make_classification, {data['n_features']} features, {classes}, "
                    f"{data['n_informative']} informative")
            if "n_clusters_per_class" in data:
                text += f", {data['n_clusters_per_class']} cluster(s) per class"
        return text

    def describe_model(self):
        """The network, solver and batch size."""
        p = self.model_params
        text = (f"hidden {tuple(p['hidden_layer_sizes'])} {p.get('activation', 'relu')}, "
                f"{p['solver']}")
        if p["solver"] == "sgd":
            text += (f" (momentum {p['momentum']}, "
                     f"nesterovs_momentum={p['nesterovs_momentum']})")
        if p["solver"] in ("sgd", "adam"):
            text += f", batch {p.get('batch_size', 'auto')!r}"
        return text

    @property
    def unit(self):
        """What ``max_iter`` counts: 'iterations' (L-BFGS) or 'epochs'."""
        return "iterations" if self.model_params.get("solver") == "lbfgs" else "epochs"

    @property
    def task(self):
        """'regression' or 'classification'."""
        return "regression" if self.data == "regression" else "classification"

    def shrunk(self):
        """The ``--quick`` version of this workload."""
        overrides = dict(self.quick)
        overrides["data_params"] = {**self.data_params, **overrides.get("data_params", {})}
        return dataclasses.replace(self, **overrides)

    def estimator_params(self, seed):
        """Parameters of both estimators: the shared ones plus 'run exactly max_iter'."""
        params = dict(self.model_params, max_iter=self.max_iter, tol=0.0,
                      n_iter_no_change=self.max_iter + 1, random_state=seed)
        if params.get("solver") == "lbfgs":
            params["max_fun"] = 1_000_000
        return params


_QUICK = {"n_samples": 2_000, "n_test": 500, "max_iter": 2}
_CLS50K = Workload(
    name="cls50k_adam",
    data="classification",
    data_params={"n_features": 50, "n_informative": 30, "n_classes": 10},
    n_samples=50_000, n_test=10_000,
    model_params={"hidden_layer_sizes": (256, 128), "solver": "adam", "batch_size": 256},
    max_iter=5, quick=_QUICK,
)

#: The workloads, in the order they run.
WORKLOADS = {w.name: w for w in [
    Workload(
        name="digits_adam",
        data="digits", data_params={}, n_samples=1_347, n_test=450,
        model_params={"hidden_layer_sizes": (100,), "solver": "adam", "batch_size": "auto"},
        max_iter=50, quick={"max_iter": 2, "fit_repeats": 1}, fit_repeats=5,
    ),
    _CLS50K,
    Workload(
        name="reg20k_lbfgs",
        data="regression", data_params={"n_features": 50, "noise": 10.0},
        n_samples=20_000, n_test=10_000,
        model_params={"hidden_layer_sizes": (100,), "solver": "lbfgs", "activation": "tanh"},
        max_iter=100, quick={**_QUICK, "max_iter": 5},
    ),
    Workload(
        name="bin50k_sgd",
        data="classification",
        data_params={"n_features": 50, "n_informative": 30, "n_classes": 2},
        n_samples=50_000, n_test=10_000,
        model_params={"hidden_layer_sizes": (64, 64), "solver": "sgd", "batch_size": 200,
                      "momentum": 0.9, "nesterovs_momentum": True},
        max_iter=5, quick=_QUICK,
    ),
    dataclasses.replace(_CLS50K, name="cls50k_adam_float32", dtype="float32"),
    Workload(
        name="many_class",
        data="classification",
        data_params={"n_features": 50, "n_informative": 40, "n_classes": 1000,
                     "n_clusters_per_class": 1},
        n_samples=100_000, n_test=10_000,
        model_params={"hidden_layer_sizes": (128,), "solver": "adam", "batch_size": 256},
        max_iter=5,
        quick={**_QUICK, "n_samples": 5_000, "data_params": {"n_classes": 100}},
    ),
]}


# --------------------------------------------------------------------------------------
# The child: one library, one workload, one repeat.
# --------------------------------------------------------------------------------------
def make_data(workload):
    """Training and held-out data of a workload, deterministic (``random_state=0``).

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        X in the workload's dtype.
    """
    import numpy as np
    from sklearn.datasets import load_digits, make_classification, make_regression
    from sklearn.model_selection import train_test_split

    if workload.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        generator = make_regression if workload.data == "regression" else make_classification
        X, y = generator(n_samples=workload.n_samples + workload.n_test,
                         random_state=RANDOM_STATE, **workload.data_params)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=workload.n_test, random_state=RANDOM_STATE)
    if workload.task == "regression":  # standardise the target with the training statistics
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    dtype = np.dtype(workload.dtype)
    return X_train.astype(dtype), X_test.astype(dtype), y_train, y_test


def _current_rss_kib():
    """Resident set size now, in KiB (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); True when it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _maxrss_kib():
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere


def run_child(config):
    """Fit one library on one workload; return the measurements as a dict.

    Parameters
    ----------
    config : dict
        ``workload`` (name), ``library``, ``quick``, ``seed``, ``predict_rows`` and
        ``diagnostics`` (None: sknnloss's default).
    """
    import gc
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    workload = WORKLOADS[config["workload"]]
    if config["quick"]:
        workload = workload.shrunk()
    classifier = workload.task == "classification"
    if config["library"] == "sknnloss":
        from sknnloss import MLPClassifier, MLPRegressor
    else:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    params = workload.estimator_params(config["seed"])
    if config["library"] == "sknnloss" and config.get("diagnostics") is not None:
        params["diagnostics"] = config["diagnostics"]
    estimator = MLPClassifier if classifier else MLPRegressor

    X_train, X_test, y_train, y_test = make_data(workload)
    gc.collect()
    rss_before_fit = _current_rss_kib()
    peak_reset = _reset_peak_rss()

    fit_times, fit_cpu_times = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(workload.fit_repeats):
            model = estimator(**params)
            cpu_start = time.process_time()
            start = time.perf_counter()
            model.fit(X_train, y_train)
            fit_times.append(time.perf_counter() - start)
            fit_cpu_times.append(time.process_time() - cpu_start)
    fit_time = statistics.median(fit_times)
    peak_rss = _maxrss_kib()
    # Running out of epochs is the point here; anything else (divergence, ...) is reported.
    other_warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught
                             if w.category is not ConvergenceWarning})

    predict_time = _best_time(model.predict, X_test)
    X_bulk = np.resize(X_test, (config["predict_rows"], X_test.shape[1]))
    bulk_label_time = _best_time(model.predict, X_bulk)
    bulk_predict_time = _best_time(model.predict_proba, X_bulk) if classifier else None
    del X_bulk

    return {
        "workload": workload.name,
        "library": config["library"],
        "n_train": int(X_train.shape[0]),
        "n_test": int(X_test.shape[0]),
        "dtype": str(X_train.dtype),
        "max_iter": workload.max_iter,
        "fit_time": fit_time,
        "fit_times": fit_times,
        "fit_cpu_time": statistics.median(fit_cpu_times),
        "predict_time": predict_time,
        "bulk_label_time": bulk_label_time,
        "bulk_predict_time": bulk_predict_time,
        "bulk_predict_rows": config["predict_rows"],
        "peak_rss_mib": peak_rss / 1024,
        "fit_rss_increase_mib": (None if rss_before_fit is None or not peak_reset
                                 else (peak_rss - rss_before_fit) / 1024),
        "rss_before_fit_mib": None if rss_before_fit is None else rss_before_fit / 1024,
        "peak_rss_reset": peak_reset,
        "loss": float(model.loss_),
        "score": float(model.score(X_test, y_test)),
        "n_iter": int(model.n_iter_),
        "params_dtype": str(model.coefs_[0].dtype),
        "warnings": other_warnings,
        "versions": _versions(config["library"]),
    }


def _best_time(method, X):
    """The best of ``PREDICT_REPEATS`` timed calls of ``method(X)``: the first call on a
    large input also pays for the kernel mapping fresh memory, which later calls reuse."""
    times = []
    for _ in range(PREDICT_REPEATS):
        start = time.perf_counter()
        method(X)
        times.append(time.perf_counter() - start)
    return min(times)


def _versions(library):
    import numpy
    import sklearn

    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__,
                "scikit-learn": sklearn.__version__}
    if library == "sknnloss":
        import sknnloss

        versions["sknnloss"] = sknnloss.__version__
    return versions


def machine_description():
    """The CPU, the cores this process may use and numpy's BLAS, in one line.

    The ratios depend on the machine: how fast its BLAS runs the matrix products (the same
    in both libraries) against the element-wise work around them (where they differ).
    """
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle
                     if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    blas = "BLAS unknown"
    try:
        import numpy  # noqa: F401  (loads numpy's BLAS for threadpoolctl to see)
        from threadpoolctl import threadpool_info

        # numpy's, not the copy scipy's wheels bundle in scipy.libs.
        info = next((lib for lib in threadpool_info() if lib.get("user_api") == "blas"
                     and os.path.basename(os.path.dirname(lib.get("filepath", "")))
                     != "scipy.libs"), None)
        if info is not None:
            blas = f"{info.get('internal_api')} {info.get('version')}"
            if info.get("architecture"):  # OpenBLAS's kernel; MKL and BLIS have none
                blas += f" ({info['architecture']})"
    except Exception:  # threadpoolctl cannot read an unusual BLAS: the line says so
        pass
    return f"machine: {cpu}, {cores} core(s) available; numpy's BLAS: {blas}"


# --------------------------------------------------------------------------------------
# The parent: run the children, summarise, check.
# --------------------------------------------------------------------------------------
def launch(config, threads, timeout):
    """Run one child process; return its result dict (``ok`` False with ``error`` on failure).

    Parameters
    ----------
    config : dict
        Passed to :func:`run_child` as JSON on the command line.
    threads : int or None
        Sets OMP/OpenBLAS/MKL thread counts in the child's environment.
    timeout : float or None
        Seconds before the child is killed.
    """
    env = dict(os.environ)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    command = [sys.executable, os.path.abspath(__file__), "--_child", json.dumps(config)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**config, "ok": False, "error": f"timed out after {timeout} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {**config, "ok": False,
                "error": f"exit status {proc.returncode}\n{tail}".rstrip()}
    return {**config, **json.loads(lines[-1]), "ok": True}


def median_of(runs, key):
    """Median of ``key`` over successful runs that have it, or None."""
    values = [run[key] for run in runs if run.get("ok") and run.get(key) is not None]
    return statistics.median(values) if values else None


# (label, key, format) of the table rows with a median and a ratio.
METRICS = [
    ("fit time [s]", "fit_time", "{:.3f}"),
    ("fit CPU time [s]", "fit_cpu_time", "{:.3f}"),
    ("predict time, held-out [s]", "predict_time", "{:.4f}"),
    ("predict, bulk rows [s]", "bulk_label_time", "{:.3f}"),
    ("predict_proba, bulk rows [s]", "bulk_predict_time", "{:.3f}"),
    ("peak RSS during fit [MiB]", "peak_rss_mib", "{:.1f}"),
    ("fit RSS increase [MiB]", "fit_rss_increase_mib", "{:.1f}"),
    ("final training loss", "loss", "{:.6f}"),
    ("held-out score", "score", "{:.4f}"),
]


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt(value, spec="{:.3f}"):
    return "-" if value is None else spec.format(value)


def format_table(rows, header):
    """Left-aligned first column, right-aligned others."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:])]
        return "  ".join(cells)

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, rows)])


def pair_checks(workload, runs):
    """n_iter_ and score agreement of the two libraries, repeat by repeat.

    Returns
    -------
    dict
        ``n_iter`` (per library, the values seen), ``n_pairs`` (repeats where both runs
        succeeded), ``n_iter_match`` (over those pairs), ``full_work`` (every run did
        ``max_iter``), ``max_score_diff``, ``max_loss_rel_diff`` (the largest
        ``|loss_sknnloss - loss_sklearn| / |loss_sklearn|`` of a repeat),
        ``paired_fit_ratio`` (the median over repeats of the fit-time ratio within a repeat:
        the two runs of a repeat follow each other, so a machine that slows down or speeds
        up between repeats moves both) and ``failed`` (runs that failed).
    """
    by_repeat = {}
    for run in runs:
        by_repeat.setdefault(run["repeat"], {})[run["library"]] = run
    n_iter_match, score_diffs, loss_diffs, fit_ratios = True, [], [], []
    pairs = [pair for pair in by_repeat.values()
             if all(pair.get(lib, {}).get("ok") for lib in LIBRARIES)]
    for pair in pairs:
        a, b = (pair[lib] for lib in LIBRARIES)
        n_iter_match &= a["n_iter"] == b["n_iter"]
        score_diffs.append(abs(a["score"] - b["score"]))
        if a["loss"]:
            loss_diffs.append(abs(b["loss"] - a["loss"]) / abs(a["loss"]))
        fit_ratios.append(_ratio(b["fit_time"], a["fit_time"]))
    ok_runs = [run for run in runs if run.get("ok")]
    return {
        "n_iter": {lib: sorted({r["n_iter"] for r in ok_runs if r["library"] == lib})
                   for lib in LIBRARIES},
        "n_pairs": len(pairs),
        "n_iter_match": n_iter_match,
        "full_work": all(r["n_iter"] == workload.max_iter for r in ok_runs),
        "max_score_diff": max(score_diffs) if score_diffs else None,
        "max_loss_rel_diff": max(loss_diffs) if loss_diffs else None,
        "paired_fit_ratio": statistics.median(fit_ratios) if fit_ratios else None,
        "failed": [run for run in runs if not run.get("ok")],
    }


def _n_iter_flag(checks):
    """'ok', 'MISMATCH' or 'n/a' (no repeat where both libraries' runs succeeded)."""
    if not checks["n_pairs"]:
        return "n/a"
    return "ok" if checks["n_iter_match"] else "MISMATCH"


def workload_table(workload, runs, checks, n_repeats):
    """The per-workload table as text."""
    n_train = next((r["n_train"] for r in runs if r.get("ok")), workload.n_samples)
    n_test = next((r["n_test"] for r in runs if r.get("ok")), workload.n_test)
    title = (f"== {workload.name}: {workload.describe_data()}\n"
             f"   {workload.describe_model()}\n"
             f"   {n_train:,} train / {n_test:,} held out, X {workload.dtype}, "
             f"{workload.max_iter} {workload.unit}, median of {n_repeats} repeat(s)")
    per_lib = {lib: [r for r in runs if r["library"] == lib] for lib in LIBRARIES}
    rows = []
    for label, key, spec in METRICS:
        values = [median_of(per_lib[lib], key) for lib in LIBRARIES]
        if all(v is None for v in values):
            continue
        if key in ("bulk_label_time", "bulk_predict_time"):
            rows_used = next(r["bulk_predict_rows"] for r in runs if r.get("ok"))
            label = label.replace("bulk", f"{rows_used:,}")
        elif key == "score":
            label += " (R^2)" if workload.task == "regression" else " (accuracy)"
        rows.append([label, *(_fmt(v, spec) for v in values),
                     _fmt(_ratio(values[1], values[0]))])
    flag = _n_iter_flag(checks)
    if flag == "ok" and not checks["full_work"]:
        flag = f"ok, but < max_iter={workload.max_iter}"
    rows.append(["n_iter_", *(",".join(map(str, checks["n_iter"][lib])) or "-"
                              for lib in LIBRARIES), flag])
    lines = [title, format_table(rows, ["metric", *LIBRARIES, "ratio"])]
    for run in runs:
        if not run.get("ok"):
            lines.append(f"   FAILED {run['library']} repeat {run['repeat'] + 1}: "
                         f"{run['error']}")
        elif run["warnings"]:
            lines.append(f"   warnings from {run['library']}: " + "; ".join(run["warnings"]))
    if any(r.get("ok") and not r["peak_rss_reset"] for r in runs):
        lines.append("   note: the peak-RSS mark could not be reset; peak RSS includes "
                     "imports and data generation")
    return "\n".join(lines)


def best_fit_time(runs):
    """The shortest fit of any successful run (every fit of ``fit_times``), or None."""
    times = [t for run in runs if run.get("ok") for t in run.get("fit_times") or [run["fit_time"]]]
    return min(times) if times else None


def summary_table(results):
    """Ratios (sknnloss / scikit-learn) of the medians, one row per workload; "fit best" is
    the ratio of the two libraries' shortest fits."""
    columns = [("fit", "fit_time"), ("fit CPU", "fit_cpu_time"), ("predict", "predict_time"),
               ("predict bulk", "bulk_label_time"), ("proba bulk", "bulk_predict_time"),
               ("peak RSS", "peak_rss_mib"),
               ("fit RSS incr.", "fit_rss_increase_mib"), ("loss", "loss"),
               ("score", "score")]
    rows = []
    for name, entry in results.items():
        per_lib = {lib: [r for r in entry["runs"] if r["library"] == lib] for lib in LIBRARIES}
        ratios = [_ratio(median_of(per_lib["sknnloss"], key),
                         median_of(per_lib["scikit-learn"], key)) for _, key in columns]
        best = _ratio(*(best_fit_time(per_lib[lib]) for lib in ("sknnloss", "scikit-learn")))
        checks = entry["checks"]
        flag = "FAILED" if checks["failed"] else _n_iter_flag(checks)
        rows.append([name, _fmt(ratios[0]), _fmt(checks["paired_fit_ratio"]), _fmt(best),
                     *map(_fmt, ratios[1:]), _fmt(checks["max_loss_rel_diff"], "{:.1e}"),
                     flag])
    return format_table(rows, ["workload (ratio sknnloss / scikit-learn)", columns[0][0],
                               "fit paired", "fit best", *(label for label, _ in columns[1:]),
                               "loss rel. diff", "n_iter_"])


def float32_line(results):
    """Fit-time ratio float32 / float64 on cls50k_adam, when both workloads ran."""
    if not {"cls50k_adam", "cls50k_adam_float32"} <= results.keys():
        return None
    parts = []
    for lib in ("sknnloss", "scikit-learn"):
        ratio = _ratio(*(median_of([r for r in results[name]["runs"] if r["library"] == lib],
                                   "fit_time")
                         for name in ("cls50k_adam_float32", "cls50k_adam")))
        parts.append(f"{lib} {_fmt(ratio)}")
    return ("float32 / float64 fit time on cls50k_adam (ratio cls50k_adam_float32 / "
            "cls50k_adam): " + ", ".join(parts))


def problems(results, strict):
    """Messages for failed runs and, when ``strict``, for n_iter_ mismatches and held-out
    scores further apart than ``SCORE_TOLERANCE``."""
    messages = []
    for name, entry in results.items():
        checks = entry["checks"]
        for run in checks["failed"]:
            first = run["error"].splitlines()[-1] if run["error"] else "unknown error"
            messages.append(f"{name}: the {run['library']} run (repeat {run['repeat'] + 1}) "
                            f"failed: {first}")
        if not strict:
            continue
        if not checks["n_iter_match"]:
            messages.append(f"{name}: n_iter_ differs between the libraries: "
                            f"{checks['n_iter']}")
        diff = checks["max_score_diff"]
        if diff is not None and diff > SCORE_TOLERANCE:
            messages.append(f"{name}: held-out scores differ by {diff:.4f} "
                            f"(> {SCORE_TOLERANCE})")
    return messages


def parse_args(argv=None):
    """The command line (see ``--help``)."""
    workload_help = "\n".join(
        f"  {w.name:<21} {w.describe_data()}\n  {'':<21} {w.describe_model()}\n"
        f"  {'':<21} {w.max_iter} {w.unit}, {w.n_samples:,} train / {w.n_test:,} held out, "
        f"X {w.dtype}"
        for w in WORKLOADS.values())
    parser = argparse.ArgumentParser(
        description=(
            "Train sknnloss's and scikit-learn's MLP on the same data, network, solver,\n"
            "batch size, dtype and random_state for exactly the same number of epochs, each\n"
            "run in its own subprocess; print median fit and predict times, peak memory,\n"
            "final training loss and held-out score per workload, with the ratio\n"
            "sknnloss / scikit-learn, then a summary of the ratios. The module docstring\n"
            "describes the protocol and how memory is measured."),
        epilog="workloads (--quick: 2,000 train / 500 held out, 2 epochs or 5 L-BFGS "
               "iterations;\n many_class 5,000 train with 100 classes):\n" + workload_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS),
                        metavar="NAME",
                        help="run this workload (repeatable; default: all, listed below)")
    parser.add_argument("--repeats", type=int, default=None, metavar="N",
                        help="runs per library and workload; the tables show medians "
                             "(default 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: shrunken workloads (2,000 samples, 2 epochs), one "
                             "repeat, BLAS on one thread; exits 1 if a run fails, n_iter_ "
                             "differs or held-out scores differ by more than "
                             f"{SCORE_TOLERANCE}")
    parser.add_argument("--strict", action="store_true",
                        help="apply --quick's checks (exit status 1 on n_iter_ mismatch or "
                             "score difference) to a full run too")
    parser.add_argument("--json", metavar="PATH",
                        help="also write the settings, every run's raw numbers and the "
                             "per-workload checks to this JSON file")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="BLAS/OpenMP threads per run (OMP_NUM_THREADS, "
                             "OPENBLAS_NUM_THREADS, MKL_NUM_THREADS); default: the "
                             "libraries' own default (all cores), 1 with --quick. On a busy "
                             "or shared machine use 1: BLAS threads competing for cores can "
                             "make small-matrix fits 10-20 times slower")
    parser.add_argument("--predict-rows", type=int, default=None, metavar="N",
                        help="rows of the bulk predict and predict_proba timings "
                             f"(default {FULL_PREDICT_ROWS:,}; "
                             f"{QUICK_PREDICT_ROWS:,} with --quick)")
    parser.add_argument("--seed", type=int, default=RANDOM_STATE,
                        help="random_state of both estimators (default %(default)s; the data "
                             "always uses random_state=0)")
    parser.add_argument("--no-diagnostics", action="store_true",
                        help="fit sknnloss with diagnostics=False (its per-epoch layer "
                             "diagnostics have no scikit-learn counterpart); default: "
                             "sknnloss's default (diagnostics=True)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="kill a run after this long and count it as failed "
                             "(default: none; 120 with --quick)")
    parser.add_argument("--_child", metavar="CONFIG_JSON",
                        help="internal: run one measurement in this process and print it as "
                             "JSON")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is None and args.quick:
        args.threads = 1
    if args.predict_rows is None:
        args.predict_rows = QUICK_PREDICT_ROWS if args.quick else FULL_PREDICT_ROWS
    if args.timeout is None and args.quick:
        args.timeout = 120.0
    return args


def main(argv=None):
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    if args._child is not None:
        print(json.dumps(run_child(json.loads(args._child))))
        return 0

    names = list(dict.fromkeys(args.workload or WORKLOADS))
    results = {}
    start = time.perf_counter()
    for name in names:
        workload = WORKLOADS[name].shrunk() if args.quick else WORKLOADS[name]
        runs = []
        for repeat in range(args.repeats):
            for library in LIBRARIES:
                config = {"workload": name, "library": library, "quick": args.quick,
                          "seed": args.seed, "predict_rows": args.predict_rows,
                          "diagnostics": False if args.no_diagnostics else None}
                print(f"[{time.perf_counter() - start:6.1f}s] {name} repeat "
                      f"{repeat + 1}/{args.repeats} {library} ...", file=sys.stderr,
                      flush=True)
                run = launch(config, args.threads, args.timeout)
                run["repeat"] = repeat
                runs.append(run)
        checks = pair_checks(workload, runs)
        results[name] = {"runs": runs, "checks": checks}
        print(workload_table(workload, runs, checks, args.repeats) + "\n", flush=True)

    print("== summary ==")
    print(machine_description())
    print(summary_table(results))
    line = float32_line(results)
    if line:
        print(line)
    elapsed = time.perf_counter() - start
    print(f"total wall time {elapsed:.1f} s ({'quick' if args.quick else 'full'} mode, "
          f"threads={args.threads or 'default'})")

    if args.json:
        settings = {key: value for key, value in vars(args).items() if key != "_child"}
        settings["workload"] = names
        payload = {"settings": settings, "elapsed": elapsed, "machine": machine_description(),
                   "results": {name: {"runs": entry["runs"],
                                      "checks": {**entry["checks"],
                                                 "failed": len(entry["checks"]["failed"])}}
                               for name, entry in results.items()}}
        with open(args.json, "w") as handle:
            json.dump(payload, handle, indent=2)

    messages = problems(results, strict=args.quick or args.strict)
    if messages:
        print("\nFAILED:\n" + "\n".join(f"  - {m}" for m in messages))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

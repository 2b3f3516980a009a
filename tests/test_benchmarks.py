"""The benchmark harness (benchmarks/run.py) runs end to end in its --quick smoke mode."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ["digits_adam", "cls50k_adam", "reg20k_lbfgs", "bin50k_sgd",
             "cls50k_adam_float32", "many_class"]


def test_quick_benchmark_runs_every_workload():
    # conftest.py switches scipy's array-API mode on for this process; the benchmark's
    # subprocesses should see the default configuration a user has.
    env = {key: value for key, value in os.environ.items() if key != "SCIPY_ARRAY_API"}
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, report
    assert "ratio" in proc.stdout, report
    lines = proc.stdout.splitlines()
    for name in WORKLOADS:
        # Its own table, and a row in the summary of ratios.
        assert any(line.startswith(f"== {name}:") for line in lines), f"{name}\n{report}"
        assert any(line.split()[:1] == [name] for line in lines), f"{name}\n{report}"
    assert "MISMATCH" not in proc.stdout, report
    assert any(line.startswith("machine: ") for line in lines), report


def test_overhead_benchmark_runs_every_setting():
    env = {key: value for key, value in os.environ.items() if key != "SCIPY_ARRAY_API"}
    proc = subprocess.run(
        [sys.executable, "benchmarks/overhead.py", "--quick", "--repeats", "1",
         "--epochs", "1"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[2:]}
    assert set(rows) == {"plain", "diagnostics", "dropout=0.2", "batch_norm",
                         "dropout+batch_norm"}, proc.stdout
    assert float(rows["plain"][1]) == 1.0
    assert all(float(seconds) > 0 for seconds, _ in rows.values())


def test_floor_benchmark_runs_every_minibatch_workload():
    env = {key: value for key, value in os.environ.items() if key != "SCIPY_ARRAY_API"}
    proc = subprocess.run(
        [sys.executable, "benchmarks/floor.py", "--quick", "--repeats", "1"], cwd=REPO_ROOT,
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    table, _, last = proc.stdout.partition("\n\n")
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in table.splitlines()[5:]}
    assert set(rows) == {"digits_adam", "cls50k_adam", "bin50k_sgd", "cls50k_adam_float32",
                         "many_class"}, proc.stdout
    for values in rows.values():
        assert len(values) == 9, proc.stdout
        sk, times, ratios = values[0], values[1:5], values[5:]
        assert min(values) > 0, proc.stdout
        for seconds, ratio in zip(times, ratios):  # each printed to 3 decimals
            assert abs(ratio * sk - seconds) <= 0.0005 * (1 + sk + ratio) + 1e-9, proc.stdout
    # float32 / float64 of each column, from the two cls50k rows.
    assert last.startswith("float32 / float64 fit time on cls50k_adam"), proc.stdout
    quotients = dict(part.rsplit(" ", 1) for part in last.split(": ", 1)[1].strip().split(", "))
    assert list(quotients) == ["sknnloss", "bare loop", "+loss+L2", "products"], proc.stdout
    for column, key in enumerate(quotients, start=1):
        single, double = rows["cls50k_adam_float32"][column], rows["cls50k_adam"][column]
        # The times are printed to 3 decimals, the quotient from the unrounded ones.
        slack = (0.0005 / single + 0.0005 / double) * single / double + 0.001
        assert abs(float(quotients[key]) - single / double) <= slack, proc.stdout


def _floor_predict(params, X, sizes):
    import numpy as np

    coefs, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        coefs.append(params[start:start + n_in * n_out].reshape(n_in, n_out))
        start += n_in * n_out
    a = X
    for i, coef in enumerate(coefs):
        a = a @ coef + params[start:start + coef.shape[1]]
        start += coef.shape[1]
        if i < len(coefs) - 1:
            a = np.maximum(a, 0)
    return a


def test_the_floor_loop_really_trains():
    # The floor is only a floor if it does the whole job: its network must learn as well.
    import numpy as np
    from sklearn.datasets import load_digits, make_classification

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from floor import floor_fit
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))

    X, y = load_digits(return_X_y=True)
    X = X / 16
    params = floor_fit(X, y, (100,), "adam", 200, 30)
    assert (_floor_predict(params, X, [64, 100, 10]).argmax(axis=1) == y).mean() > 0.95

    X, y = make_classification(n_samples=3000, n_features=20, random_state=0)
    for dtype, solver in [(np.float64, "sgd"), (np.float32, "adam")]:
        params = floor_fit(X.astype(dtype), y, (32, 32), solver, 200, 10, learning_rate=0.01)
        assert params.dtype == dtype
        scores = _floor_predict(params, X.astype(dtype), [20, 32, 32, 1])[:, 0]
        assert ((scores > 0) == y).mean() > 0.9


@pytest.mark.parametrize("n_classes", [2, 10])
def test_the_floor_loop_with_loss_reports_the_loss(n_classes):
    # With a zero learning rate the weights stay put, so every epoch's loss is the mean loss
    # of the initial network over the training set, plus scikit-learn's per-batch L2 term
    # (alpha / (2 m) ||coefs||^2 for a batch of m rows, weighted by m: alpha / 2 ||coefs||^2
    # per batch, over n).
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.metrics import log_loss

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from floor import floor_fit
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    X, y = make_classification(n_samples=450, n_features=12, n_informative=8,
                               n_classes=n_classes, random_state=0)
    alpha, batch = 0.3, 200
    params, losses = floor_fit(X, y, (16,), "adam", batch, 3, learning_rate=0.0, alpha=alpha)
    n_out = 1 if n_classes == 2 else n_classes
    sizes = [12, 16, n_out]
    logits = _floor_predict(params, X, sizes)
    if n_out == 1:
        proba = 1 / (1 + np.exp(-logits[:, 0]))
        proba = np.column_stack([1 - proba, proba])
    else:
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
    n_coef = 12 * 16 + 16 * n_out
    n_batches = -(-X.shape[0] // batch)
    expected = (log_loss(y, proba)
                + 0.5 * alpha * float(params[:n_coef] @ params[:n_coef]) * n_batches / len(y))
    assert len(losses) == 3
    np.testing.assert_allclose(losses, expected, rtol=1e-10)


def test_summary_ratios_by_hand():
    # Two repeats of one workload: the median ratio, the paired ratio and the ratio of the
    # shortest fits (digits-style runs carry several fits each) worked out by hand.
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))

    def result(library, repeat, fit_times):
        return {"library": library, "repeat": repeat, "ok": True, "n_iter": 3, "score": 0.9,
                "loss": 0.5, "fit_times": fit_times, "fit_time": sorted(fit_times)[1],
                "fit_cpu_time": 1.0, "predict_time": 0.1, "bulk_label_time": None,
                "bulk_predict_time": None, "peak_rss_mib": 10.0,
                "fit_rss_increase_mib": 1.0}

    workload = run.WORKLOADS["digits_adam"]
    runs = [result("scikit-learn", 0, [2.0, 2.2, 2.4]), result("sknnloss", 0, [1.0, 1.5, 3.0]),
            result("scikit-learn", 1, [4.0, 4.0, 5.0]), result("sknnloss", 1, [0.9, 2.0, 2.0])]
    checks = run.pair_checks(workload, runs)
    assert checks["paired_fit_ratio"] == (1.5 / 2.2 + 2.0 / 4.0) / 2
    assert run.best_fit_time(runs[1::2]) == 0.9 and run.best_fit_time(runs[::2]) == 2.0
    table = run.summary_table({"digits_adam": {"runs": runs, "checks": checks}})
    header, _, row = table.splitlines()
    columns = dict(zip(re.split(r"\s{2,}", header.strip())[1:], row.split()[1:]))
    assert columns["fit"] == f"{((1.5 + 2.0) / 2) / ((2.2 + 4.0) / 2):.3f}"
    assert columns["fit paired"] == f"{(1.5 / 2.2 + 2.0 / 4.0) / 2:.3f}"
    assert columns["fit best"] == f"{0.9 / 2.0:.3f}"

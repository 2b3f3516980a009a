"""The benchmark harness (benchmarks/run.py) runs end to end in its --quick smoke mode."""

import os
import subprocess
import sys
from pathlib import Path

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

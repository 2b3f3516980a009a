"""Every script in ``examples/`` runs to completion, as a reader would run it.

Each script runs in a fresh interpreter with matplotlib's non-interactive Agg backend, in a
temporary working directory, and must exit with code 0, without a traceback or a
RuntimeWarning on stderr. Scripts are collected by glob, so a new example is tested as soon
as it is added. A script that imports a package the runtime does not need (matplotlib,
pandas, palmerpenguins, skl2onnx, ...) is skipped, with the reason, when that package is not
installed; ``tests/conftest.py`` registers the ``examples`` marker, so
``pytest -m "not examples"`` leaves them all out.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

#: Top-level packages every installation of sknnloss has; any other non-standard-library
#: import of an example is optional, and the example is skipped when it is missing.
RUNTIME_PACKAGES = {"sknnloss", "sklearn", "numpy", "scipy"}

#: Seconds before a script counts as hung (each example is meant to take < 20 s on 2 cores).
TIMEOUT = 180

pytestmark = pytest.mark.examples


def _imported_packages(script):
    """Top-level names of every absolute import in ``script``, wherever it is written."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _missing_optional_packages(script):
    optional = _imported_packages(script) - RUNTIME_PACKAGES - set(sys.stdlib_module_names)
    return sorted(name for name in optional if importlib.util.find_spec(name) is None)


def _environment():
    env = dict(os.environ, MPLBACKEND="Agg")
    # The examples' matrices are small: BLAS threads only contend with each other, and with
    # the other pytest-xdist worker, which can slow a script down many times over.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def test_examples_are_found():
    assert SCRIPTS, f"no example scripts in {EXAMPLES}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_example_runs(script, tmp_path):
    missing = _missing_optional_packages(script)
    if missing:
        pytest.skip(f"{script.name} needs {', '.join(missing)} (not installed)")
    try:
        result = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=_environment(),
            capture_output=True, text=True, timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        output = [o.decode(errors="replace") if isinstance(o, bytes) else o or ""
                  for o in (exc.stdout, exc.stderr)]
        pytest.fail(f"{script.name} did not finish within {TIMEOUT} s; its output so far:\n"
                    + "\n".join(output))
    report = f"{script.name} printed:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, report
    assert "Traceback" not in result.stderr, report
    assert "RuntimeWarning" not in result.stderr, report

"""The ``sknnloss`` command line: data loading, the grid, the ranked table, bad input.

Most tests call ``main([...])`` in-process (tiny networks, 2 folds) and read what it printed;
two run ``python -m sknnloss`` in a subprocess, as a user would.
"""

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

from sknnloss import __version__, sensible_pairs
from sknnloss import __main__ as entry_point
from sknnloss._cli import Candidate, build_parser, main, rank

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Small and quick: a 4-unit hidden layer, a few iterations, 2 folds.
FAST = ["--hidden", "4", "--max-iter", "15", "--cv", "2"]


def run(capsys, *args):
    """``main(args)``: (exit status, stdout, stderr)."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def table_rows(out):
    """The rows of the ranked table, each a dict of its columns."""
    lines = out.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    rows = []
    for line in lines[header_at + 2:]:
        if not line.strip() or line.startswith("("):
            break
        rank_, model, activation, loss, output, *score, fit_time = re.split(r"\s{2,}",
                                                                            line.strip())
        score = " ".join(score)
        mean = float(score.split()[0]) if score != "failed" else np.nan
        rows.append(dict(rank=rank_, model=model, activation=activation, loss=loss,
                         output=output, score=score, mean=mean, fit_time=fit_time))
    return rows


def notes(out):
    return [line for line in out.splitlines() if line.startswith("note:")]


@pytest.fixture
def mixed_csv(tmp_path):
    """A table with numeric and categorical features, missing values and a string target."""
    rng = np.random.default_rng(0)
    n = 80
    x1 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n).astype(object)
    x2 = rng.normal(size=n)
    label = np.where(x1 + (color == "red") > 0.3, "yes", "no").astype(object)
    price = 3 * x1 + 2 * (color == "red") + rng.normal(scale=0.2, size=n)
    x2[::7] = np.nan
    color[::9] = ""  # an empty CSV field: a missing value
    label[[5, 17, 40]] = ""
    lines = ["id,x1,x2,color,code,label,price"]
    for i in range(n):
        x2_text = "" if np.isnan(x2[i]) else f"{x2[i]:.4f}"
        code = ["7", "a", "b2"][i % 3]  # numbers and text mixed in one column
        lines.append(f"{i},{x1[i]:.4f},{x2_text},{color[i]},{code},{label[i]},{price[i]:.4f}")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- a real subprocess, as a user runs it ---------------------------------------------------
def _python_m(*args):
    return subprocess.run([sys.executable, "-m", "sknnloss", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": ""})


def test_help_in_a_subprocess():
    result = _python_m("--help")
    assert result.returncode == 0
    assert result.stderr == ""
    text = result.stdout
    assert text.startswith("usage: sknnloss")
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert option in text
        # Every option that takes a value, or changes a default behaviour, names its default.
        if action.option_strings and action.dest not in ("help", "version", "list"):
            assert "default" in (action.help or ""), action.dest
    assert "examples:" in text and "sknnloss --dataset penguins" in text
    assert 'pip install "sknnloss[datasets]"' in text


def test_bad_input_in_a_subprocess_is_one_line_and_exit_status_2():
    result = _python_m("--dataset", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sknnloss: error: unknown dataset 'nope'")
    assert "breast_cancer" in lines[0] and "penguins" in lines[0]


# -- bad input: one line, exit status 2 -----------------------------------------------------
@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\x00\x01\xff\xfe\x00")
    (tmp_path / "broken.csv").write_text('a,b\n1,2\n"never closed\n')
    (tmp_path / "one_class.csv").write_text("a,y\n1,cat\n2,cat\n3,cat\n")
    (tmp_path / "words.csv").write_text("a,y\n1,cat\n2,dog\n3,cat\n4,dog\n")
    (tmp_path / "continuous.csv").write_text("a,y\n1,0.5\n2,1.25\n3,2.75\n4,3.5\n")
    (tmp_path / "infinite.csv").write_text("a,y\n1,0.5\n2,inf\n3,2.75\n4,3.5\n")
    (tmp_path / "few.csv").write_text("a,y\n1,a\n2,a\n3,a\n4,b\n5,b\n")
    (tmp_path / "target_only.csv").write_text("y\n1\n0\n")
    return tmp_path


BAD_INPUT = [
    (["--csv", "{d}/missing.csv", "--target", "y"], "no such file"),
    (["--csv", "{d}", "--target", "y"], "is a directory"),
    (["--csv", "{d}/empty.csv", "--target", "y"], "it is empty"),
    (["--csv", "{d}/binary.csv", "--target", "y"], "cannot read CSV file"),
    (["--csv", "{d}/broken.csv", "--target", "a"], "cannot read CSV file"),
    (["--csv", "{d}/words.csv", "--target", "price"],
     "no target column 'price' in CSV file .*; its columns are: a, y"),
    (["--csv", "{d}/words.csv"], "--csv needs --target"),
    (["--csv", "{d}/words.csv", "--target", "y", "--drop", "zz"], "unknown column.*'zz'"),
    (["--csv", "{d}/target_only.csv", "--target", "y"], "needs a header row, a target"),
    (["--csv", "{d}/words.csv", "--target", "y", "--task", "regression"],
     "needs a numeric target, but the target 'y' holds non-numeric values such as 'cat'"),
    (["--csv", "{d}/one_class.csv", "--target", "y"], "a single class \\('cat'\\)"),
    (["--csv", "{d}/continuous.csv", "--target", "y", "--task", "classification"],
     "is continuous .*not class labels"),
    (["--csv", "{d}/infinite.csv", "--target", "y"], "infinite values"),
    (["--csv", "{d}/few.csv", "--target", "y", "--cv", "3"],
     "--cv 3 needs at least 3 samples of every class, but class 'b' .* has 2; lower --cv"),
    (["--dataset", "nope"], "unknown dataset 'nope'; choose one of breast_cancer, digits"),
    (["--dataset", "iris", "--csv", "x.csv"], "not allowed with argument --dataset"),
    (["--dataset", "iris", "--target", "x"], "the iris dataset has a fixed target"),
    (["--dataset", "iris", "--activation", "relu,nope"],
     "unknown activation 'nope' in --activation; run `sknnloss --list` for the names"),
    (["--dataset", "iris", "--loss", "nope"],
     "unknown loss 'nope' in --loss; run `sknnloss --list` for the names"),
    (["--dataset", "iris", "--loss", "log_loss:nope"], "unknown activation 'nope' in --loss"),
    (["--dataset", "diabetes", "--loss", "hinge"],
     "--loss hinge cannot work on a regression target: .*classification loss"),
    (["--dataset", "iris", "--cv", "51"], "--cv 51 needs at least 51 samples of every class"),
    (["--dataset", "iris", "--cv", "1"], "at least 2 folds"),
    (["--dataset", "iris", "--hidden", "64,0"], "argument --hidden: expected comma-separated"),
    (["--dataset", "iris", "--max-iter", "ten"], "argument --max-iter: expected a positive"),
    (["--dataset", "iris", "--scoring", "nope"], "unknown --scoring 'nope'"),
    (["--dataset", "diabetes", "--task", "classification"], "use --task regression"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT, ids=[m[:30] for _, m in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_status_2(capsys, bad_files, args, message):
    if "--csv" in args and "needs --target" not in message and "not allowed" not in message:
        pytest.importorskip("pandas", reason="reading a CSV file needs pandas")
    args = [a.format(d=bad_files) for a in args]
    status, out, err = run(capsys, *args, "--quiet")
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sknnloss: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err


def test_missing_pandas_points_to_the_datasets_extra(capsys, monkeypatch, bad_files):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    status, out, err = run(capsys, "--csv", str(bad_files / "words.csv"), "--target", "y")
    assert status == 2
    assert err.strip() == 'sknnloss: error: --csv needs pandas: pip install "sknnloss[datasets]"'


def test_missing_palmerpenguins_points_to_the_datasets_extra(capsys, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.setitem(sys.modules, "palmerpenguins", None)
    status, out, err = run(capsys, "--dataset", "penguins")
    assert status == 2
    assert err.strip() == ("sknnloss: error: --dataset penguins needs the palmerpenguins "
                           'package: pip install "sknnloss[datasets]"')


# -- runs that work -------------------------------------------------------------------------
def test_classification_grid_is_sensible_pairs_by_activation_plus_references(capsys):
    status, out, err = run(capsys, "--dataset", "iris", *FAST, "--activation", "relu,tanh")
    assert status == 0
    assert "task: multiclass classification (3 classes" in out
    rows = table_rows(out)
    pairs = [(g["loss"][0], g["output_activation"][0]) for g in sensible_pairs("multiclass")]
    ours = {(r["activation"], r["loss"], r["output"]) for r in rows if r["model"] == "sknnloss"}
    assert ours == {(a, loss, output) for a in ("relu", "tanh") for loss, output in pairs}
    references = [r for r in rows if r["model"] == "scikit-learn"]
    assert {(r["activation"], r["loss"], r["output"]) for r in references} == {
        ("relu", "log_loss", "softmax"), ("tanh", "log_loss", "softmax")}
    assert all(0 <= r["mean"] <= 1 for r in rows)
    # One progress line per candidate on stderr, none on stdout.
    progress = [line for line in err.splitlines() if re.match(r"\[\s*\d+/12\]", line)]
    assert len(progress) == 12
    assert "[" not in out.split("\n\n")[0]


def test_the_table_is_ranked_by_mean_score(capsys):
    status, out, _ = run(capsys, "--dataset", "wine", *FAST, "--quiet")
    assert status == 0
    rows = table_rows(out)
    means = [r["mean"] for r in rows]
    assert means == sorted(means, reverse=True)
    ranks = [int(r["rank"]) for r in rows]
    assert ranks[0] == 1
    for i in range(1, len(rows)):  # a tie shares the rank ahead; otherwise 1 + rows ahead
        if ranks[i] == ranks[i - 1]:
            assert rows[i]["mean"] == rows[i - 1]["mean"]
        else:
            assert rows[i]["mean"] < rows[i - 1]["mean"]
            assert ranks[i] == i + 1
    assert len(set(means)) > 1  # the pairs do differ: the order is not vacuous


def test_rank_puts_failures_last_and_shares_ties():
    def candidate(name, mean):
        return Candidate("sknnloss", "relu", name, "identity", None,
                         result=dict(mean=mean, std=0.0, fit_time=0.1))

    ranked = rank([candidate("a", 0.5), candidate("b", np.nan), candidate("c", 0.9),
                   candidate("d", 0.5), candidate("e", 0.500001), candidate("f", 0.4)])
    # Equal as shown (4 decimals): one rank, listed by increasing std, then in grid order.
    ranked_e = {c.loss: c for _, c in ranked}["e"]
    assert [(r, c.loss) for r, c in ranked] == [(1, "c"), (2, "a"), (2, "d"), (2, "e"),
                                                (5, "f"), (None, "b")]
    ranked_e.result["std"] = -1.0  # (not a real std: just the smallest)
    assert [c.loss for _, c in rank([c for _, c in ranked])][:3] == ["c", "e", "a"]


def test_top_shows_the_best_only(capsys):
    _, full, _ = run(capsys, "--dataset", "iris", *FAST, "--quiet")
    status, out, _ = run(capsys, "--dataset", "iris", *FAST, "--quiet", "--top", "3")
    assert status == 0
    def without_time(rows):
        return [{k: v for k, v in row.items() if k != "fit_time"} for row in rows]

    assert without_time(table_rows(out)) == without_time(table_rows(full)[:3])
    assert f"({len(table_rows(full)) - 3} more not shown" in out


def test_regression_on_a_bundled_dataset(capsys):
    status, out, _ = run(capsys, "--dataset", "diabetes", *FAST, "--quiet",
                         "--activation", "relu", "--alpha", "10",
                         "--loss", "squared_error,poisson,squared_error:softplus")
    assert status == 0
    assert "task: regression" in out and "scoring: r2" in out
    assert "target standardised per fold" in out
    rows = {(r["model"], r["loss"], r["output"]): r for r in table_rows(out)}
    # Canonical outputs for a bare loss name; LOSS:OUTPUT keeps the output asked for.
    assert set(rows) == {("sknnloss", "squared_error", "identity"),
                         ("sknnloss", "poisson", "exp"),
                         ("sknnloss", "squared_error", "softplus"),
                         ("scikit-learn", "squared_error", "identity")}
    assert all(np.isfinite(r["mean"]) for r in rows.values())
    # Same solver, seed and data: the relu + squared_error row is scikit-learn's own result.
    assert (rows["sknnloss", "squared_error", "identity"]["score"]
            == rows["scikit-learn", "squared_error", "identity"]["score"])
    # Positive outputs get a positive (only rescaled) target: no pairing warning.
    assert not any("pairing" in line for line in notes(out))


def test_csv_with_mixed_types_and_missing_values_classification(capsys, mixed_csv):
    pytest.importorskip("pandas")
    status, out, err = run(capsys, "--csv", str(mixed_csv), "--target", "label",
                           "--drop", "id,price", *FAST, "--activation", "relu")
    assert status == 0, err
    first = out.splitlines()[0]
    assert "77 samples, 4 features (2 numeric, 2 categorical)" in first
    assert "target 'label'; 3 rows with a missing target dropped" in first
    assert "task: binary classification (2 classes" in out
    rows = table_rows(out)
    assert len(rows) == len(sensible_pairs("binary")) + 1
    assert all(np.isfinite(r["mean"]) and r["mean"] > 0.6 for r in rows)


def test_csv_regression_is_inferred_from_a_continuous_target(capsys, mixed_csv):
    pytest.importorskip("pandas")
    status, out, _ = run(capsys, "--csv", str(mixed_csv), "--target", "price", "--drop",
                         "id,label", *FAST, "--quiet", "--activation", "tanh", "--alpha", "1")
    assert status == 0
    assert "80 samples" in out and "missing target" not in out
    assert "task: regression" in out
    rows = table_rows(out)
    losses = {r["loss"] for r in rows if r["model"] == "sknnloss"}
    assert losses == {g["loss"][0] for g in sensible_pairs("regression")}
    assert max(r["mean"] for r in rows) > 0.5  # price is mostly a function of x1 and color


def test_penguins(capsys):
    pytest.importorskip("palmerpenguins")
    status, out, _ = run(capsys, "--dataset", "penguins", *FAST, "--quiet",
                         "--activation", "relu", "--no-reference")
    assert status == 0
    assert "penguins: 344 samples, 7 features (5 numeric, 2 categorical), target 'species'" in out
    rows = table_rows(out)
    assert {r["model"] for r in rows} == {"sknnloss"}
    assert rows[0]["mean"] > 0.8


def test_penguins_regression_target_drops_missing_rows(capsys):
    pytest.importorskip("palmerpenguins")
    status, out, _ = run(capsys, "--dataset", "penguins", "--target", "body_mass_g", *FAST,
                         "--quiet", "--activation", "relu", "--loss", "squared_error")
    assert status == 0
    assert "2 rows with a missing target dropped" in out
    assert "task: regression" in out


class _no_warnings:
    """Record warnings while the block runs and assert none escaped from main()."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings(record=True)
        self._caught = self._ctx.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        assert self._caught == [], [str(w.message) for w in self._caught]


def test_convergence_warnings_are_summarised_in_one_line(capsys):
    with _no_warnings():
        status, out, err = run(capsys, "--dataset", "iris", "--hidden", "4", "--max-iter", "1",
                               "--cv", "2", "--activation", "relu", "--solver", "adam")
    assert status == 0
    lines = [line for line in notes(out) if "ConvergenceWarning" in line]
    assert lines == [f"note: 12 of 12 fits did not converge within --max-iter 1 "
                     "(ConvergenceWarning); raise --max-iter to train longer"]
    assert "Warning" not in err  # nothing printed by the warnings machinery


def test_warnings_come_back_from_worker_processes(capsys):
    status, out, err = run(capsys, "--dataset", "iris", "--hidden", "4", "--max-iter", "1",
                           "--cv", "2", "--activation", "relu", "--solver", "adam",
                           "--loss", "log_loss", "--no-reference", "--n-jobs", "2")
    assert status == 0
    assert "note: 2 of 2 fits did not converge within --max-iter 1" in out
    assert "Warning" not in err


def test_a_scorer_the_model_cannot_serve_fails_that_candidate_only(capsys):
    status, out, _ = run(capsys, "--dataset", "breast_cancer", *FAST, "--quiet",
                         "--activation", "relu", "--scoring", "neg_log_loss",
                         "--loss", "log_loss,hinge")
    assert status == 0
    rows = {r["loss"]: r for r in table_rows(out) if r["model"] == "sknnloss"}
    assert rows["hinge"]["score"] == "failed" and rows["hinge"]["rank"] == "-"
    assert np.isfinite(rows["log_loss"]["mean"]) and rows["log_loss"]["mean"] < 0
    assert table_rows(out)[-1]["loss"] == "hinge"  # failures rank last
    assert any("failed" in line and "predict_proba" in line for line in notes(out))


def test_every_candidate_failing_is_exit_status_1(capsys):
    status, out, err = run(capsys, "--dataset", "breast_cancer", *FAST, "--quiet",
                           "--activation", "relu", "--scoring", "neg_log_loss",
                           "--loss", "hinge", "--no-reference")
    assert status == 1
    assert err.startswith("sknnloss: error: every candidate failed")


def test_unsupported_solver_leaves_the_reference_out(capsys):
    status, out, _ = run(capsys, "--dataset", "iris", *FAST, "--quiet", "--solver", "cg",
                         "--activation", "gelu", "--loss", "log_loss")
    assert status == 0
    assert {r["model"] for r in table_rows(out)} == {"sknnloss"}
    assert "note: scikit-learn's MLP is left out: it has no solver 'cg'" in out


def test_list_version_and_help_in_process(capsys):
    status, out, _ = run(capsys, "--list")
    assert status == 0
    assert "leaky_relu" in out and "log_cosh" in out and "sensible_pairs" in out
    with pytest.raises(SystemExit):  # argparse's own exit, turned into a status by main
        build_parser().parse_args(["--version"])
    capsys.readouterr()
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"sknnloss {__version__}"
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "--random-state" in out


def test_main_module_is_a_thin_wrapper():
    assert entry_point.main is main


def test_docs_page_covers_every_option():
    page = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "cli.rst")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert f"``{option}" in text, option


def test_an_ascii_terminal_gets_plus_minus_spelled_out(monkeypatch):
    import io

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    status = main(["--dataset", "iris", *FAST, "--quiet", "--activation", "relu",
                   "--loss", "log_loss", "--no-reference"])
    stdout.flush()
    text = stdout.buffer.getvalue().decode("ascii")
    assert status == 0
    assert "accuracy (mean +/- std)" in text and re.search(r"\d\.\d{4} \+/- \d\.\d{4}", text)

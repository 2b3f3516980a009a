"""The documentation stays true to the code, checked without building it.

The Sphinx build itself runs in CI (``python -m sphinx -W --keep-going -b html docs
docs/_build/html``); these tests cover what can drift silently: the generated reference tables
miss a class, a chapter forgets an activation, or a code example in the user guide stops
working.
"""

import doctest
import importlib
import importlib.util
import inspect
import textwrap
from pathlib import Path

import pytest

from sknnloss import activations, losses

DOCS = Path(__file__).resolve().parent.parent / "docs"
USER_GUIDE = DOCS / "user_guide"



def _tables_extension():
    """docs/_ext/sknnloss_tables.py, the Sphinx extension that writes the reference tables."""
    pytest.importorskip("docutils", reason="docutils (the docs extra) builds the tables")
    spec = importlib.util.spec_from_file_location(
        "sknnloss_tables", DOCS / "_ext" / "sknnloss_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public_subclasses(module, base):
    return [name for name in module.__all__
            if inspect.isclass(getattr(module, name))
            and issubclass(getattr(module, name), base) and getattr(module, name) is not base]


def test_loss_table_lists_every_loss_class():
    table = _tables_extension().loss_table_rst()
    names = _public_subclasses(losses, losses.Loss)
    assert len(names) >= 17
    for name in names:
        assert f":class:`~sknnloss.losses.{name}`" in table, name
    for alias in losses.LOSS_ALIASES:
        assert f'``"{alias}"``' in table, alias
    assert ".. sknnloss-loss-table::" in (USER_GUIDE / "losses.rst").read_text()


def test_activation_chapter_names_every_activation_class():
    text = (USER_GUIDE / "activations.rst").read_text()
    names = _public_subclasses(activations, activations.Activation)
    assert len(names) >= 17
    missing = [name for name in names if f"sknnloss.activations.{name}`" not in text]
    assert not missing, f"activations.rst does not mention {missing}"
    table = _tables_extension().activation_table_rst()
    for name in names:
        assert f":class:`~sknnloss.activations.{name}`" in table, name


def test_new_parameters_table_builds():
    """Every parameter scikit-learn's MLPs lack is documented in the estimators' docstrings
    (the migration page's table reads them and fails the build otherwise)."""
    pytest.importorskip("numpydoc", reason="numpydoc (the docs extra) parses the docstrings")
    table = _tables_extension().new_parameters_rst()
    for name in ["loss", "output_activation", "class_weight", "restore_best_weights",
                 "dropout", "batch_norm"]:
        assert f"``{name}``" in table


#: The chapters whose ``>>>`` examples are doctests (cheap ones: no model is fitted).
DOCTESTED_PAGES = ["pairing.rst"]


@pytest.mark.parametrize("page", DOCTESTED_PAGES)
def test_user_guide_doctests(page):
    result = doctest.testfile(
        str(USER_GUIDE / page), module_relative=False, verbose=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def _python_blocks(text):
    """The ``.. code-block:: python`` blocks of a page, except those marked
    ``.. test-docs: skip`` (examples that are slow or meant to fail)."""
    blocks, skip = [], False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == ".. test-docs: skip":
            skip = True
        elif line.strip() == ".. code-block:: python":
            body = []
            for following in lines[i + 1:]:
                if following.strip() and not following.startswith("   "):
                    break
                body.append(following)
            if not skip:
                blocks.append(textwrap.dedent("\n".join(body)))
            skip = False
    return blocks


def test_custom_chapter_examples_run(tmp_path, monkeypatch):
    """The activation and losses written in custom.rst pass the package's own checks (the page
    runs them). They are imported from a module, as the page advises, so that they pickle."""
    blocks = _python_blocks((USER_GUIDE / "custom.rst").read_text())
    assert any("check_loss(" in block for block in blocks)
    (tmp_path / "docs_custom_example.py").write_text("\n\n".join(blocks))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("docs_custom_example")
    for name in ["ISRU", "Cauchy", "LogNormal"]:
        assert hasattr(module, name)

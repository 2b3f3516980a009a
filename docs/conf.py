"""Sphinx configuration of the sknnloss documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The example gallery is rendered from ``examples/`` without running the scripts (the test suite
runs them); the losses and activations tables are generated from the package itself by the
local extension ``_ext/sknnloss_tables.py``.
"""

import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

import sknnloss  # noqa: E402

project = "sknnloss"
author = "the sknnloss developers"
copyright = "the sknnloss developers"  # noqa: A001 - Sphinx's name for it
version = sknnloss.__version__
release = sknnloss.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "sknnloss_tables",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/sg_execution_times.rst"]
default_role = "literal"

# -- API reference: autosummary writes one page per object into generated/ --------------------
# (templates in _templates/autosummary: a class page documents its members, inherited ones too).
autosummary_generate = True
autodoc_typehints = "none"

# numpydoc renders the docstrings; the autosummary class template, not numpydoc, lists members.
numpydoc_show_class_members = False

# -- Inline plots (the activation chapter draws the package's own functions) ----------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 96)]
plot_rcparams = {"figure.autolayout": True, "font.size": 9}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- Example gallery: rendered, never executed here --------------------------------------------
# The examples in examples/ are executed by the test suite. sphinx-gallery needs a gallery header
# (GALLERY_HEADER.rst or README.txt) in the examples directory; until examples/ has one (or when
# it does not exist at all, e.g. before any example is written), the scripts are staged with a
# header of ours, so that the documentation builds with 0 or any number of examples.
EXAMPLES = ROOT / "examples"
_HEADER_NAMES = [f"{name}{ext}" for ext in (".txt", ".rst")
                 for name in ("GALLERY_HEADER", "README", "readme")]


def _examples_dir():
    if EXAMPLES.is_dir() and any((EXAMPLES / name).is_file() for name in _HEADER_NAMES):
        return "../examples"
    staging = DOCS / "_build" / "gallery_staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy(DOCS / "_gallery_header.txt", staging / "GALLERY_HEADER.rst")
    if EXAMPLES.is_dir():
        for script in sorted(EXAMPLES.glob("*.py")):
            shutil.copy(script, staging / script.name)
    return str(staging.relative_to(DOCS))


sphinx_gallery_conf = {
    "examples_dirs": _examples_dir(),
    "gallery_dirs": "auto_examples",
    "plot_gallery": False,
    "filename_pattern": r"\.py$",
    "download_all_examples": False,
    "write_computation_times": False,
    "within_subsection_order": "FileNameSortKey",
    "show_signature": False,
}

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknnloss {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "migration": [], "cli": []}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["sknnloss.css"]


# -- Members inherited from scikit-learn -----------------------------------------------------
# Every scikit-learn estimator (and so every activation and loss object) inherits
# get_metadata_routing and set_*_request methods; scikit-learn documents that plumbing, so it is
# left out of these pages. The inherited methods that remain (get_params, set_params, score,
# set_callbacks) keep their scikit-learn docstrings, whose :ref: roles point into scikit-learn's
# own user guide: without intersphinx (the build has no network) they become plain text.
_SKLEARN_REF = re.compile(r":ref:`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _skip_metadata_routing(app, what, name, obj, skip, options):
    if name == "get_metadata_routing" or (name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    if (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        lines[:] = [_SKLEARN_REF.sub(lambda m: m.group(1) or m.group(2), line)
                    for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs)

"""The text and HTML representations of the estimators, as scikit-learn's own MLPs have them.

scikit-learn's HTML repr shows a parameter table; from 1.8 each parameter name links to its
entry on the estimator's documentation page and shows its numpydoc description on hover, and
fitted estimators get a table of fitted attributes described the same way. All of it relies on
the "Parameters" / "Attributes" sections of the class docstring and on ``_get_doc_link``.
"""

import html
import inspect
import re
from pathlib import Path

import pytest
import sklearn
from sklearn import config_context
from sklearn.datasets import load_diabetes, load_iris
try:  # vendored by scikit-learn >= 1.8, whose HTML repr shows the parameter docs
    from sklearn.externals._numpydoc import docscrape
except ImportError:
    docscrape = None
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import LeakyReLU
from sknnloss.losses import Huber

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [MLPClassifier, MLPRegressor]
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _doc_link(cls):
    return f"https://sknnloss.readthedocs.io/en/stable/generated/sknnloss.{cls.__name__}.html"


def _numpydoc(cls, section):
    if docscrape is None:
        pytest.skip(f"scikit-learn {sklearn.__version__} vendors no numpydoc parser")
    return {item.name: item for item in docscrape.NumpyDocString(inspect.getdoc(cls))[section]}


def _html_common():
    """scikit-learn's docstring scraper for the HTML repr (1.8+), or skip."""
    common = pytest.importorskip("sklearn.utils._repr_html.common")
    if not hasattr(common, "get_docstring"):
        pytest.skip(f"scikit-learn {sklearn.__version__} shows no parameter documentation")
    return common


def _fitted(cls):
    X, y = (load_iris if cls is MLPClassifier else load_diabetes)(return_X_y=True)
    return cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X[:60], y[:60])


# -- text repr ------------------------------------------------------------------------------
@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, SklearnMLPClassifier),
                                          (MLPRegressor, SklearnMLPRegressor)])
def test_repr_is_scikit_learns_for_the_shared_parameters(ours, theirs):
    assert repr(ours()) == repr(theirs()) == f"{ours.__name__}()"
    params = dict(hidden_layer_sizes=(64, 32), alpha=0.01, solver="lbfgs", max_iter=300,
                  activation="tanh", random_state=0, early_stopping=True)
    assert repr(ours(**params)) == repr(theirs(**params))
    # Inside a pipeline too.
    assert repr(make_pipeline(StandardScaler(), ours(**params))) == repr(
        make_pipeline(StandardScaler(), theirs(**params)))


def test_repr_shows_only_changed_parameters_including_objects():
    clf = MLPClassifier(activation=LeakyReLU(negative_slope=0.1), loss="hinge",
                        hidden_layer_sizes=(8,))
    assert repr(clf) == ("MLPClassifier(activation=LeakyReLU(negative_slope=0.1), "
                         "hidden_layer_sizes=(8,),\n              loss='hinge')")
    reg = MLPRegressor(loss=Huber(delta=2.0), activation=["relu", "tanh"],
                       hidden_layer_sizes=(4, 4), output_activation="softplus")
    text = repr(reg)
    assert text.startswith("MLPRegressor(")
    for fragment in ("loss=Huber(delta=2.0)", "activation=['relu', 'tanh']",
                     "hidden_layer_sizes=(4, 4)", "output_activation='softplus'"):
        assert fragment in text
    assert "alpha" not in text and "solver" not in text  # defaults stay out


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_repr_with_every_parameter_lists_them_sorted(cls):
    est = cls()
    with config_context(print_changed_only=False):
        text = " ".join(repr(est).split())
    params = sorted(est.get_params().items())
    # scikit-learn's printer shows the first 30 parameters, by name, then an ellipsis.
    shown = ", ".join(f"{name}={value!r}" for name, value in params[:30])
    assert text == f"{cls.__name__}({shown}{', ...' if len(params) > 30 else ''})"


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_repr_of_a_fitted_estimator_is_unchanged(cls):
    est = _fitted(cls)
    assert repr(est) == f"{cls.__name__}(hidden_layer_sizes=(3,), max_iter=3, random_state=0)"


# -- the docstring the HTML repr reads ------------------------------------------------------
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_docstring_documents_every_parameter_on_its_own(cls):
    # One numpydoc entry per parameter, with a type and a description: a combined entry
    # ("a, b : float") is invisible to scikit-learn's per-parameter lookup.
    documented = _numpydoc(cls, "Parameters")
    params = list(inspect.signature(cls).parameters)
    assert sorted(documented) == sorted(params)
    for name in params:
        assert documented[name].type, name
        assert any(line.strip() for line in documented[name].desc), name
    # Each parameter's "name : type" line is what the documentation link's fragment targets.
    for name in params:
        assert re.search(rf"^\s*{name} : .+$", cls.__doc__, flags=re.MULTILINE), name


# -- the "?" documentation link -------------------------------------------------------------
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_doc_link_points_to_the_class_api_page(cls):
    assert cls()._get_doc_link() == _doc_link(cls)
    html_repr = cls()._repr_html_()
    assert f'class="sk-estimator-doc-link ' in html_repr
    assert f'href="{_doc_link(cls)}"' in html_repr


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_doc_link_matches_the_api_reference(cls):
    api = DOCS / "api.rst"
    text = api.read_text()
    # autosummary writes the page generated/sknnloss.<Class>.html from this entry.
    estimators = text.split(".. currentmodule:: sknnloss\n", 1)[1].split("\n\n\n", 1)[0]
    assert ":toctree: generated/" in estimators
    assert re.search(rf"^\s+{cls.__name__}$", estimators, flags=re.MULTILINE)
    assert _doc_link(cls).endswith(f"/generated/sknnloss.{cls.__name__}.html")


def test_a_users_subclass_gets_no_doc_link():
    # scikit-learn links only classes of the documented package: a subclass defined elsewhere
    # must not link to a page that does not document it.
    class MyClassifier(MLPClassifier):
        pass

    assert MyClassifier()._get_doc_link() == ""
    html_repr = MyClassifier()._repr_html_()
    assert '<a class="sk-estimator-doc-link' not in html_repr
    assert "sknnloss.readthedocs.io" not in html_repr


def test_doc_link_in_a_pipeline():
    html_repr = make_pipeline(StandardScaler(), MLPRegressor())._repr_html_()
    assert f'href="{_doc_link(MLPRegressor)}"' in html_repr
    assert "https://scikit-learn.org/" in html_repr  # scikit-learn's own steps keep theirs


# -- HTML repr ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_repr_shows_the_text_repr_the_status_and_the_parameters(cls):
    est = cls(hidden_layer_sizes=(16,), alpha=0.5)
    html_repr = est._repr_html_()
    bundle = est._repr_mimebundle_()
    assert bundle["text/plain"] == repr(est)
    assert bundle["text/html"].count("<span>Not fitted</span>") == 1
    assert html.escape(repr(est)) in html_repr  # the text fallback
    assert "<span>Not fitted</span>" in html_repr
    assert "<span>Fitted</span>" in _fitted(cls)._repr_html_()
    if not hasattr(est, "_get_params_html"):
        pytest.skip(f"scikit-learn {sklearn.__version__} has no parameter table")
    table = est._get_params_html()
    # User-set parameters first, then the defaults, each in signature order.
    changed = {"hidden_layer_sizes", "alpha"}
    signature = list(inspect.signature(cls).parameters)
    if tuple(int(part) for part in sklearn.__version__.split(".")[:2]) >= (1, 8):
        assert list(table) == ([p for p in signature if p in changed]
                               + [p for p in signature if p not in changed])
    else:  # scikit-learn 1.7 keeps the signature order
        assert sorted(table) == sorted(signature)
    assert set(table.non_default) == changed
    for name in est.get_params():
        assert re.search(rf'copyToClipboard\(\s*\'{name}\'', html_repr), name


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_repr_describes_every_parameter(cls):
    _html_common()
    est = cls(activation=LeakyReLU(negative_slope=0.2), loss=Huber(delta=2.0)
              if cls is MLPRegressor else "hinge")
    html_repr = est._repr_html_()
    documented = _numpydoc(cls, "Parameters")
    # (The table also lists the activation's and loss's own parameters, such as
    # activation__negative_slope, undocumented here as in any scikit-learn meta-estimator.)
    for name in est.get_params(deep=False):
        # The name links to its entry on the class page (a text fragment) ...
        link = re.search(rf'href="([^"]*)">\s*{name}\s*<span class="param-doc-description"',
                         html_repr)
        assert link is not None, f"{name} has no documentation link"
        assert link.group(1).startswith(f"{_doc_link(cls)}#:~:text={name},-")
        # ... and shows its type and description on hover.
        entry = documented[name]
        assert f"{name}: {html.escape(entry.type)}<br><br>" in html_repr, name
        assert html.escape(entry.desc[0]) in html_repr, name


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_repr_describes_the_fitted_attributes(cls):
    _html_common()
    est = _fitted(cls)
    if not hasattr(est, "_get_fitted_attr_html"):
        pytest.skip(f"scikit-learn {sklearn.__version__} shows no fitted attributes")
    attributes = est._get_fitted_attr_html(est._get_doc_link())
    documented = _numpydoc(cls, "Attributes")
    expected = {"coefs_", "intercepts_", "loss_", "loss_curve_", "n_iter_", "n_layers_",
                "n_outputs_", "out_activation_", "n_features_in_", "loss_function_",
                "history_"} | ({"classes_"} if cls is MLPClassifier else set())
    assert expected <= set(attributes)
    html_repr = est._repr_html_()
    assert "Fitted attributes" in html_repr
    for name in attributes:
        assert name in documented, f"fitted attribute {name} is not documented"
        assert f"{name}: {html.escape(documented[name].type)}<br><br>" in html_repr, name

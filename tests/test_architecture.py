"""Beyond one activation for every layer: per-layer activations, initialisers, gradient
clipping, each checked against PyTorch or the math."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss._network import Network
from sknnloss._solvers import DivergenceWarning, clip_gradient
from sknnloss.activations import ReLU, get_activation

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "gelu": "GELU", "elu": "ELU",
                     "logistic": "Sigmoid", "selu": "SELU", "silu": "SiLU"}


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_per_layer_activations_match_a_pytorch_network(cancer, solver):
    torch = pytest.importorskip("torch")
    X, y = cancer
    layers = ["tanh", "relu", "gelu"]
    clf = MLPClassifier(hidden_layer_sizes=(8, 6, 4), activation=layers, solver=solver,
                        max_iter=30, random_state=0).fit(X, y)
    assert [type(a) for a in clf._network.hidden_activations] == [
        type(get_activation(name)) for name in layers]
    modules = []
    for coef, intercept, name in zip(clf.coefs_, clf.intercepts_, layers + ["logistic"]):
        linear = torch.nn.Linear(*coef.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(coef.T))
            linear.bias.copy_(torch.from_numpy(intercept))
        modules += [linear, getattr(torch.nn, TORCH_ACTIVATIONS[name])()]
    reference = torch.nn.Sequential(*modules)(torch.from_numpy(X)).detach().numpy()[:, 0]
    assert_allclose(clf.predict_proba(X)[:, 1], reference, rtol=1e-6, atol=1e-12)


def test_per_layer_activations_errors_and_composition(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="activation has 2 entries for 3 hidden layers"):
        MLPClassifier(hidden_layer_sizes=(4, 4, 4), activation=["relu", "tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier(hidden_layer_sizes=(4,), activation=["swishy"]).fit(X, y)
    model = MLPClassifier(hidden_layer_sizes=(4, 3), activation=("prelu", ReLU()),
                          solver="lbfgs", max_iter=20, random_state=0)
    copy = clone(model)
    assert copy.activation[1] is not model.activation[1]
    copy.fit(X, y)
    assert copy.activation_params_[0].shape == (4,) and copy.activation_params_[1] is None
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(4, 3), solver="lbfgs", max_iter=20, random_state=0),
        {"activation": [["relu", "tanh"], ["tanh", "relu"], "elu"]}, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 3


def test_single_activation_and_list_of_it_are_the_same_model(cancer):
    X, y = cancer
    one = MLPClassifier(hidden_layer_sizes=(6, 5), activation="logistic", solver="lbfgs",
                        max_iter=15, random_state=0).fit(X, y)
    listed = MLPClassifier(hidden_layer_sizes=(6, 5), activation=["logistic", "logistic"],
                           solver="lbfgs", max_iter=15, random_state=0).fit(X, y)
    assert_array_equal(one._params, listed._params)


@pytest.mark.parametrize(
    "init, kind, scale",
    [
        ("glorot_normal", "normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
        ("he_normal", "normal", lambda fi, fo: np.sqrt(2 / fi)),
        ("lecun_normal", "normal", lambda fi, fo: np.sqrt(1 / fi)),
        ("he_uniform", "uniform", lambda fi, fo: np.sqrt(6 / fi)),
    ],
)
def test_initialiser_distributions(init, kind, scale):
    fan_in, fan_out = 400, 300
    network = Network([fan_in, fan_out, 2], [ReLU()], get_activation("identity"))
    params = network.initialize(np.random.RandomState(0), np.float64, init=init)
    coefs, intercepts = network.unpack(params)
    sample = coefs[0].ravel()
    expected = scale(fan_in, fan_out)
    assert abs(sample.mean()) < 0.01 * expected * 10
    if kind == "normal":  # standard deviation within 1% (120,000 draws)
        assert sample.std() == pytest.approx(expected, rel=0.01)
    else:  # U(-b, b): inside the bound, with variance b^2 / 3
        assert np.abs(sample).max() <= expected
        assert np.abs(sample).max() > 0.999 * expected
        assert sample.std() == pytest.approx(expected / np.sqrt(3), rel=0.01)
    assert all(np.all(b == 0) for b in intercepts)
    again = network.initialize(np.random.RandomState(0), np.float64, init=init)
    assert_array_equal(params, again)  # seeded by random_state


def test_initialisers_match_pytorch_formulas():
    torch = pytest.importorskip("torch")
    fan_in, fan_out = 50, 30
    weight = torch.empty(fan_out, fan_in, dtype=torch.float64)  # torch stores (out, in)
    # PyTorch's own formulas for the standard deviations / bounds.
    torch.nn.init.xavier_normal_(weight)
    xavier_std = torch.nn.init.calculate_gain("linear") * np.sqrt(2 / (fan_in + fan_out))
    kaiming_std = torch.nn.init.calculate_gain("relu") / np.sqrt(fan_in)
    kaiming_bound = torch.nn.init.calculate_gain("relu") * np.sqrt(3 / fan_in)
    selu_std = 1 / np.sqrt(fan_in)  # torch's kaiming_normal_ with the 'linear' gain
    network = Network([fan_in, fan_out, 1], [ReLU()], get_activation("identity"))
    for init, expected in [("glorot_normal", xavier_std), ("he_normal", kaiming_std),
                           ("lecun_normal", selu_std)]:
        draws = np.concatenate([
            network.unpack(network.initialize(np.random.RandomState(seed), np.float64,
                                              init=init))[0][0].ravel()
            for seed in range(40)])
        assert draws.std() == pytest.approx(expected, rel=0.01), init
    he = network.unpack(network.initialize(np.random.RandomState(0), np.float64,
                                           init="he_uniform"))[0][0]
    assert np.abs(he).max() <= kaiming_bound + 1e-15


def test_callable_initialiser_and_its_errors(cancer):
    X, y = cancer
    calls = []

    def constant(fan_in, fan_out, random_state, dtype):
        calls.append((fan_in, fan_out, dtype))
        return np.full((fan_in, fan_out), 0.01, dtype=dtype)

    clf = MLPClassifier(hidden_layer_sizes=(5,), init=constant, max_iter=1,
                        random_state=0).fit(X.astype(np.float32), y)
    assert calls == [(30, 5, np.float32), (5, 1, np.float32)]
    with pytest.raises(ValueError, match="shape"):
        MLPClassifier(init=lambda fi, fo, rs, dt: np.zeros((fo, fi))).fit(X, y)
    with pytest.raises(ValueError, match="init"):
        MLPClassifier(init="orthogonal").fit(X, y)
    assert clf.coefs_[0].dtype == np.float32


def test_default_init_is_unchanged_from_sklearn(cancer):
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    X, y = cancer
    ours = MLPClassifier(hidden_layer_sizes=(7,), max_iter=3, random_state=0).fit(X, y)
    theirs = SklearnMLPClassifier(hidden_layer_sizes=(7,), max_iter=3, random_state=0).fit(X, y)
    assert_allclose(ours.coefs_[0], theirs.coefs_[0])


def test_gradient_clipping_matches_torch_clip_grad_norm():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(0)
    for max_norm in [0.5, 2.0, 100.0]:
        grad = rng.normal(size=50) * 3
        parameter = torch.zeros(50, dtype=torch.float64, requires_grad=True)
        parameter.grad = torch.from_numpy(grad.copy())
        norm_before = torch.nn.utils.clip_grad_norm_([parameter], max_norm)
        ours = grad.copy()
        assert clip_gradient(ours, max_norm) == pytest.approx(float(norm_before))
        assert_allclose(ours, parameter.grad.numpy(), rtol=1e-12)


def test_one_clipped_sgd_step_by_hand(cancer):
    """One step of plain SGD with clipping moves the weights by lr * clipped gradient."""
    X, y = cancer
    params = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, learning_rate_init=0.1,
                  batch_size=len(y), max_iter=1, shuffle=False, random_state=0, alpha=0.0)
    start = MLPClassifier(**dict(params, learning_rate_init=1e-300)).fit(X, y)._params
    clipped = MLPClassifier(max_grad_norm=0.01, **params).fit(X, y)._params
    step = start - clipped
    assert np.linalg.norm(step) == pytest.approx(0.1 * 0.01, rel=1e-4)


def test_clipping_tames_a_diverging_learning_rate(cancer):
    """A learning rate of 1e6 diverges; clipping each step to a norm of lr * 1e-7 = 0.1
    trains the same network to a good fit."""
    X, y = cancer
    params = dict(hidden_layer_sizes=(20, 20), solver="sgd", learning_rate_init=1e6,
                  max_iter=20, random_state=0)
    with pytest.warns(DivergenceWarning, match="max_grad_norm"):
        MLPClassifier(**params).fit(X, y)
    clipped = MLPClassifier(max_grad_norm=1e-7, **params).fit(X, y)
    assert clipped.n_iter_ == 20 and np.all(np.isfinite(clipped.loss_curve_))
    assert clipped.score(X, y) > 0.95
    with pytest.raises(ValueError, match="max_grad_norm"):
        MLPRegressor(solver="lbfgs", max_grad_norm=1.0).fit(X, y)

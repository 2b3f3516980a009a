"""Dropout and batch normalisation (issue #9): against PyTorch, against the math, and their
effect on training."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss._network import (BN_EPSILON, BN_MOMENTUM, Network, Objective, _dropout_mask,
                               sample_keys)
from sknnloss.activations import get_activation
from sknnloss.losses import get_loss

torch = pytest.importorskip("torch", reason="PyTorch (the test extra) is the reference")

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "logistic": torch.sigmoid,
               "identity": lambda t: t}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _network(hidden=(7, 6), activations=("tanh", "relu"), n_features=5, n_outputs=3,
             batch_norm=True, seed=0):
    rs = np.random.RandomState(seed)
    network = Network([n_features, *hidden, n_outputs],
                      [get_activation(a) for a in activations], get_activation("softmax"),
                      batch_norm=batch_norm)
    params = network.initialize(rs, np.float64)
    scales, shifts, means, variances = network.unpack_batch_norm(params)
    for i in range(len(scales)):  # away from the identity start, so every term matters
        scales[i][...] = rs.uniform(0.5, 1.5, scales[i].shape)
        shifts[i][...] = rs.normal(0, 0.3, shifts[i].shape)
        means[i][...] = rs.normal(0, 0.5, means[i].shape)
        variances[i][...] = rs.uniform(0.5, 2, variances[i].shape)
    return network, params


def _torch_forward(network, params, X, activations, training, masks=None):
    """The same network as a PyTorch computation; returns (logits, tensors, bn modules)."""
    coefs, intercepts = network.unpack(params)
    scales, shifts, means, variances = network.unpack_batch_norm(params)
    tensors = {"coefs": [torch.tensor(c, requires_grad=True) for c in coefs],
               "intercepts": [torch.tensor(b, requires_grad=True) for b in intercepts]}
    modules = []
    a = torch.tensor(X)
    for i, name in enumerate(activations):
        z = a @ tensors["coefs"][i] + tensors["intercepts"][i]
        if network.batch_norm:
            bn = torch.nn.BatchNorm1d(z.shape[1], eps=BN_EPSILON, momentum=BN_MOMENTUM,
                                      dtype=torch.float64)
            with torch.no_grad():
                bn.weight.copy_(torch.tensor(scales[i]))
                bn.bias.copy_(torch.tensor(shifts[i]))
                bn.running_mean.copy_(torch.tensor(means[i]))
                bn.running_var.copy_(torch.tensor(variances[i]))
            bn.train(training)
            modules.append(bn)
            z = bn(z)
        a = ACTIVATIONS[name](z)
        if masks is not None and masks[i] is not None:
            a = a * torch.tensor(masks[i])
    logits = a @ tensors["coefs"][-1] + tensors["intercepts"][-1]
    return logits, tensors, modules


# -- batch normalisation --------------------------------------------------------------------
def test_batch_norm_training_step_matches_pytorch():
    """Value, every gradient (weights, scale, shift) and the running-statistics update of one
    training batch equal PyTorch's BatchNorm1d in training mode."""
    activations = ("tanh", "relu")
    network, params = _network(activations=activations)
    rs = np.random.RandomState(1)
    X = rs.normal(size=(32, 5))
    y = rs.randint(0, 3, 32)
    objective = Objective(network, get_loss("sparse_categorical_crossentropy"), 0.0, True,
                          update_running_stats=True)
    before = params.copy()
    value, grad = objective.loss_gradient(params, X, y)

    logits, tensors, modules = _torch_forward(network, before, X, activations, training=True)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    loss.backward()
    assert_allclose(value, loss.item(), rtol=1e-10)
    coef_grads, intercept_grads = network.unpack(grad)
    scale_grads, shift_grads, mean_grads, var_grads = network.unpack_batch_norm(grad)
    for ours, theirs in zip(coef_grads, tensors["coefs"]):
        assert_allclose(ours, theirs.grad.numpy(), rtol=1e-7, atol=1e-12)
    for ours, theirs in zip(intercept_grads, tensors["intercepts"]):
        assert_allclose(ours, theirs.grad.numpy(), rtol=1e-7, atol=1e-12)
    scales, shifts, means, variances = network.unpack_batch_norm(params)
    for i, bn in enumerate(modules):
        assert_allclose(scale_grads[i], bn.weight.grad.numpy(), rtol=1e-7, atol=1e-12)
        assert_allclose(shift_grads[i], bn.bias.grad.numpy(), rtol=1e-7, atol=1e-12)
        # Running statistics: moved in place by the call, with PyTorch's momentum and its
        # unbiased variance; they are state, so their gradient is zero.
        assert_allclose(means[i], bn.running_mean.numpy(), rtol=1e-12)
        assert_allclose(variances[i], bn.running_var.numpy(), rtol=1e-12)
        assert not np.any(mean_grads[i]) and not np.any(var_grads[i])


def test_batch_norm_prediction_mode_matches_pytorch_eval():
    activations = ("relu", "tanh")
    network, params = _network(activations=activations, seed=3)
    X = np.random.RandomState(2).normal(size=(20, 5))
    _, proba = network.forward(params, X)
    logits, _, _ = _torch_forward(network, params, X, activations, training=False)
    assert_allclose(proba, torch.softmax(logits, dim=1).detach().numpy(), rtol=1e-10)


def test_fitted_batch_norm_model_is_a_pytorch_network_in_eval_mode():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    model = MLPClassifier(hidden_layer_sizes=(20, 10), activation=["tanh", "relu"],
                          batch_norm=True, max_iter=5, random_state=0).fit(X, y[:300])
    assert [s.shape for s in model.bn_scales_] == [(20,), (10,)]
    assert not np.allclose(model.bn_running_means_[0], 0)  # moved during training
    network, params = model._network, model._params
    logits, _, _ = _torch_forward(network, params, X, ("tanh", "relu"), training=False)
    assert_allclose(model.predict_proba(X), torch.softmax(logits, 1).detach().numpy(),
                    rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_batch_norm_gradient_matches_finite_differences(weighted):
    """Including sample weights, which PyTorch has no counterpart for."""
    network, params = _network(hidden=(4, 3), activations=("tanh", "logistic"), n_features=3)
    rs = np.random.RandomState(5)
    X = rs.normal(size=(12, 3))
    y = rs.randint(0, 3, 12)
    sw = rs.uniform(0.2, 3, 12) if weighted else None
    objective = Objective(network, get_loss("sparse_categorical_crossentropy"), 0.1, True)
    _, grad = objective.loss_gradient(params, X, y, sw)
    numeric = np.empty(network.n_trainable)
    for k in range(network.n_trainable):
        step = np.zeros_like(params)
        step[k] = 1e-6
        numeric[k] = (objective.loss_gradient(params + step, X, y, sw)[0]
                      - objective.loss_gradient(params - step, X, y, sw)[0]) / 2e-6
    assert_allclose(grad[: network.n_trainable], numeric, rtol=1e-6, atol=1e-9)
    assert not np.any(grad[network.n_trainable:])


def test_batch_norm_weights_are_frequencies():
    """A sample weight of k is k copies of the row, in training and running statistics."""
    rs = np.random.RandomState(0)
    X = rs.normal(size=(30, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0]
    weights = rs.randint(0, 4, 30)
    kwargs = dict(hidden_layer_sizes=(8,), batch_norm=True, max_iter=20, random_state=0,
                  shuffle=False)
    weighted = MLPRegressor(**kwargs).fit(X, y, sample_weight=weights)
    repeated = MLPRegressor(**kwargs).fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    assert_allclose(weighted.bn_running_vars_[0], repeated.bn_running_vars_[0], rtol=1e-10)
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9)


def test_lbfgs_batch_norm_predicts_the_function_it_optimised():
    """Full batch: the running statistics are the training set's own, so the loss of the
    predictions on the training set is the final objective (no L2 here)."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    model = MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, solver="lbfgs",
                          alpha=0.0, max_iter=30, random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    log_loss = -np.mean(np.log(proba[np.arange(len(y)), y]))
    assert_allclose(log_loss, model.loss_, rtol=1e-8)
    z = X @ model.coefs_[0] + model.intercepts_[0]
    assert_allclose(model.bn_running_means_[0], z.mean(0), rtol=1e-10, atol=1e-12)
    assert_allclose(model.bn_running_vars_[0], z.var(0), rtol=1e-10)


def test_batch_norm_lets_a_deep_sigmoid_network_train():
    """Six logistic layers: without normalisation the gradient reaching the first layer has
    vanished (diagnostics in history_) and the model stays at chance; with it, it learns."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    scores, first_layer_grad = {}, {}
    for batch_norm in (False, True):
        model = MLPClassifier(hidden_layer_sizes=(32,) * 6, activation="logistic",
                              batch_norm=batch_norm, max_iter=20, tol=0,
                              random_state=0).fit(X[:1200], y[:1200])
        scores[batch_norm] = model.score(X[1200:], y[1200:])
        first_layer_grad[batch_norm] = model.history_["gradient_norm"][-1][0]
    assert scores[False] < 0.2 < 0.85 < scores[True]
    assert first_layer_grad[False] < 1e-3 < 0.05 < first_layer_grad[True]


def test_running_statistics_survive_pickle_warm_start_and_partial_fit():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(100, 4))
    y = (X[:, 0] > 0).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(6,), batch_norm=True, max_iter=3,
                          random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.bn_running_vars_[0], model.bn_running_vars_[0])
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))

    before = model.bn_running_means_[0].copy()
    model.partial_fit(X, y)
    assert not np.array_equal(model.bn_running_means_[0], before)  # continued, not reset
    continued = model.bn_running_means_[0].copy()
    model.set_params(warm_start=True).fit(X, y)
    assert not np.array_equal(model.bn_running_means_[0], continued)
    # A fresh fit starts from PyTorch's initial statistics (0 and 1) and moves them once
    # per batch: one batch here, at the initial weights.
    fresh = MLPClassifier(hidden_layer_sizes=(6,), batch_norm=True, max_iter=1,
                          batch_size=100, shuffle=False, random_state=0).fit(X, y)
    initial = fresh._network.initialize(np.random.RandomState(0), X.dtype)
    z = X @ fresh._network.unpack(initial)[0][0] + fresh._network.unpack(initial)[1][0]
    assert_allclose(fresh.bn_running_means_[0], BN_MOMENTUM * z.mean(0), rtol=1e-10)
    assert_allclose(fresh.bn_running_vars_[0],
                    1 - BN_MOMENTUM + BN_MOMENTUM * z.var(0, ddof=1), rtol=1e-10)

    with pytest.raises(ValueError, match="batch_norm=True"):
        model.set_params(batch_norm=False).fit(X, y)


def test_without_batch_norm_there_are_no_batch_norm_attributes():
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2).fit([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(AttributeError, match="batch_norm=False"):
        model.bn_scales_
    assert not hasattr(model, "bn_running_vars_")


# -- dropout --------------------------------------------------------------------------------
def test_dropout_masks_rate_scale_and_independence():
    keys = sample_keys(np.random.RandomState(0).normal(size=(4000, 3)))
    out = np.empty((4000, 50))
    _dropout_mask(keys, seed=7, layer=0, rate=0.3, out=out)
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 4 * np.sqrt(0.3 * 0.7 / out.size)  # binomial, 4 sigma
    # No structure across units or rows: each unit's and each row's rate is near 0.3.
    assert np.all(np.abs((out == 0).mean(axis=0) - 0.3) < 0.04)
    other_layer = _dropout_mask(keys, seed=7, layer=1, rate=0.3, out=np.empty_like(out))
    other_seed = _dropout_mask(keys, seed=8, layer=0, rate=0.3, out=np.empty_like(out))
    for other in (other_layer, other_seed):
        agreement = np.mean((other == 0) == (out == 0))
        assert abs(agreement - (0.3 ** 2 + 0.7 ** 2)) < 0.01  # independent draws


def test_sample_keys_equal_rows_equal_keys_dense_and_sparse():
    from scipy import sparse

    X = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [1.0, 0.0, 2.0], [2.0, 0.0, 1.0]])
    keys = sample_keys(X)
    assert keys[0] == keys[2] and len(set(keys.tolist())) == 3
    assert_array_equal(sample_keys(sparse.csr_matrix(X)), keys)
    assert_array_equal(sample_keys(sparse.csc_matrix(X)), keys)


def test_dropout_gradient_matches_pytorch_with_the_same_masks():
    activations = ("tanh", "relu")
    network, params = _network(activations=activations, batch_norm=False)
    rs = np.random.RandomState(4)
    X = rs.normal(size=(40, 5))
    y = rs.randint(0, 3, 40)
    rates = [0.3, 0.5]
    objective = Objective(network, get_loss("sparse_categorical_crossentropy"), 0.0, True,
                          dropout=rates)
    objective.set_dropout_seed(11, epoch=2)
    keys = sample_keys(X)
    value, grad = objective.loss_gradient(params, X, y, sample_keys=keys)
    masks = [_dropout_mask(keys, objective._dropout_seed, i, rate, np.empty((40, units)))
             for i, (rate, units) in enumerate(zip(rates, (7, 6)))]
    logits, tensors, _ = _torch_forward(network, params, X, activations, training=True,
                                        masks=masks)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    loss.backward()
    assert_allclose(value, loss.item(), rtol=1e-12)
    coef_grads, intercept_grads = network.unpack(grad)
    for ours, theirs in zip(coef_grads + intercept_grads,
                            tensors["coefs"] + tensors["intercepts"]):
        assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_dropout_is_reproducible_and_inactive_in_prediction():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(80, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    kwargs = dict(hidden_layer_sizes=(16,), dropout=0.4, max_iter=10, batch_size=16)
    a = MLPClassifier(random_state=0, **kwargs).fit(X, y)
    b = MLPClassifier(random_state=0, **kwargs).fit(X, y)
    c = MLPClassifier(random_state=1, **kwargs).fit(X, y)
    plain = MLPClassifier(random_state=0, **{**kwargs, "dropout": 0.0}).fit(X, y)
    assert_array_equal(a._params, b._params)
    assert not np.array_equal(a._params[:96], c._params[:96])
    assert not np.allclose(a._params, plain._params)
    # Prediction uses every unit, unscaled: it is the plain network's forward pass.
    hidden = np.maximum(X @ a.coefs_[0] + a.intercepts_[0], 0)  # relu
    logit = hidden @ a.coefs_[1] + a.intercepts_[1]
    assert_allclose(a.predict_proba(X)[:, 1], 1 / (1 + np.exp(-logit.ravel())), rtol=1e-10)
    assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_dropout_reduces_overfitting_on_a_small_noisy_problem():
    """100 noisy samples, 20 features of which 4 matter, 200 hidden units: without dropout
    the network memorises the training set; dropout narrows the train/test gap and scores
    better on 1000 held-out rows (at seeds 0-2 the held-out R^2 goes from 0.38 to 0.47-0.48
    with rate 0.3)."""
    rs = np.random.RandomState(0)
    X = rs.normal(size=(1100, 20))
    y = X[:, :3] @ [1.0, -1.0, 0.5] + np.sin(2 * X[:, 3]) + rs.normal(size=1100)
    X_train, y_train, X_test, y_test = X[:100], y[:100], X[100:], y[100:]
    result = {}
    for rate in (0.0, 0.3):
        model = MLPRegressor(hidden_layer_sizes=(200,), dropout=rate, max_iter=400, tol=0,
                             random_state=0, diagnostics=False).fit(X_train, y_train)
        result[rate] = (model.score(X_train, y_train), model.score(X_test, y_test))
    (train0, test0), (train3, test3) = result[0.0], result[0.3]
    assert train0 > 0.999  # memorised
    assert train3 - test3 < train0 - test0 - 0.1
    assert test3 > test0 + 0.05


@pytest.mark.parametrize("solver", ["lbfgs", "cg", "bfgs"])
def test_dropout_with_a_scipy_solver_is_an_error(solver):
    with pytest.raises(ValueError, match="deterministic"):
        MLPClassifier(solver=solver, dropout=0.1).fit([[0.0], [1.0]], [0, 1])


@pytest.mark.parametrize("dropout, match", [
    ([0.1], "dropout has 1 entries for 2 hidden layers"),
    ([0.1, 1.0], r"in \[0, 1\)"),
    ([0.1, "a"], r"in \[0, 1\)"),
    (1.0, "dropout"),
    (-0.1, "dropout"),
])
def test_bad_dropout_values(dropout, match):
    with pytest.raises(ValueError, match=match):
        MLPRegressor(hidden_layer_sizes=(3, 3), dropout=dropout).fit([[0.0], [1.0]], [0, 1])


def test_dropout_and_batch_norm_leave_the_default_path_unchanged():
    """dropout=0 and batch_norm=False draw nothing extra: the weights equal an estimator
    built without mentioning them."""
    X, y = load_digits(return_X_y=True)
    a = MLPClassifier(max_iter=3, random_state=0).fit(X[:200], y[:200])
    b = MLPClassifier(max_iter=3, random_state=0, dropout=0.0, batch_norm=False).fit(
        X[:200], y[:200])
    assert_array_equal(a._params, b._params)

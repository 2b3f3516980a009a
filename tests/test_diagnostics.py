"""The per-layer diagnostics: vanishing gradients and dying units made visible."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits

from sknnloss import MLPClassifier
from sknnloss._network import Network, Objective
from sknnloss.activations import Logistic, ReLU, Softmax, Tanh
from sknnloss.diagnostics import (
    MONITORED_BATCHES,
    MONITORED_ROWS,
    SATURATION_THRESHOLD,
    LayerMonitor,
    TrainingHistory,
)
from sknnloss.losses import SparseCategoricalCrossEntropy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_deep_sigmoid_network_saturates_far_more_than_relu(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(50,) * 5, max_iter=15, learning_rate_init=0.01,
                  random_state=0)
    sigmoid = MLPClassifier(activation="logistic", **params).fit(X, y)
    relu = MLPClassifier(activation="relu", **params).fit(X, y)
    sigmoid_saturation = sigmoid.history_["saturated_fraction"][-1]
    relu_saturation = relu.history_["saturated_fraction"][-1]
    assert sigmoid_saturation.shape == (5,)
    assert sigmoid_saturation.mean() > 0.2
    assert sigmoid_saturation.mean() > 10 * relu_saturation.mean() + 0.1
    # ReLU's derivative is 0 or 1: never "small but non-zero".
    assert_array_equal(relu_saturation, 0)


def test_negative_bias_kills_relu_units_but_not_leaky_ones(digits):
    X, y = digits
    results = {}
    for activation in ["relu", "leaky_relu"]:
        clf = MLPClassifier(hidden_layer_sizes=(40, 40), activation=activation, max_iter=2,
                            warm_start=True, random_state=0).fit(X, y)
        assert clf.history_["dead_fraction"][-1][0] < 0.2
        clf.intercepts_[0][:] = -50.0  # every first-layer pre-activation is negative
        clf.fit(X, y)
        results[activation] = clf.history_["dead_fraction"][-1]
    assert results["relu"][0] == 1.0
    assert results["leaky_relu"][0] == 0.0


def test_history_diagnostic_columns(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(30, 20), max_iter=4, random_state=0).fit(X, y)
    history = clf.history_
    assert set(history.keys()) >= {"dead_fraction", "saturated_fraction", "gradient_norm",
                                   "weight_norm"}
    assert history["dead_fraction"].shape == (4, 2)
    assert history["saturated_fraction"].shape == (4, 2)
    assert history["gradient_norm"].shape == (4, 3)
    assert history["weight_norm"].shape == (4, 3)
    assert_allclose(history["weight_norm"][-1], [np.linalg.norm(c) for c in clf.coefs_])
    assert np.all(history["gradient_norm"] > 0)
    off = MLPClassifier(hidden_layer_sizes=(30,), max_iter=2, diagnostics=False,
                        random_state=0).fit(X, y)
    assert "dead_fraction" not in off.history_.keys()
    # Diagnostics observe; they never change training.
    assert_allclose(off.loss_curve_,
                    MLPClassifier(hidden_layer_sizes=(30,), max_iter=2,
                                  random_state=0).fit(X, y).loss_curve_)
    pytest.importorskip("pandas")  # last: the lower-bound CI job has no pandas
    frame = history.to_frame()
    assert "dead_fraction[1]" in frame.columns and "weight_norm[2]" in frame.columns


def test_monitor_counts_by_hand():
    """Dead units, saturated fraction and gradient norms on a batch worked out by hand."""
    network = Network([2, 3, 2], [Tanh()], Softmax())
    monitor = LayerMonitor(network)
    monitor.start_epoch(1)
    z = np.array([[0.1, 10.0, -0.2], [-0.3, 12.0, 0.4]])
    a = np.tanh(z)
    grads = [np.full((2, 3), 2.0), np.ones((3, 2))]
    monitor.observe([z], [a], 2, [None], grads)
    params = np.arange(network.n_params, dtype=float)
    result = monitor.end_epoch(params)
    derivative = 1 - a**2
    expected_saturated = np.mean((derivative > 0) & (derivative < SATURATION_THRESHOLD))
    assert_allclose(result["saturated_fraction"], [expected_saturated])  # the column at 10, 12
    assert_allclose(result["dead_fraction"], [0.0])
    assert_allclose(result["gradient_norm"], [np.sqrt(24.0), np.sqrt(6.0)])
    coefs, _ = network.unpack(params)
    assert_allclose(result["weight_norm"], [np.linalg.norm(c) for c in coefs])


def test_monitor_gives_the_same_counts_in_scratch_buffers():
    """The training loop lends the monitor its back-propagation buffers for the derivatives;
    the statistics are those of the monitor's own buffers, and only the scratch rows used are
    written."""
    rng = np.random.default_rng(0)
    network = Network([4, 6, 5, 2], [Tanh(), ReLU()], Softmax())
    zs = [rng.normal(scale=3, size=(7, 6)), rng.normal(size=(7, 5))]
    activations = [np.tanh(zs[0]), np.maximum(zs[1], 0)]
    grads = [rng.normal(size=(4, 6)), rng.normal(size=(6, 5)), rng.normal(size=(5, 2))]
    params = rng.normal(size=network.n_params)
    results = []
    for scratch in [None, [np.full((9, 6), 7.0), np.full((9, 5), 7.0)]]:
        monitor = LayerMonitor(network)
        monitor.start_epoch(1)
        monitor.observe(zs, activations, 7, [None, None], grads, scratch=scratch)
        results.append(monitor.end_epoch(params))
        if scratch is not None:
            assert np.all(scratch[0][7:] == 7.0) and np.all(scratch[1][7:] == 7.0)
    for name in results[0]:
        assert_allclose(results[1][name], results[0][name], err_msg=name)
    assert results[0]["dead_fraction"][1] == np.mean(np.all(zs[1] <= 0, axis=0))


def test_monitor_spreads_over_long_epochs_and_reports_nan_without_a_derivative():
    network = Network([2, 3, 2], [ReLU()], Logistic())
    monitor = LayerMonitor(network)
    n_batches = 10 * MONITORED_BATCHES
    monitor.start_epoch(n_batches)
    z = np.array([[1.0, -1.0, 2.0]])
    for _ in range(n_batches):
        if monitor.due():
            monitor.observe([z], [np.maximum(z, 0)], 1, [None],
                            [np.ones((2, 3)), np.ones((3, 2))])
    assert monitor._monitored == MONITORED_BATCHES
    result = monitor.end_epoch(np.zeros(network.n_params))
    assert_allclose(result["dead_fraction"], [1 / 3])

    softmax_hidden = Network([2, 3, 2], [Softmax()], Logistic())
    monitor = LayerMonitor(softmax_hidden)
    monitor.start_epoch(1)
    monitor.observe([z], [z], 1, [None], [np.ones((2, 3)), np.ones((3, 2))])
    result = monitor.end_epoch(np.zeros(softmax_hidden.n_params))
    assert np.isnan(result["dead_fraction"][0]) and np.isnan(result["saturated_fraction"][0])


def test_objective_feeds_the_monitor():
    network = Network([4, 5, 3], [ReLU()], Softmax())
    objective = Objective(network, SparseCategoricalCrossEntropy(), 0.0, True)
    objective.monitor = LayerMonitor(network)
    objective.monitor.start_epoch(1)
    rng = np.random.RandomState(0)
    params = network.initialize(rng, np.float64)
    _, grad = objective.loss_gradient(params, rng.normal(size=(6, 4)), rng.randint(0, 3, 6))
    result = objective.monitor.end_epoch(params)
    coef_grads, _ = network.unpack(grad)
    assert_allclose(result["gradient_norm"], [np.linalg.norm(g) for g in coef_grads])


def test_monitor_looks_at_the_first_monitored_rows_of_a_batch():
    # A unit active only beyond the first MONITORED_ROWS rows of the batch counts as dead; one
    # active in the last monitored row does not.
    network = Network([2, 3, 2], [ReLU()], Logistic())
    monitor = LayerMonitor(network)
    monitor.start_epoch(1)
    z = np.full((MONITORED_ROWS + 5, 3), -1.0)
    z[MONITORED_ROWS - 1, 0] = 1.0
    z[MONITORED_ROWS, 1] = 1.0
    monitor.observe([z], [np.maximum(z, 0)], z.shape[0], [None],
                    [np.ones((2, 3)), np.ones((3, 2))])
    result = monitor.end_epoch(np.zeros(network.n_params))
    assert_allclose(result["dead_fraction"], [2 / 3])


def test_an_epoch_without_an_observed_batch_reports_nan():
    # Every batch of an epoch skipped (zero sample weight): nothing was seen, so no unit is
    # called dead and no activation saturated; the weight norms are still the weights'.
    network = Network([2, 3, 2], [ReLU()], Logistic())
    monitor = LayerMonitor(network)
    monitor.start_epoch(4)
    params = np.arange(network.n_params, dtype=float)
    result = monitor.end_epoch(params)
    assert np.isnan(result["dead_fraction"][0]) and np.isnan(result["saturated_fraction"][0])
    assert_allclose(result["gradient_norm"], [0.0, 0.0])
    coefs, _ = network.unpack(params)
    assert_allclose(result["weight_norm"], [np.linalg.norm(c) for c in coefs])


def test_relu_statistics_from_its_output_match_those_from_its_derivative():
    """ReLU is observed from its output alone (a column sum); a subclass takes the general
    path through ``derivative``. Both must count the same dead and saturated units, also
    for a column that is zero everywhere, a lone positive entry, and non-finite outputs."""

    class PlainReLU(ReLU):  # the same function, observed through its derivative
        pass

    rng = np.random.default_rng(3)
    z = rng.normal(size=(40, 8))
    z[:, 0] = -1.0  # dead
    z[:, 1] = -1.0
    z[17, 1] = 1e-300  # alive through one tiny positive output
    z[:, 2] = np.nan  # nan outputs pass no gradient
    z[:, 3] = -1.0
    z[5, 3] = np.inf  # alive through one infinite output
    z[:, 4] = -np.inf
    z[3, 4] = 1e308  # a column sum that overflows is still positive
    z[4, 4] = 1e308
    z[:, 5] = -1.0
    z[2, 5] = np.nan  # a nan in the column's sum must not hide its positive outputs
    z[30, 5] = 2.0
    z[:, 6] = -1.0
    z[31, 6] = np.nan  # ... nor make a column without them alive
    results = []
    for activation in [ReLU(), PlainReLU()]:
        network = Network([3, 8, 2], [activation], Softmax())
        monitor = LayerMonitor(network)
        monitor.start_epoch(2)
        with np.errstate(over="ignore", invalid="ignore"):
            a = np.maximum(z, 0)
            for rows in (slice(0, 20), slice(20, 40)):
                monitor.observe([z[rows]], [a[rows]], 20, [None],
                                [np.ones((3, 8)), np.ones((8, 2))])
        results.append(monitor.end_epoch(np.zeros(network.n_params)))
    for name in results[0]:
        assert_array_equal(results[0][name], results[1][name], err_msg=name)
    assert results[0]["dead_fraction"][0] == 3 / 8  # columns 0, 2 and 6
    assert results[0]["saturated_fraction"][0] == 0.0


def test_history_rows_with_changing_columns():
    """A column first seen later is nan before; one left out of a row is nan there; None is
    nan; per-layer arrays stack, with nan rows where a column was a number or missing."""
    history = TrainingHistory()
    history.append(epoch=1, loss=0.5)
    history.append(epoch=2, loss=0.25)
    history.append(epoch=3, loss=None, width=np.array([1.0, 2.0]))
    history.append(epoch=4, width=np.array([3.0, 4.0]))
    history.append(epoch=5, width=np.array([5.0, 6.0]), loss=0.125)  # another order
    assert history.keys() == ["epoch", "loss", "width"]
    assert_array_equal(history["epoch"], [1, 2, 3, 4, 5])
    assert_array_equal(history["loss"], [0.5, 0.25, np.nan, np.nan, 0.125])
    assert_array_equal(history["width"], [[np.nan, np.nan], [np.nan, np.nan], [1, 2], [3, 4],
                                          [5, 6]])
    assert len(history) == 5

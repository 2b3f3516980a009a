"""scikit-learn's estimator checks over both estimators, every solver and non-default pairs."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import GELU, LeakyReLU, PReLU
from sknnloss.losses import AbsoluteError, BinaryCrossEntropy, Huber, Quantile

from .user_defined import PseudoHuber, ScaledTanh

# max_iter as in scikit-learn's own check configuration of its MLPs (100). Every solver is
# covered; bfgs keeps a dense n_params x n_params matrix, hence its smaller hidden layer.
ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPRegressor(max_iter=100),
    MLPClassifier(solver="lbfgs", max_iter=100),
    MLPRegressor(solver="lbfgs", max_iter=100),
    MLPClassifier(solver="sgd", max_iter=100, learning_rate_init=0.05),
    MLPRegressor(solver="sgd", max_iter=100),
    MLPClassifier(solver="cg", max_iter=100),
    MLPRegressor(solver="bfgs", hidden_layer_sizes=(20,), max_iter=100),
    MLPClassifier(solver="bfgs", hidden_layer_sizes=(20,), max_iter=100),
    # Non-default activation / loss / output-activation combinations.
    # (relu, not tanh: check_class_weight_classifiers feeds unscaled blobs with std 20, where
    # tanh units saturate and a satisfied hinge margin stops pushing, so weights of 1000 vs
    # 1e-4 do not make every prediction class 0. The tanh + hinge pair is covered in
    # test_estimators.py; class weights equal sample weights exactly, see test_training.py.)
    MLPClassifier(activation="relu", loss="hinge", max_iter=100),
    MLPClassifier(activation=LeakyReLU(negative_slope=0.1), loss=BinaryCrossEntropy(),
                  max_iter=100),
    MLPClassifier(activation="logistic", loss="categorical_crossentropy", solver="lbfgs",
                  max_iter=100),
    MLPClassifier(activation="softplus", loss="squared_error", output_activation="logistic",
                  solver="lbfgs", max_iter=100),
    MLPRegressor(loss="mse", output_activation="linear", activation="softplus", max_iter=100),
    MLPRegressor(loss=AbsoluteError(), activation="leaky_relu", solver="lbfgs", max_iter=100),
    MLPRegressor(activation="sigmoid", output_activation="tanh", solver="cg", max_iter=100),
    # The catalogue: a trainable activation, newer activations and losses, margin heads with
    # and without probabilities, label smoothing.
    MLPClassifier(activation=PReLU(), solver="lbfgs", max_iter=100),
    MLPRegressor(activation="prelu", max_iter=100),
    MLPClassifier(activation=GELU(approximate="tanh"), loss="modified_huber", max_iter=100),
    MLPClassifier(activation="selu", loss="categorical_hinge", solver="lbfgs", max_iter=100),
    MLPClassifier(activation="mish", loss="focal", max_iter=100),
    MLPClassifier(activation="elu", loss=BinaryCrossEntropy(label_smoothing=0.1),
                  solver="lbfgs", max_iter=100),
    MLPRegressor(activation="silu", loss=Huber(delta=0.5), solver="lbfgs", max_iter=100),
    MLPRegressor(activation="softsign", loss=Quantile(quantile=0.5), max_iter=100),
    # Per-layer activations, initialisers, gradient clipping.
    MLPClassifier(hidden_layer_sizes=(20, 10), activation=["tanh", PReLU()], solver="lbfgs",
                  max_iter=100),
    MLPRegressor(hidden_layer_sizes=(20, 10), activation=("selu", "selu"),
                 init="lecun_normal", max_iter=100),
    MLPClassifier(init="he_uniform", max_grad_norm=1.0, max_iter=100),
    MLPClassifier(activation="tanh", init="glorot_normal", solver="lbfgs", max_iter=100),
    MLPRegressor(init="he_normal", solver="sgd", max_grad_norm=0.5, max_iter=100),
    # Dropout and batch normalisation (sample weights stay frequencies with both).
    MLPClassifier(dropout=0.2, max_iter=100),
    MLPRegressor(batch_norm=True, max_iter=100),
    MLPClassifier(batch_norm=True, solver="lbfgs", max_iter=100),
    MLPRegressor(hidden_layer_sizes=(20, 10), dropout=[0.1, 0.2], batch_norm=True,
                 solver="sgd", learning_rate_init=0.01, max_iter=100),
    MLPClassifier(hidden_layer_sizes=(30,), batch_norm=True, dropout=0.1, max_iter=100),
    # User-defined objects, written as the docs describe.
    MLPClassifier(activation=ScaledTanh(scale=3.0), solver="lbfgs", max_iter=100),
    MLPRegressor(activation=ScaledTanh(), loss=PseudoHuber(delta=2.0), solver="lbfgs",
                 max_iter=100),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

"""scikit-learn's estimator checks over both estimators, every solver and non-default pairs."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknnloss import MLPClassifier, MLPRegressor
from sknnloss.activations import LeakyReLU
from sknnloss.losses import AbsoluteError, BinaryCrossEntropy

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
    MLPClassifier(activation="tanh", loss="hinge", max_iter=100),
    MLPClassifier(activation=LeakyReLU(negative_slope=0.1), loss=BinaryCrossEntropy(),
                  max_iter=100),
    MLPClassifier(activation="logistic", loss="categorical_crossentropy", solver="lbfgs",
                  max_iter=100),
    MLPClassifier(activation="softplus", loss="squared_error", output_activation="logistic",
                  solver="lbfgs", max_iter=100),
    MLPRegressor(loss="mse", output_activation="linear", activation="softplus", max_iter=100),
    MLPRegressor(loss=AbsoluteError(), activation="leaky_relu", solver="lbfgs", max_iter=100),
    MLPRegressor(activation="sigmoid", output_activation="tanh", solver="cg", max_iter=100),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

"""``python -m sknnloss``: a short demonstration on scikit-learn's bundled datasets.

Fits a classifier and a regressor with two different activation/loss pairs each, next to
scikit-learn's own MLP with the same architecture and seed, and prints held-out scores.
"""

import time
import warnings

from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import MLPClassifier, MLPRegressor, __version__
from .activations import LeakyReLU


def _run(name, model, X_train, X_test, y_train, y_test, metric):
    pipeline = make_pipeline(StandardScaler(), model)
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    score = pipeline.score(X_test, y_test)
    print(f"  {name:<58} {metric} = {score:6.3f}   fit {elapsed:5.2f}s")


def main():
    print(f"sknnloss {__version__}: activation/loss pairs on scikit-learn's bundled datasets\n")
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = load_breast_cancer(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    print("Classification: breast cancer (569 samples, 30 features), held-out accuracy")
    common = dict(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    _run("scikit-learn MLPClassifier (relu, log-loss)", SklearnMLPClassifier(**common),
         *split, "accuracy")
    _run("sknnloss: relu hidden, sigmoid + binary cross-entropy",
         MLPClassifier(**common), *split, "accuracy")
    _run("sknnloss: LeakyReLU(0.1) hidden, hinge margin head",
         MLPClassifier(activation=LeakyReLU(negative_slope=0.1), loss="hinge", **common),
         *split, "accuracy")

    X, y = load_diabetes(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, random_state=0)
    print("\nRegression: diabetes (442 samples, 10 features), held-out R^2")
    common = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=200, alpha=10.0,
                  random_state=0)
    _run("scikit-learn MLPRegressor (relu, squared error)", SklearnMLPRegressor(**common),
         *split, "R^2     ")
    _run("sknnloss: tanh hidden, identity + squared error (mean)",
         MLPRegressor(activation="tanh", **common), *split, "R^2     ")
    _run("sknnloss: tanh hidden, softplus + absolute error (median)",
         MLPRegressor(loss="absolute_error", output_activation="softplus",
                      activation="tanh", **common), *split, "R^2     ")


if __name__ == "__main__":
    main()

"""sknnloss: scikit-learn compatible multi-layer perceptrons with pluggable activations and
losses, paired by maximum likelihood."""

from ._classes import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]

"""sknnloss: scikit-learn compatible multi-layer perceptrons with pluggable activations and
losses, paired by maximum likelihood."""

from ._classes import MLPClassifier, MLPRegressor
from ._solvers import DivergenceWarning
from .pairing import PairingWarning, pairing, sensible_pairs

__version__ = "0.1.0"

__all__ = [
    "DivergenceWarning",
    "MLPClassifier",
    "MLPRegressor",
    "PairingWarning",
    "pairing",
    "sensible_pairs",
    "__version__",
]

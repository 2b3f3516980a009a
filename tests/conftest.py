import os

# Let scikit-learn's estimator checks exercise the NumPy array-API input path too (it needs
# scipy's array-API mode, which must be set before scipy is imported).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

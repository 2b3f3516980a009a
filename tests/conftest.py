import os

# Let scikit-learn's estimator checks exercise the NumPy array-API input path too (it needs
# scipy's array-API mode, which must be set before scipy is imported).
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "examples: runs the scripts in examples/ (deselect with -m 'not examples')")

"""tsrepr-sklearn: unsupervised representations of time series for scikit-learn."""

__version__ = "0.1.0"

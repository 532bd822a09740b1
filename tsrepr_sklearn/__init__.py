"""tsrepr-sklearn: unsupervised representations of time series for scikit-learn.

The triplet loss ("T-Loss") of Franceschi, Dieuleveut & Jaggi (NeurIPS 2019)
trains an encoder without labels; the estimators expose the learned
representations through ``transform`` and classify them with ``predict``.
"""

from .classifiers import CausalCNNEncoderClassifier, LSTMEncoderClassifier

__version__ = "0.1.0"

__all__ = ["CausalCNNEncoderClassifier", "LSTMEncoderClassifier", "__version__"]

"""Plots of a fitted estimator: its training loss and a 2-D map of its representations.

Needs matplotlib (``pip install "tsrepr-sklearn[plot]"``). Every function draws
on the given Axes (a new figure's when ``ax`` is None) and returns it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_history", "plot_representations", "save_summary_figure"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "plotting needs matplotlib: pip install 'tsrepr-sklearn[plot]' (or pip install matplotlib)"
        ) from None
    return plt


def _axes(ax):
    return _pyplot().subplots()[1] if ax is None else ax


def plot_history(estimator, *, ax=None, smoothing=50):
    """Plot the training loss of every step, with a moving average.

    Parameters
    ----------
    estimator : CausalCNNEncoderClassifier or LSTMEncoderClassifier
        Estimator with a trained encoder (``history_``).
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; a new figure when None.
    smoothing : int, default=50
        Window of the moving average (in steps); at most a fifth of the
        number of steps.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.plotting import plot_history
    >>> X = np.random.default_rng(0).normal(size=(10, 20))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=6, channels=2, depth=1, reduced_size=2, out_channels=2,
    ...                                  device="cpu", random_state=0).fit_encoder(X)
    >>> plot_history(clf).get_xlabel()
    'step'
    """
    check_is_fitted(estimator, "history_")
    history = np.asarray(estimator.history_, dtype=float)
    if history.size == 0:
        raise ValueError("the estimator has no training history (its encoder was loaded, not trained).")
    ax = _axes(ax)
    steps = np.arange(1, history.size + 1)
    ax.plot(steps, history, color="tab:blue", alpha=0.35, linewidth=0.8, label="loss per step")
    window = int(max(1, min(smoothing, history.size // 5)))
    if window > 1:
        smooth = np.convolve(history, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :], smooth, color="tab:blue", linewidth=2, label=f"moving average ({window} steps)")
    ax.set_xlabel("step")
    ax.set_ylabel("triplet loss")
    ax.set_title("Training loss")
    ax.legend(loc="upper right")
    return ax


def plot_representations(estimator, X, y=None, *, ax=None, method="pca", random_state=0):
    """Plot a 2-D map of the representations of ``X``, coloured by label.

    Parameters
    ----------
    estimator : CausalCNNEncoderClassifier or LSTMEncoderClassifier
        Estimator with a trained encoder.
    X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
        Series to encode.
    y : array-like of shape (n_series,) or None, default=None
        Labels used for the colours and the legend.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; a new figure when None.
    method : {"pca", "tsne"}, default="pca"
        Projection to 2-D: principal components, or scikit-learn's t-SNE.
    random_state : int, default=0
        Seed of the projection.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.plotting import plot_representations
    >>> X = np.random.default_rng(0).normal(size=(10, 20))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  device="cpu", random_state=0).fit_encoder(X)
    >>> ax = plot_representations(clf, X, np.repeat(["a", "b"], 5))
    >>> len(ax.collections)
    2
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")
    features = estimator.transform(X)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (features.shape[0],):
            raise ValueError(f"y has shape {y.shape}; expected ({features.shape[0]},), one label per series.")
    if method == "pca":
        from sklearn.decomposition import PCA

        n_components = min(2, features.shape[0], features.shape[1])
        points = PCA(n_components=n_components, random_state=random_state).fit_transform(features)
    else:
        from sklearn.manifold import TSNE

        perplexity = min(30.0, max(1.0, (features.shape[0] - 1) / 3))
        points = TSNE(n_components=2, perplexity=perplexity, random_state=random_state).fit_transform(features)
    if points.shape[1] < 2:
        points = np.column_stack([points, np.zeros((points.shape[0], 2 - points.shape[1]))])
    ax = _axes(ax)
    if y is None:
        ax.scatter(points[:, 0], points[:, 1], s=12)
    else:
        for label in np.unique(y):
            mask = y == label
            ax.scatter(points[mask, 0], points[mask, 1], s=12, label=str(label))
        ax.legend(title="label", loc="best", fontsize="small")
    name = "PCA" if method == "pca" else "t-SNE"
    ax.set_xlabel(f"{name} 1")
    ax.set_ylabel(f"{name} 2")
    ax.set_title(f"Representations ({name})")
    return ax


def save_summary_figure(estimator, X, y, path, *, method="pca"):
    """Write a PNG with the training loss and the representation map side by side.

    Parameters
    ----------
    estimator : CausalCNNEncoderClassifier or LSTMEncoderClassifier
        Estimator with a trained encoder.
    X : array-like
        Series for the representation map.
    y : array-like of shape (n_series,) or None
        Their labels.
    path : str or os.PathLike
        Destination image (its extension chooses the format, e.g. ``.png``).
    method : {"pca", "tsne"}, default="pca"
        Projection of the representation map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.plotting import save_summary_figure
    >>> X = np.random.default_rng(0).normal(size=(10, 20))
    >>> y = np.repeat(["a", "b"], 5)
    >>> clf = CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  device="cpu", random_state=0).fit_encoder(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "summary.png")
    ...     save_summary_figure(clf, X, y, path)
    ...     with open(path, "rb") as image:
    ...         header = image.read(8)
    >>> header == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    try:
        plot_history(estimator, ax=left)
        plot_representations(estimator, X, y, ax=right, method=method)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)

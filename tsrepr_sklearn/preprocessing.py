"""Normalisation of time series, as explicit steps (never hidden inside the estimators).

The UCR archive's univariate datasets are already z-normalised series by
series; the UEA multivariate ones are not. The original code standardised
each dataset with statistics pooled over its training *and* test sets, which
leaks test information. Here:

- :func:`znormalize` standardises every series (and channel) with its own
  mean and standard deviation: it needs no statistics from other series, so it
  cannot leak, and it is what the UCR archive did to its univariate data.
- :class:`ChannelScaler` learns one mean and one standard deviation per
  channel from the training series only (``fit``) and applies them to any
  series (``transform``): the original code's per-channel normalisation
  without the leak. Use it as the first step of a Pipeline.

Both keep NaN right padding and accept every input form of the estimators.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .validation import check_series

__all__ = ["ChannelScaler", "znormalize"]

#: Standard deviations below this are treated as 0 (constant series or channel): divided by 1.
_TINY_STD = 1e-8


def _safe_scale(std):
    return np.where(std < _TINY_STD, 1.0, std).astype(np.float32)


def znormalize(X):
    """Z-normalise every series, channel by channel, with its own mean and standard deviation.

    Constant series (standard deviation 0) become 0. Statistics use the
    valid time steps only; NaN right padding is kept.

    Parameters
    ----------
    X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
        Series, in any form the estimators accept.

    Returns
    -------
    ndarray of shape (n_series, n_channels, length), dtype float32
        Normalised series, NaN right-padded.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.preprocessing import znormalize
    >>> Z = znormalize([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]])
    >>> Z[0, 0]
    array([-1.2247448,  0.       ,  1.2247448], dtype=float32)
    >>> Z[1, 0]
    array([0., 0., 0.], dtype=float32)
    """
    X, _ = check_series(X)
    X = X.astype(np.float64)
    mean = np.nanmean(X, axis=2, keepdims=True)
    std = np.nanstd(X, axis=2, keepdims=True)
    return ((X - mean) / _safe_scale(std)).astype(np.float32)


class ChannelScaler(TransformerMixin, BaseEstimator):
    """Standardise each channel with a mean and a standard deviation learned on training series.

    ``fit`` computes, for every channel, the mean and standard deviation of
    all valid time steps of all training series (NaN padding ignored);
    ``transform`` subtracts the mean and divides by the standard deviation
    (1 for a constant channel). This is the per-channel normalisation of the
    original code's UEA experiments, with statistics from the training set
    only.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the channel means.
    with_std : bool, default=True
        Divide by the channel standard deviations.

    Attributes
    ----------
    mean_ : ndarray of shape (n_channels,)
        Channel means (0 when ``with_mean=False``).
    scale_ : ndarray of shape (n_channels,)
        Channel standard deviations (1 when ``with_std=False`` or constant).
    n_channels_in_ : int
        Number of channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.preprocessing import ChannelScaler
    >>> X_train = np.array([[[0.0, 2.0], [10.0, 30.0]]])  # 1 series, 2 channels, 2 steps
    >>> scaler = ChannelScaler().fit(X_train)
    >>> scaler.mean_.tolist(), scaler.scale_.tolist()
    ([1.0, 20.0], [1.0, 10.0])
    >>> scaler.transform(X_train)[0].tolist()
    [[-1.0, 1.0], [-1.0, 1.0]]
    """

    _parameter_constraints: dict = {"with_mean": ["boolean"], "with_std": ["boolean"]}

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def fit(self, X, y=None):
        """Learn the per-channel mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Training series.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        X, _ = check_series(X)
        values = X.astype(np.float64)
        n_channels = X.shape[1]
        self.mean_ = np.nanmean(values, axis=(0, 2)) if self.with_mean else np.zeros(n_channels)
        self.scale_ = (
            _safe_scale(np.nanstd(values, axis=(0, 2))).astype(np.float64) if self.with_std else np.ones(n_channels)
        )
        self.n_channels_in_ = n_channels
        return self

    def transform(self, X):
        """Standardise series with the learned statistics.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series with the channel count seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_series, n_channels, length), dtype float32
            Standardised series, NaN right-padded.
        """
        check_is_fitted(self, "mean_")
        X, _ = check_series(X)
        if X.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[1]} channel(s), but ChannelScaler was fitted with {self.n_channels_in_} channel(s)."
            )
        mean = self.mean_[np.newaxis, :, np.newaxis]
        scale = self.scale_[np.newaxis, :, np.newaxis]
        return ((X.astype(np.float64) - mean) / scale).astype(np.float32)

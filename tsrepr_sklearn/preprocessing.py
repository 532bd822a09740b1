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
Their statistics and the scaling are computed in float64 from the values as
given (float32 would lose, e.g., a signal of amplitude 20 on an offset of
1e8), block by block for memory maps and very large arrays; the result is
float32, as all the library's series. A series or channel is constant when
its variance is below the rounding error bound relative to its mean, as
scikit-learn's ``StandardScaler`` decides: it is only centred, not divided.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing._data import _handle_zeros_in_scale, _is_constant_feature
from sklearn.utils.validation import check_array, check_is_fitted

from .streaming import series_blocks
from .validation import CHUNK_BYTES, as_series_container, check_series

__all__ = ["ChannelScaler", "znormalize"]


def _series_values(X):
    """Validate series with :func:`check_series` and return their values at the input's own precision.

    ``check_series`` returns float32; statistics computed from it would lose
    what float32 cannot hold (a signal of amplitude 20 on an offset of 1e8
    becomes steps of 8). The values are therefore taken from ``X`` itself,
    without a float32 cast, and read in float64 block by block
    (:func:`_float64_blocks`).

    Parameters
    ----------
    X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
        Series, in any form the estimators accept.

    Returns
    -------
    values : ndarray of shape (n_series, n_channels, length)
        The series, NaN right-padded, of any real dtype: a numeric array
        (a memory map included) is returned as it is, not copied; other
        inputs (lists, DataFrames, ...) are converted to float64.
    lengths : ndarray of int64 of shape (n_series,)
        Number of valid time steps of every series.
    """
    X = as_series_container(X)  # as check_series reads it; series of different lengths padded in float64
    validated, lengths = check_series(X)  # every error of the series is raised here
    shape = validated.shape
    del validated
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim in (2, 3):
        return X.reshape(shape), lengths  # a view: memory maps stay on disk
    values = check_array(X, dtype=np.float64, allow_nd=True, ensure_all_finite=False, ensure_min_features=1)
    return values.reshape(shape), lengths


def _float64_blocks(values):
    """Yield ``(begin, block)``: consecutive series of ``values`` as float64 blocks of about ``CHUNK_BYTES``.

    Every block is a copy (the caller may change it in place). A memory map
    is read through once per call, its pages released as it is read (see
    :func:`~tsrepr_sklearn.streaming.series_blocks`); no float64 copy of the
    whole collection is made.
    """
    return series_blocks(values, CHUNK_BYTES, dtype=np.float64)


def _scale(var, mean, n_values):
    """Standard deviations, 1 where the values are constant to the precision of float64.

    scikit-learn's ``StandardScaler`` rule: a variance below the rounding
    error bound of its computation, relative to the mean (``n * eps * var +
    (n * mean * eps) ** 2``), is a constant; an absolute threshold would call
    a series of amplitude 1e-9 constant.
    """
    constant = _is_constant_feature(var, mean, n_values)
    return _handle_zeros_in_scale(np.sqrt(var), copy=False, constant_mask=constant)


def znormalize(X):
    """Z-normalise every series, channel by channel, with its own mean and standard deviation.

    Statistics use the valid time steps only and are computed in float64
    from the values as given (before the float32 cast of the result); NaN
    right padding is kept. A series that is constant (to the precision of
    float64, relative to its mean, as ``StandardScaler`` decides) is only
    centred: it becomes 0.

    Parameters
    ----------
    X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
        Series, in any form the estimators accept. A memory map is read
        block by block.

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
    array([-1.2247449,  0.       ,  1.2247449], dtype=float32)
    >>> Z[1, 0]
    array([0., 0., 0.], dtype=float32)
    """
    values, lengths = _series_values(X)
    out = np.empty(values.shape, dtype=np.float32)
    for begin, block in _float64_blocks(values):
        end = begin + block.shape[0]
        mean = np.nanmean(block, axis=2, keepdims=True)
        var = np.nanvar(block, axis=2, keepdims=True)
        block -= mean
        block /= _scale(var, mean, lengths[begin:end, np.newaxis, np.newaxis])
        out[begin:end] = block
    return out


class ChannelScaler(TransformerMixin, BaseEstimator):
    """Standardise each channel with a mean and a standard deviation learned on training series.

    ``fit`` computes, for every channel, the mean and standard deviation of
    all valid time steps of all training series (NaN padding ignored);
    ``transform`` subtracts the mean and divides by the standard deviation
    (1 for a constant channel, by ``StandardScaler``'s relative rule). Both
    compute in float64 from the values as given; the result is float32.
    This is the per-channel normalisation of the original code's UEA
    experiments, with statistics from the training set only.

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
        values, lengths = _series_values(X)
        n_channels, n_values = values.shape[1], int(lengths.sum())  # every channel has the series' valid steps
        # Two passes in float64 (the corrected two-pass algorithm, whose rounding error bound
        # StandardScaler's constant test is based on), block by block: no float64 copy of X.
        total = np.zeros(n_channels)
        for _, block in _float64_blocks(values):
            total += np.nansum(block, axis=(0, 2))
        mean = total / n_values
        squares, deviations = np.zeros(n_channels), np.zeros(n_channels)
        for _, block in _float64_blocks(values):
            block -= mean[:, np.newaxis]
            deviations += np.nansum(block, axis=(0, 2))
            squares += np.nansum(block * block, axis=(0, 2))
        var = np.maximum((squares - deviations**2 / n_values) / n_values, 0.0)
        self.mean_ = mean if self.with_mean else np.zeros(n_channels)
        self.scale_ = _scale(var, mean, n_values) if self.with_std else np.ones(n_channels)
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
        values, _ = _series_values(X)
        if values.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {values.shape[1]} channel(s), but ChannelScaler was fitted with {self.n_channels_in_} "
                "channel(s)."
            )
        mean = np.asarray(self.mean_, dtype=np.float64)[:, np.newaxis]
        scale = np.asarray(self.scale_, dtype=np.float64)[:, np.newaxis]
        out = np.empty(values.shape, dtype=np.float32)
        for begin, block in _float64_blocks(values):
            block -= mean
            block /= scale
            out[begin : begin + block.shape[0]] = block
        return out

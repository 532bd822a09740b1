"""Input validation: every accepted form of X and y, and every input error.

Series reach the estimators as one of

* a 2-D array ``(n_series, length)``: univariate series (what scikit-learn
  utilities and Pipelines pass);
* a 3-D array ``(n_series, n_channels, length)`` (the aeon/sktime convention);
* a list of 1-D ``(length,)`` or 2-D ``(n_channels, length)`` arrays of
  possibly different lengths (or a 1-D object array or pandas Series of
  them);
* a pandas DataFrame (the 2-D case).

Series of unequal length are right-padded with NaN. :func:`check_series`
turns all of these into a float32 array ``(n_series, n_channels, length)``
and the valid length of every series, and raises a ``ValueError`` or
``TypeError`` naming the problem (and the offending series) otherwise.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from .streaming import is_large, series_blocks

__all__ = ["check_series", "check_labels", "check_two_classes", "is_regression_target", "unlabeled_mask"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Bytes of series validated at a time for memory maps and very large arrays.
CHUNK_BYTES = 16 << 20


def _pad_ragged(X):
    series = []
    for i, item in enumerate(X):
        try:
            array = np.asarray(item)
        except ValueError as exc:
            raise ValueError(f"series {i} of X is not a regular array: {exc}") from None
        if array.ndim == 1:
            array = array[np.newaxis, :]
        if array.ndim != 2:
            raise ValueError(
                f"series {i} of X has {array.ndim} dimensions; each series must be 1-D (length,) "
                "or 2-D (n_channels, length)"
            )
        series.append(array)
    if not series:
        raise ValueError("X is empty: at least one series is required.")
    channels = {s.shape[0] for s in series}
    if len(channels) > 1:
        raise ValueError(f"the series of X have different numbers of channels: {sorted(channels)}")
    dtype = np.result_type(*[s.dtype for s in series])
    if dtype.kind not in "biuf":
        if dtype.kind == "c":
            raise ValueError("Complex data not supported; X must hold real numbers.")
        dtype = np.float64
    padded = np.full((len(series), series[0].shape[0], max(s.shape[1] for s in series)), np.nan, dtype=np.float64)
    for i, s in enumerate(series):
        try:
            padded[i, :, : s.shape[1]] = s
        except (TypeError, ValueError) as exc:
            raise TypeError(f"series {i} of X is not numeric: {exc}") from None
    return padded


def as_series_container(X, name="X"):
    """``X`` in a form ``check_array`` takes: collections of series of different lengths padded (float64).

    A 1-D object array or pandas Series holding one array per series is
    read as a list of series; a list of series of different shapes is
    NaN right-padded by :func:`_pad_ragged`. Anything else is returned as
    it is.
    """
    if getattr(X, "ndim", None) == 1 and getattr(X, "dtype", None) == object:
        X = list(X)
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(f"{name} is empty: at least one series is required.")
    return _pad_ragged(X) if _is_ragged(X) else X


def _is_ragged(X):
    """Whether X is a list of series of different shapes (or of irregular series)."""
    if not isinstance(X, (list, tuple)) or not X:
        return False
    try:
        return len({np.shape(item) for item in X}) > 1
    except ValueError:  # an item is itself ragged: _pad_ragged names it
        return True


def check_series(X, *, name="X"):
    """Validate series and return them as float32, channels first, with lengths.

    Parameters
    ----------
    X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
        Series, NaN right-padded where lengths differ; see the module
        docstring for every accepted form. Any real dtype.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    X : ndarray of shape (n_series, n_channels, length), dtype float32
        The series; trailing padding is NaN. A ``numpy.memmap`` or a float
        array of more than 1 GiB is validated in chunks and returned as it
        is, not copied (see :mod:`tsrepr_sklearn.streaming`); its dtype may
        then be float64, converted batch by batch later.
    lengths : ndarray of int64 of shape (n_series,)
        Number of valid time steps of every series (at least 1).

    Raises
    ------
    ValueError
        For empty input (no series, no channel or no time step), arrays of 1
        or more than 3 dimensions, infinite values (naming the series),
        values beyond the float32 range, NaN inside a series (as
        opposed to trailing padding), a series without valid values, complex
        numbers, and series of different channel counts.
    TypeError
        For non-numeric values.

    Examples
    --------
    >>> import numpy as np
    >>> X, lengths = check_series([np.arange(3.0), np.arange(5.0)])
    >>> X.shape, lengths.tolist()
    ((2, 1, 5), [3, 5])
    """
    if is_large(X):
        return _check_large(X, name)
    X = as_series_container(X, name)
    try:
        X = check_array(
            X,
            dtype="numeric",
            allow_nd=True,
            ensure_all_finite=False,  # NaN and infinity are checked series by series, which the errors name
            input_name=name,
            ensure_min_features=1,
            copy=False,
        )
    except TypeError:
        raise
    except ValueError as exc:
        if any(text in str(exc) for text in ("could not convert", "argument must be", "bytes/strings")):
            raise TypeError(f"{name} must hold real numbers: {exc}") from None
        raise
    if X.ndim > 3:
        raise ValueError(
            f"{name} has {X.ndim} dimensions; expected 2-D (n_series, length) or 3-D "
            "(n_series, n_channels, length)."
        )
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    _check_not_empty(X, name)
    lengths = _valid_lengths(X, name)
    return X.astype(np.float32, copy=False), lengths


def _check_not_empty(X, name):
    """Series of a 3-D array need at least one channel and one time step."""
    if X.shape[1] == 0:
        raise ValueError(f"{name} holds series of 0 channels; every series needs at least one channel.")
    if X.shape[2] == 0:
        raise ValueError(f"{name} holds series of length 0; every series needs at least one value.")


def _valid_lengths(X, name, offset=0):
    """Valid length of every series of a 3-D float block; every value error of series is raised here.

    ``offset`` is the index of the block's first series in the whole collection (for messages).
    """
    observed = ~np.isnan(X)
    if np.isinf(X).any():
        bad = int(np.flatnonzero(np.isinf(X).any(axis=(1, 2)))[0]) + offset
        raise ValueError(f"{name} contains infinity (series {bad}); only finite values and NaN padding are allowed.")
    magnitude = float(np.abs(np.where(observed, X, 0)).max()) if X.size else 0.0  # float: no float16 overflow
    if magnitude > _FLOAT32_MAX:
        raise ValueError(f"{name} holds values of magnitude {magnitude:.3g}, beyond the float32 range.")
    step_observed = observed.any(axis=1)  # (n_series, length)
    has_values = step_observed.any(axis=1)
    if not has_values.all():
        bad = int(np.flatnonzero(~has_values)[0]) + offset
        raise ValueError(f"series {bad} of {name} has no valid value (all NaN).")
    length = X.shape[2]
    lengths = (length - np.argmax(step_observed[:, ::-1], axis=1)).astype(np.int64)
    inside = np.arange(length) < lengths[:, np.newaxis]
    holes = ~observed & inside[:, np.newaxis, :]
    if holes.any():
        series, channel, step = (int(v[0]) for v in np.nonzero(holes))
        raise ValueError(
            f"series {series + offset} of {name} has a NaN inside it (channel {channel}, time step {step}); "
            "NaN is only allowed as right padding after the end of a series. Impute missing values first."
        )
    return lengths


def _check_large(X, name):
    """Validate a memory map or a very large array chunk by chunk, without copying it."""
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    _check_not_empty(X, name)
    lengths = np.empty(X.shape[0], dtype=np.int64)
    for begin, block in series_blocks(X, CHUNK_BYTES):
        lengths[begin : begin + block.shape[0]] = _valid_lengths(block, name, offset=begin)
    return X, lengths


def check_labels(y, n_series):
    """Validate classification labels.

    Parameters
    ----------
    y : array-like of shape (n_series,)
        Labels of any type (numbers, strings, ...).
    n_series : int
        Number of series they label.

    Returns
    -------
    ndarray of shape (n_series,)
        The labels as a 1-D array.

    Raises
    ------
    ValueError
        If ``y`` is missing, of the wrong length, holds NaN, or is not a
        classification target.

    Examples
    --------
    >>> from tsrepr_sklearn.validation import check_labels
    >>> check_labels(["a", "b", "a"], n_series=3)
    array(['a', 'b', 'a'], dtype='<U1')
    >>> check_labels([0, 1], n_series=3)
    Traceback (most recent call last):
        ...
    ValueError: X has 3 series but y has 2 labels.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None.")
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_series:
        raise ValueError(f"X has {n_series} series but y has {y.shape[0]} labels.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"y holds NaN labels (first at index {int(np.flatnonzero(np.isnan(y))[0])}).")
    if y.dtype.kind == "O":
        nan = [i for i, v in enumerate(y) if isinstance(v, numbers.Real) and v != v]
        if nan:
            raise ValueError(f"y holds NaN labels (first at index {nan[0]}).")
    check_classification_targets(y)
    return y


def unlabeled_mask(y):
    """Rows labeled -1, scikit-learn's semi-supervised convention for "unlabeled".

    Only the number -1 counts (integers, floats, or the integer -1 in an
    object array); the string ``"-1"`` is a label like any other.

    Parameters
    ----------
    y : ndarray of shape (n_series,)
        Labels, as returned by :func:`check_labels`.

    Returns
    -------
    ndarray of bool of shape (n_series,)
        True where the series is unlabeled.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.validation import unlabeled_mask
    >>> unlabeled_mask(np.array([1, -1, 2])).tolist()
    [False, True, False]
    >>> unlabeled_mask(np.array([-1, "b", 2.5], dtype=object)).tolist()
    [True, False, False]
    >>> unlabeled_mask(np.array(["a", "-1"])).tolist()
    [False, False]
    """
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind == "O":
        return np.array([isinstance(v, numbers.Real) and not isinstance(v, bool) and v == -1 for v in y], dtype=bool)
    return np.zeros(y.shape[0], dtype=bool)


def check_two_classes(y):
    """Check that the labeled series (those not labeled -1) hold at least two classes.

    Parameters
    ----------
    y : ndarray of shape (n_series,)
        Labels, as returned by :func:`check_labels`.

    Raises
    ------
    ValueError
        If fewer than two classes remain once the unlabeled rows are set aside.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.validation import check_two_classes
    >>> check_two_classes(np.array([0, 1, -1]))
    >>> check_two_classes(np.array([1, -1, 1]))
    Traceback (most recent call last):
        ...
    ValueError: The classifier needs samples of at least 2 classes in the labeled data; got 1 class(es): [1] (rows labeled -1 are unlabeled).
    """
    labeled = ~unlabeled_mask(y)
    classes = np.unique(y[labeled])
    if classes.shape[0] < 2:
        raise ValueError(
            f"The classifier needs samples of at least 2 classes in the labeled data; got "
            f"{classes.shape[0]} class(es): {classes.tolist()}"
            + (" (rows labeled -1 are unlabeled)." if not labeled.all() else ".")
        )


def is_regression_target(y):
    """Whether ``y`` is a regression or multi-output target rather than classification labels.

    Such a target reaches an estimator's ``fit_transform`` when it is a
    Pipeline step before a regressor or a multi-output model.

    Parameters
    ----------
    y : array-like
        A target.

    Returns
    -------
    bool
        True for scikit-learn's target types ``continuous``,
        ``continuous-multioutput``, ``multiclass-multioutput`` and
        ``multilabel-indicator``.

    Examples
    --------
    >>> from tsrepr_sklearn.validation import is_regression_target
    >>> is_regression_target([0.5, 1.7, 2.2]), is_regression_target(["a", "b"]), is_regression_target([[0, 1], [1, 1]])
    (True, False, True)
    """
    try:
        with np.errstate(invalid="ignore"):
            kind = type_of_target(y, input_name="y")
    except ValueError:  # NaN, ragged or empty targets: check_labels says what is wrong with them
        return False
    return kind in ("continuous", "continuous-multioutput", "multiclass-multioutput", "multilabel-indicator")

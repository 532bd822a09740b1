"""Readers for common time series classification file formats.

All readers return the collection ``X`` as a ``float32`` array of shape
``(n_series, n_channels, length)``.  Series shorter than ``length`` are padded
on the right with ``NaN``; missing values inside a series are ``NaN`` too.

Errors in a file raise :class:`ValueError` whose message starts with
``"<path>, line <n>: "`` (1-based line number) whenever the problem can be
tied to a line.
"""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["read_npy", "read_ts", "read_ucr_tsv"]

_MISSING = "?"
_TRUE_FALSE = {"true": True, "false": False}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _check_exists(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "No such file", os.fspath(path))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
    return p


def _line_error(path: str | os.PathLike, lineno: int, problem: str) -> ValueError:
    return ValueError(f"{os.fspath(path)}, line {lineno}: {problem}")


def _read_lines(path: str | os.PathLike) -> list[str]:
    """Read a text file as UTF-8 and split it into lines (any newline style)."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = data[: exc.start].count(b"\n") + 1
        raise _line_error(path, lineno, "file is not valid UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _parse_values(
    fields: Sequence[str], path: str | os.PathLike, lineno: int, where: str
) -> np.ndarray:
    """Convert text fields to float64; ``?`` and ``NaN`` become NaN.

    ``where`` (e.g. ``"channel 2"``) is used in error messages together with
    the 1-based position of the offending value.
    """
    try:
        return np.array([float(v) for v in fields], dtype=np.float64)
    except ValueError:
        pass
    out = np.empty(len(fields), dtype=np.float64)
    for i, raw in enumerate(fields):
        v = raw.strip()
        if v == _MISSING:
            out[i] = np.nan
            continue
        if not v:
            raise _line_error(path, lineno, f"empty value in {where} at position {i + 1}")
        try:
            out[i] = float(v)
        except ValueError:
            raise _line_error(
                path, lineno, f"non-numeric value {v!r} in {where} at position {i + 1}"
            ) from None
    return out


def _stack_padded(cases: list[list[np.ndarray]], dtype=np.float32) -> np.ndarray:
    """Stack ``cases[i][c]`` 1-D arrays into a NaN right-padded array of ``dtype``."""
    n = len(cases)
    n_channels = len(cases[0]) if n else 0
    length = max((len(ch) for case in cases for ch in case), default=0)
    X = np.full((n, n_channels, length), np.nan, dtype=dtype)
    for i, case in enumerate(cases):
        for c, ch in enumerate(case):
            X[i, c, : len(ch)] = ch
    return X


# --------------------------------------------------------------------------
# .ts (sktime / UEA)
# --------------------------------------------------------------------------
def _parse_bool(value: str, tag: str, path, lineno: int) -> bool:
    token = value.split()[0].lower() if value.split() else ""
    if token not in _TRUE_FALSE:
        raise _line_error(
            path, lineno, f"@{tag} expects 'true' or 'false', got {value.strip()!r}"
        )
    return _TRUE_FALSE[token]


def _parse_positive_int(value: str, tag: str, path, lineno: int) -> int:
    try:
        out = int(value.strip())
    except ValueError:
        out = 0
    if out <= 0:
        raise _line_error(
            path, lineno, f"@{tag} expects a positive integer, got {value.strip()!r}"
        )
    return out


def read_ts(path: str | os.PathLike, *, dtype=np.float32) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a time series collection in the sktime/UEA ``.ts`` text format.

    The file starts with header lines beginning with ``@`` (``@problemName``,
    ``@timeStamps``, ``@missing``, ``@univariate``, ``@dimensions``,
    ``@equalLength``, ``@seriesLength``, ``@classLabel`` or ``@targetLabel``)
    and ends with ``@data`` followed by one line per series.  On a data line
    channels are separated by ``:`` and values by ``,``; when
    ``@classLabel true`` (or ``@targetLabel true``) the last ``:``-separated
    field is the label.  ``?`` marks a missing value.  Lines starting with
    ``#`` and blank lines are ignored, tag names are case-insensitive, and
    unknown tags are ignored.

    Parameters
    ----------
    path : str or path-like
        Path of the ``.ts`` file.
    dtype : numpy float dtype, default=numpy.float32
        dtype of ``X``; ``numpy.float64`` keeps the file's precision (the
        command line reads so, then normalises).

    Returns
    -------
    X : ndarray of shape (n_series, n_channels, length), dtype ``dtype``
        The series.  ``length`` is the longest series length; shorter series
        (and shorter channels) are right-padded with NaN.  Missing values
        (``?``) are NaN.
    y : ndarray of shape (n_series,) or None
        Class labels as a unicode string array, exactly as written in the
        file, when ``@classLabel true``; float64 regression targets when
        ``@targetLabel true``; otherwise None.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is malformed.  The message names the file, the 1-based
        line number and the problem (for example a wrong number of channels,
        a non-numeric value, a label not declared in ``@classLabel``, or a
        missing ``@data`` line).  Files with ``@timeStamps true`` are not
        supported and raise ValueError as well.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> from tsrepr_sklearn.datasets import read_ts
    >>> text = '''@problemName Toy
    ... @univariate false
    ... @dimensions 2
    ... @equalLength false
    ... @classLabel true a b
    ... @data
    ... 1,2,3:4,5,6:a
    ... 7,?:8,9:b
    ... '''
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "toy.ts"
    ...     _ = path.write_text(text)
    ...     X, y = read_ts(path)
    >>> X.shape, X.dtype
    ((2, 2, 3), dtype('float32'))
    >>> X[1]
    array([[ 7., nan, nan],
           [ 8.,  9., nan]], dtype=float32)
    >>> y
    array(['a', 'b'], dtype='<U1')
    """
    _check_exists(path)
    lines = _read_lines(path)

    univariate: bool | None = None
    dimensions: int | None = None
    equal_length: bool | None = None
    series_length: int | None = None
    has_class_label = False
    class_labels: set[str] | None = None
    has_target = False
    in_data = False
    last_lineno = 0

    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    first_len: int | None = None  # common length when @equalLength true
    n_channels_seen: int | None = None

    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        last_lineno = lineno

        if line.startswith("@"):
            parts = line[1:].split(maxsplit=1)
            tag = parts[0] if parts else ""
            value = parts[1] if len(parts) > 1 else ""
            tag_l = tag.lower()
            if in_data:
                raise _line_error(path, lineno, f"header tag @{tag} after @data")
            if tag_l == "data":
                in_data = True
            elif tag_l == "timestamps":
                if _parse_bool(value, tag, path, lineno):
                    raise _line_error(
                        path,
                        lineno,
                        "@timeStamps true (time-stamped data) is not supported",
                    )
            elif tag_l == "missing":
                _parse_bool(value, tag, path, lineno)
            elif tag_l == "univariate":
                univariate = _parse_bool(value, tag, path, lineno)
            elif tag_l in ("dimension", "dimensions"):
                dimensions = _parse_positive_int(value, tag, path, lineno)
            elif tag_l == "equallength":
                equal_length = _parse_bool(value, tag, path, lineno)
            elif tag_l == "serieslength":
                series_length = _parse_positive_int(value, tag, path, lineno)
            elif tag_l == "classlabel":
                tokens = value.split()
                has_class_label = _parse_bool(value, tag, path, lineno)
                if has_class_label:
                    if len(tokens) < 2:
                        raise _line_error(
                            path, lineno, "@classLabel true must list the class labels"
                        )
                    class_labels = set(tokens[1:])
                elif len(tokens) > 1:
                    raise _line_error(
                        path, lineno, "@classLabel false must not list class labels"
                    )
            elif tag_l == "targetlabel":
                has_target = _parse_bool(value, tag, path, lineno)
            # @problemName and unknown tags are ignored.
            continue

        if not in_data:
            raise _line_error(path, lineno, "data line before the @data tag")

        # ---- data line ----------------------------------------------------
        if has_class_label and has_target:
            raise _line_error(
                path, lineno, "both @classLabel true and @targetLabel true are set"
            )
        if univariate and dimensions is not None and dimensions != 1:
            raise _line_error(
                path, lineno, f"@univariate true contradicts @dimensions {dimensions}"
            )
        body = line
        if has_class_label or has_target:
            body, sep, label = line.rpartition(":")
            label = label.strip()
            if not sep:
                raise _line_error(path, lineno, "missing label (expected '...:label')")
            if not label:
                raise _line_error(path, lineno, "empty label")
            if has_class_label:
                if class_labels is not None and label not in class_labels:
                    declared = " ".join(sorted(class_labels))
                    raise _line_error(
                        path,
                        lineno,
                        f"label {label!r} is not in the declared @classLabel set "
                        f"({declared})",
                    )
                labels.append(label)
            else:
                labels.append(label)  # converted to float below
                try:
                    float(label)
                except ValueError:
                    raise _line_error(
                        path, lineno, f"non-numeric target value {label!r}"
                    ) from None

        channels = body.split(":")
        n_ch = len(channels)
        expected = 1 if univariate else dimensions
        if expected is None:
            expected = n_channels_seen
        if expected is not None and n_ch != expected:
            raise _line_error(
                path, lineno, f"wrong number of channels: expected {expected}, got {n_ch}"
            )
        n_channels_seen = n_ch

        case = []
        for c, text in enumerate(channels, start=1):
            if not text.strip():
                raise _line_error(path, lineno, f"channel {c} is empty")
            values = _parse_values(text.split(","), path, lineno, f"channel {c}")
            if equal_length:
                if series_length is not None and len(values) != series_length:
                    raise _line_error(
                        path,
                        lineno,
                        f"channel {c} has {len(values)} values but @seriesLength "
                        f"is {series_length}",
                    )
                if first_len is None:
                    first_len = len(values)
                elif len(values) != first_len:
                    raise _line_error(
                        path,
                        lineno,
                        f"channel {c} has {len(values)} values but @equalLength true "
                        f"and earlier series have {first_len}",
                    )
            case.append(values)
        cases.append(case)

    if not in_data:
        raise _line_error(
            path, max(last_lineno, 1), "no @data line found (end of header missing)"
        )
    if not cases:
        raise _line_error(path, max(last_lineno, 1), "no data lines after @data")

    X = _stack_padded(cases, dtype)
    y: np.ndarray | None
    if has_class_label:
        y = np.array(labels, dtype=str)
    elif has_target:
        y = np.array([float(v) for v in labels], dtype=np.float64)
    else:
        y = None
    return X, y


# --------------------------------------------------------------------------
# UCR 2018 .tsv
# --------------------------------------------------------------------------
def read_ucr_tsv(path: str | os.PathLike, *, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Read a univariate dataset in the UCR 2018 archive ``.tsv`` format.

    Each non-blank line holds one series: the class label in the first
    column, then the values, all separated by tabs.  Unequal-length series
    may be padded with ``NaN`` in the file or simply be written on shorter
    lines.  ``?`` is accepted as a missing value as well.

    Parameters
    ----------
    path : str or path-like
        Path of the ``.tsv`` file (e.g. ``GunPoint_TRAIN.tsv``).
    dtype : numpy float dtype, default=numpy.float32
        dtype of ``X``; ``numpy.float64`` keeps the file's precision (the
        command line reads so, then normalises).

    Returns
    -------
    X : ndarray of shape (n_series, 1, length), dtype ``dtype``
        The series, right-padded with NaN to the longest line.
    y : ndarray of shape (n_series,), dtype str
        The labels exactly as written in the file (only surrounding
        whitespace is removed): ``1`` stays ``'1'``, ``1.0`` stays ``'1.0'``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is malformed (empty label, a line without values,
        non-numeric or empty values, no data).  The message names the file
        and the 1-based line number.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> from tsrepr_sklearn.datasets import read_ucr_tsv
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "toy_TRAIN.tsv"
    ...     _ = path.write_text("1\\t0.5\\t1.5\\t2.5\\n2\\t3.0\\t4.0\\n")
    ...     X, y = read_ucr_tsv(path)
    >>> X.shape
    (2, 1, 3)
    >>> X[1, 0]
    array([ 3.,  4., nan], dtype=float32)
    >>> y
    array(['1', '2'], dtype='<U1')
    """
    _check_exists(path)
    lines = _read_lines(path)
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    last_lineno = 0
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        last_lineno = lineno
        label, _, rest = line.partition("\t")
        label = label.strip()
        if not label:
            raise _line_error(path, lineno, "empty class label in column 1")
        if not rest.strip():
            hint = " (is the file tab-separated?)" if ("," in label or " " in label) else ""
            raise _line_error(path, lineno, f"no values after the label{hint}")
        fields = rest.split("\t")
        try:
            values = np.array([float(v) for v in fields], dtype=np.float64)
        except ValueError:
            values = np.empty(len(fields), dtype=np.float64)
            for i, f in enumerate(fields):
                v = f.strip()
                col = i + 2
                if v == _MISSING:
                    values[i] = np.nan
                elif not v:
                    raise _line_error(path, lineno, f"empty value in column {col}") from None
                else:
                    try:
                        values[i] = float(v)
                    except ValueError:
                        raise _line_error(
                            path, lineno, f"non-numeric value {v!r} in column {col}"
                        ) from None
        cases.append([values])
        labels.append(label)
    if not cases:
        raise _line_error(path, max(last_lineno, 1), "file contains no data lines")
    return _stack_padded(cases, dtype), np.array(labels, dtype=str)


# --------------------------------------------------------------------------
# .npy / .npz
# --------------------------------------------------------------------------
def _as_collection(arr: np.ndarray, path, key: str, dtype=np.float32) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{os.fspath(path)}: array {key!r} has non-numeric dtype {arr.dtype}"
        )
    if arr.ndim == 2:
        arr = arr[:, np.newaxis, :]
    elif arr.ndim != 3:
        raise ValueError(
            f"{os.fspath(path)}: array {key!r} must be 2-D (n_series, length) or "
            f"3-D (n_series, n_channels, length), got shape {arr.shape}"
        )
    return np.ascontiguousarray(arr, dtype=dtype)


def read_npy(
    path: str | os.PathLike, *, dtype=np.float32
) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
    """Read a time series collection stored with NumPy.

    Files are always loaded with ``allow_pickle=False``, so object arrays are
    rejected.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file holding ``X``, or a ``.npz`` archive holding ``X``
        and optionally ``y``.  A ``.npz`` without ``X`` may instead hold
        ``X_train`` and optionally ``y_train`` (as the bundled datasets do).
    dtype : numpy float dtype, default=numpy.float32
        dtype of ``X``; ``numpy.float64`` keeps the file's precision (the
        command line reads so, then normalises).

    Returns
    -------
    X : ndarray of shape (n_series, n_channels, length), dtype ``dtype``
        For a ``.npy`` file only ``X`` is returned.  A 2-D array
        ``(n_series, length)`` is read as univariate ``(n_series, 1, length)``.
    y : ndarray of shape (n_series,) or None
        Only for ``.npz``: the labels as stored, or None when absent.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the extension is not ``.npy``/``.npz``, the file cannot be read
        without pickle, an expected key is missing, or the arrays have the
        wrong shape or dtype.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> import numpy as np
    >>> from tsrepr_sklearn.datasets import read_npy
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "toy.npz"
    ...     np.savez(path, X=np.zeros((3, 2, 5)), y=np.array(["a", "b", "a"]))
    ...     X, y = read_npy(path)
    >>> X.shape, X.dtype, y.tolist()
    ((3, 2, 5), dtype('float32'), ['a', 'b', 'a'])
    """
    p = _check_exists(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise ValueError(
            f"{os.fspath(path)}: unsupported extension {p.suffix!r}; "
            "expected '.npy' or '.npz'"
        )
    try:
        loaded = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot read NumPy file: {exc}") from exc

    if suffix == ".npy":
        if not isinstance(loaded, np.ndarray):
            loaded.close()
            raise ValueError(f"{os.fspath(path)}: expected a single array in a .npy file")
        return _as_collection(loaded, path, "X", dtype)

    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError(f"{os.fspath(path)}: expected a .npz archive")
    with loaded as npz:
        keys = set(npz.files)
        if "X" in keys:
            x_key, y_key = "X", "y"
        elif "X_train" in keys:
            x_key, y_key = "X_train", "y_train"
        else:
            raise ValueError(
                f"{os.fspath(path)}: no array 'X' or 'X_train' in archive "
                f"(found: {', '.join(sorted(keys)) or 'nothing'})"
            )
        try:
            X = _as_collection(npz[x_key], path, x_key, dtype)
            y = np.asarray(npz[y_key]) if y_key in keys else None
        except ValueError as exc:
            if os.fspath(path) in str(exc):
                raise
            raise ValueError(f"{os.fspath(path)}: cannot read NumPy file: {exc}") from exc
    if y is not None and (y.ndim != 1 or len(y) != len(X)):
        raise ValueError(
            f"{os.fspath(path)}: {y_key!r} must have shape ({len(X)},), got {y.shape}"
        )
    return X, y

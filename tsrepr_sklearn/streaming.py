"""Data larger than memory: memory-mapped or very large arrays are read piece by piece, never copied whole.

Three pieces, used by validation, training and encoding:

- :func:`is_large` decides when an array is handled this way (any
  ``numpy.memmap``, or an in-memory float array of more than 1 GiB);
- :class:`PageReleaser` keeps the resident memory of a read-only memory map
  bounded while it is read through (the pages read are dropped from this
  process; they stay in the operating system's file cache);
- :class:`StepWindows` builds each training step's data from only the
  subseries that the step's triplets use.
"""

from __future__ import annotations

import mmap

import numpy as np
import torch

from .sampling import TripletGeometry

__all__ = ["PageReleaser", "StepWindows", "is_large", "series_blocks"]

#: In-memory arrays above this size are validated in chunks and streamed in training.
LARGE_BYTES = 1 << 30
#: A memory map's pages are dropped after about this many bytes have been read from it.
RELEASE_EVERY_BYTES = 64 << 20


def is_large(X):
    """Whether ``X`` is handled piece by piece: a ``numpy.memmap``, or a float array of more than 1 GiB.

    Parameters
    ----------
    X : object
        Input collection.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.streaming import is_large
    >>> is_large(np.zeros((10, 1, 100)))
    False
    """
    return (
        isinstance(X, np.ndarray)
        and X.dtype.kind == "f"
        and X.ndim in (2, 3)
        and (isinstance(X, np.memmap) or X.nbytes > LARGE_BYTES)
    )


class PageReleaser:
    """Drops the pages of a read-only (or shared) memory map from this process after every ~64 MiB read.

    Reading a file through a memory map leaves its pages resident in the
    process (they count in its RSS) until the kernel needs the memory. For
    maps opened with mode ``"r"`` or ``"r+"`` this asks the kernel to drop
    them (``madvise(MADV_DONTNEED)``; the data stays in the file cache and on
    disk). Copy-on-write maps (mode ``"c"``), whose pages may hold changes
    not in the file, and ordinary arrays are left alone.

    Parameters
    ----------
    X : ndarray
        Array being read.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.streaming import PageReleaser
    >>> releaser = PageReleaser(np.zeros(10))  # not a memory map: does nothing
    >>> releaser.read(1 << 30)
    """

    def __init__(self, X):
        handle = getattr(X, "_mmap", None)
        mode = getattr(X, "mode", None)
        usable = isinstance(handle, mmap.mmap) and mode in ("r", "r+") and hasattr(handle, "madvise")
        self._handle = handle if usable else None
        self._pending = 0

    def read(self, nbytes):
        """Account for ``nbytes`` read; release the pages when enough have accumulated.

        Parameters
        ----------
        nbytes : int
            Bytes just read from the array.
        """
        if self._handle is None:
            return
        self._pending += int(nbytes)
        if self._pending >= RELEASE_EVERY_BYTES:
            self.release()

    def release(self):
        """Drop the map's pages from this process now."""
        if self._handle is not None:
            try:
                self._handle.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # a closed map, or a platform without it: only memory is at stake
                self._handle = None
        self._pending = 0


def series_blocks(X, block_bytes, dtype=None):
    """Yield ``(begin, block)``: consecutive series of the 3-D ``X``, about ``block_bytes`` at a time.

    Each block is ``X[begin : begin + n]`` as an ndarray, or a copy in
    ``dtype`` when one is given (``block_bytes`` then counts that dtype's
    bytes). A memory map's pages are released as it is read (see
    :class:`PageReleaser`).

    Parameters
    ----------
    X : ndarray of shape (n_series, n_channels, length)
        Series, a memory map included.
    block_bytes : int
        Approximate size of a block (at least one series).
    dtype : numpy dtype or None, default=None
        Copy every block into this dtype; None reads ``X``'s rows as they are.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.streaming import series_blocks
    >>> [(begin, block.shape) for begin, block in series_blocks(np.zeros((5, 2, 4)), block_bytes=128)]
    [(0, (2, 2, 4)), (2, (2, 2, 4)), (4, (1, 2, 4))]
    """
    itemsize = np.dtype(X.dtype if dtype is None else dtype).itemsize
    per_block = max(1, block_bytes // max(1, itemsize * X.shape[1] * X.shape[2]))
    releaser = PageReleaser(X)
    for begin in range(0, X.shape[0], per_block):
        rows = X[begin : begin + per_block]
        yield begin, (np.asarray(rows) if dtype is None else np.array(rows, dtype=dtype))
        releaser.read(rows.nbytes)
    releaser.release()


class StepWindows:
    """Training data read step by step: only the subseries of the step's triplets are copied.

    ``prepare(geometry)`` returns a small tensor holding, on its own row, the
    anchor of every batch element (its positive lies inside it) and every
    negative, zero-padded to the longest of them, and the geometry of the same
    subseries in that tensor. The loss computed from them is the loss that the
    whole data set on the device would give.

    Parameters
    ----------
    X : ndarray of shape (n_series, n_channels, length)
        NaN right-padded series; may be a ``numpy.memmap``.
    device : torch.device
        Where the step's tensor goes.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from tsrepr_sklearn.sampling import sample_triplets
    >>> from tsrepr_sklearn.streaming import StepWindows
    >>> X = np.arange(60, dtype=np.float32).reshape(6, 1, 10)
    >>> geometry = sample_triplets(np.random.default_rng(0), np.array([0, 1]), np.full(6, 10), 2, 4, False)
    >>> data, local = StepWindows(X, torch.device("cpu")).prepare(geometry)
    >>> data.shape[:2], data.shape[2] <= 4  # 2 anchors and 2 x 2 negatives, each at most 4 steps long
    (torch.Size([6, 1]), True)
    >>> local.anchor_series.tolist(), local.anchor_start.tolist()
    ([0, 1], [0, 0])
    """

    def __init__(self, X, device):
        self.X = X
        self.device = device
        self._releaser = PageReleaser(X)

    def prepare(self, geometry):
        """The step's subseries as a tensor, and their geometry in it.

        Parameters
        ----------
        geometry : TripletGeometry
            Triplets of the step, in the indices of ``X``.

        Returns
        -------
        data : torch.Tensor of shape (n_subseries, n_channels, longest)
            Anchors then negatives, zero padded, on ``device``.
        geometry : TripletGeometry
            The same triplets in the indices of ``data``.
        """
        g = geometry
        batch_size, nb_negatives = g.batch_size, g.nb_random_samples
        if np.any(g.positive_start < g.anchor_start) or np.any(
            g.positive_start + g.positive_length > g.anchor_start + g.anchor_length
        ):
            raise ValueError("every positive must lie inside its anchor")
        series = np.concatenate([g.anchor_series, g.negative_series.ravel()])
        starts = np.concatenate([g.anchor_start, g.negative_start.ravel()])
        lengths = np.concatenate([g.anchor_length, g.negative_length.ravel()])
        rows = np.zeros((series.shape[0], self.X.shape[1], int(lengths.max())), dtype=np.float32)
        for row in np.argsort(series, kind="stable"):  # file order: sequential reads
            start, length = int(starts[row]), int(lengths[row])
            rows[row, :, :length] = self.X[int(series[row]), :, start : start + length]
        self._releaser.read(rows.nbytes)
        np.nan_to_num(rows, copy=False, nan=0.0)
        local = TripletGeometry(
            anchor_series=np.arange(batch_size),
            anchor_start=np.zeros(batch_size, dtype=np.int64),
            anchor_length=g.anchor_length,
            positive_start=g.positive_start - g.anchor_start,
            positive_length=g.positive_length,
            negative_series=batch_size + np.arange(nb_negatives * batch_size).reshape(nb_negatives, batch_size),
            negative_start=np.zeros((nb_negatives, batch_size), dtype=np.int64),
            negative_length=g.negative_length,
        )
        return torch.from_numpy(rows).to(self.device), local

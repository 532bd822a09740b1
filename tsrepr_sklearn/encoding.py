"""Batched inference: representations of whole series and of sliding windows."""

from __future__ import annotations

import numpy as np
import torch

from .losses import default_call_overhead, plan_groups
from .streaming import PageReleaser

__all__ = ["encode_series", "encode_windows"]

#: Upper bound on series x time steps encoded in one call (bounds activation memory).
DEFAULT_MAX_POSITIONS = 1 << 16


class _ShrinkingCalls:
    """Runs ``function(items)``; after CUDA runs out of memory, retries with half as many items per call.

    The smaller size is kept for the following calls. Running out of memory
    with a single item raises ``torch.cuda.OutOfMemoryError`` with advice.
    """

    def __init__(self, function, device, single_message):
        self.function, self.device, self.single_message = function, device, single_message
        self.cap = None

    def run(self, items):
        size = len(items) if self.cap is None else min(len(items), self.cap)
        begin = 0
        while begin < len(items):
            chunk = items[begin : begin + size]
            try:
                self.function(chunk)
            except torch.cuda.OutOfMemoryError as exc:
                if len(chunk) == 1:
                    raise torch.cuda.OutOfMemoryError(
                        f"{exc}\n{self.single_message}"
                    ) from exc
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                size = self.cap = max(1, len(chunk) // 2)
                continue
            begin += len(chunk)


def _batches(sorted_lengths, call_overhead, max_positions):
    """Split increasing lengths into groups (see plan_groups) of at most ``max_positions`` padded steps."""
    for lo, hi in plan_groups(sorted_lengths, call_overhead):
        longest = int(sorted_lengths[hi - 1])
        size = max(1, max_positions // longest)
        for begin in range(lo, hi, size):
            yield begin, min(hi, begin + size)


@torch.inference_mode()
def encode_series(encoder, X, lengths, device, *, max_positions=DEFAULT_MAX_POSITIONS, dtype=torch.float32):
    """Representations of every series, in few batched encoder calls.

    Series are sorted by length and encoded in right-padded batches of
    similar lengths, each with its valid lengths, so the result equals
    encoding every series on its own. Only the rows of one batch are read from
    ``X`` at a time, so ``X`` may be a memory map.

    Parameters
    ----------
    encoder : torch.nn.Module
        On ``device``, called as ``encoder(batch, lengths)``.
    X : ndarray of shape (n_series, n_channels, length)
        NaN right-padded series.
    lengths : ndarray of int of shape (n_series,)
        Valid length of every series.
    device : torch.device
        Where to compute.
    max_positions : int, default=65536
        At most this many (series x padded time steps) per encoder call.
    dtype : torch.dtype, default=torch.float32
        Computation dtype.

    Returns
    -------
    ndarray of shape (n_series, out_channels), dtype float32
        The representation of every series, in the order of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from tsrepr_sklearn.encoding import encode_series
    >>> from tsrepr_sklearn.networks import CausalCNNEncoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    >>> X = np.random.default_rng(0).normal(size=(3, 1, 10)).astype(np.float32)
    >>> X[1, :, 6:] = np.nan  # series 1 has 6 valid time steps
    >>> lengths = np.array([10, 6, 10])
    >>> features = encode_series(encoder, X, lengths, torch.device("cpu"))
    >>> features.shape, features.dtype
    ((3, 3), dtype('float32'))

    The padding does not change the representation:

    >>> alone = encode_series(encoder, X[1:2, :, :6], lengths[1:2], torch.device("cpu"))
    >>> bool(np.allclose(features[1], alone[0], atol=1e-6))
    True
    """
    encoder.eval()
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = np.asarray(lengths)[order]
    features = None
    lengths = np.asarray(lengths)
    releaser = PageReleaser(X)

    def encode_rows(rows):
        longest = int(lengths[rows].max())
        batch = np.nan_to_num(np.asarray(X[rows, :, :longest], dtype=np.float32), nan=0.0)
        releaser.read(batch.nbytes)
        batch_lengths = lengths[rows]
        equal = bool(batch_lengths.min() == longest)
        result = encoder(
            torch.from_numpy(batch).to(device=device, dtype=dtype),
            None if equal else torch.from_numpy(batch_lengths),
        )
        nonlocal features
        if features is None:
            features = np.empty((len(order), result.shape[1]), dtype=np.float32)
        # copied out at once: holding the torch outputs was measured to keep much more memory alive
        features[rows] = result.float().cpu().numpy()

    calls = _ShrinkingCalls(
        encode_rows,
        device,
        "encoding even one series ran out of CUDA memory: encode long series in windows with encode_window "
        "(or the command line's --window), or use device='cpu'.",
    )
    for begin, end in _batches(sorted_lengths, default_call_overhead(device), max_positions):
        calls.run(np.sort(order[begin:end]))
    return features


@torch.inference_mode()
def encode_windows(encoder, X, lengths, window, stride, device, *, max_positions=DEFAULT_MAX_POSITIONS, dtype=torch.float32):
    """Representations of every sliding window of every series.

    Window ``w`` of series ``i`` is ``X[i, :, w * stride : w * stride + window]``.
    Windows are encoded in batches (at most ``max_positions`` time steps per
    call), never one at a time.

    Parameters
    ----------
    encoder : torch.nn.Module
        On ``device``.
    X : ndarray of shape (n_series, n_channels, length)
        NaN right-padded series.
    lengths : ndarray of int of shape (n_series,)
        Valid length of every series.
    window : int
        Window length, at most the longest series' length.
    stride : int
        Step between window starts.
    device : torch.device
        Where to compute.
    max_positions : int, default=65536
        At most this many time steps per encoder call.
    dtype : torch.dtype, default=torch.float32
        Computation dtype.

    Returns
    -------
    ndarray of shape (n_series, out_channels, n_windows), dtype float32
        ``n_windows = (length - window) // stride + 1`` for the padded length;
        windows that do not fit in a shorter series' valid part are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from tsrepr_sklearn.encoding import encode_windows
    >>> from tsrepr_sklearn.networks import CausalCNNEncoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    >>> X = np.random.default_rng(0).normal(size=(2, 1, 10)).astype(np.float32)
    >>> X[1, :, 6:] = np.nan  # series 1 has 6 valid time steps
    >>> windows = encode_windows(encoder, X, np.array([10, 6]), window=4, stride=2, device=torch.device("cpu"))
    >>> windows.shape  # (10 - 4) // 2 + 1 = 4 windows
    (2, 3, 4)
    >>> np.isnan(windows[1, 0]).tolist()  # only the first 2 windows fit in series 1
    [False, False, True, True]
    """
    encoder.eval()
    n_series, _, length = X.shape
    n_windows = (length - window) // stride + 1
    per_call = max(1, max_positions // window)
    features = None
    for i in range(n_series):
        valid_windows = (int(lengths[i]) - window) // stride + 1 if lengths[i] >= window else 0

        def encode_chunk(indices, i=i):
            nonlocal features
            first, last = int(indices[0]), int(indices[-1])
            # only the time steps of these windows are read: X may be a memory map of a very long series
            part = np.ascontiguousarray(X[i, :, first * stride : last * stride + window], dtype=np.float32)
            # (n_channels, n, window) -> (n, n_channels, window)
            chunk = torch.from_numpy(part).unfold(1, window, stride).permute(1, 0, 2)
            values = encoder(chunk.to(device=device, dtype=dtype)).float().cpu().numpy()
            if features is None:
                features = np.full((n_series, values.shape[1], n_windows), np.nan, dtype=np.float32)
            features[i, :, first : last + 1] = values.T

        calls = _ShrinkingCalls(
            encode_chunk, device, "encoding even one window ran out of CUDA memory: use a shorter window or device='cpu'."
        )
        for begin in range(0, valid_windows, per_call):
            calls.run(np.arange(begin, min(valid_windows, begin + per_call)))
    if features is None:  # no series is as long as the window: that was checked by the caller
        raise ValueError(f"window={window} is longer than every series")
    return features

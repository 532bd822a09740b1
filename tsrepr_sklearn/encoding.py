"""Batched inference: representations of whole series and of sliding windows."""

from __future__ import annotations

import numpy as np
import torch

from .losses import default_call_overhead, plan_groups

__all__ = ["encode_series", "encode_windows"]

#: Upper bound on series x time steps encoded in one call (bounds activation memory).
DEFAULT_MAX_POSITIONS = 1 << 16


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
    """
    encoder.eval()
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = np.asarray(lengths)[order]
    outputs = []
    for begin, end in _batches(sorted_lengths, default_call_overhead(device), max_positions):
        chosen = order[begin:end]
        longest = int(sorted_lengths[end - 1])
        rows = np.sort(chosen)
        batch = np.nan_to_num(np.asarray(X[rows, :, :longest], dtype=np.float32), nan=0.0)
        batch_lengths = np.asarray(lengths)[rows]
        equal = bool(batch_lengths.min() == longest)
        result = encoder(
            torch.from_numpy(batch).to(device=device, dtype=dtype),
            None if equal else torch.from_numpy(batch_lengths),
        )
        outputs.append((rows, result.float().cpu().numpy()))
    features = np.empty((len(order), outputs[0][1].shape[1]), dtype=np.float32)
    for rows, values in outputs:
        features[rows] = values
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
    """
    encoder.eval()
    n_series, _, length = X.shape
    n_windows = (length - window) // stride + 1
    per_call = max(1, max_positions // window)
    features = None
    for i in range(n_series):
        valid_windows = (int(lengths[i]) - window) // stride + 1 if lengths[i] >= window else 0
        series = torch.from_numpy(np.ascontiguousarray(X[i, :, : int(lengths[i])], dtype=np.float32))
        # (n_channels, valid_windows, window) -> (valid_windows, n_channels, window)
        windows = series.unfold(1, window, stride).permute(1, 0, 2) if valid_windows else None
        for begin in range(0, valid_windows, per_call):
            chunk = windows[begin : begin + per_call].to(device=device, dtype=dtype)
            values = encoder(chunk).float().cpu().numpy()
            if features is None:
                features = np.full((n_series, values.shape[1], n_windows), np.nan, dtype=np.float32)
            features[i, :, begin : begin + values.shape[0]] = values.T
    if features is None:  # no series is as long as the window: that was checked by the caller
        raise ValueError(f"window={window} is longer than every series")
    return features

"""The optimisation loop that trains an encoder with the triplet loss."""

from __future__ import annotations

import logging

import numpy as np
import torch
from tqdm.auto import tqdm

from .losses import triplet_loss_backward
from .sampling import sample_triplets

__all__ = ["resolve_device", "train_encoder"]

logger = logging.getLogger(__name__)


def resolve_device(device) -> torch.device:
    """Turn a device specification into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... or a :class:`torch.device`.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the specification is not a device, or names a CUDA device that
        this machine does not have.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device: {exc}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine; "
                "use device='cpu' or device='auto'."
            )
        index = 0 if resolved.index is None else resolved.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but this machine has {torch.cuda.device_count()} CUDA device(s)."
            )
    elif resolved.type != "cpu":
        logger.info("Using torch device %s, which tsrepr-sklearn does not test.", resolved)
    return resolved


def to_device_data(X, device, dtype=torch.float32) -> torch.Tensor:
    """Copy NaN right-padded series to a tensor on ``device``, padding filled with zeros."""
    return torch.from_numpy(np.nan_to_num(np.asarray(X, dtype=np.float32), nan=0.0)).to(device=device, dtype=dtype)


def train_encoder(
    encoder,
    optimizer,
    data,
    lengths,
    *,
    rng,
    nb_steps,
    batch_size,
    nb_random_samples,
    negative_penalty=1.0,
    compared_length=None,
    save_memory=False,
    verbose=0,
):
    """Train ``encoder`` for ``nb_steps`` optimizer steps of the triplet loss.

    As in the original code, an epoch is a pass over the training set in
    shuffled batches of ``batch_size`` (the last one possibly smaller), the
    negatives of each batch come from the whole training set, and training
    stops after exactly ``nb_steps`` optimizer steps, whatever the number of
    epochs this takes.

    Parameters
    ----------
    encoder : torch.nn.Module
        Encoder on the device of ``data``, called as ``encoder(batch, lengths)``.
    optimizer : torch.optim.Optimizer
        Optimizer of the encoder's parameters.
    data : torch.Tensor of shape (n_series, n_channels, length)
        Training set, padding filled with zeros (see :func:`to_device_data`).
    lengths : ndarray of int of shape (n_series,)
        Valid length of every series.
    rng : numpy.random.Generator
        Source of all randomness (shuffling and triplets).
    nb_steps : int
        Number of optimizer steps.
    batch_size : int
        Number of anchors per step.
    nb_random_samples : int
        Number of negatives per anchor.
    negative_penalty : float, default=1.0
        Weight of the negative terms.
    compared_length : int or None, default=None
        Maximum length of the subseries.
    save_memory : bool, default=False
        Backpropagate the loss term by term.
    verbose : int, default=0
        Show a progress bar with the running loss when positive.

    Returns
    -------
    ndarray of float of shape (nb_steps,)
        The loss of every step.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n_series = lengths.shape[0]
    varying = bool(lengths.min() != lengths.max())
    encoder.train()
    losses = []
    with tqdm(total=nb_steps, disable=not verbose, desc="training", unit="step") as progress:
        while len(losses) < nb_steps:
            permutation = rng.permutation(n_series)
            for begin in range(0, n_series, batch_size):
                geometry = sample_triplets(
                    rng, permutation[begin : begin + batch_size], lengths, nb_random_samples, compared_length, varying
                )
                optimizer.zero_grad(set_to_none=True)
                losses.append(triplet_loss_backward(encoder, data, geometry, negative_penalty, save_memory))
                optimizer.step()
                progress.update()
                if verbose and (len(losses) % 10 == 0 or len(losses) == nb_steps):
                    progress.set_postfix(loss=f"{float(torch.stack(losses[-10:]).mean()):.4f}")
                if len(losses) >= nb_steps:
                    break
    encoder.eval()
    if not losses:
        return np.empty(0)
    return torch.stack(losses).cpu().numpy().astype(np.float64)

"""The optimisation loop that trains an encoder with the triplet loss."""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import signal
import threading

import numpy as np
import torch
from tqdm.auto import tqdm

from .losses import triplet_loss_backward
from .sampling import TripletGeometry, sample_triplets
from .streaming import StepWindows

__all__ = ["TrainingDivergedError", "resolve_device", "train_encoder"]

logger = logging.getLogger(__name__)

#: Above this absolute value in the data, a divergence message suggests rescaling the series.
_LARGE_VALUE = 1e3


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite.

    Parameters
    ----------
    message : str
        What happened and what to try.
    history : ndarray of float
        Losses of the optimizer steps that were kept (all finite).

    Attributes
    ----------
    history : ndarray of float
        Losses of the optimizer steps that were kept (all finite).

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.training import TrainingDivergedError
    >>> error = TrainingDivergedError("diverged at step 3", history=np.array([1.5, 1.2]))
    >>> isinstance(error, FloatingPointError), error.history.tolist()
    (True, [1.5, 1.2])
    """

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


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
    first_step=1,
    keep_last_finite=False,
    callback=None,
    process_group=None,
):
    """Train ``encoder`` for ``nb_steps`` optimizer steps of the triplet loss.

    As in the original code, an epoch is a pass over the training set in
    shuffled batches of ``batch_size`` (the last one possibly smaller), the
    negatives of each batch come from the whole training set, and training
    stops after exactly ``nb_steps`` optimizer steps, whatever the number of
    epochs this takes.

    Faults: every step's loss is checked before the optimizer applies it; a
    NaN or infinite loss raises :class:`TrainingDivergedError` (with
    ``keep_last_finite=True`` the encoder and optimizer are first put back to
    their state before the last kept step, the last one whose loss was
    finite with the weights it produced). ``KeyboardInterrupt`` stops
    training cleanly: the steps done so far are kept and returned. CUDA
    running out of memory raises ``torch.cuda.OutOfMemoryError`` with the
    remedies in its message.

    Parameters
    ----------
    encoder : torch.nn.Module
        Encoder on the device of ``data``, called as ``encoder(batch, lengths)``.
    optimizer : torch.optim.Optimizer
        Optimizer of the encoder's parameters.
    data : torch.Tensor of shape (n_series, n_channels, length) or StepWindows
        Training set on the device, padding filled with zeros (see
        :func:`to_device_data`), or a :class:`~tsrepr_sklearn.streaming.StepWindows`
        that reads each step's subseries from an array too large to copy.
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
    first_step : int, default=1
        Number of the first step, in messages (warm starts continue counting).
    keep_last_finite : bool, default=False
        On divergence, restore the weights and optimizer state from before
        the last applied step; when ``optimizer.step()`` itself fails, from
        before that step (costs a copy of them at every step).
    callback : callable or None, default=None
        Called after every optimizer step, as soon as it is recorded, with
        the list of the step losses so far (floats). An exception other than
        ``KeyboardInterrupt`` escapes; the callback has then seen every step
        applied to the weights.
    process_group : torch.distributed.ProcessGroup or None, default=None
        Data-parallel training: every process (rank) of the group draws the
        same triplets (same ``rng`` state), encodes only its share of the
        batch (anchors ``rank, rank + world_size, ...`` with their positives
        and negatives), and the gradients are summed over the ranks with
        weights so that every step is the step of the whole batch. All
        ranks must start from the same weights.

    Returns
    -------
    ndarray of float of shape (n_steps,)
        The loss of every step: ``nb_steps`` of them, fewer when training was
        interrupted.

    Raises
    ------
    TrainingDivergedError
        When a step's loss is NaN or infinite.
    torch.cuda.OutOfMemoryError
        When CUDA runs out of memory.

    Examples
    --------
    Six series in batches of four: the four steps make two epochs.

    >>> import numpy as np
    >>> import torch
    >>> from tsrepr_sklearn.networks import CausalCNNEncoder
    >>> from tsrepr_sklearn.training import train_encoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    >>> optimizer = torch.optim.Adam(encoder.parameters(), lr=0.001)
    >>> data = torch.randn(6, 1, 16)
    >>> losses = train_encoder(encoder, optimizer, data, np.full(6, 16), rng=np.random.default_rng(0),
    ...                        nb_steps=4, batch_size=4, nb_random_samples=2)
    >>> losses.shape, losses.dtype
    ((4,), dtype('float64'))
    >>> encoder.training  # left in evaluation mode
    False
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n_series = lengths.shape[0]
    varying = bool(lengths.min() != lengths.max())
    encoder.train()
    losses = []
    snapshot = None
    try:
        with tqdm(total=nb_steps, disable=not verbose, desc="training", unit="step") as progress:
            while len(losses) < nb_steps:
                permutation = rng.permutation(n_series)
                for begin in range(0, n_series, batch_size):
                    geometry = sample_triplets(
                        rng, permutation[begin : begin + batch_size], lengths, nb_random_samples, compared_length,
                        varying,
                    )
                    optimizer.zero_grad(set_to_none=True)
                    loss = _step_backward(
                        encoder, data, geometry, negative_penalty, save_memory, process_group
                    )
                    value = float(loss)
                    if not math.isfinite(value):
                        message = _divergence_message(value, losses, first_step, snapshot is not None, data,
                                                      optimizer)
                        if snapshot is not None:  # the last step led to this loss: it is undone
                            _restore(encoder, optimizer, snapshot, losses, len(losses) - 1)
                        raise TrainingDivergedError(message, history=_as_history(losses))
                    if keep_last_finite:
                        snapshot = (copy.deepcopy(encoder.state_dict()), copy.deepcopy(optimizer.state_dict()))
                    applied = len(losses)
                    try:
                        with _interrupt_deferred():  # a step is applied and recorded whole, or not at all
                            optimizer.step()
                            losses.append(value)
                    except Exception:
                        if snapshot is not None:  # an optimizer step that failed part-way is undone
                            _restore(encoder, optimizer, snapshot, losses, applied)
                        raise
                    if callback is not None:  # first, so that the caller knows of every applied step
                        callback(losses)
                    progress.update()
                    if verbose and (len(losses) % 10 == 0 or len(losses) == nb_steps):
                        progress.set_postfix(loss=f"{np.mean(losses[-10:]):.4f}")
                    if len(losses) >= nb_steps:
                        break
    except KeyboardInterrupt:
        logger.warning("Training interrupted after %d of %d steps.", len(losses), nb_steps)
    except torch.cuda.OutOfMemoryError as exc:
        raise torch.cuda.OutOfMemoryError(
            f"{exc}\nCUDA ran out of memory at training step {first_step + len(losses)} "
            f"(batch_size={batch_size}, nb_random_samples={nb_random_samples}, compared_length={compared_length}). "
            "Try save_memory=True (backpropagates term by term, same gradients), a smaller batch_size, or "
            "compared_length to bound the subseries length."
        ) from exc
    finally:
        encoder.eval()
    return _as_history(losses)


@contextlib.contextmanager
def _interrupt_deferred():
    """Hold Ctrl-C (SIGINT) until the block ends, then deliver it to the handler in place.

    Only the main thread receives signals, and a handler that was not installed from Python cannot be
    put back: in those cases the block runs as is.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        signal.raise_signal(signal.SIGINT)


def _step_backward(encoder, data, geometry, negative_penalty, save_memory, process_group):
    """Loss and gradients of one step: of this rank's share of the batch when data-parallel."""
    weight = 1.0
    if process_group is not None:
        rank, world = process_group.rank(), process_group.size()
        mine = np.arange(rank, geometry.batch_size, world)
        weight = mine.size / geometry.batch_size
        geometry = _select(geometry, mine) if mine.size else None
    if geometry is None:  # more ranks than anchors: this rank contributes nothing to this step
        loss = torch.zeros((), device=next(encoder.parameters()).device)
    else:
        if isinstance(data, StepWindows):  # data larger than memory: read this step's subseries
            data, geometry = data.prepare(geometry)
        loss = triplet_loss_backward(encoder, data, geometry, negative_penalty, save_memory)
    if process_group is None:
        return loss
    import torch.distributed as dist

    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in encoder.parameters()]
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.reshape(1)]) * weight
    dist.all_reduce(flat, group=process_group)  # the whole batch's gradient and loss
    offset = 0
    for parameter, grad in zip(encoder.parameters(), grads):
        parameter.grad = flat[offset : offset + grad.numel()].view_as(grad).clone()
        offset += grad.numel()
    return flat[-1].detach().clone()


def _select(geometry, columns):
    """The triplets of some batch elements (anchors ``columns`` with their positives and negatives)."""
    g = geometry
    return TripletGeometry(
        anchor_series=g.anchor_series[columns],
        anchor_start=g.anchor_start[columns],
        anchor_length=g.anchor_length[columns],
        positive_start=g.positive_start[columns],
        positive_length=g.positive_length[columns],
        negative_series=g.negative_series[:, columns],
        negative_start=g.negative_start[:, columns],
        negative_length=g.negative_length[:, columns],
    )


def _restore(encoder, optimizer, snapshot, losses, steps):
    """Put back the weights and optimizer state of ``snapshot``, which holds the first ``steps`` steps."""
    encoder.load_state_dict(snapshot[0])
    optimizer.load_state_dict(snapshot[1])
    del losses[steps:]  # the list always describes the weights (callers read it after an error)


def _as_history(losses):
    return np.array(losses, dtype=np.float64)


def _divergence_message(value, losses, first_step, restored, data, optimizer):
    step = first_step + len(losses)
    if losses:
        last = f"last finite loss {float(losses[-1]):.4g} at step {step - 1}"
    else:
        last = "no finite loss before it"
    message = f"Training diverged at step {step}: the loss is {value} ({last})."
    if restored:
        message += f" The encoder and its optimizer are back at their weights before step {step - 1}."
    largest = None
    if isinstance(data, torch.Tensor) and data.numel():  # padding is zeros: no NaN; no copy of the data
        low, high = torch.aminmax(data)
        largest = max(-float(low), float(high))
    if largest is not None and largest > _LARGE_VALUE:
        message += (
            f" The largest absolute value in X is {largest:.3g}: rescale the series, e.g. with znormalize or "
            "ChannelScaler from tsrepr_sklearn.preprocessing."
        )
    lr = optimizer.param_groups[0].get("lr")
    message += f" A smaller learning rate (lr={lr:g} now) can also help."
    return message

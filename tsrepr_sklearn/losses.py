"""The triplet loss ("T-Loss") and the batched encoding of subseries it needs.

:func:`triplet_loss` is a function of representations only. Getting the
representations is the expensive part: :func:`encode_subseries` gathers the
subseries named by a :class:`~tsrepr_sklearn.sampling.TripletGeometry` into a
few right-padded batches of similar lengths and encodes each batch in one
encoder call, passing the valid lengths so the encoder can ignore the padding
exactly. :func:`triplet_loss_backward` combines the two and backpropagates,
either at once or term by term as the original code did to save memory.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

__all__ = [
    "triplet_loss",
    "positive_loss",
    "negative_loss",
    "plan_groups",
    "triplet_loss_backward",
]


def positive_loss(anchor: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """``-mean_b log sigmoid(anchor_b . positive_b)`` for tensors of shape (batch, dim).

    The positive term of :func:`triplet_loss`: it is small when every anchor
    has a large dot product with its positive.

    Parameters
    ----------
    anchor : torch.Tensor of shape (batch, dim)
        Representations of the anchors.
    positive : torch.Tensor of shape (batch, dim)
        Representations of the positives.

    Returns
    -------
    torch.Tensor
        The loss term, a scalar.

    Examples
    --------
    >>> import torch
    >>> from tsrepr_sklearn.losses import positive_loss
    >>> anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(positive_loss(anchor, torch.zeros(2, 2))), 4)  # log 2
    0.6931
    >>> round(float(positive_loss(anchor, 100 * anchor)), 4)  # aligned with the anchors: close to 0
    0.0
    """
    return -F.logsigmoid((anchor * positive).sum(-1)).mean(-1)


def negative_loss(anchor: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """``-mean_b log sigmoid(-anchor_b . negative_b)``; ``negative`` may have leading dims (K, batch, dim).

    The negative terms of :func:`triplet_loss`, before their weighting: each
    is small when every anchor has a large negative dot product with its
    negative.

    Parameters
    ----------
    anchor : torch.Tensor of shape (batch, dim)
        Representations of the anchors.
    negative : torch.Tensor of shape (batch, dim) or (K, batch, dim)
        Representations of one negative, or of ``K`` negatives, per anchor.

    Returns
    -------
    torch.Tensor of shape () or (K,)
        The loss term of every negative, a scalar when ``negative`` is 2-D.

    Examples
    --------
    >>> import torch
    >>> from tsrepr_sklearn.losses import negative_loss
    >>> anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> negatives = torch.stack([torch.zeros(2, 2), -100 * anchor])  # K=2
    >>> [round(value, 4) for value in negative_loss(anchor, negatives).tolist()]  # log 2, then 0
    [0.6931, 0.0]
    """
    return -F.logsigmoid(-(anchor * negative).sum(-1)).mean(-1)


def triplet_loss(anchor, positive, negatives, negative_penalty=1.0):
    """Triplet loss of Franceschi et al. (2019) from representations.

    ``-mean_b log s(a_b . p_b) - (negative_penalty / K) sum_k mean_b log s(-a_b . n_kb)``
    with ``s`` the logistic sigmoid.

    Parameters
    ----------
    anchor : torch.Tensor of shape (batch_size, dim)
        Representations of the anchors.
    positive : torch.Tensor of shape (batch_size, dim)
        Representations of the positives.
    negatives : torch.Tensor of shape (K, batch_size, dim)
        Representations of the ``K`` negatives of every batch element.
    negative_penalty : float, default=1.0
        Weight of the negative terms.

    Returns
    -------
    torch.Tensor
        The loss, a scalar.

    Examples
    --------
    >>> import torch
    >>> a = torch.zeros(2, 3)
    >>> round(float(triplet_loss(a, a, torch.zeros(4, 2, 3))), 4)  # 2 log 2
    1.3863
    """
    ratio = negative_penalty / negatives.shape[0]
    return positive_loss(anchor, positive) + ratio * negative_loss(anchor, negatives).sum()


def gather_subseries(data, series, starts, lengths):
    """Gather subseries into one right-padded batch.

    Parameters
    ----------
    data : torch.Tensor of shape (n_series, n_channels, length)
        Training set, padding filled with zeros.
    series, starts, lengths : ndarray of int of shape (n,)
        Subseries ``data[series[i], :, starts[i]:starts[i] + lengths[i]]``.

    Returns
    -------
    batch : torch.Tensor of shape (n, n_channels, max(lengths))
        The subseries, right-padded with zeros.
    batch_lengths : torch.Tensor of shape (n,) or None
        ``lengths`` as a CPU tensor, or ``None`` when they are all equal (no
        padding).
    """
    longest = int(lengths.max())
    steps = np.arange(longest)
    valid = steps < lengths[:, None]
    index = np.where(valid, starts[:, None] + steps, 0)
    device = data.device
    batch = data[torch.as_tensor(series, device=device)[:, None], :, torch.as_tensor(index, device=device)]
    batch = batch.permute(0, 2, 1)
    if valid.all():
        return batch, None
    batch = batch.masked_fill(~torch.as_tensor(valid, device=device)[:, None, :], 0.0)
    return batch, torch.as_tensor(lengths)


def default_call_overhead(device) -> int:
    """Cost of one extra encoder call, in (series x time steps) of padding, for :func:`plan_groups`.

    On CPU an encoder call costs little beyond its arithmetic, so splitting a
    batch into groups of similar lengths pays; on a GPU a call is dominated by
    kernel launches, so one padded call is best.
    """
    return 16384 if torch.device(device).type == "cuda" else 256


def plan_groups(sorted_lengths, call_overhead):
    """Split lengths sorted in increasing order into contiguous groups.

    Minimises ``sum_g (n_g * max_g + call_overhead)``, the number of time steps
    a padded batch per group processes plus a fixed cost per encoder call, by
    dynamic programming over the distinct lengths.

    Parameters
    ----------
    sorted_lengths : ndarray of int of shape (n,)
        Lengths in increasing order.
    call_overhead : float
        Fixed cost of an encoder call, in time steps.

    Returns
    -------
    list of (int, int)
        Half-open index ranges covering ``0..n``.

    Examples
    --------
    >>> import numpy as np
    >>> plan_groups(np.array([3, 3, 100, 100]), call_overhead=10)
    [(0, 2), (2, 4)]
    >>> plan_groups(np.array([3, 3, 100, 100]), call_overhead=1000)
    [(0, 4)]
    """
    sorted_lengths = np.asarray(sorted_lengths)
    # group boundaries can only sit where the length changes
    ends = np.flatnonzero(np.diff(sorted_lengths)) + 1
    ends = np.append(ends, sorted_lengths.shape[0])
    best = np.zeros(ends.shape[0] + 1)
    previous = np.zeros(ends.shape[0] + 1, dtype=np.int64)
    starts = np.concatenate([[0], ends])
    for j, end in enumerate(ends, start=1):
        costs = best[:j] + (end - starts[:j]) * sorted_lengths[end - 1] + call_overhead
        previous[j] = int(np.argmin(costs))
        best[j] = costs[previous[j]]
    groups = []
    j = ends.shape[0]
    while j > 0:
        i = previous[j]
        groups.append((int(starts[i]), int(ends[j - 1])))
        j = i
    return groups[::-1]


def encode_subseries(encoder, data, series, starts, lengths, call_overhead=None):
    """Encode subseries of ``data`` in few encoder calls.

    The subseries are sorted by length, split by :func:`plan_groups`, and each
    group is gathered into one right-padded batch and encoded with its valid
    lengths, so every representation equals that of the subseries encoded on
    its own.

    Parameters
    ----------
    encoder : torch.nn.Module
        Called as ``encoder(batch, lengths)``.
    data : torch.Tensor of shape (n_series, n_channels, length)
        Training set, padding filled with zeros.
    series, starts, lengths : ndarray of int of shape (n,)
        The subseries.
    call_overhead : float or None, default=None
        See :func:`plan_groups`; ``None`` uses :func:`default_call_overhead`.

    Returns
    -------
    torch.Tensor of shape (n, out_channels)
        Representations, in the order of the subseries.
    """
    if call_overhead is None:
        call_overhead = default_call_overhead(data.device)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    groups = plan_groups(sorted_lengths, call_overhead)
    if len(groups) == 1 and np.array_equal(order, np.arange(order.shape[0])):
        return encoder(*gather_subseries(data, series, starts, lengths))
    outputs = []
    for lo, hi in groups:
        chosen = order[lo:hi]
        outputs.append(encoder(*gather_subseries(data, series[chosen], starts[chosen], lengths[chosen])))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.shape[0])
    return torch.cat(outputs)[torch.as_tensor(inverse, device=outputs[0].device)]


def triplet_loss_backward(encoder, data, geometry, negative_penalty=1.0, save_memory=False, call_overhead=None):
    """Compute the triplet loss of a batch and backpropagate it.

    Gradients are accumulated into the encoder's parameters (zero them
    before). By default every anchor, positive and negative goes through
    :func:`encode_subseries` together and one backward pass follows. With
    ``save_memory=True``, as in the original code, the anchors are encoded
    once, then the positive term and each of the ``K`` negative terms are
    encoded and backpropagated one after the other, so only one term's
    activations are alive at a time; the gradients are the same.

    Parameters
    ----------
    encoder : torch.nn.Module
        Encoder, called as ``encoder(batch, lengths)``.
    data : torch.Tensor of shape (n_series, n_channels, length)
        Training set on the encoder's device, padding filled with zeros.
    geometry : TripletGeometry
        The subseries of the batch.
    negative_penalty : float, default=1.0
        Weight of the negative terms.
    save_memory : bool, default=False
        Backpropagate term by term.
    call_overhead : float or None, default=None
        See :func:`plan_groups`.

    Returns
    -------
    torch.Tensor
        The loss value, a detached scalar on the data's device.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from tsrepr_sklearn.losses import triplet_loss_backward
    >>> from tsrepr_sklearn.networks import CausalCNNEncoder
    >>> from tsrepr_sklearn.sampling import sample_triplets
    >>> _ = torch.manual_seed(0)
    >>> encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    >>> data = torch.randn(4, 1, 12)  # 4 series of length 12
    >>> geometry = sample_triplets(np.random.default_rng(0), [0, 1], [12, 12, 12, 12], nb_random_samples=2)
    >>> loss = triplet_loss_backward(encoder, data, geometry)
    >>> loss.shape, loss.requires_grad
    (torch.Size([]), False)
    >>> encoder.linear.weight.grad.shape  # gradients were accumulated
    torch.Size([3, 2])

    Term by term, the loss is the same:

    >>> encoder.zero_grad()
    >>> bool(torch.allclose(triplet_loss_backward(encoder, data, geometry, save_memory=True), loss))
    True
    """
    g = geometry
    batch_size, nb_negatives = g.batch_size, g.nb_random_samples

    def encode(series, starts, lengths):
        return encode_subseries(encoder, data, series, starts, lengths, call_overhead)

    if not save_memory:
        representations = encode(
            np.concatenate([g.anchor_series, g.anchor_series, g.negative_series.ravel()]),
            np.concatenate([g.anchor_start, g.positive_start, g.negative_start.ravel()]),
            np.concatenate([g.anchor_length, g.positive_length, g.negative_length.ravel()]),
        )
        anchor, positive = representations[:batch_size], representations[batch_size : 2 * batch_size]
        negatives = representations[2 * batch_size :].reshape(nb_negatives, batch_size, -1)
        loss = triplet_loss(anchor, positive, negatives, negative_penalty)
        loss.backward()
        return loss.detach()

    anchor = encode(g.anchor_series, g.anchor_start, g.anchor_length)
    term = positive_loss(anchor, encode(g.anchor_series, g.positive_start, g.positive_length))
    term.backward(retain_graph=True)
    total = term.detach()
    ratio = negative_penalty / nb_negatives
    for k in range(nb_negatives):
        negative = encode(g.negative_series[k], g.negative_start[k], g.negative_length[k])
        term = ratio * negative_loss(anchor, negative)
        term.backward(retain_graph=k < nb_negatives - 1)
        total = total + term.detach()
    return total

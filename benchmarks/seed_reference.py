"""A seed-faithful implementation of T-Loss, kept as the reference.

This is the original code's computation, written plainly: convolutions padded
by ``(k - 1) * dilation`` on both sides then chomped, the deprecated
``torch.nn.utils.weight_norm`` (so ``state_dict`` keys are the original's,
``...causal.0.weight_g``), one encoder call per loss term, and one encoder call
per sample when lengths vary. It is slow on purpose:

* the tests feed it the same triplet geometry as the fast path and compare
  losses and gradients (it is the "obviously correct" reference);
* ``benchmarks/bench_training.py`` times it as the baseline.

It is not part of the installed package.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def _old_weight_norm(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(module)


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, : -self.chomp_size]


class SqueezeChannels(nn.Module):
    def forward(self, x):
        return x.squeeze(2)


class SeedCausalConvolutionBlock(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation, final=False):
        super().__init__()
        padding = (kernel_size - 1) * dilation
        conv1 = _old_weight_norm(nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation))
        conv2 = _old_weight_norm(nn.Conv1d(out_channels, out_channels, kernel_size, padding=padding, dilation=dilation))
        self.causal = nn.Sequential(conv1, Chomp1d(padding), nn.LeakyReLU(), conv2, Chomp1d(padding), nn.LeakyReLU())
        self.upordownsample = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.relu = nn.LeakyReLU() if final else None

    def forward(self, x):
        out_causal = self.causal(x)
        res = x if self.upordownsample is None else self.upordownsample(x)
        return out_causal + res if self.relu is None else self.relu(out_causal + res)


class SeedCausalCNN(nn.Module):
    def __init__(self, in_channels, channels, depth, out_channels, kernel_size):
        super().__init__()
        layers = []
        dilation = 1
        for i in range(depth):
            layers.append(SeedCausalConvolutionBlock(in_channels if i == 0 else channels, channels, kernel_size, dilation))
            dilation *= 2
        layers.append(SeedCausalConvolutionBlock(channels if depth else in_channels, out_channels, kernel_size, dilation))
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


class SeedCausalCNNEncoder(nn.Module):
    """The original ``CausalCNNEncoder`` (same structure and ``state_dict`` keys)."""

    def __init__(self, in_channels, channels, depth, reduced_size, out_channels, kernel_size):
        super().__init__()
        self.network = nn.Sequential(
            SeedCausalCNN(in_channels, channels, depth, reduced_size, kernel_size),
            nn.AdaptiveMaxPool1d(1),
            SqueezeChannels(),
            nn.Linear(reduced_size, out_channels),
        )

    def forward(self, x):
        return self.network(x)


class SeedLSTMEncoder(nn.Module):
    """The original ``LSTMEncoder``, with ``in_channels`` as a parameter."""

    def __init__(self, in_channels=1, hidden_size=256, num_layers=2, out_channels=160):
        super().__init__()
        self.lstm = nn.LSTM(input_size=in_channels, hidden_size=hidden_size, num_layers=num_layers)
        self.linear = nn.Linear(hidden_size, out_channels)

    def forward(self, x):
        return self.linear(self.lstm(x.permute(2, 0, 1))[0][-1])


def _window(X, series, start, length):
    return torch.from_numpy(np.ascontiguousarray(X[series : series + 1, :, start : start + length]))


def seed_triplet_loss(encoder, X, geometry, negative_penalty=1.0, save_memory=False, per_sample=True):
    """The original loss computation for a given geometry, with the same gradients.

    Parameters
    ----------
    encoder : torch.nn.Module
        Called on unpadded batches ``(n, channels, length)``.
    X : ndarray of shape (n_series, n_channels, length)
        Training set (NaN padded when lengths vary), in the encoder's dtype.
    geometry : tsrepr_sklearn.sampling.TripletGeometry
        The subseries.
    negative_penalty : float
    save_memory : bool
        Backpropagate each term as soon as it is computed (as the original);
        the last term is backpropagated here too, so gradients are complete
        on return either way.
    per_sample : bool
        One encoder call per subseries (the original ``TripletLossVaryingLength``);
        otherwise one call per term of ``batch_size`` subseries of one length
        (the original ``TripletLoss``, equal lengths only).

    Returns
    -------
    torch.Tensor
        The loss (detached).
    """
    g = geometry
    batch_size, nb_negatives = g.batch_size, g.nb_random_samples

    def encode(series, starts, lengths):
        windows = [_window(X, s, b, n) for s, b, n in zip(series, starts, lengths)]
        if per_sample:
            return torch.cat([encoder(w) for w in windows])
        return encoder(torch.cat(windows))

    def dot(a, b):
        return torch.bmm(a.view(batch_size, 1, -1), b.view(batch_size, -1, 1))

    anchor = encode(g.anchor_series, g.anchor_start, g.anchor_length)
    positive = encode(g.anchor_series, g.positive_start, g.positive_length)
    loss = -torch.mean(F.logsigmoid(dot(anchor, positive)))
    total = 0.0
    if save_memory:
        loss.backward(retain_graph=True)
        total, loss = total + loss.item(), 0
        del positive
    ratio = negative_penalty / nb_negatives
    for i in range(nb_negatives):
        negative = encode(g.negative_series[i], g.negative_start[i], g.negative_length[i])
        loss = loss + ratio * -torch.mean(F.logsigmoid(-dot(anchor, negative)))
        if save_memory and i != nb_negatives - 1:
            loss.backward(retain_graph=True)
            total, loss = total + loss.item(), 0
            del negative
    loss.backward()
    return torch.tensor(total + loss.item())

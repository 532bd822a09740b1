"""Triplet geometry: which subseries form the anchors, positives and negatives.

Sampling is separated from computing the loss: :func:`sample_triplets` only
draws integers from a :class:`numpy.random.Generator`, and the loss (see
:mod:`tsrepr_sklearn.losses`) encodes whatever geometry it is given. Tests can
therefore feed the same geometry to the fast implementation and to a slow
reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TripletGeometry", "sample_triplets"]


@dataclass(frozen=True)
class TripletGeometry:
    """Subseries of one batch of triplets (all arrays of integers).

    Subseries ``(series, start, length)`` denotes
    ``X[series, :, start:start + length]``. Every parameter is stored as the
    attribute of the same name. :func:`sample_triplets` draws a random
    geometry; one can also be built by hand, e.g. to test a loss on chosen
    subseries.

    Parameters
    ----------
    anchor_series, anchor_start, anchor_length : ndarray of shape (batch_size,)
        The anchors.
    positive_start, positive_length : ndarray of shape (batch_size,)
        The positives, taken from ``anchor_series`` inside the anchors
        (``positive_start`` is relative to the series, not to the anchor).
    negative_series, negative_start, negative_length : ndarray of shape (nb_random_samples, batch_size)
        The negatives: ``nb_random_samples`` subseries per batch element, from
        series drawn uniformly from the whole training set.

    Attributes
    ----------
    batch_size : int
        Number of anchors.
    nb_random_samples : int
        Number of negatives per anchor.

    Examples
    --------
    One anchor ``X[0, :, 2:7]``, its positive ``X[0, :, 3:5]`` and two
    negatives ``X[1, :, 0:2]`` and ``X[4, :, 6:8]``:

    >>> import numpy as np
    >>> from tsrepr_sklearn.sampling import TripletGeometry
    >>> geometry = TripletGeometry(
    ...     anchor_series=np.array([0]), anchor_start=np.array([2]), anchor_length=np.array([5]),
    ...     positive_start=np.array([3]), positive_length=np.array([2]),
    ...     negative_series=np.array([[1], [4]]), negative_start=np.array([[0], [6]]),
    ...     negative_length=np.array([[2], [2]]),
    ... )
    >>> geometry.batch_size, geometry.nb_random_samples
    (1, 2)
    """

    anchor_series: np.ndarray
    anchor_start: np.ndarray
    anchor_length: np.ndarray
    positive_start: np.ndarray
    positive_length: np.ndarray
    negative_series: np.ndarray
    negative_start: np.ndarray
    negative_length: np.ndarray

    @property
    def batch_size(self) -> int:
        """Number of anchors (the length of ``anchor_series``)."""
        return len(self.anchor_series)

    @property
    def nb_random_samples(self) -> int:
        """Number of negatives per anchor (the first dimension of ``negative_series``)."""
        return self.negative_series.shape[0]


def sample_triplets(rng, batch_series, series_lengths, nb_random_samples, compared_length=None, varying=None):
    """Draw the geometry of a batch of triplets, as in Franceschi et al. (2019).

    Equal lengths (``varying=False``; the original ``TripletLoss``): with
    ``m = min(compared_length, L)``, one length ``p`` is drawn uniformly in
    ``[1, m]`` for every positive and negative of the batch and one anchor
    length uniformly in ``[p, m]``; each anchor starts uniformly in its series,
    each positive uniformly inside its anchor, and each of the
    ``nb_random_samples`` negatives of every batch element starts uniformly in
    a series drawn uniformly from the whole training set.

    Unequal lengths (``varying=True``; the original ``TripletLossVaryingLength``):
    the same, but the positive length, the anchor length and each negative
    length are drawn per element, bounded by ``compared_length`` and by the
    valid length of the series they are taken from.

    Anchors and negatives may start anywhere in their series. (The original
    equal-length code drew their starts within the first ``compared_length``
    steps only, which its unequal-length code and the paper do not do; the two
    agree when ``compared_length`` is ``None``.)

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the only one used.
    batch_series : array-like of int of shape (batch_size,)
        Indices of the batch's series in the training set.
    series_lengths : array-like of int of shape (n_series,)
        Valid length of every series of the training set (at least 1).
    nb_random_samples : int
        Number ``K`` of negatives per batch element.
    compared_length : int or None, default=None
        Maximum length of the subseries; ``None`` for no limit.
    varying : bool or None, default=None
        Which of the two schemes to use; ``None`` chooses the unequal-length
        one exactly when the lengths differ.

    Returns
    -------
    TripletGeometry

    Examples
    --------
    >>> import numpy as np
    >>> geometry = sample_triplets(np.random.default_rng(0), [0, 2], [10, 10, 10], nb_random_samples=3)
    >>> geometry.negative_series.shape
    (3, 2)
    >>> bool(np.all(geometry.positive_length <= geometry.anchor_length))
    True
    """
    batch_series = np.asarray(batch_series, dtype=np.int64)
    lengths = np.asarray(series_lengths, dtype=np.int64)
    batch_size = batch_series.shape[0]
    cap = np.iinfo(np.int64).max if compared_length is None else int(compared_length)
    if varying is None:
        varying = bool(lengths.min() != lengths.max())
    negative_series = rng.integers(0, lengths.shape[0], size=(nb_random_samples, batch_size))
    batch_lengths = lengths[batch_series]
    negative_series_lengths = lengths[negative_series]
    if varying:
        max_anchor = np.minimum(cap, batch_lengths)
        positive_length = rng.integers(1, max_anchor + 1)
        negative_length = rng.integers(1, np.minimum(cap, negative_series_lengths) + 1)
        anchor_length = rng.integers(positive_length, max_anchor + 1)
    else:
        longest = min(cap, int(lengths.max()))
        shared_length = rng.integers(1, longest + 1)
        positive_length = np.full(batch_size, shared_length)
        negative_length = np.full((nb_random_samples, batch_size), shared_length)
        anchor_length = np.full(batch_size, rng.integers(shared_length, longest + 1))
    anchor_start = rng.integers(0, batch_lengths - anchor_length + 1)
    positive_start = anchor_start + rng.integers(0, anchor_length - positive_length + 1)
    negative_start = rng.integers(0, negative_series_lengths - negative_length + 1)
    return TripletGeometry(
        anchor_series=batch_series,
        anchor_start=anchor_start,
        anchor_length=anchor_length,
        positive_start=positive_start,
        positive_length=positive_length,
        negative_series=negative_series,
        negative_start=negative_start,
        negative_length=negative_length,
    )

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrepr_sklearn.sampling import sample_triplets


@st.composite
def sampling_problems(draw):
    varying = draw(st.booleans())
    n_series = draw(st.integers(1, 6))
    if varying:
        lengths = draw(st.lists(st.integers(1, 12), min_size=n_series, max_size=n_series))
    else:
        lengths = [draw(st.integers(1, 12))] * n_series
    batch = draw(st.lists(st.integers(0, n_series - 1), min_size=1, max_size=5))
    return (
        np.array(lengths),
        np.array(batch),
        draw(st.integers(1, 4)),
        draw(st.one_of(st.none(), st.integers(1, 14))),
        varying,
        draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=300, deadline=None)
@given(sampling_problems())
def test_every_sampled_geometry_is_valid(problem):
    lengths, batch, k, compared_length, varying, seed = problem
    g = sample_triplets(np.random.default_rng(seed), batch, lengths, k, compared_length, varying)
    cap = np.inf if compared_length is None else compared_length
    series_length = lengths[batch]
    assert g.negative_series.shape == g.negative_start.shape == g.negative_length.shape == (k, len(batch))
    np.testing.assert_array_equal(g.anchor_series, batch)
    # 1 <= positive length <= anchor length <= min(series length, compared_length)
    assert np.all(1 <= g.positive_length)
    assert np.all(g.positive_length <= g.anchor_length)
    assert np.all(g.anchor_length <= np.minimum(series_length, cap))
    # the anchor lies in the valid part of its series, the positive inside its anchor
    assert np.all(g.anchor_start >= 0)
    assert np.all(g.anchor_start + g.anchor_length <= series_length)
    assert np.all(g.positive_start >= g.anchor_start)
    assert np.all(g.positive_start + g.positive_length <= g.anchor_start + g.anchor_length)
    # negatives lie in the valid part of their series
    assert np.all((0 <= g.negative_series) & (g.negative_series < len(lengths)))
    negative_series_length = lengths[g.negative_series]
    assert np.all(1 <= g.negative_length)
    assert np.all(g.negative_length <= np.minimum(negative_series_length, cap))
    assert np.all(g.negative_start >= 0)
    assert np.all(g.negative_start + g.negative_length <= negative_series_length)
    if not varying:  # one positive/negative length and one anchor length per batch
        assert len(set(g.positive_length) | set(g.negative_length.ravel())) == 1
        assert len(set(g.anchor_length)) == 1


def test_lengths_one_and_two():
    g = sample_triplets(np.random.default_rng(0), [0, 1], [1, 2], 3, varying=True)
    assert np.all(g.anchor_length[0] == 1) and np.all(g.positive_length[0] == 1)
    assert set(np.unique(g.negative_length)) <= {1, 2}


def test_same_generator_seed_same_geometry_and_all_values_reachable():
    a = sample_triplets(np.random.default_rng(5), np.arange(4), [30] * 10, 3)
    b = sample_triplets(np.random.default_rng(5), np.arange(4), [30] * 10, 3)
    for field in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    rng = np.random.default_rng(0)
    seen = {int(sample_triplets(rng, [0], [5], 1).positive_length[0]) for _ in range(200)}
    assert seen == {1, 2, 3, 4, 5}
    seen_neg = {int(sample_triplets(rng, [0], [1, 6], 1, varying=True).negative_length.max()) for _ in range(300)}
    assert seen_neg == {1, 2, 3, 4, 5, 6}  # the low bound of the negative length is 1


def test_compared_length_caps_lengths_but_not_starts():
    rng = np.random.default_rng(0)
    starts = np.concatenate([sample_triplets(rng, [0, 1], [100, 100], 2, compared_length=5).anchor_start for _ in range(100)])
    assert starts.max() > 50  # anchors are drawn from the whole series

import numpy as np
import pytest
import torch

from benchmarks.seed_reference import seed_triplet_loss
from tests.conftest import make_encoder_pair, ragged_dataset
from tsrepr_sklearn.losses import plan_groups, triplet_loss, triplet_loss_backward
from tsrepr_sklearn.persistence import convert_original_state_dict
from tsrepr_sklearn.sampling import sample_triplets
from tsrepr_sklearn.training import to_device_data


def _gradients(module):
    return {name: p.grad.detach().clone() for name, p in module.named_parameters()}


def _fast_and_reference(architecture, in_channels, varying, compared_length, save_memory, call_overhead):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 20, size=8) if varying else np.full(8, 15)
    X = ragged_dataset(rng, 8, in_channels, lengths)
    seed_encoder, fast = make_encoder_pair(architecture, in_channels)
    geometry = sample_triplets(np.random.default_rng(1), [0, 3, 5], lengths, 4, compared_length, varying)
    reference_loss = seed_triplet_loss(seed_encoder, X, geometry, negative_penalty=0.7, per_sample=True)
    reference = convert_original_state_dict(_gradients(seed_encoder), architecture)
    data = to_device_data(X, "cpu", dtype=torch.float64)
    loss = triplet_loss_backward(fast, data, geometry, 0.7, save_memory=save_memory, call_overhead=call_overhead)
    return loss, reference_loss, _gradients(fast), reference


@pytest.mark.parametrize("architecture", ["CausalCNN", "LSTM"])
@pytest.mark.parametrize("in_channels", [1, 2])
@pytest.mark.parametrize("varying", [False, True], ids=["equal", "unequal"])
@pytest.mark.parametrize("compared_length", [None, 7])
@pytest.mark.parametrize("save_memory", [False, True], ids=["batched", "save_memory"])
def test_fast_loss_matches_per_sample_reference(architecture, in_channels, varying, compared_length, save_memory):
    loss, reference_loss, gradients, reference = _fast_and_reference(
        architecture, in_channels, varying, compared_length, save_memory, call_overhead=None
    )
    torch.testing.assert_close(loss.float(), reference_loss.float(), rtol=1e-4, atol=1e-6)
    assert gradients.keys() == reference.keys()
    for name in reference:
        torch.testing.assert_close(gradients[name].float(), reference[name], rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("call_overhead", [0, 10**9], ids=["many-groups", "one-group"])
def test_grouping_does_not_change_the_result(call_overhead):
    loss, reference_loss, gradients, reference = _fast_and_reference("CausalCNN", 2, True, None, False, call_overhead)
    torch.testing.assert_close(loss.float(), reference_loss.float(), rtol=1e-4, atol=1e-6)
    for name in reference:
        torch.testing.assert_close(gradients[name].float(), reference[name], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("architecture", ["CausalCNN", "LSTM"])
def test_save_memory_gives_the_same_gradients_float32(architecture):
    rng = np.random.default_rng(3)
    lengths = rng.integers(5, 30, size=12)
    X = ragged_dataset(rng, 12, 1, lengths)
    results = []
    for save_memory in (False, True):
        _, fast = make_encoder_pair(architecture, 1, dtype=torch.float32)
        geometry = sample_triplets(np.random.default_rng(4), np.arange(6), lengths, 5)
        loss = triplet_loss_backward(fast, to_device_data(X, "cpu"), geometry, 1.0, save_memory=save_memory)
        results.append((loss, _gradients(fast)))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    for name, grad in results[0][1].items():
        torch.testing.assert_close(grad, results[1][1][name], rtol=1e-4, atol=1e-6)


def test_triplet_loss_formula():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    p = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    n = torch.tensor([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 0.0], [0.0, 0.5]]])
    sig = torch.sigmoid
    expected = -(torch.log(sig(torch.tensor(2.0))) + torch.log(sig(torch.tensor(2.0)))) / 2 - (3.0 / 2) * (
        (torch.log(sig(torch.tensor(-1.0))) + torch.log(sig(torch.tensor(2.0)))) / 2
        + (torch.log(sig(torch.tensor(0.0))) + torch.log(sig(torch.tensor(-1.0)))) / 2
    )
    torch.testing.assert_close(triplet_loss(a, p, n, negative_penalty=3.0), expected)


def test_plan_groups_covers_everything_and_is_optimal_on_small_cases():
    from itertools import combinations

    rng = np.random.default_rng(0)
    for _ in range(30):
        lengths = np.sort(rng.integers(1, 50, size=rng.integers(1, 8)))
        overhead = float(rng.integers(0, 100))
        groups = plan_groups(lengths, overhead)
        assert groups[0][0] == 0 and groups[-1][1] == len(lengths)
        assert all(a[1] == b[0] for a, b in zip(groups, groups[1:]))

        def cost(bounds):
            return sum((hi - lo) * lengths[hi - 1] + overhead for lo, hi in bounds)

        n = len(lengths)
        brute = min(
            cost(list(zip((0,) + cut, cut + (n,))))
            for r in range(n)
            for cut in combinations(range(1, n), r)
        )
        assert cost(groups) == pytest.approx(brute)

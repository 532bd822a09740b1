import numpy as np
import pytest
import torch

from benchmarks.seed_reference import SeedCausalCNNEncoder, SeedLSTMEncoder
from tsrepr_sklearn.networks import CausalCNNEncoder, LSTMEncoder
from tsrepr_sklearn.persistence import convert_original_state_dict


def make_encoder_pair(architecture, in_channels, seed=0, dtype=torch.float64):
    """A seed-style encoder and a fast encoder holding the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if architecture == "CausalCNN":
            params = dict(in_channels=in_channels, channels=6, depth=3, reduced_size=5, out_channels=4, kernel_size=3)
            seed_encoder, fast = SeedCausalCNNEncoder(**params), CausalCNNEncoder(**params)
        else:
            params = dict(in_channels=in_channels, hidden_size=7, num_layers=2, out_channels=4)
            seed_encoder, fast = SeedLSTMEncoder(**params), LSTMEncoder(**params)
    fast.load_state_dict(convert_original_state_dict(seed_encoder.state_dict(), architecture))
    return seed_encoder.to(dtype), fast.to(dtype)


@pytest.fixture
def encoder_pair():
    return make_encoder_pair


def ragged_dataset(rng, n_series, n_channels, lengths):
    """NaN right-padded float64 data with the given valid lengths."""
    X = np.full((n_series, n_channels, max(lengths)), np.nan)
    for i, length in enumerate(lengths):
        X[i, :, :length] = rng.standard_normal((n_channels, length))
    return X

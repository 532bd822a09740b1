import numpy as np
import pytest
import torch

from benchmarks.seed_reference import SeedCausalCNNEncoder
from tests.conftest import make_encoder_pair
from tsrepr_sklearn.networks import CausalCNNEncoder, LSTMEncoder, causal_conv1d
from tsrepr_sklearn.persistence import convert_original_state_dict


@pytest.mark.parametrize("length", [1, 2, 5, 17, 61, 62, 150])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_causal_cnn_equals_seed_module(length, in_channels):
    # depth 3, kernel 3: receptive field 61, dilations up to 8 (> length for short series)
    seed_encoder, fast = make_encoder_pair("CausalCNN", in_channels)
    x = torch.randn(4, in_channels, length, dtype=torch.float64, generator=torch.Generator().manual_seed(length))
    torch.testing.assert_close(fast(x), seed_encoder(x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("length", [3, 40, 300])
def test_paper_sized_causal_cnn_equals_seed_module_float32(length):
    params = dict(in_channels=1, channels=40, depth=10, reduced_size=160, out_channels=320, kernel_size=3)
    torch.manual_seed(1)
    seed_encoder = SeedCausalCNNEncoder(**params)
    fast = CausalCNNEncoder(**params)
    fast.load_state_dict(convert_original_state_dict(seed_encoder.state_dict(), "CausalCNN"))
    x = torch.randn(3, 1, length)
    torch.testing.assert_close(fast(x), seed_encoder(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel_size,dilation,length", [(3, 1, 10), (3, 4, 9), (3, 4, 5), (3, 4, 4), (5, 2, 3), (2, 8, 8)])
def test_causal_conv1d_drops_only_zero_taps(kernel_size, dilation, length):
    conv = torch.nn.Conv1d(2, 3, kernel_size, dilation=dilation).double()
    x = torch.randn(2, 2, length, dtype=torch.float64)
    padding = (kernel_size - 1) * dilation
    expected = torch.nn.functional.conv1d(x, conv.weight, conv.bias, padding=padding, dilation=dilation)[:, :, :length]
    torch.testing.assert_close(causal_conv1d(x.transpose(1, 2), conv).transpose(1, 2), expected)


@pytest.mark.parametrize("architecture", ["CausalCNN", "LSTM"])
@pytest.mark.parametrize("in_channels", [1, 2])
def test_padded_batch_with_lengths_equals_one_call_per_series(architecture, in_channels):
    _, fast = make_encoder_pair(architecture, in_channels)
    lengths = [9, 1, 4, 9, 2]
    rng = np.random.default_rng(0)
    x = torch.zeros(len(lengths), in_channels, max(lengths), dtype=torch.float64)
    for i, n in enumerate(lengths):
        x[i, :, :n] = torch.from_numpy(rng.standard_normal((in_channels, n)))
        x[i, :, n:] = 1e3  # whatever the padding holds, it must not matter
    batched = fast(x, torch.tensor(lengths))
    one_by_one = torch.cat([fast(x[i : i + 1, :, :n]) for i, n in enumerate(lengths)])
    torch.testing.assert_close(batched, one_by_one, rtol=1e-10, atol=1e-10)


def test_lstm_equals_seed_module():
    seed_encoder, fast = make_encoder_pair("LSTM", 3)
    x = torch.randn(4, 3, 11, dtype=torch.float64)
    torch.testing.assert_close(fast(x), seed_encoder(x))
    torch.testing.assert_close(fast(x, torch.full((4,), 11)), seed_encoder(x))


def test_lstm_defaults_are_the_seeds():
    encoder = LSTMEncoder()
    assert (encoder.lstm.input_size, encoder.lstm.hidden_size, encoder.lstm.num_layers) == (1, 256, 2)
    assert encoder.linear.out_features == 160


def test_causal_cnn_deepcopies_and_uses_parametrized_weight_norm():
    import copy

    encoder = CausalCNNEncoder(1, 4, 2, 3, 2, 3)
    clone = copy.deepcopy(encoder)
    x = torch.randn(2, 1, 8)
    torch.testing.assert_close(clone(x), encoder(x))
    assert "blocks.0.conv1.parametrizations.weight.original0" in encoder.state_dict()

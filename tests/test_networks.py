import numpy as np
import pytest
import torch

from benchmarks.seed_reference import SeedCausalCNNEncoder, SeedLSTMEncoder
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


@pytest.mark.parametrize("forget_bias", [1.0, -0.5])
def test_lstm_forget_bias_sets_only_the_forget_gates(forget_bias):
    def seeded(make):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(3)
            return dict(make().named_parameters())

    original = seeded(lambda: SeedLSTMEncoder(in_channels=2, hidden_size=5, num_layers=3, out_channels=4))
    default_init = seeded(lambda: LSTMEncoder(in_channels=2, hidden_size=5, num_layers=3, out_channels=4,
                                              forget_bias=None))
    ours = seeded(lambda: LSTMEncoder(in_channels=2, hidden_size=5, num_layers=3, out_channels=4,
                                      forget_bias=forget_bias))
    assert original.keys() == default_init.keys() == ours.keys()
    forget = slice(5, 10)  # gates are ordered (input, forget, cell, output)
    for name, value in original.items():
        torch.testing.assert_close(default_init[name], value, rtol=0, atol=0)  # None: the original's initialisation
        if name.startswith("lstm.bias_"):
            expected = value.detach().clone()
            expected[forget] = forget_bias if name.startswith("lstm.bias_ih") else 0.0
            torch.testing.assert_close(ours[name], expected, rtol=0, atol=0)
        else:  # every other weight is drawn exactly as before
            torch.testing.assert_close(ours[name], value, rtol=0, atol=0)


def test_lstm_default_initialisation_remembers_the_start_of_long_series():
    # The reason for forget_bias: with PyTorch's initialisation, a fresh encoder's output no longer depends
    # on what happened 50 steps before the end; with the forget gates open it still does.
    x = torch.randn(8, 1, 150, generator=torch.Generator().manual_seed(0), requires_grad=True)

    def sensitivity(forget_bias):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            encoder = LSTMEncoder(forget_bias=forget_bias)
        (gradient,) = torch.autograd.grad(encoder(x).square().sum(), x)
        per_step = gradient.abs().mean(dim=(0, 1))
        return float(per_step[-51] / per_step[-1])  # 50 steps before the last one, relative to the last one

    assert sensitivity(None) < 1e-6
    assert sensitivity(1.0) > 1e-3


def test_causal_cnn_deepcopies_and_uses_parametrized_weight_norm():
    import copy

    encoder = CausalCNNEncoder(1, 4, 2, 3, 2, 3)
    clone = copy.deepcopy(encoder)
    x = torch.randn(2, 1, 8)
    torch.testing.assert_close(clone(x), encoder(x))
    assert "blocks.0.conv1.parametrizations.weight.original0" in encoder.state_dict()


# The causal convolution and the block are custom autograd Functions with hand-written backward passes:
# check them against finite differences (gradcheck, float64) and against plain autograd on the
# original padded-and-chomped formulation, with every number of kept taps (1, 2 and 3).
_TAP_CASES = [(3, 1, 9), (3, 4, 9), (3, 4, 5), (3, 4, 4), (3, 16, 7), (2, 8, 9), (5, 2, 3)]


def _conv_like(kernel_size, dilation, weight, bias):
    """What causal_conv1d reads from a Conv1d, with tensors we can differentiate with respect to."""
    from types import SimpleNamespace

    return SimpleNamespace(kernel_size=(kernel_size,), dilation=(dilation,), weight=weight, bias=bias)


@pytest.mark.parametrize("kernel_size,dilation,length", _TAP_CASES)
@pytest.mark.parametrize("in_channels,out_channels", [(2, 3), (3, 2)])
def test_causal_conv1d_gradcheck(kernel_size, dilation, length, in_channels, out_channels):
    generator = torch.Generator().manual_seed(length + 10 * dilation)
    x = torch.randn(2, length, in_channels, dtype=torch.float64, generator=generator, requires_grad=True)
    weight = torch.randn(out_channels, in_channels, kernel_size, dtype=torch.float64, generator=generator)
    bias = torch.randn(out_channels, dtype=torch.float64, generator=generator)
    weight.requires_grad_()
    bias.requires_grad_()

    def conv(x, weight, bias):
        return causal_conv1d(x, _conv_like(kernel_size, dilation, weight, bias))

    assert torch.autograd.gradcheck(conv, (x, weight, bias))
    # and without a bias, and with an input that needs no gradient
    assert torch.autograd.gradcheck(lambda x, weight: conv(x, weight, None), (x, weight))
    assert torch.autograd.gradcheck(lambda weight, bias: conv(x.detach(), weight, bias), (weight, bias))


def _block_and_inputs(in_channels, out_channels, kernel_size, dilation, length, final, seed=0):
    from tsrepr_sklearn.networks import CausalConvolutionBlock

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        block = CausalConvolutionBlock(in_channels, out_channels, kernel_size, dilation, final=final).double()
        x = torch.randn(3, length, in_channels, dtype=torch.float64)
    return block, x


_BLOCK_CHANNELS = [(2, 3), (3, 3), (4, 2)]  # 1x1 residual convolution, identity residual, fewer channels


@pytest.mark.parametrize("kernel_size,dilation,length", _TAP_CASES)
@pytest.mark.parametrize("in_channels,out_channels", _BLOCK_CHANNELS)
@pytest.mark.parametrize("final", [False, True])
def test_causal_block_gradcheck(kernel_size, dilation, length, in_channels, out_channels, final):
    from torch.func import functional_call

    block, x = _block_and_inputs(in_channels, out_channels, kernel_size, dilation, length, final)
    names = [name for name, _ in block.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in block.named_parameters()]

    def run(x, *params):
        return functional_call(block, dict(zip(names, params)), (x,))

    assert torch.autograd.gradcheck(run, (x.requires_grad_(), *params))
    # the first block of an encoder gets data that needs no gradient
    assert torch.autograd.gradcheck(lambda *params: run(x.detach(), *params), tuple(params))


def _plain_block(block, x):
    """The block computed with plain autograd operations on the original channels-first formulation."""
    F = torch.nn.functional

    def conv(module, h):
        padding = (module.kernel_size[0] - 1) * module.dilation[0]
        out = F.conv1d(h, module.weight, module.bias, padding=padding, dilation=module.dilation)
        return out[:, :, : h.shape[2]]

    h = x.transpose(1, 2)
    out = F.leaky_relu(conv(block.conv2, F.leaky_relu(conv(block.conv1, h))))
    residual = h if block.upordownsample is None else block.upordownsample(h)
    out = out + residual
    return (F.leaky_relu(out) if block.final else out).transpose(1, 2)


@pytest.mark.parametrize("kernel_size,dilation,length", _TAP_CASES)
@pytest.mark.parametrize("in_channels,out_channels", _BLOCK_CHANNELS)
@pytest.mark.parametrize("final", [False, True])
def test_causal_block_matches_plain_autograd(kernel_size, dilation, length, in_channels, out_channels, final):
    block, x = _block_and_inputs(in_channels, out_channels, kernel_size, dilation, length, final, seed=1)
    grad_out = torch.randn(3, length, out_channels, dtype=torch.float64)
    results = []
    for forward in (block, lambda x: _plain_block(block, x)):
        block.zero_grad(set_to_none=True)
        x_ = x.clone().requires_grad_()
        out = forward(x_)
        out.backward(grad_out)
        results.append((out.detach(), x_.grad, {name: p.grad for name, p in block.named_parameters()}))
    (out, grad_x, grads), (expected_out, expected_grad_x, expected_grads) = results
    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_x, expected_grad_x, rtol=1e-12, atol=1e-12)
    assert grads.keys() == expected_grads.keys()
    for name in grads:
        torch.testing.assert_close(grads[name], expected_grads[name], rtol=1e-12, atol=1e-12, msg=name)

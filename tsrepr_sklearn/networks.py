"""Pure PyTorch encoders mapping a batch of series to fixed-size vectors.

Both encoders take ``x`` of shape ``(batch, channels, length)`` and an optional
``lengths`` tensor of shape ``(batch,)``: when given, ``x`` is right-padded and
element ``i`` is encoded as if only its first ``lengths[i]`` time steps
existed. The result equals encoding each series on its own, without the
padding, which is what lets the triplet loss and ``transform`` encode series of
unequal length in one call.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = ["CausalConvolutionBlock", "CausalCNNEncoder", "LSTMEncoder", "causal_conv1d"]


def _shifted_columns(x: torch.Tensor, taps: int, dilation: int) -> torch.Tensor:
    """The ``(batch, length, taps, channels)`` tensor whose tap ``j`` is ``x`` delayed by ``(taps - 1 - j) * dilation``."""
    batch, length, channels = x.shape
    columns = x.new_empty(batch, length, taps, channels)
    for j in range(taps):
        shift = (taps - 1 - j) * dilation
        columns[:, shift:, j].copy_(x[:, : length - shift])
        if shift:
            columns[:, :shift, j].zero_()
    return columns


class _CausalConv1dFunction(torch.autograd.Function):
    """Causal convolution of channels-last ``x`` as one matrix product, with a lean backward.

    ``weight`` of shape (out_channels, in_channels, taps) holds the taps kept
    by :func:`causal_conv1d`. The forward fills one buffer with the shifted
    inputs (the only copy of ``x``) and multiplies it with the flattened
    kernel; it saves that buffer for the weight gradient. The backward computes
    the gradient of the buffer with one matrix product and folds its shifted
    slices into a single gradient for ``x``, in place.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, dilation):
        batch, length, channels = x.shape
        out_channels, _, taps = weight.shape
        x = x.contiguous()
        if taps == 1:
            columns = x.view(batch * length, channels)
        else:
            columns = _shifted_columns(x, taps, dilation).view(batch * length, taps * channels)
        kernel = weight.permute(0, 2, 1).reshape(out_channels, taps * channels)
        # allocated in its final shape so that the output is not a view (callers may modify it in place)
        out = x.new_empty(batch, length, out_channels)
        if bias is None:
            torch.mm(columns, kernel.t(), out=out.view(batch * length, out_channels))
        else:
            torch.addmm(bias, columns, kernel.t(), out=out.view(batch * length, out_channels))
        ctx.save_for_backward(columns, kernel)
        ctx.geometry = (batch, length, channels, taps, dilation)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        columns, kernel = ctx.saved_tensors
        batch, length, channels, taps, dilation = ctx.geometry
        grad = grad_out.reshape(batch * length, -1)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_columns = torch.mm(grad, kernel)
            if taps == 1:
                grad_x = grad_columns.view(batch, length, channels)
            else:
                grad_columns = grad_columns.view(batch, length, taps, channels)
                grad_x = grad_columns[:, :, taps - 1].clone(memory_format=torch.contiguous_format)
                for j in range(taps - 1):
                    shift = (taps - 1 - j) * dilation
                    grad_x[:, : length - shift].add_(grad_columns[:, shift:, j])
        if ctx.needs_input_grad[1]:
            grad_weight = torch.mm(grad.t(), columns).view(-1, taps, channels).permute(0, 2, 1)
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        return grad_x, grad_weight, grad_bias, None


def causal_conv1d(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """Apply ``conv`` causally to channels-last ``x``, computing only taps that can see data.

    Output position ``t`` is ``sum_j W[:, :, j] x[t - (k - 1 - j) * d] + b``
    with ``x`` taken as zero before the start, exactly as a convolution padded
    by ``(k - 1) * d`` on both sides and chomped on the right (the original
    implementation). Taps whose offset ``(k - 1 - j) * d`` is at least the
    length of ``x`` only ever meet that zero padding, so they are dropped;
    with large dilations on short series most convolutions become 1x1.

    The convolution is one matrix product of the ``(batch * length, taps *
    in_channels)`` matrix of shifted inputs with the flattened kernel. A
    general matrix product needs no per-shape preparation, whereas oneDNN's
    CPU convolutions compile a kernel for every new input shape, which the
    triplet loss's random lengths would trigger at almost every step. The
    shifted inputs are written once into one buffer (zero where a tap reaches
    before the start) and the backward pass, a custom
    :class:`torch.autograd.Function`, computes the gradient of that buffer
    with one matrix product and accumulates its shifted slices into a single
    gradient for ``x``, instead of letting autograd pad, slice and sum.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, length, in_channels)
        Input, channels last.
    conv : torch.nn.Conv1d
        Convolution whose (possibly parametrised) ``weight``, ``bias`` and
        ``dilation`` are used; its padding is ignored.

    Returns
    -------
    torch.Tensor of shape (batch, length, out_channels)
    """
    kernel_size = conv.kernel_size[0]
    dilation = conv.dilation[0]
    length = x.shape[1]
    # number of taps j (counted from the most recent one) with j * dilation < length
    taps = min(kernel_size, (length + dilation - 1) // dilation)
    weight = conv.weight[:, :, kernel_size - taps :]
    return _CausalConv1dFunction.apply(x, weight, conv.bias, dilation)


class CausalConvolutionBlock(nn.Module):
    """Two weight-normalised dilated causal convolutions and a residual path.

    ``LeakyReLU(conv2(LeakyReLU(conv1(x)))) + residual(x)``, where the residual
    is the identity or, when the channel counts differ, a 1x1 convolution;
    with ``final=True`` a last LeakyReLU is applied to the sum. The block works
    on channels-last tensors (see :func:`causal_conv1d`); the parameters are
    those of :class:`torch.nn.Conv1d` modules, so ``state_dict`` keys and
    shapes are the usual ones.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_channels : int
        Number of output channels.
    kernel_size : int
        Kernel size of the two causal convolutions.
    dilation : int
        Dilation of the two causal convolutions.
    final : bool, default=False
        Whether to apply a LeakyReLU after the residual sum.

    Examples
    --------
    >>> import torch
    >>> block = CausalConvolutionBlock(1, 4, kernel_size=3, dilation=2)
    >>> block(torch.zeros(2, 7, 1)).shape  # channels last
    torch.Size([2, 7, 4])
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation, final=False):
        super().__init__()
        self.conv1 = weight_norm(nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(out_channels, out_channels, kernel_size, dilation=dilation))
        self.upordownsample = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.final = final

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map channels-last ``x`` of shape (batch, length, in_channels) to (batch, length, out_channels)."""
        # the convolutions return fresh tensors that their backward does not need: activate in place
        out = F.leaky_relu(causal_conv1d(x, self.conv1), inplace=True)
        out = F.leaky_relu(causal_conv1d(out, self.conv2), inplace=True)
        if self.upordownsample is not None:
            x = F.linear(x, self.upordownsample.weight[:, :, 0], self.upordownsample.bias)
        out = out + x
        return F.leaky_relu(out) if self.final else out


class CausalCNNEncoder(nn.Module):
    """Dilated causal CNN encoder of Franceschi et al. (2019).

    ``depth`` causal convolution blocks of ``channels`` channels with dilations
    1, 2, 4, ..., one more block (dilation ``2 ** depth``) to ``reduced_size``
    channels, a global max-pool over time and a linear layer to
    ``out_channels``.

    Parameters
    ----------
    in_channels : int
        Number of channels of the input series.
    channels : int
        Number of channels of the hidden blocks.
    depth : int
        Number of hidden blocks.
    reduced_size : int
        Number of channels of the last block, max-pooled over time.
    out_channels : int
        Size of the representation.
    kernel_size : int
        Kernel size of the causal convolutions.

    Examples
    --------
    >>> import torch
    >>> encoder = CausalCNNEncoder(1, channels=8, depth=2, reduced_size=4, out_channels=3, kernel_size=3)
    >>> encoder(torch.zeros(5, 1, 20)).shape
    torch.Size([5, 3])
    """

    def __init__(self, in_channels, channels, depth, reduced_size, out_channels, kernel_size):
        super().__init__()
        blocks = []
        block_in = in_channels
        for i in range(depth):
            blocks.append(CausalConvolutionBlock(block_in, channels, kernel_size, 2**i))
            block_in = channels
        blocks.append(CausalConvolutionBlock(block_in, reduced_size, kernel_size, 2**depth))
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(reduced_size, out_channels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``x`` of shape (batch, channels, length) to (batch, out_channels).

        With ``lengths``, time steps ``t >= lengths[i]`` of element ``i`` are
        excluded from the max-pool. Causality guarantees that the padding never
        influences earlier time steps, so the result is exact.
        """
        h = self.blocks(x.transpose(1, 2))
        if lengths is not None:
            steps = torch.arange(h.shape[1], device=h.device)
            padded = steps >= lengths.to(h.device).unsqueeze(1)
            h = h.masked_fill(padded.unsqueeze(2), float("-inf"))
        return self.linear(h.max(dim=1).values)


class LSTMEncoder(nn.Module):
    """LSTM encoder: last time step of a stacked LSTM, then a linear layer.

    Generalises the original univariate encoder to ``in_channels`` channels;
    the defaults are the original's.

    Parameters
    ----------
    in_channels : int, default=1
        Number of channels of the input series.
    hidden_size : int, default=256
        Hidden size of the LSTM.
    num_layers : int, default=2
        Number of stacked LSTM layers.
    out_channels : int, default=160
        Size of the representation.

    Examples
    --------
    >>> import torch
    >>> encoder = LSTMEncoder(in_channels=2, hidden_size=8, num_layers=1, out_channels=3)
    >>> encoder(torch.zeros(4, 2, 10), lengths=torch.tensor([10, 3, 5, 1])).shape
    torch.Size([4, 3])
    """

    def __init__(self, in_channels=1, hidden_size=256, num_layers=2, out_channels=160):
        super().__init__()
        self.lstm = nn.LSTM(input_size=in_channels, hidden_size=hidden_size, num_layers=num_layers)
        self.linear = nn.Linear(hidden_size, out_channels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``x`` of shape (batch, channels, length) to (batch, out_channels).

        With ``lengths``, the padded batch is packed
        (:func:`torch.nn.utils.rnn.pack_padded_sequence`) and the representation
        is taken at each series' last valid step.
        """
        sequence = x.permute(2, 0, 1)
        if lengths is None:
            last = self.lstm(sequence)[0][-1]
        else:
            packed = pack_padded_sequence(sequence, lengths.cpu(), enforce_sorted=False)
            last = self.lstm(packed)[1][0][-1]
        return self.linear(last)

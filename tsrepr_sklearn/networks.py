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


_NEGATIVE_SLOPE = 0.01  # of the LeakyReLUs: torch.nn.LeakyReLU's default, as in the original


def _taps(kernel_size: int, dilation: int, length: int) -> int:
    """Number of taps ``j`` (counted from the most recent one) with ``j * dilation < length``."""
    return min(kernel_size, (length + dilation - 1) // dilation)


def _tap_view(columns: torch.Tensor, taps: int, dilation: int, j: int, start: int, stop: int) -> torch.Tensor:
    """The tap ``j`` slot of the ``(batch, length, taps * channels)`` buffer ``columns``, seen from its delay.

    Element ``(b, t)`` of the ``(batch, stop - start, channels)`` result is
    the tap ``j`` slot of row ``(b, start + t + (taps - 1 - j) * dilation)``.
    It is one strided view: on short series the fixed cost of every tensor
    operation is what counts.
    """
    batch, length, width = columns.shape
    channels = width // taps
    offset = (start + (taps - 1 - j) * dilation) * width + j * channels
    return columns.as_strided((batch, stop - start, channels), (length * width, width, 1), offset)


def _fill_shifted(columns: torch.Tensor, taps: int, dilation: int) -> torch.Tensor:
    """Fill the delayed taps of ``columns`` of shape (batch, length, taps * channels) from its last tap.

    Tap ``j`` becomes the last tap delayed by ``(taps - 1 - j) * dilation``
    steps, zero before the start. Returns ``columns``.
    """
    length, width = columns.shape[1], columns.shape[2]
    # the first rows of every delayed tap, at most the largest delay: zero; the copies overwrite what data reaches
    columns[:, : (taps - 1) * dilation, : width - width // taps].zero_()
    current = _tap_view(columns, taps, dilation, taps - 1, 0, length)
    for j in range(taps - 1):
        shift = (taps - 1 - j) * dilation
        # rows shift: of tap j hold current[:length - shift]
        _tap_view(columns, taps, dilation, j, 0, length - shift).copy_(current[:, : length - shift])
    return columns


def _shifted_columns(x: torch.Tensor, taps: int, dilation: int) -> torch.Tensor:
    """The ``(batch * length, taps * channels)`` matrix of shifted inputs of channels-last ``x``.

    Columns ``j * channels : (j + 1) * channels`` of row ``(b, t)`` hold
    ``x[b, t - (taps - 1 - j) * dilation]``, zero before the start. With one
    tap this is ``x`` itself, reshaped (no copy when ``x`` is contiguous).
    """
    batch, length, channels = x.shape
    if taps == 1:
        return x.reshape(batch * length, channels)
    columns = x.new_empty(batch, length, taps * channels)
    _tap_view(columns, taps, dilation, taps - 1, 0, length).copy_(x)
    return _fill_shifted(columns, taps, dilation).view(batch * length, taps * channels)


def _fold_shifted(grad_columns, batch, length, taps, dilation, out=None):
    """Adjoint of :func:`_shifted_columns`: the ``(batch * length, channels)`` sum of the shifted slices.

    The sum is written into ``out`` (a contiguous tensor of ours with ``batch *
    length * channels`` elements, not overlapping ``grad_columns``) or into a
    new tensor; with one tap, ``grad_columns`` itself is returned.
    """
    if taps == 1:
        return grad_columns
    channels = grad_columns.shape[1] // taps
    columns = grad_columns.view(batch, length, taps * channels)
    grad = grad_columns.new_empty(batch, length, channels) if out is None else out.view(batch, length, channels)

    def tap(j, start, stop):
        return _tap_view(columns, taps, dilation, j, start, stop)

    # the most recent tap (no delay) covers every position; add the next one where it reaches, then the others
    reach = length - dilation
    torch.add(tap(taps - 1, 0, reach), tap(taps - 2, 0, reach), out=grad[:, :reach])
    grad[:, reach:].copy_(tap(taps - 1, reach, length))
    for j in range(taps - 2):
        reach = length - (taps - 1 - j) * dilation
        grad[:, :reach].add_(tap(j, 0, reach))
    return grad.view(batch * length, channels)


def _leading(buffer: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
    """The first ``rows * columns`` elements of the contiguous ``buffer`` as a (rows, columns) matrix."""
    return buffer.view(-1)[: rows * columns].view(rows, columns)


def _flat_kernel(weight: torch.Tensor) -> torch.Tensor:
    """``(out, in, taps)`` kernel as the ``(out, taps * in)`` matrix matching :func:`_shifted_columns`."""
    out_channels, in_channels, taps = weight.shape
    return weight.permute(0, 2, 1).reshape(out_channels, taps * in_channels)


def _unflat_kernel_grad(grad: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Gradient of :func:`_flat_kernel`'s ``(out, taps * in)`` matrix as an ``(out, in, taps)`` tensor."""
    return grad.view(grad.shape[0], -1, in_channels).permute(0, 2, 1)


def _linear_into(out: torch.Tensor, columns: torch.Tensor, kernel: torch.Tensor, bias) -> torch.Tensor:
    """``columns @ kernel.T + bias`` written into the 2-D ``out`` (which may be a strided view)."""
    if bias is None:
        return torch.mm(columns, kernel.t(), out=out)
    return torch.addmm(bias, columns, kernel.t(), out=out)


def _leaky_relu_backward(grad: torch.Tensor, result: torch.Tensor, out=None) -> torch.Tensor:
    """Gradient through a LeakyReLU given its result, in a new tensor or written into ``out``."""
    if out is None:
        return torch.ops.aten.leaky_relu_backward(grad, result, _NEGATIVE_SLOPE, True)
    return torch.ops.aten.leaky_relu_backward.grad_input(grad, result, _NEGATIVE_SLOPE, True, grad_input=out)


# Both Functions below read their saved tensors in the backward without ever writing into them: the
# triplet loss may backpropagate through the same graph several times (retain_graph=True).


class _CausalConv1dFunction(torch.autograd.Function):
    """Causal convolution of channels-last ``x`` (see :func:`causal_conv1d`) with a lean backward.

    ``weight`` of shape (out_channels, in_channels, taps) holds the taps kept.
    The forward multiplies the shifted inputs (:func:`_shifted_columns`),
    which it keeps for the weight gradient, with the flattened kernel. The
    backward gets the gradient of the shifted inputs with one matrix product
    and folds its shifted slices into the gradient of ``x``
    (:func:`_fold_shifted`).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, dilation):
        batch, length, _ = x.shape
        out_channels, in_channels, taps = weight.shape
        columns = _shifted_columns(x, taps, dilation)
        kernel = _flat_kernel(weight)
        # allocated in its final shape so that the output is not a view (callers may modify it in place)
        out = x.new_empty(batch, length, out_channels)
        _linear_into(out.view(batch * length, out_channels), columns, kernel, bias)
        ctx.save_for_backward(columns, kernel)
        ctx.geometry = (batch, length, in_channels, taps, dilation)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        columns, kernel = ctx.saved_tensors
        batch, length, in_channels, taps, dilation = ctx.geometry
        grad = grad_out.reshape(batch * length, -1)
        need_x, need_weight, need_bias, _ = ctx.needs_input_grad
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = _fold_shifted(torch.mm(grad, kernel), batch, length, taps, dilation)
            grad_x = grad_x.view(batch, length, in_channels)
        if need_weight:
            grad_weight = _unflat_kernel_grad(torch.mm(grad.t(), columns), in_channels)
        if need_bias:
            grad_bias = grad.sum(0)
        return grad_x, grad_weight, grad_bias, None


class _CausalBlockFunction(torch.autograd.Function):
    """Forward and backward of a whole :class:`CausalConvolutionBlock` as one autograd node.

    Computes ``LeakyReLU(conv2(LeakyReLU(conv1(x)))) + residual(x)`` (and a
    last LeakyReLU when ``final``) with the convolutions of
    :func:`causal_conv1d`, doing the arithmetic of the separate operations,
    hence with their result, but with fewer operations and buffers: conv1
    writes its output straight into the most recent tap of conv2's shifted
    inputs (which is then the only copy of that activation), activations are
    applied in place, the backward writes each activation gradient over a
    buffer it owns, and the gradient of ``x`` from the residual path is
    accumulated into the one from the convolutions (by the same matrix
    product when the residual is a 1x1 convolution) instead of autograd
    summing separate tensors.

    ``weight1`` and ``weight2`` are the kept taps (out, in, taps); ``weight_res``
    is the 1x1 residual kernel as an (out, in) matrix, or ``None`` for the
    identity.
    """

    @staticmethod
    def forward(ctx, x, weight1, bias1, weight2, bias2, weight_res, bias_res, dilation, final):
        batch, length, in_channels = x.shape
        out_channels, _, taps = weight1.shape
        rows = batch * length
        x = x.contiguous()
        x_rows = x.view(rows, in_channels)
        kernel1, kernel2 = _flat_kernel(weight1), _flat_kernel(weight2)
        columns1 = _shifted_columns(x, taps, dilation)
        columns2 = x.new_empty(batch, length, taps * out_channels)
        hidden1 = columns2.view(rows, taps * out_channels)[:, (taps - 1) * out_channels :]
        _linear_into(hidden1, columns1, kernel1, bias1)
        F.leaky_relu(hidden1, _NEGATIVE_SLOPE, inplace=True)
        columns2 = _fill_shifted(columns2, taps, dilation).view(rows, taps * out_channels)
        hidden2 = _linear_into(x.new_empty(rows, out_channels), columns2, kernel2, bias2)
        F.leaky_relu(hidden2, _NEGATIVE_SLOPE, inplace=True)
        out = x.new_empty(batch, length, out_channels)
        flat_out = out.view(rows, out_channels)
        if weight_res is None:
            torch.add(hidden2, x_rows, out=flat_out)
        else:
            _linear_into(flat_out, x_rows, weight_res, bias_res).add_(hidden2)
        if final:
            F.leaky_relu(out, _NEGATIVE_SLOPE, inplace=True)
        ctx.save_for_backward(x_rows, columns1, columns2, hidden2, kernel1, kernel2, weight_res, out if final else None)
        ctx.geometry = (batch, length, in_channels, out_channels, taps, dilation, final)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x_rows, columns1, columns2, hidden2, kernel1, kernel2, weight_res, out = ctx.saved_tensors
        batch, length, in_channels, out_channels, taps, dilation, final = ctx.geometry
        rows = batch * length
        need = ctx.needs_input_grad
        grad = grad_out.reshape(rows, out_channels)
        if final:
            grad = _leaky_relu_backward(grad, out.view(rows, out_channels))
        grad_res_weight = grad_res_bias = None
        if weight_res is not None:
            if need[5]:
                grad_res_weight = torch.mm(grad.t(), x_rows)
            if need[6]:
                grad_res_bias = grad.sum(0)
        # conv2, through its activation
        grad2 = _leaky_relu_backward(grad, hidden2)
        grad_weight2 = _unflat_kernel_grad(torch.mm(grad2.t(), columns2), out_channels) if need[3] else None
        grad_bias2 = grad2.sum(0) if need[4] else None
        # conv1, through its activation; grad2's buffer is free once the gradient of columns2 is known
        grad_columns2 = torch.mm(grad2, kernel2)
        grad1 = _fold_shifted(grad_columns2, batch, length, taps, dilation, out=grad2)
        hidden1 = columns2[:, (taps - 1) * out_channels :]
        _leaky_relu_backward(grad1, hidden1, out=grad1)
        grad_weight1 = _unflat_kernel_grad(torch.mm(grad1.t(), columns1), in_channels) if need[1] else None
        grad_bias1 = grad1.sum(0) if need[2] else None
        grad_x = None
        if need[0]:
            free = grad2 if taps == 1 else grad_columns2  # whichever buffer grad1 is not in
            if free.numel() >= rows * taps * in_channels:
                grad_columns1 = torch.mm(grad1, kernel1, out=_leading(free, rows, taps * in_channels))
            else:
                grad_columns1 = torch.mm(grad1, kernel1)
            grad_x = _fold_shifted(grad_columns1, batch, length, taps, dilation)
            # the residual path's share; grad_x is ours (a new fold, or the product above)
            if weight_res is None:
                grad_x.add_(grad)
            else:
                grad_x.addmm_(grad, weight_res)
            grad_x = grad_x.view(batch, length, in_channels)
        return grad_x, grad_weight1, grad_bias1, grad_weight2, grad_bias2, grad_res_weight, grad_res_bias, None, None


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
    triplet loss's random lengths would trigger at almost every step. It is a
    custom :class:`torch.autograd.Function`: the shifted inputs are written
    once into one buffer, kept for the weight gradient, and the backward pass
    computes their gradient with one matrix product and sums its shifted
    slices into the gradient of ``x``, instead of autograd padding, slicing
    and concatenating. :class:`CausalConvolutionBlock` does the same for its
    two convolutions within a single autograd node.

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
        The causal convolution of ``x``, channels last.

    Examples
    --------
    Output step ``t`` sees ``x[t - 1]`` through the first tap and ``x[t]``
    through the second; before the start, ``x`` is zero:

    >>> import torch
    >>> from torch import nn
    >>> from tsrepr_sklearn.networks import causal_conv1d
    >>> conv = nn.Conv1d(1, 1, kernel_size=2, bias=False)
    >>> with torch.no_grad():
    ...     _ = conv.weight.copy_(torch.tensor([[[1.0, 10.0]]]))
    >>> x = torch.tensor([[[1.0], [2.0], [3.0]]])  # (batch=1, length=3, in_channels=1)
    >>> causal_conv1d(x, conv)[0, :, 0].tolist()
    [10.0, 21.0, 32.0]
    """
    kernel_size = conv.kernel_size[0]
    dilation = conv.dilation[0]
    taps = _taps(kernel_size, dilation, x.shape[1])
    return _CausalConv1dFunction.apply(x, conv.weight[:, :, kernel_size - taps :], conv.bias, dilation)


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
        """Map channels-last ``x`` of shape (batch, length, in_channels) to (batch, length, out_channels).

        The two convolutions are those of :func:`causal_conv1d`; the whole
        block is one autograd node with a hand-written backward.
        """
        kernel_size = self.conv1.kernel_size[0]
        dilation = self.conv1.dilation[0]
        first = kernel_size - _taps(kernel_size, dilation, x.shape[1])
        residual = self.upordownsample
        return _CausalBlockFunction.apply(
            x,
            self.conv1.weight[:, :, first:],
            self.conv1.bias,
            self.conv2.weight[:, :, first:],
            self.conv2.bias,
            None if residual is None else residual.weight[:, :, 0],
            None if residual is None else residual.bias,
            dilation,
            self.final,
        )


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
    the architecture and sizes are the original's. One deliberate difference:
    the forget-gate biases start at ``forget_bias`` (Gers, Schmidhuber &
    Cummins, 2000; Jozefowicz, Zaremba & Sutskever, 2015). With PyTorch's
    default initialisation, which the original code used, a fresh encoder's
    output depends almost only on the last 20 or so time steps: on series of
    150 steps, training never recovers and the representations classify at
    chance level (measured in ``benchmarks/lstm_memory.py``). ``forget_bias=None``
    keeps PyTorch's initialisation, as in the original code.

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
    forget_bias : float or None, default=1.0
        Initial value of the forget-gate biases of every layer (the input-hidden
        bias holds it, the hidden-hidden bias starts at 0). ``None``: PyTorch's
        default initialisation. Only the initial weights depend on it.

    Examples
    --------
    >>> import torch
    >>> encoder = LSTMEncoder(in_channels=2, hidden_size=8, num_layers=1, out_channels=3)
    >>> encoder(torch.zeros(4, 2, 10), lengths=torch.tensor([10, 3, 5, 1])).shape
    torch.Size([4, 3])
    """

    def __init__(self, in_channels=1, hidden_size=256, num_layers=2, out_channels=160, forget_bias=1.0):
        super().__init__()
        self.lstm = nn.LSTM(input_size=in_channels, hidden_size=hidden_size, num_layers=num_layers)
        self.linear = nn.Linear(hidden_size, out_channels)
        if forget_bias is not None:
            with torch.no_grad():  # PyTorch orders the gates (input, forget, cell, output)
                for layer in range(num_layers):
                    getattr(self.lstm, f"bias_ih_l{layer}")[hidden_size : 2 * hidden_size] = forget_bias
                    getattr(self.lstm, f"bias_hh_l{layer}")[hidden_size : 2 * hidden_size] = 0.0

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

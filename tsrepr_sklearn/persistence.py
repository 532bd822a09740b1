"""Reading encoders written by the original code and converting their weights."""

from __future__ import annotations

import re

import torch

__all__ = ["convert_original_state_dict", "load_original_state_dict"]

_CAUSAL_KEY = re.compile(r"^network\.0\.network\.(\d+)\.(causal\.[03]|upordownsample)\.(weight_g|weight_v|weight|bias)$")
_LINEAR_KEY = re.compile(r"^network\.3\.(weight|bias)$")
_CONV_NAMES = {"causal.0": "conv1", "causal.3": "conv2", "upordownsample": "upordownsample"}
_WEIGHT_NORM_NAMES = {"weight_g": "parametrizations.weight.original0", "weight_v": "parametrizations.weight.original1"}


def convert_original_state_dict(state_dict, architecture):
    """Map an original ``state_dict`` to the keys of this package's encoders.

    Parameters
    ----------
    state_dict : dict of str to torch.Tensor
        Weights of the original ``CausalCNNEncoder`` (keys such as
        ``network.0.network.3.causal.0.weight_g``, written with the deprecated
        weight-norm API) or ``LSTMEncoder`` (keys ``lstm.*``, ``linear.*``).
    architecture : {"CausalCNN", "LSTM"}
        Which encoder the weights belong to.

    Returns
    -------
    dict of str to torch.Tensor
        The same tensors in float32, keyed for
        :class:`~tsrepr_sklearn.networks.CausalCNNEncoder` or
        :class:`~tsrepr_sklearn.networks.LSTMEncoder`.

    Raises
    ------
    ValueError
        If a key is not one the original encoder has.
    """
    converted = {}
    for key, value in state_dict.items():
        if architecture == "LSTM":
            if not (key.startswith("lstm.") or key.startswith("linear.")):
                raise ValueError(f"unexpected key {key!r} in an original LSTMEncoder state_dict")
            new_key = key
        else:
            causal = _CAUSAL_KEY.match(key)
            linear = _LINEAR_KEY.match(key)
            if causal:
                block, conv, name = causal.groups()
                new_key = f"blocks.{block}.{_CONV_NAMES[conv]}.{_WEIGHT_NORM_NAMES.get(name, name)}"
            elif linear:
                new_key = f"linear.{linear.group(1)}"
            else:
                raise ValueError(f"unexpected key {key!r} in an original CausalCNNEncoder state_dict")
        converted[new_key] = value.detach().to(dtype=torch.float32, device="cpu")
    return converted


def load_original_state_dict(path, architecture):
    """Read an encoder file written by the original code, safely.

    The file is loaded with ``torch.load(..., weights_only=True)``, which
    refuses anything but tensors and plain containers, and mapped to the CPU.

    Parameters
    ----------
    path : str or os.PathLike
        File written by the original ``save_encoder`` (``torch.save`` of the
        encoder's ``state_dict``).
    architecture : {"CausalCNN", "LSTM"}
        Which encoder the weights belong to.

    Returns
    -------
    dict of str to torch.Tensor
        See :func:`convert_original_state_dict`.
    """
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several types for unreadable or unsafe files
        raise ValueError(f"cannot read original encoder file {str(path)!r}: {exc}") from None
    if not isinstance(state_dict, dict):
        raise ValueError(f"original encoder file {str(path)!r} does not hold a state_dict")
    return convert_original_state_dict(state_dict, architecture)

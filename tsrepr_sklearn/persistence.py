"""Reading encoders written by the original code and converting their weights."""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import pickle
import re

import numpy as np
import sklearn
import torch
from sklearn.svm import SVC

from ._warn import warn

__all__ = [
    "convert_original_state_dict",
    "load_original_state_dict",
    "save_estimator",
    "load_estimator",
    "read_metadata",
    "read_original_hyperparameters",
]

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

    Examples
    --------
    >>> import torch
    >>> from tsrepr_sklearn.persistence import convert_original_state_dict
    >>> original = {
    ...     "network.0.network.0.causal.0.weight_g": torch.ones(4, 1, 1, dtype=torch.float64),
    ...     "network.0.network.0.causal.3.bias": torch.zeros(4, dtype=torch.float64),
    ...     "network.3.bias": torch.zeros(3, dtype=torch.float64),
    ... }
    >>> converted = convert_original_state_dict(original, "CausalCNN")
    >>> for key, value in converted.items():
    ...     print(key, value.dtype)
    blocks.0.conv1.parametrizations.weight.original0 torch.float32
    blocks.0.conv2.bias torch.float32
    linear.bias torch.float32
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

    Examples
    --------
    The original LSTM encoder has the same keys as
    :class:`~tsrepr_sklearn.networks.LSTMEncoder`; its weights were float64:

    >>> import os
    >>> import tempfile
    >>> import torch
    >>> from tsrepr_sklearn.networks import LSTMEncoder
    >>> from tsrepr_sklearn.persistence import load_original_state_dict
    >>> original = LSTMEncoder(in_channels=1, hidden_size=4, num_layers=1, out_channels=2).double()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "encoder.pth")
    ...     torch.save(original.state_dict(), path)
    ...     state_dict = load_original_state_dict(path, "LSTM")
    >>> state_dict["linear.weight"].shape, state_dict["linear.weight"].dtype
    (torch.Size([2, 4]), torch.float32)
    >>> encoder = LSTMEncoder(in_channels=1, hidden_size=4, num_layers=1, out_channels=2)
    >>> encoder.load_state_dict(state_dict)
    <All keys matched successfully>
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


FORMAT_NAME = "tsrepr-sklearn"
#: Version of the file format written by :func:`save_estimator`; files of a newer version are refused.
#: Version 2 added the checksum, the optimizer state, the metadata and the classifier stored without pickle.
FORMAT_VERSION = 2


def _update_digest(digest, value):
    """Feed ``value`` (nested dicts, lists, tuples, tensors, strings, numbers) to ``digest`` canonically."""
    if isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=str):
            _update_digest(digest, str(key))
            _update_digest(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _update_digest(digest, item)
        digest.update(b"]")
    elif isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def _checksum(archive):
    digest = hashlib.sha256()
    _update_digest(digest, {key: value for key, value in archive.items() if key != "checksum"})
    return digest.hexdigest()

_ORIGINAL_KEYS = {
    "batch_size", "channels", "compared_length", "depth", "nb_steps", "in_channels", "kernel_size", "penalty",
    "early_stopping", "lr", "nb_random_samples", "negative_penalty", "out_channels", "reduced_size", "cuda", "gpu",
    "hidden_size", "num_layers",
}


def _json_params(estimator):
    params = estimator.get_params(deep=False)
    params.pop("classifier")
    params["device"] = str(params["device"])
    if params.get("checkpoint") is not None:
        params["checkpoint"] = os.fspath(params["checkpoint"])
    if not (params["random_state"] is None or isinstance(params["random_state"], numbers.Integral)):
        warn(
            "random_state is a RandomState instance, which the safe format cannot hold: the file stores "
            "random_state=None, so refitting the loaded estimator is not reproducible. Use an int seed."
        )
        params["random_state"] = None
    # numpy scalars pass the parameter validation (GridSearchCV grids built with numpy make them)
    return json.dumps(params, default=_numpy_scalar)


def _numpy_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"parameter value {value!r} of type {type(value).__name__} cannot be saved")


def optimizer_state_to_cpu(state_dict):
    """A copy of an optimizer's ``state_dict`` with every tensor on the CPU."""

    def to_cpu(value):
        if isinstance(value, torch.Tensor):
            return value.detach().cpu()
        if isinstance(value, dict):
            return {k: to_cpu(v) for k, v in value.items()}
        return value

    return to_cpu(state_dict)


# --------------------------------------------------------------------------- classifier without pickle

#: Classifiers whose fitted state is stored as plain arrays and numbers (restored without unpickling).
_SAFE_CLASSIFIERS = {"sklearn.svm.SVC": SVC}


def _to_plain(value, tensors, key):
    """A JSON-able description of ``value`` (arrays go to ``tensors``); ``None`` if not representable."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"v": value}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"scalar": value.dtype.str, "v": value.item()}
    if isinstance(value, tuple):
        items = [_to_plain(item, tensors, f"{key}.{i}") for i, item in enumerate(value)]
        return None if any(item is None for item in items) else {"tuple": items}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
            return {"tensor": key, "dtype": value.dtype.str}
        if value.dtype.kind == "U" or (value.dtype == object and all(isinstance(v, str) for v in value.flat)):
            return {"strings": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    return None


def _from_plain(description, tensors):
    if "tensor" in description:
        return tensors[description["tensor"]].numpy().astype(description["dtype"], copy=True)
    if "scalar" in description:
        return np.dtype(description["scalar"]).type(description["v"])
    if "tuple" in description:
        return tuple(_from_plain(item, tensors) for item in description["tuple"])
    if "strings" in description:
        dtype = np.dtype(description["dtype"])
        values = np.empty(len(description["strings"]), dtype=object) if dtype == object else None
        if values is None:
            return np.array(description["strings"], dtype=dtype).reshape(description["shape"])
        values[:] = description["strings"]
        return values.reshape(description["shape"])
    return description["v"]


def _classifier_name(classifier):
    return f"{type(classifier).__module__.split('._')[0]}.{type(classifier).__qualname__}"


def _classifier_info(classifier, fitted):
    """JSON description of the ``classifier`` parameter, and of how the fitted classifier is stored.

    An unfitted classifier of an allowed class whose parameters are plain
    values is described by the parameters that differ from its class's
    defaults (a later scikit-learn may drop a parameter left at its
    default), so that loading rebuilds it without unpickling; any other
    is only named, so that loading can say what it left out. ``fitted``
    is ``{"kind": "none" | "safe" | "pickled", "class": name}``.
    """
    param = {"kind": "none"}
    if classifier is not None:
        name = _classifier_name(classifier)
        param = {"kind": "pickled", "class": name}
        if _SAFE_CLASSIFIERS.get(name) is type(classifier):
            defaults = type(classifier)().get_params(deep=False)
            params = {key: value.item() if isinstance(value, np.generic) else value
                      for key, value in classifier.get_params(deep=False).items()
                      if not (type(value) is type(defaults.get(key)) and value == defaults.get(key))}
            if all(value is None or isinstance(value, (bool, int, float, str)) for value in params.values()):
                param = {"kind": "safe", "class": name, "params": params}
    return json.dumps({"param": param, "fitted": fitted})


def classifier_to_safe(classifier):
    """Describe a fitted classifier of an allowed class with JSON and tensors only.

    Parameters
    ----------
    classifier : estimator
        A fitted classifier.

    Returns
    -------
    (str, dict of str to torch.Tensor) or None
        JSON text and tensors from which :func:`classifier_from_safe`
        rebuilds it; ``None`` when its class is not in the allowed list
        (currently scikit-learn's ``SVC``) or an attribute is not an array,
        number, string or tuple of those.
    """
    name = _classifier_name(classifier)
    if _SAFE_CLASSIFIERS.get(name) is not type(classifier):
        return None
    tensors, attributes = {}, {}
    for key, value in vars(classifier).items():
        attributes[key] = _to_plain(value, tensors, key)
        if attributes[key] is None:
            return None
    text = json.dumps({"class": name, "sklearn": sklearn.__version__, "attributes": attributes})
    return text, tensors


def classifier_from_safe(text, tensors):
    """Rebuild a classifier described by :func:`classifier_to_safe`, without unpickling anything.

    Parameters
    ----------
    text : str
        JSON description.
    tensors : dict of str to torch.Tensor
        Its arrays.

    Returns
    -------
    estimator
        The fitted classifier.
    """
    description = json.loads(text)
    cls = _SAFE_CLASSIFIERS.get(description.get("class"))
    if cls is None:
        raise ValueError(f"the stored classifier class {description.get('class')!r} is not an allowed one.")
    if description.get("sklearn") != sklearn.__version__:
        warn(
            f"The classifier was fitted with scikit-learn {description.get('sklearn')} and is loaded with "
            f"{sklearn.__version__}; refit it with fit_classifier if its predictions look wrong."
        )
    classifier = cls.__new__(cls)
    classifier.__dict__.update({key: _from_plain(value, tensors) for key, value in description["attributes"].items()})
    return classifier


# --------------------------------------------------------------------------- estimator files


def save_estimator(estimator, path, *, metadata=None):
    """Write a fitted estimator to ``path`` in the safe format.

    The file is a ``torch.save`` archive holding only tensors, numbers and
    strings: hyper-parameters as JSON, the encoder's weights, the training
    history and the fitted classifier. A classifier of an allowed class
    (scikit-learn's ``SVC``, the default) is stored as arrays and numbers
    and loads without unpickling; any other is stored as pickled bytes (in
    a uint8 tensor), which :func:`load_estimator` unpickles only when asked
    to.

    Parameters
    ----------
    estimator : CausalCNNEncoderClassifier or LSTMEncoderClassifier
        Estimator with a fitted encoder.
    path : str or os.PathLike
        Destination file; written atomically (temporary file, then rename).
    metadata : dict or None, default=None
        JSON-serialisable information stored with the model (the command
        line stores its normalisation there); read back by
        :func:`read_metadata`.

    Warns
    -----
    UserWarning
        If ``random_state`` is a ``RandomState`` instance: it is stored as
        ``None``.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.persistence import load_estimator, save_estimator
    >>> X = np.random.default_rng(0).normal(size=(6, 16))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  device="cpu", random_state=0).fit(X, [0, 1, 0, 1, 0, 1])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.pt")
    ...     save_estimator(clf, path)
    ...     loaded = load_estimator(path)
    >>> bool(np.array_equal(loaded.transform(X), clf.transform(X)))
    True
    >>> bool(np.array_equal(loaded.predict(X), clf.predict(X)))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "encoder_")
    archive = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": type(estimator).__name__,
        "params": _json_params(estimator),
        "encoder_kwargs": json.dumps(estimator.encoder_kwargs_, default=_numpy_scalar),
        "encoder_state": {k: v.detach().cpu() for k, v in estimator.encoder_.state_dict().items()},
        "history": torch.as_tensor(estimator.history_, dtype=torch.float64),
        "n_steps": int(estimator.n_steps_),
        "device": str(estimator.device_),
        "metadata": json.dumps(metadata if metadata is not None else {}),
        "optimizer_state": optimizer_state_to_cpu(estimator.optimizer_.state_dict()),
    }
    pickled = {"classifier_param": estimator.classifier}
    fitted = {"kind": "none"}
    if hasattr(estimator, "classifier_"):
        safe = classifier_to_safe(estimator.classifier_)
        fitted = {"kind": "safe" if safe is not None else "pickled", "class": _classifier_name(estimator.classifier_)}
        if safe is None:
            pickled["classifier_"] = estimator.classifier_
        else:
            archive["classifier_json"], archive["classifier_tensors"] = safe
    archive["classifier_info"] = _classifier_info(estimator.classifier, fitted)
    archive["pickled"] = torch.frombuffer(bytearray(pickle.dumps(pickled)), dtype=torch.uint8)
    archive["checksum"] = _checksum(archive)
    path = os.fspath(path)
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        torch.save(archive, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_estimator(path, *, trust_pickled_classifier=False):
    """Read an estimator written by :func:`save_estimator`.

    The file is read with ``torch.load(..., weights_only=True)``: no code
    from the file runs, whatever it contains. The default classifier (an
    ``SVC``) is stored as arrays and comes back fitted. Another classifier
    is stored pickled, and unpickling can run arbitrary code, so it is
    restored only with ``trust_pickled_classifier=True``; otherwise the
    estimator comes back with its encoder (``transform`` and
    ``encode_window`` work), ``classifier=None``, and a warning saying what
    was left out (older files, which do not record what they pickled,
    leave it out silently); ``fit_classifier`` can be called. An ``SVC``
    given as the ``classifier`` parameter is stored as plain values and
    comes back.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :func:`save_estimator`.
    trust_pickled_classifier : bool, default=False
        Also unpickle the classifier. Only for files from a trusted source.

    Returns
    -------
    CausalCNNEncoderClassifier or LSTMEncoderClassifier
        On the CPU unless the file's device is available.

    Raises
    ------
    ValueError
        If the file is not a tsrepr-sklearn model, is truncated or corrupted,
        or was written by a newer format version.

    Warns
    -----
    UserWarning
        If the file holds a pickled classifier that is not loaded.

    Examples
    --------
    A classifier other than ``SVC`` is stored pickled, so by default the
    estimator comes back with its encoder only, and a warning says so:

    >>> import os
    >>> import tempfile
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.persistence import load_estimator, save_estimator
    >>> X = np.random.default_rng(0).normal(size=(6, 16))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  classifier=KNeighborsClassifier(n_neighbors=1),
    ...                                  device="cpu", random_state=0).fit(X, [0, 1, 0, 1, 0, 1])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.pt")
    ...     save_estimator(clf, path)
    ...     with warnings.catch_warnings(record=True) as caught:
    ...         warnings.simplefilter("always")
    ...         encoder_only = load_estimator(path)
    ...     trusted = load_estimator(path, trust_pickled_classifier=True)
    >>> print(str(caught[0].message).split(" as pickled")[0].split("holds ")[1])  # doctest: +NORMALIZE_WHITESPACE
    the classifier parameter (sklearn.neighbors.KNeighborsClassifier) and the fitted classifier
    (sklearn.neighbors.KNeighborsClassifier)
    >>> hasattr(encoder_only, "classifier_"), encoder_only.classifier, encoder_only.transform(X).shape
    (False, None, (6, 3))
    >>> trusted.predict(X).tolist()
    [0, 1, 0, 1, 0, 1]
    """
    from . import classifiers

    archive = _read_archive(path)
    cls = getattr(classifiers, archive["class"], None)
    if cls is None or cls.__name__ not in classifiers.__all__:
        raise ValueError(f"{os.fspath(path)!r} holds an unknown estimator class {archive['class']!r}.")
    params = json.loads(archive["params"])
    for key, value in cls._original_initialisation.items():
        # a file written before this parameter existed holds a model initialised the original code's way
        params.setdefault(key, value)
    estimator = cls(**params)
    state = {
        "encoder_": archive["encoder_state"],
        "encoder_kwargs_": json.loads(archive["encoder_kwargs"]),
        "device_": archive["device"],
        "optimizer_": archive.get("optimizer_state"),
    }
    estimator._restore_encoder(state)
    estimator.history_ = archive["history"].numpy().copy()
    estimator.n_steps_ = archive["n_steps"]
    estimator.n_channels_in_ = estimator.encoder_kwargs_["in_channels"]
    if "classifier_json" in archive:
        estimator.classifier_ = classifier_from_safe(archive["classifier_json"], archive["classifier_tensors"])
    if "classifier_info" in archive and not trust_pickled_classifier:  # older files lack it (no warning then)
        _restore_classifier_param(estimator, json.loads(archive["classifier_info"]), path)
    if trust_pickled_classifier:
        pickled = pickle.loads(archive["pickled"].numpy().tobytes())
        estimator.classifier = pickled["classifier_param"]
        if "classifier_" in pickled:
            estimator.classifier_ = pickled["classifier_"]
    if hasattr(estimator, "classifier_"):
        estimator.classes_ = estimator.classifier_.classes_
    return estimator


def _restore_classifier_param(estimator, info, path):
    """Set the ``classifier`` parameter from its safe description; warn about what stays pickled."""
    param, fitted = info["param"], info["fitted"]
    if param["kind"] == "safe":
        try:
            estimator.classifier = _SAFE_CLASSIFIERS[param["class"]](**param["params"])
        except (TypeError, ValueError) as exc:  # a parameter this scikit-learn no longer has
            warn(f"{os.fspath(path)!r}: the classifier parameter {param['class']}({param['params']}) cannot be "
                 f"rebuilt with scikit-learn {sklearn.__version__} ({exc}); it is left as None.")
    left_out = [f"{what} ({part['class']})" for what, part in (("the classifier parameter", param),
                                                              ("the fitted classifier", fitted))
                if part["kind"] == "pickled"]
    if left_out:
        warn(
            f"{os.fspath(path)!r} holds {' and '.join(left_out)} as pickled bytes, which are not loaded unless "
            "trust_pickled_classifier=True (only for a file from a trusted source)"
            + ("." if param["kind"] == "safe" else "; the estimator comes back with classifier=None, so "
               "fit_classifier would fit the default SVM.")
        )


def read_metadata(path):
    """The ``metadata`` dict stored by :func:`save_estimator` (empty when none was given).

    Parameters
    ----------
    path : str or os.PathLike
        File written by :func:`save_estimator`.

    Returns
    -------
    dict
        The ``metadata`` given to :func:`save_estimator`.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.persistence import read_metadata, save_estimator
    >>> X = np.random.default_rng(0).normal(size=(6, 16))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=1, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  device="cpu", random_state=0).fit_encoder(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.pt")
    ...     save_estimator(clf, path, metadata={"normalize": "series", "source": "example"})
    ...     metadata = read_metadata(path)
    >>> metadata
    {'normalize': 'series', 'source': 'example'}
    """
    return json.loads(_read_archive(path).get("metadata", "{}"))


def _read_archive(path):
    """``torch.load`` with ``weights_only=True`` and every check of the file's identity and version."""
    try:
        archive = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a readable tsrepr-sklearn model file: {exc}") from None
    if not isinstance(archive, dict) or archive.get("format") != FORMAT_NAME:
        raise ValueError(f"{os.fspath(path)!r} is not a tsrepr-sklearn model file.")
    version = archive.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} has format version {version}, newer than this tsrepr-sklearn reads "
            f"({FORMAT_VERSION}); upgrade tsrepr-sklearn."
        )
    if version >= 2 and archive.get("checksum") != _checksum(archive):
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable tsrepr-sklearn model file: it is corrupted "
            "(its checksum does not match its content)."
        )
    return archive


def read_original_hyperparameters(hyperparameters):
    """Read the original code's hyper-parameter JSON (a path or a dict) into a dict.

    Parameters
    ----------
    hyperparameters : str, os.PathLike or dict
        The original ``*_hyperparameters.json`` file, or its content.

    Returns
    -------
    dict
        A copy of the hyper-parameters.

    Raises
    ------
    TypeError
        If ``hyperparameters`` is neither a path nor a dict.
    ValueError
        If a key is not one of the original code's hyper-parameters.

    Examples
    --------
    >>> from tsrepr_sklearn.persistence import read_original_hyperparameters
    >>> read_original_hyperparameters({"depth": 10, "cuda": False})
    {'depth': 10, 'cuda': False}
    >>> read_original_hyperparameters({"depth": 10, "epochs": 5})
    Traceback (most recent call last):
        ...
    ValueError: unknown keys in the original hyper-parameters: ['epochs']
    """
    if isinstance(hyperparameters, (str, os.PathLike)):
        with open(hyperparameters, encoding="utf-8") as file:
            hyperparameters = json.load(file)
    if not isinstance(hyperparameters, dict):
        raise TypeError("hyperparameters must be a path to a JSON file or a dict")
    unknown = set(hyperparameters) - _ORIGINAL_KEYS
    if unknown:
        raise ValueError(f"unknown keys in the original hyper-parameters: {sorted(unknown)}")
    return dict(hyperparameters)

"""The ``tsrepr-sklearn`` command line (also ``python -m tsrepr_sklearn``).

Sub-commands: ``fit``, ``predict``, ``encode``, ``info`` and ``datasets``; run
``tsrepr-sklearn <command> --help`` for their options. Errors in the user's
input (unknown dataset, missing or malformed file, wrong channel count, bad
model file, ...) print one line on standard error and exit with status 1;
usage errors exit with status 2. Set the environment variable
``TSREPR_SKLEARN_DEBUG=1`` to see full tracebacks instead.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__
from .classifiers import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from .datasets import list_datasets, load_dataset, read_npy, read_ts, read_ucr_tsv
from .persistence import load_estimator, read_metadata, save_estimator
from .preprocessing import ChannelScaler, znormalize
from .validation import check_series

__all__ = ["main", "read_series_file"]

ENCODERS = {"causal_cnn": CausalCNNEncoderClassifier, "lstm": LSTMEncoderClassifier}
PROG = "tsrepr-sklearn"


class CommandError(Exception):
    """An error reported to the user as one line, without a traceback."""


def read_series_file(path, dtype=np.float64):
    """Read series (and labels when the file has them) from a ``.ts``, ``.tsv``, ``.npy`` or ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its extension chooses the reader (see
        :mod:`tsrepr_sklearn.datasets`).
    dtype : numpy float dtype, default=numpy.float64
        dtype of ``X``. The commands keep the file's precision until the
        normalisation (a float32 copy would lose a small signal on a large
        offset); the estimators then compute in float32.

    Returns
    -------
    X : ndarray of shape (n_series, n_channels, length), dtype ``dtype``
        The series, NaN right-padded where lengths differ.
    y : ndarray of shape (n_series,) or None
        The labels, or None when the file has none (always for ``.npy``).

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from tsrepr_sklearn.cli import read_series_file
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     labeled = os.path.join(folder, "train.npz")
    ...     np.savez(labeled, X=np.zeros((4, 2, 8)), y=np.array([0, 1, 0, 1]))
    ...     X, y = read_series_file(labeled)
    ...     unlabeled = os.path.join(folder, "new.npy")
    ...     np.save(unlabeled, np.zeros((3, 8)))
    ...     X_new, y_new = read_series_file(unlabeled)
    >>> X.shape, X.dtype, y.tolist()
    ((4, 2, 8), dtype('float64'), [0, 1, 0, 1])
    >>> X_new.shape, y_new
    ((3, 1, 8), None)
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".ts":
        return read_ts(path, dtype=dtype)
    if suffix == ".tsv":
        return read_ucr_tsv(path, dtype=dtype)
    if suffix == ".npz":
        return read_npy(path, dtype=dtype)
    if suffix == ".npy":
        return read_npy(path, dtype=dtype), None
    raise CommandError(f"{os.fspath(path)}: unsupported file type {suffix or '(none)'!r}; use .ts, .tsv, .npy or .npz")


# --------------------------------------------------------------------------- normalisation stored with the model


def _fit_normalisation(kind, X_train):
    if kind == "channel":
        scaler = ChannelScaler().fit(X_train)
        return {"normalize": "channel", "channel_mean": scaler.mean_.tolist(), "channel_scale": scaler.scale_.tolist()}
    return {"normalize": kind}


def _apply_normalisation(metadata, X):
    kind = metadata.get("normalize", "none")
    if kind == "series":
        return znormalize(X)
    if kind == "channel":
        mean = np.asarray(metadata["channel_mean"])
        scaler = ChannelScaler()
        scaler.mean_, scaler.scale_, scaler.n_channels_in_ = mean, np.asarray(metadata["channel_scale"]), mean.size
        return scaler.transform(X)
    return X


# --------------------------------------------------------------------------- commands


#: Parameters set from an option that always has a value: through --param they would be overridden.
_OWN_OPTION = {"device": "--device", "random_state": "--seed", "verbose": "--quiet"}
#: Parameters with an optional option: --param works, but not together with the option.
_OPTIONAL_OPTION = {"nb_steps": "--nb-steps", "batch_size": "--batch-size", "compared_length": "--compared-length"}


def _parse_param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    if key in _OWN_OPTION:
        raise argparse.ArgumentTypeError(f"{key} has an option of its own: use {_OWN_OPTION[key]}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _check_writable(path, what):
    """Fail before training, not after, when an output cannot be written."""
    if path is None:
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CommandError(f"cannot write the {what} {os.fspath(path)!r}: folder {os.fspath(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write the {what} {os.fspath(path)!r}: folder {os.fspath(folder)!r} is not writable")


def _check_fit_usage(parser, args):
    """Reject combinations of fit's options that argparse cannot express: a usage error, exit status 2."""
    if args.dataset is not None and args.test is not None:
        parser.error(
            "argument --test: not allowed with argument --dataset (a bundled dataset is scored on its own test "
            "split; to score the saved model on your labeled file: predict --model MODEL --input FILE --output "
            "LABELS, which prints the accuracy)"
        )


def _load_training_data(args):
    if args.dataset is not None:
        X_train, y_train, X_test, y_test = load_dataset(args.dataset, split=None)
        return args.dataset, X_train, y_train, X_test, y_test
    X_train, y_train = read_series_file(args.train)
    if y_train is None:
        raise CommandError(f"{args.train}: the training file has no labels; fit needs them for the classifier")
    X_test = y_test = None
    if args.test is not None:
        X_test, y_test = read_series_file(args.test)
    return Path(args.train).stem, X_train, y_train, X_test, y_test


def _describe(X):
    X, lengths = check_series(X)  # the estimators' own length rule (and their errors for bad series)
    if lengths.min() != lengths.max():
        return f"{X.shape[0]} series, {X.shape[1]} channel(s), lengths {lengths.min()}..{lengths.max()}"
    return f"{X.shape[0]} series, {X.shape[1]} channel(s), length {X.shape[-1]}"


def command_fit(args):
    if args.plot is not None:
        from .plotting import _pyplot

        _pyplot()  # a missing matplotlib is reported before training, not after
    name, X_train, y_train, X_test, y_test = _load_training_data(args)
    output = args.output or f"{name}-{args.encoder}.pt"
    _check_writable(output, "model")
    _check_writable(args.plot, "plot")
    params = dict(args.param)
    for key, option in _OPTIONAL_OPTION.items():
        if getattr(args, key) is not None:
            if key in params:
                raise CommandError(f"{key} is given twice: by {option} and by --param {key}=...")
            params[key] = getattr(args, key)
    params.update(device=args.device, random_state=args.seed, verbose=0 if args.quiet else 1)
    try:
        estimator = ENCODERS[args.encoder](**params)
    except TypeError as exc:
        raise CommandError(f"unknown parameter for the {args.encoder} encoder: {exc}") from None
    estimator._validate_params()

    metadata = _fit_normalisation(args.normalize, X_train)
    metadata.update(source=name)
    print(f"train: {_describe(X_train)}" + (f"; test: {_describe(X_test)}" if X_test is not None else ""))
    print(f"encoder: {args.encoder}, {estimator.nb_steps} steps, normalisation: {args.normalize}")
    start = time.perf_counter()
    estimator.fit(_apply_normalisation(metadata, X_train), y_train)
    seconds = time.perf_counter() - start
    print(
        f"trained {estimator.n_steps_} steps on {estimator.device_} in {seconds:.1f} s "
        f"(loss of the last 10 steps {estimator.history_[-10:].mean():.4f})"
    )
    if X_test is not None and y_test is not None:
        X_test_normalised = _apply_normalisation(metadata, X_test)
        print(f"test accuracy: {estimator.score(X_test_normalised, y_test):.4f}")
    metadata.update(train_seconds=seconds)
    save_estimator(estimator, output, metadata=metadata)
    print(f"model saved to {output}")
    if args.plot is not None:
        from .plotting import save_summary_figure

        X_map, y_map = (X_test, y_test) if X_test is not None else (X_train, y_train)
        save_summary_figure(estimator, _apply_normalisation(metadata, X_map), y_map, args.plot)
        print(f"plot saved to {args.plot}")
    return 0


def _load_model(path, trust):
    return load_estimator(path, trust_pickled_classifier=trust), read_metadata(path)


def _write_labels(path, labels):
    if Path(path).suffix.lower() == ".npy":
        np.save(path, labels, allow_pickle=False)
    else:
        Path(path).write_text("".join(f"{label}\n" for label in labels))


def command_predict(args):
    estimator, metadata = _load_model(args.model, args.trust_model)
    if not hasattr(estimator, "classifier_"):
        raise CommandError(
            f"{args.model}: its classifier is stored pickled; pass --trust-model to load it (only for files you trust)"
        )
    X, y = read_series_file(args.input)
    labels = estimator.predict(_apply_normalisation(metadata, X))
    if args.output is None:
        sys.stdout.write("".join(f"{label}\n" for label in labels))
        return 0
    _write_labels(args.output, labels)
    print(f"wrote {len(labels)} predictions to {args.output}")
    if y is not None:
        print(f"accuracy against the labels in {args.input}: {np.mean(labels.astype(str) == y.astype(str)):.4f}")
    return 0


def command_encode(args):
    if Path(args.output).suffix.lower() != ".npy":
        raise CommandError(f"--output must be a .npy file, got {args.output!r}")
    _check_writable(args.output, "representations")
    estimator, metadata = _load_model(args.model, False)
    X, _ = read_series_file(args.input)
    X = _apply_normalisation(metadata, X)
    if args.window is None:
        features = estimator.transform(X)
    else:
        features = estimator.encode_window(X, args.window, args.stride)
    np.save(args.output, features, allow_pickle=False)
    print(f"wrote representations of shape {features.shape} to {args.output}")
    return 0


def command_info(args):
    estimator, metadata = _load_model(args.model, False)
    history = estimator.history_
    lines = [
        f"model: {args.model} ({os.path.getsize(args.model) / 1e6:.2f} MB)",
        f"estimator: {type(estimator).__name__}, trained on {metadata.get('source', 'unknown data')}",
        f"encoder: {json.dumps(estimator.encoder_kwargs_)}",
        f"parameters: {json.dumps({k: v for k, v in estimator.get_params(deep=False).items() if k != 'classifier'})}",
        f"normalisation: {metadata.get('normalize', 'none')}",
        f"training: {estimator.n_steps_} steps"
        + (f" in {metadata['train_seconds']:.1f} s" if "train_seconds" in metadata else ""),
    ]
    if history.size:
        window = min(10, history.size)
        lines.append(
            f"loss: first {window} steps {history[:window].mean():.4f}, last {window} steps "
            f"{history[-window:].mean():.4f}, min {history.min():.4f} (step {int(history.argmin()) + 1})"
        )
    if hasattr(estimator, "classifier_"):
        lines.append(f"classifier: {estimator.classifier_!r}, classes {estimator.classes_.tolist()}")
    else:
        lines.append("classifier: stored pickled (load with --trust-model in predict)")
    print("\n".join(lines))
    return 0


def command_datasets(args):
    for name in list_datasets():
        X_train, y_train, X_test, _ = load_dataset(name, split=None)
        print(f"{name:<18} train {_describe(X_train)}; test {X_test.shape[0]} series; {np.unique(y_train).size} classes")
    return 0


# --------------------------------------------------------------------------- parser and entry point


def build_parser():
    """The argument parser of the command line."""
    parser = argparse.ArgumentParser(prog=PROG, description="Unsupervised representations of time series (T-Loss).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser("fit", help="train an encoder and a classifier, save the model")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help=f"a bundled dataset: {', '.join(list_datasets())}")
    source.add_argument("--train", help="training file (.ts, .tsv or .npz with labels)")
    fit.add_argument("--test", help="test file for --train; its accuracy is printed")
    fit.add_argument("--encoder", choices=sorted(ENCODERS), default="causal_cnn")
    fit.add_argument("--nb-steps", type=int, help="optimisation steps (default 1500, the paper's)")
    fit.add_argument("--batch-size", type=int)
    fit.add_argument("--compared-length", type=int, help="maximum subseries length (for long series)")
    fit.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1, ...")
    fit.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    fit.add_argument("--normalize", choices=["channel", "series", "none"], default="channel",
                     help="channel: per-channel statistics of the training set (default); series: z-normalise "
                          "each series; none. Stored with the model and applied by predict and encode.")
    fit.add_argument("--param", action="append", type=_parse_param, default=[], metavar="KEY=VALUE",
                     help="any other estimator parameter, e.g. --param depth=5 (repeatable)")
    fit.add_argument("--output", help="model file (default <dataset>-<encoder>.pt)")
    fit.add_argument("--plot", help="also write a PNG with the loss curve and a map of the representations")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(run=command_fit, check_usage=functools.partial(_check_fit_usage, fit))

    predict = commands.add_parser("predict", help="predict labels of series in a file")
    predict.add_argument("--model", required=True)
    predict.add_argument("--input", required=True, help=".ts, .tsv, .npy or .npz file")
    predict.add_argument("--output", help="labels, one per line (.npy: a NumPy array); default: standard output")
    predict.add_argument("--trust-model", action="store_true",
                         help="unpickle a classifier other than the default SVM (runs code from the file)")
    predict.set_defaults(run=command_predict)

    encode = commands.add_parser("encode", help="write the representations of series in a file")
    encode.add_argument("--model", required=True)
    encode.add_argument("--input", required=True, help=".ts, .tsv, .npy or .npz file")
    encode.add_argument("--output", required=True, help=".npy file")
    encode.add_argument("--window", type=int, help="encode every sliding window of this length")
    encode.add_argument("--stride", type=int, default=1, help="step between windows (default 1)")
    encode.set_defaults(run=command_encode)

    info = commands.add_parser("info", help="describe a model file")
    info.add_argument("--model", required=True)
    info.set_defaults(run=command_info)

    datasets = commands.add_parser("datasets", help="list the bundled datasets")
    datasets.set_defaults(run=command_datasets)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 for an error in the input, 130 when interrupted
        (usage errors exit with 2 from argparse).

    Examples
    --------
    >>> from tsrepr_sklearn.cli import main
    >>> main(["datasets"])
    BasicMotions       train 40 series, 6 channel(s), length 100; test 40 series; 4 classes
    GunPoint           train 50 series, 1 channel(s), length 150; test 150 series; 2 classes
    ItalyPowerDemand   train 67 series, 1 channel(s), length 24; test 1029 series; 2 classes
    JapaneseVowels     train 270 series, 12 channel(s), lengths 7..26; test 370 series; 9 classes
    0

    An error in the input prints one line on standard error
    (``tsrepr-sklearn: error: no such file: ...``) and returns 1:

    >>> import os
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     main(["info", "--model", os.path.join(folder, "missing.pt")])
    1
    """
    args = build_parser().parse_args(argv)
    if hasattr(args, "check_usage"):
        args.check_usage(args)
    if os.environ.get("TSREPR_SKLEARN_DEBUG"):
        return args.run(args)  # full tracebacks, for bug reports
    try:
        return args.run(args)
    except FileNotFoundError as exc:
        missing = exc.filename if exc.filename is not None else str(exc)
        message = f"no such file: {missing}"
    except (CommandError, ValueError, TypeError, ImportError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1

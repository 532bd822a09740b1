"""Bad input through the public API, one row per case: a correct result, or a clear error naming the problem.

Each case runs an action on fresh objects and expects either an exception of a given type whose message
matches a pattern (never a raw torch/numpy error from deep inside), or a result that a checker accepts.
"""

import warnings

import numpy as np
import pytest
import torch

from tests.test_estimators import tiny, two_class_data
from tsrepr_sklearn import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from tsrepr_sklearn.cli import main as cli_main
from tsrepr_sklearn.persistence import FORMAT_VERSION
from tsrepr_sklearn.training import TrainingDivergedError

X_OK, Y_OK = two_class_data(n=12, length=16)


def fitted(cls=CausalCNNEncoderClassifier):
    return tiny(cls).fit(X_OK, Y_OK)


def high_gain():
    clf = fitted()
    with torch.no_grad():
        clf.encoder_.linear.weight.mul_(1e30)
    return clf


def transform_without_warnings(X):
    clf = fitted()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return clf.transform(X)


def fit(X, y=Y_OK, **params):
    return tiny(**params).fit(X, y)


def with_value(value, series=2, step=5, channel=0):
    X = X_OK.copy()
    X[series, channel, step] = value
    return X


def model_file(tmp_path, mutate=None):
    path = tmp_path / "model.pt"
    fitted().save(path)
    if mutate is not None:
        mutate(path)
    return path


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def corrupt(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def newer_version(path):
    archive = torch.load(path, weights_only=True)
    archive["format_version"] = FORMAT_VERSION + 1
    torch.save(archive, path)


def finite_representations(result):
    return isinstance(result, np.ndarray) and result.dtype == np.float32 and np.isfinite(result).all()


def run_cli(argv, capsys):
    status = cli_main([str(a) for a in argv])
    err = capsys.readouterr().err
    if status != 0:
        raise ValueError(err.strip())
    return status


# (id, action(tmp_path, capsys), expected): expected is (ExceptionType, message regex) or a checker function
CASES = [
    ("nan-inside-a-series", lambda t, c: fit(with_value(np.nan)),
     (ValueError, r"series 2 of X has a NaN inside it \(channel 0, time step 5\)")),
    ("all-nan-series", lambda t, c: fit(np.where(np.arange(12)[:, None, None] == 4, np.nan, X_OK)),
     (ValueError, r"series 4 of X has no valid value")),
    ("inf-value", lambda t, c: fit(with_value(np.inf)), (ValueError, r"X contains infinity \(series 2\)")),
    ("inf-in-a-list", lambda t, c: fit(list(with_value(-np.inf, series=3))),
     (ValueError, r"X contains infinity \(series 3\)")),
    ("empty-list", lambda t, c: fit([], []), (ValueError, r"X is empty: at least one series")),
    ("zero-channels", lambda t, c: fit(np.zeros((12, 0, 16))), (ValueError, r"0 channels")),
    ("object-array-of-ragged-series", lambda t, c: fitted().transform(
        np.array([np.arange(3.0), np.arange(5.0)], dtype=object)),
     lambda r: finite_representations(r) and r.shape == (2, 3)),
    ("float16-input", lambda t, c: transform_without_warnings(X_OK.astype(np.float16)), finite_representations),
    ("minus-inf-in-transform", lambda t, c: fitted().transform(with_value(-np.inf)),
     (ValueError, r"infinity \(series 2\)")),
    ("beyond-float32", lambda t, c: fit(with_value(1e300)), (ValueError, r"beyond the float32 range")),
    ("enormous-magnitude-1e30-fit", lambda t, c: fit(X_OK * 1e30),
     (TrainingDivergedError, r"diverged at step 1.*largest absolute value in X is .*e\+30: rescale")),
    # the encoder is positively homogeneous (LeakyReLU, max-pool): 1e30 inputs give large but finite outputs
    ("enormous-magnitude-1e30-transform", lambda t, c: fitted().transform(X_OK * 1e30), finite_representations),
    # ... unless the network's gain overflows float32: then an error, never NaN or inf representations
    ("overflowing-magnitude-transform", lambda t, c: high_gain().transform(X_OK * 1e20),
     (ValueError, r"non-finite representations for 12 series \(first: series 0, whose largest absolute value is "
                  r".*e\+20\).*rescale")),
    ("overflowing-magnitude-encode-window", lambda t, c: high_gain().encode_window(X_OK * 1e20, window=8),
     (ValueError, r"non-finite representations.*rescale")),
    ("empty-X", lambda t, c: fit(np.empty((0, 1, 16)), np.empty(0)), (ValueError, r"0 sample")),
    ("zero-length-series", lambda t, c: fit(np.empty((12, 1, 0))), (ValueError, r"length 0|0 feature")),
    ("length-1-series", lambda t, c: fit(np.random.default_rng(0).normal(size=(12, 1, 1))).transform(X_OK[:, :, :1]),
     finite_representations),
    ("4-d-input", lambda t, c: fit(X_OK[:, :, :, None]), (ValueError, r"4 dimensions")),
    ("strings", lambda t, c: fit(np.full((12, 16), "a")), (TypeError, r"real numbers")),
    ("object-array-of-mixed", lambda t, c: fit(np.array([[1.0, "x"]] * 12, dtype=object)), (TypeError, r"real numbers")),
    ("complex", lambda t, c: fit(X_OK + 1j), (ValueError, r"[Cc]omplex")),
    ("ragged-nested-lists", lambda t, c: fitted().transform([[1.0, 2.0, 3.0], [4.0, 5.0], [6.0]]),
     lambda r: finite_representations(r) and r.shape == (3, 3)),
    ("ragged-channel-counts", lambda t, c: fitted().transform([np.zeros((1, 5)), np.zeros((2, 5))]),
     (ValueError, r"channel")),
    ("channels-differ-fit-predict", lambda t, c: fitted().predict(np.zeros((3, 2, 16))),
     (ValueError, r"X has 2 channel\(s\), but CausalCNNEncoderClassifier was fitted with 1")),
    ("channels-differ-lstm-transform", lambda t, c: fitted(LSTMEncoderClassifier).transform(np.zeros((3, 4, 16))),
     (ValueError, r"X has 4 channel\(s\), but LSTMEncoderClassifier was fitted with 1")),
    ("X-y-length-mismatch", lambda t, c: fit(X_OK, Y_OK[:-1]), (ValueError, r"X has 12 series but y has 11 labels")),
    ("y-2-d", lambda t, c: fit(X_OK, np.stack([Y_OK, Y_OK], axis=1)), (ValueError, r"shape|1d|1-d")),
    ("single-class", lambda t, c: fit(X_OK, np.zeros(12)), (ValueError, r"at least 2 classes")),
    ("nan-labels", lambda t, c: fit(X_OK, np.where(np.arange(12) == 3, np.nan, 1.0)),
     (ValueError, r"NaN labels \(first at index 3\)")),
    ("nan-labels-fit-transform", lambda t, c: tiny().fit_transform(X_OK, np.where(np.arange(12) == 3, np.nan, 1.0)),
     (ValueError, r"NaN labels \(first at index 3\)")),
    ("all-unlabeled", lambda t, c: fit(X_OK, -np.ones(12)), (ValueError, r"at least 2 classes.*unlabeled")),
    ("nb_steps-0", lambda t, c: fit(X_OK, nb_steps=0), (ValueError, r"'nb_steps' parameter")),
    ("nb_steps-negative", lambda t, c: fit(X_OK, nb_steps=-5), (ValueError, r"'nb_steps' parameter")),
    ("batch-larger-than-data", lambda t, c: fit(X_OK, batch_size=500, nb_steps=2),
     lambda clf: clf.n_steps_ == 2 and np.isfinite(clf.history_).all()),
    ("compared_length-0", lambda t, c: fit(X_OK, compared_length=0), (ValueError, r"'compared_length' parameter")),
    ("window-longer-than-series", lambda t, c: fitted().encode_window(X_OK, window=17),
     (ValueError, r"window=17 is longer than the longest series \(16")),
    ("window-0", lambda t, c: fitted().encode_window(X_OK, window=0), (ValueError, r"window must be a positive")),
    ("predict-before-fit", lambda t, c: tiny().predict(X_OK), (ValueError, r"not fitted")),
    ("cuda-without-cuda", lambda t, c: fit(X_OK, device="cuda"), (ValueError, r"CUDA is not available")),
    ("no-such-device", lambda t, c: fit(X_OK, device="tpu9"), (ValueError, r"not a valid torch device")),
    ("truncated-model-file", lambda t, c: CausalCNNEncoderClassifier.load(model_file(t, truncate)),
     (ValueError, r"not a readable tsrepr-sklearn model file")),
    ("corrupted-model-file", lambda t, c: CausalCNNEncoderClassifier.load(model_file(t, corrupt)),
     (ValueError, r"not a readable tsrepr-sklearn model file")),
    ("newer-format-version", lambda t, c: CausalCNNEncoderClassifier.load(model_file(t, newer_version)),
     (ValueError, rf"format version {FORMAT_VERSION + 1}, newer than")),
    ("model-of-other-class", lambda t, c: LSTMEncoderClassifier.load(model_file(t)),
     (ValueError, r"holds a CausalCNNEncoderClassifier, not a LSTMEncoderClassifier")),
    ("missing-model-file", lambda t, c: CausalCNNEncoderClassifier.load(t / "nope.pt"), (FileNotFoundError, r"nope")),
    ("cli-wrong-channel-count", lambda t, c: run_cli(
        ["predict", "--model", model_file(t), "--input", _save(t / "x.npy", np.zeros((2, 3, 16)))], c),
     (ValueError, r"^tsrepr-sklearn: error: X has 3 channel\(s\)")),
    ("cli-corrupted-model", lambda t, c: run_cli(
        ["info", "--model", model_file(t, corrupt)], c),
     (ValueError, r"^tsrepr-sklearn: error: .* is not a readable tsrepr-sklearn model file")),
    ("cli-nan-inside-input", lambda t, c: run_cli(
        ["encode", "--model", model_file(t), "--input", _save(t / "x.npy", with_value(np.nan, series=1)),
         "--output", t / "f.npy"], c),
     (ValueError, r"^tsrepr-sklearn: error: series 1 of X has a NaN inside it")),
]


def _save(path, array):
    np.save(path, array)
    return path


@pytest.mark.filterwarnings("ignore:.*labeled -1.*:UserWarning")
@pytest.mark.parametrize("action, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input(action, expected, tmp_path, capsys):
    if callable(expected):
        assert expected(action(tmp_path, capsys))
        return
    error, pattern = expected
    if "CUDA is not available" in pattern and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(error, match=pattern) as info:
        action(tmp_path, capsys)
    # raised by our validation (or scikit-learn's), not by torch or numpy deep inside
    origin = str(info.traceback[-1].path)
    assert error is FileNotFoundError or any(
        part in origin for part in ("tsrepr_sklearn", "/sklearn/", "test_bad_input.py")
    ), origin


def test_case_count():
    assert len(CASES) >= 20 and len({case[0] for case in CASES}) == len(CASES)

"""Tests for tsrepr_sklearn.datasets: bundled data and file readers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsrepr_sklearn.datasets import (
    list_datasets,
    load_dataset,
    read_npy,
    read_ts,
    read_ucr_tsv,
)

# --------------------------------------------------------------------------
# bundled datasets
# --------------------------------------------------------------------------
# name -> (train shape, test shape, train class counts, test class counts)
BUNDLED = {
    "GunPoint": ((50, 1, 150), (150, 1, 150), {"1": 24, "2": 26}, {"1": 76, "2": 74}),
    "ItalyPowerDemand": (
        (67, 1, 24),
        (1029, 1, 24),
        {"1": 34, "2": 33},
        {"1": 513, "2": 516},
    ),
    "BasicMotions": (
        (40, 6, 100),
        (40, 6, 100),
        dict.fromkeys(["Standing", "Running", "Walking", "Badminton"], 10),
        dict.fromkeys(["Standing", "Running", "Walking", "Badminton"], 10),
    ),
    "JapaneseVowels": (
        (270, 12, 29),
        (370, 12, 29),
        {str(k): 30 for k in range(1, 10)},
        {"1": 31, "2": 35, "3": 88, "4": 44, "5": 29, "6": 24, "7": 40, "8": 50, "9": 29},
    ),
}


def test_list_datasets():
    names = list_datasets()
    assert names == sorted(BUNDLED)
    assert all(isinstance(n, str) for n in names)


@pytest.mark.parametrize("name", sorted(BUNDLED))
@pytest.mark.parametrize("split", ["train", "test"])
def test_bundled_shapes_and_labels(name, split):
    train_shape, test_shape, train_counts, test_counts = BUNDLED[name]
    shape, counts = (train_shape, train_counts) if split == "train" else (test_shape, test_counts)
    X, y = load_dataset(name, split=split)
    assert X.shape == shape
    assert X.dtype == np.float32
    assert X.flags.c_contiguous
    assert y.shape == (shape[0],)
    assert y.dtype.kind == "U"
    assert dict(Counter(y.tolist())) == counts
    if name != "JapaneseVowels":
        assert np.isfinite(X).all()


@pytest.mark.parametrize("name", ["GunPoint", "ItalyPowerDemand"])
def test_univariate_archive_series_are_z_normalised(name):
    # documented in docs/datasets.md: per-series z-normalised (ddof=1)
    for split in ("train", "test"):
        X, _ = load_dataset(name, split=split)
        np.testing.assert_allclose(X.mean(axis=-1), 0.0, atol=1e-5)
        np.testing.assert_allclose(X.std(axis=-1, ddof=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("split", ["train", "test"])
def test_japanese_vowels_unequal_length_padding(split):
    X, _ = load_dataset("JapaneseVowels", split=split)
    valid = ~np.isnan(X)
    # all channels of a series share the same valid mask
    assert (valid == valid[:, :1, :]).all()
    mask = valid[:, 0, :]
    # NaN padding only at the end: the valid mask is a prefix
    assert (np.diff(mask.astype(np.int8), axis=1) <= 0).all()
    lengths = mask.sum(axis=1)
    assert lengths.min() >= 1
    assert lengths.min() == 7
    assert lengths.max() == (26 if split == "train" else 29)
    assert np.isfinite(X[valid]).all()


def test_load_dataset_split_none_returns_both():
    X_train, y_train, X_test, y_test = load_dataset("BasicMotions", split=None)
    X_tr, y_tr = load_dataset("BasicMotions", split="train")
    X_te, y_te = load_dataset("BasicMotions", split="test")
    np.testing.assert_array_equal(X_train, X_tr)
    np.testing.assert_array_equal(y_train, y_tr)
    np.testing.assert_array_equal(X_test, X_te)
    np.testing.assert_array_equal(y_test, y_te)
    assert not np.array_equal(X_train, X_test)


def test_load_dataset_default_split_is_train():
    X, y = load_dataset("ItalyPowerDemand")
    assert X.shape == (67, 1, 24)


def test_load_dataset_returns_independent_arrays():
    X, y = load_dataset("GunPoint")
    X[:] = 0.0
    y[:] = "x"
    X2, y2 = load_dataset("GunPoint")
    assert X2.std() > 0
    assert set(y2.tolist()) == {"1", "2"}


def test_bundled_matches_read_npy():
    # the bundled archives are ordinary npz files readable with read_npy
    import importlib.resources

    ref = importlib.resources.files("tsrepr_sklearn.datasets").joinpath("data/GunPoint.npz")
    with importlib.resources.as_file(ref) as path:
        X, y = read_npy(path)
    X_train, y_train = load_dataset("GunPoint")
    np.testing.assert_array_equal(X, X_train)
    np.testing.assert_array_equal(y, y_train)


@pytest.mark.parametrize(
    "bad, suggestion",
    [("gunpoint", "GunPoint"), ("GunPiont", "GunPoint"), ("basicmotions", "BasicMotions"),
     ("NoSuchData", None)],
)
def test_unknown_dataset_name(bad, suggestion):
    with pytest.raises(ValueError) as info:
        load_dataset(bad)
    msg = str(info.value)
    assert repr(bad) in msg
    for name in BUNDLED:
        assert name in msg
    if suggestion:
        assert f"Did you mean {suggestion!r}" in msg
    else:
        assert "Did you mean" not in msg


@pytest.mark.parametrize("split", ["TRAIN", "validation", "", 0])
def test_bad_split(split):
    with pytest.raises(ValueError, match="split"):
        load_dataset("GunPoint", split=split)


def test_name_must_be_str():
    with pytest.raises(TypeError):
        load_dataset(None)


# --------------------------------------------------------------------------
# read_ts
# --------------------------------------------------------------------------
def _write(tmp_path: Path, text: str, name: str = "data.ts") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _assert_same(actual, expected):
    np.testing.assert_array_equal(actual, np.asarray(expected, dtype=np.float32))


def test_read_ts_univariate_equal_length(tmp_path):
    path = _write(
        tmp_path,
        "# a comment\n"
        "@problemName Toy\n"
        "@timeStamps false\n"
        "@missing false\n"
        "@univariate true\n"
        "@equalLength true\n"
        "@seriesLength 3\n"
        "@classLabel true a b\n"
        "\n"
        "@data\n"
        "1.5,2,3e-1:a\n"
        "-4,5,6:b\n"
        "7,8,9:a\n",
    )
    X, y = read_ts(path)
    assert X.dtype == np.float32
    _assert_same(X, [[[1.5, 2, 0.3]], [[-4, 5, 6]], [[7, 8, 9]]])
    assert y.dtype.kind == "U"
    assert y.tolist() == ["a", "b", "a"]


def test_read_ts_multivariate_unequal_length(tmp_path):
    path = _write(
        tmp_path,
        "@problemName Multi\n"
        "@univariate false\n"
        "@dimensions 2\n"
        "@equalLength false\n"
        "@classLabel true up down\n"
        "@data\n"
        "1,2,3,4:5,6,7,8:up\n"
        "1,2:3,4:down\n"
        "9:10:up\n",
    )
    X, y = read_ts(path)
    nan = np.nan
    _assert_same(
        X,
        [
            [[1, 2, 3, 4], [5, 6, 7, 8]],
            [[1, 2, nan, nan], [3, 4, nan, nan]],
            [[9, nan, nan, nan], [10, nan, nan, nan]],
        ],
    )
    assert y.tolist() == ["up", "down", "up"]


def test_read_ts_missing_values_and_no_labels(tmp_path):
    path = _write(
        tmp_path,
        "@problemName Missing\n"
        "@missing true\n"
        "@univariate false\n"
        "@equalLength true\n"
        "@seriesLength 3\n"
        "@classLabel false\n"
        "@data\n"
        "1,?,3:?,?,?\n"
        "NaN,5, 6 :7,8,9\n",
    )
    X, y = read_ts(path)
    nan = np.nan
    _assert_same(X, [[[1, nan, 3], [nan, nan, nan]], [[nan, 5, 6], [7, 8, 9]]])
    assert y is None


def test_read_ts_without_class_label_tag(tmp_path):
    path = _write(tmp_path, "@data\n1,2\n3,4\n")
    X, y = read_ts(path)
    _assert_same(X, [[[1, 2]], [[3, 4]]])
    assert y is None


def test_read_ts_crlf_case_insensitive_tags_unknown_tags(tmp_path):
    path = tmp_path / "crlf.ts"
    path.write_bytes(
        b"\xef\xbb\xbf@PROBLEMNAME x\r\n@UniVariate TRUE\r\n@classlabel true 1 2\r\n"
        b"@someFutureTag whatever\r\n@DATA\r\n1,2:1\r\n3,4:2\r\n"
    )
    X, y = read_ts(path)
    _assert_same(X, [[[1, 2]], [[3, 4]]])
    assert y.tolist() == ["1", "2"]


def test_read_ts_target_label(tmp_path):
    path = _write(tmp_path, "@targetLabel true\n@data\n1,2:0.5\n3,4:-2\n")
    X, y = read_ts(path)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [0.5, -2.0])


def test_read_ts_labels_kept_as_text(tmp_path):
    path = _write(tmp_path, "@classLabel true 1.0 -1 01\n@data\n1:1.0\n2:-1\n3:01\n")
    _, y = read_ts(path)
    assert y.tolist() == ["1.0", "-1", "01"]


def _to_ts(X: np.ndarray, y: list[str]) -> str:
    """Write a NaN right-padded collection in .ts format (missing inside -> ?)."""
    n, c, _ = X.shape
    classes = " ".join(sorted(set(y)))
    lines = [
        "@problemName RoundTrip",
        "@missing true",
        f"@univariate {'true' if c == 1 else 'false'}",
        f"@dimensions {c}",
        "@equalLength false",
        f"@classLabel true {classes}",
        "@data",
    ]
    for i in range(n):
        chans = []
        for ch in X[i]:
            valid = np.flatnonzero(~np.isnan(ch))
            end = valid[-1] + 1 if len(valid) else 1
            chans.append(",".join("?" if np.isnan(v) else repr(float(v)) for v in ch[:end]))
        lines.append(":".join(chans) + ":" + y[i])
    return "\n".join(lines) + "\n"


@st.composite
def _collections(draw):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 3))
    length = draw(st.integers(1, 6))
    values = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    X = np.full((n, c, length), np.nan, dtype=np.float32)
    for i in range(n):
        series_len = draw(st.integers(1, length))
        for ch in range(c):
            X[i, ch, :series_len] = draw(
                st.lists(values | st.just(float("nan")), min_size=series_len, max_size=series_len)
            )
            X[i, ch, 0] = draw(values)  # keep the first value present
    # make sure the longest series fills the full length in some channel
    X[0, 0, :] = draw(st.lists(values, min_size=length, max_size=length))
    y = draw(st.lists(st.sampled_from(["a", "b", "c1"]), min_size=n, max_size=n))
    return X, y


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_collections())
def test_read_ts_round_trip(tmp_path, data):
    X, y = data
    path = _write(tmp_path, _to_ts(X, y), "rt.ts")
    X2, y2 = read_ts(path)
    np.testing.assert_array_equal(X2, X)
    assert y2.tolist() == y


# --------------------------------------------------------------------------
# read_ts: malformed files
# --------------------------------------------------------------------------
HEADER = "@problemName Bad\n@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n"

MALFORMED_TS = [
    # (id, text, expected line, expected message fragment)
    ("missing-data-tag", "@problemName Bad\n@classLabel true a b\n", 2, "@data"),
    ("data-before-tag", "@problemName Bad\n1,2:a\n@data\n", 2, "before the @data"),
    ("wrong-channels", HEADER + "1,2:3,4:a\n1,2:3,4:5,6:b\n", 7, "wrong number of channels"),
    ("channels-inconsistent", "@data\n1,2:3,4\n1,2\n", 3, "wrong number of channels"),
    ("univariate-two-channels", "@univariate true\n@data\n1,2:3,4\n", 3, "channels"),
    ("non-numeric", HEADER + "1,2:3,abc:a\n", 6, "non-numeric value 'abc'"),
    ("empty-value", HEADER + "1,,2:3,4,5:a\n", 6, "empty value"),
    ("undeclared-label", HEADER + "1,2:3,4:a\n1,2:3,4:zebra\n", 7, "not in the declared @classLabel"),
    ("empty-label", HEADER + "1,2:3,4:\n", 6, "empty label"),
    ("missing-label", "@classLabel true a b\n@data\n1,2,3\n", 3, "missing label"),
    ("timestamps", "@problemName T\n@timeStamps true\n@data\n(0,1)\n", 2, "not supported"),
    ("bad-boolean", "@missing perhaps\n@data\n1\n", 1, "'true' or 'false'"),
    ("bad-series-length", "@seriesLength abc\n@data\n1\n", 1, "positive integer"),
    ("classlabel-without-labels", "@classLabel true\n@data\n1:a\n", 1, "list the class labels"),
    (
        "series-length-mismatch",
        "@equalLength true\n@seriesLength 3\n@data\n1,2,3\n1,2,3,4\n",
        5,
        "@seriesLength is 3",
    ),
    ("equal-length-mismatch", "@equalLength true\n@data\n1,2,3\n\n1,2\n", 5, "@equalLength true"),
    ("empty-channel", HEADER + "1,2::a\n", 6, "channel 2 is empty"),
    ("no-data-lines", "@problemName X\n@data\n# nothing\n", 2, "no data lines"),
    ("header-after-data", "@data\n1,2\n@missing false\n", 3, "after @data"),
    ("bad-target", "@targetLabel true\n@data\n1,2:high\n", 3, "non-numeric target"),
]


@pytest.mark.parametrize(
    "text, line, fragment", [c[1:] for c in MALFORMED_TS], ids=[c[0] for c in MALFORMED_TS]
)
def test_read_ts_malformed(tmp_path, text, line, fragment):
    path = _write(tmp_path, text, "broken_file.ts")
    with pytest.raises(ValueError) as info:
        read_ts(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {line}:" in msg
    assert fragment in msg


def test_read_ts_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.ts"
    path.write_bytes(b"@problemName x\n@data\n1,2\xe9\n")
    with pytest.raises(ValueError, match=r"line 3: .*UTF-8"):
        read_ts(path)


# --------------------------------------------------------------------------
# read_ucr_tsv
# --------------------------------------------------------------------------
def test_read_ucr_tsv_equal_length(tmp_path):
    path = _write(tmp_path, "1\t0.5\t-1.25\t2\n2\t3\t4\t5e-1\n-1\t0\t0\t0\n", "toy_TRAIN.tsv")
    X, y = read_ucr_tsv(path)
    assert X.dtype == np.float32
    _assert_same(X, [[[0.5, -1.25, 2]], [[3, 4, 0.5]], [[0, 0, 0]]])
    assert y.dtype.kind == "U"
    assert y.tolist() == ["1", "2", "-1"]


def test_read_ucr_tsv_unequal_length_nan_and_short_lines(tmp_path):
    path = _write(
        tmp_path,
        "1.0\t1\t2\t3\t4\n2.0\t5\t6\tNaN\tNaN\n1.0\t7\n\n2.0\t8\t?\t9\n",
        "uneq_TEST.tsv",
    )
    X, y = read_ucr_tsv(path)
    nan = np.nan
    _assert_same(
        X,
        [[[1, 2, 3, 4]], [[5, 6, nan, nan]], [[7, nan, nan, nan]], [[8, nan, 9, nan]]],
    )
    assert y.tolist() == ["1.0", "2.0", "1.0", "2.0"]


def test_read_ucr_tsv_crlf_and_trailing_tab(tmp_path):
    path = tmp_path / "crlf.tsv"
    path.write_bytes(b"a\t1\t2\t\r\nb\t3\t4\r\n")
    X, y = read_ucr_tsv(path)
    _assert_same(X, [[[1, 2]], [[3, 4]]])
    assert y.tolist() == ["a", "b"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_collections())
def test_read_ucr_tsv_round_trip(tmp_path, data):
    X, y = data
    X = X[:, :1, :]
    lines = []
    for i in range(len(X)):
        ch = X[i, 0]
        lines.append("\t".join([y[i]] + ["NaN" if np.isnan(v) else repr(float(v)) for v in ch]))
    path = _write(tmp_path, "\n".join(lines) + "\n", "rt.tsv")
    X2, y2 = read_ucr_tsv(path)
    np.testing.assert_array_equal(X2, X)
    assert y2.tolist() == y


MALFORMED_TSV = [
    ("non-numeric", "1\t1\t2\n2\t3\tabc\n", 2, "non-numeric value 'abc' in column 3"),
    ("empty-value", "1\t1\t\t2\n", 1, "empty value in column 3"),
    ("empty-label", "1\t1\t2\n\t3\t4\n", 2, "empty class label"),
    ("label-only", "1\t1\t2\n\n2\n", 3, "no values"),
    ("comma-separated", "1,0.5,0.7\n", 1, "tab-separated"),
    ("empty-file", "\n\n", 1, "no data"),
]


@pytest.mark.parametrize(
    "text, line, fragment", [c[1:] for c in MALFORMED_TSV], ids=[c[0] for c in MALFORMED_TSV]
)
def test_read_ucr_tsv_malformed(tmp_path, text, line, fragment):
    path = _write(tmp_path, text, "broken_TRAIN.tsv")
    with pytest.raises(ValueError) as info:
        read_ucr_tsv(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {line}:" in msg
    assert fragment in msg


# --------------------------------------------------------------------------
# read_npy
# --------------------------------------------------------------------------
def test_read_npy_3d_and_2d(tmp_path):
    X = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    np.save(tmp_path / "x3.npy", X)
    X3 = read_npy(tmp_path / "x3.npy")
    assert X3.dtype == np.float32
    _assert_same(X3, X)
    np.save(tmp_path / "x2.npy", X[:, 0, :].astype(np.int64))
    X2 = read_npy(str(tmp_path / "x2.npy"))
    assert X2.shape == (2, 1, 4)
    _assert_same(X2[:, 0, :], X[:, 0, :])


def test_read_npy_npz_keys(tmp_path):
    X = np.random.default_rng(0).normal(size=(3, 2, 5)).astype(np.float32)
    np.savez(tmp_path / "xy.npz", X=X, y=np.array(["a", "b", "a"]))
    X1, y1 = read_npy(tmp_path / "xy.npz")
    np.testing.assert_array_equal(X1, X)
    assert y1.tolist() == ["a", "b", "a"]

    np.savez_compressed(tmp_path / "x_only.npz", X=X)
    X2, y2 = read_npy(tmp_path / "x_only.npz")
    np.testing.assert_array_equal(X2, X)
    assert y2 is None

    np.savez(tmp_path / "split.npz", X_train=X, y_train=np.array([0, 1, 0]), X_test=X[:1])
    X3, y3 = read_npy(tmp_path / "split.npz")
    np.testing.assert_array_equal(X3, X)
    np.testing.assert_array_equal(y3, [0, 1, 0])


def _npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: _npz(p, data=np.zeros((2, 3))), "no array 'X'"),
        (lambda p: _npz(p, X=np.zeros((2, 3)), y=np.zeros(3)), "must have shape (2,)"),
        (lambda p: _npz(p, X=np.zeros(5)), "must be 2-D"),
        (lambda p: _npz(p, X=np.array([["a"]])), "non-numeric dtype"),
        (
            lambda p: (np.save(p / "obj.npy", np.array([1, None], dtype=object), allow_pickle=True),
                       p / "obj.npy")[1],
            "cannot read",
        ),
        (lambda p: (p / "garbage.npy").write_bytes(b"not numpy") and p / "garbage.npy", "cannot read"),
        (lambda p: (p / "x.csv").write_text("1,2\n") and p / "x.csv", "unsupported extension"),
    ],
    ids=["no-X", "y-length", "1-d", "strings", "pickle", "garbage", "extension"],
)
def test_read_npy_errors(tmp_path, make, fragment):
    path = make(tmp_path)
    with pytest.raises(ValueError) as info:
        read_npy(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------
# missing files
# --------------------------------------------------------------------------
@pytest.mark.parametrize("reader, name", [(read_ts, "nope.ts"), (read_ucr_tsv, "nope.tsv"),
                                          (read_npy, "nope.npy")])
def test_missing_file(tmp_path, reader, name):
    path = tmp_path / name
    with pytest.raises(FileNotFoundError) as info:
        reader(path)
    assert str(path) in str(info.value)

"""Normalisation: per-series z-normalisation and the per-channel scaler learned on training data."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsrepr_sklearn import CausalCNNEncoderClassifier
from tsrepr_sklearn.preprocessing import ChannelScaler, znormalize


def test_znormalize_each_series_and_channel_has_zero_mean_unit_std():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(4, 2, 50))
    Z = znormalize(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=2), 0.0, atol=1e-6)
    np.testing.assert_allclose(Z.std(axis=2), 1.0, atol=1e-5)


def test_znormalize_uses_valid_steps_only_and_keeps_padding():
    Z = znormalize([np.array([1.0, 2.0, 3.0]), np.array([4.0, 6.0, 8.0, 10.0, 12.0])])
    assert Z.shape == (2, 1, 5)
    assert np.isnan(Z[0, 0, 3:]).all() and not np.isnan(Z[1]).any()
    np.testing.assert_allclose(Z[0, 0, :3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_allclose(Z[1, 0], [-1.4142135, -0.70710677, 0.0, 0.70710677, 1.4142135], rtol=1e-6)


def test_znormalize_constant_series_becomes_zero():
    assert np.array_equal(znormalize(np.full((1, 7), 3.5)), np.zeros((1, 1, 7), dtype=np.float32))


def test_channel_scaler_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    X_train = np.stack([rng.normal(0, 1, (20, 30)), rng.normal(100, 10, (20, 30))], axis=1)
    X_test = X_train[:5] * 3 + 7  # other statistics: they must not be used
    scaler = ChannelScaler().fit(X_train)
    np.testing.assert_allclose(scaler.mean_, X_train.mean(axis=(0, 2)), rtol=1e-6)
    np.testing.assert_allclose(scaler.scale_, X_train.std(axis=(0, 2)), rtol=1e-5)
    expected = (X_test - scaler.mean_[:, None]) / scaler.scale_[:, None]
    np.testing.assert_allclose(scaler.transform(X_test), expected, rtol=1e-5, atol=1e-5)


def test_channel_scaler_ignores_padding_and_keeps_it():
    X = [np.array([[0.0, 2.0, 4.0]]), np.array([[6.0]])]  # valid values 0, 2, 4, 6
    scaler = ChannelScaler().fit(X)
    assert scaler.mean_.tolist() == [3.0]
    np.testing.assert_allclose(scaler.scale_, [np.std([0.0, 2.0, 4.0, 6.0])])
    out = scaler.transform(X)
    assert np.isnan(out[1, 0, 1:]).all() and not np.isnan(out[0]).any()


@pytest.mark.parametrize(
    "with_mean, with_std, expected",
    [(True, True, [-1.0, 1.0]), (False, True, [0.0, 2.0]), (True, False, [-2.0, 2.0]), (False, False, [0.0, 4.0])],
)
def test_channel_scaler_options(with_mean, with_std, expected):
    X = np.array([[[0.0, 4.0]]])  # mean 2, standard deviation 2
    out = ChannelScaler(with_mean=with_mean, with_std=with_std).fit_transform(X)
    assert out[0, 0].tolist() == expected


def test_channel_scaler_constant_channel_is_not_divided_by_zero():
    out = ChannelScaler().fit_transform(np.full((3, 2, 4), 2.0))
    assert np.array_equal(out, np.zeros((3, 2, 4), dtype=np.float32))


def test_channel_scaler_rejects_other_channel_count():
    scaler = ChannelScaler().fit(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="2 channel.*fitted with 3"):
        scaler.transform(np.zeros((2, 2, 5)))


def test_channel_scaler_in_a_pipeline_before_the_estimator():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(8, 2, 20)), rng.normal(size=(8, 2, 20)) + 3]) * 1000
    y = np.repeat([0, 1], 8)
    pipe = make_pipeline(
        ChannelScaler(),
        CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=2,
                                   penalty=1.0, device="cpu", random_state=0),
    ).fit(X, y)
    assert pipe.predict(X).shape == (16,)
    assert pipe.transform(X).shape == (16, 2)


# --------------------------------------------------------------------------- precision and constant detection


def _reference(values, axis):
    """Z-scores in float64 (numpy; the standard deviation is never 0 here)."""
    return (values - values.mean(axis=axis, keepdims=True)) / values.std(axis=axis, keepdims=True)


def _offset_signal():
    """A signal of amplitude 20 on an offset of 1e8: float32 holds 1e8 only to steps of 8."""
    return 1e8 + 20 * np.sin(np.arange(50) / 3)[np.newaxis].repeat(4, axis=0)


def test_znormalize_computes_in_float64_from_the_input_values():
    X = _offset_signal()
    expected = _reference(X, axis=1)
    np.testing.assert_allclose(znormalize(X)[:, 0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(znormalize(list(X))[:, 0], expected, rtol=1e-5, atol=1e-5)  # list of 1-D series
    ragged = znormalize([X[0], X[1, :30]])  # NaN padding through the list path
    np.testing.assert_allclose(ragged[1, 0, :30], _reference(X[1, :30], axis=0), rtol=1e-5, atol=1e-5)
    assert np.isnan(ragged[1, 0, 30:]).all()


def test_channel_scaler_computes_in_float64_from_the_input_values():
    X = _offset_signal()
    scaler = ChannelScaler().fit(X)
    np.testing.assert_allclose(scaler.mean_, [X.mean()], rtol=1e-15)
    np.testing.assert_allclose(scaler.scale_, [X.std()], rtol=1e-9)
    np.testing.assert_allclose(scaler.transform(X)[:, 0], (X - X.mean()) / X.std(), rtol=1e-5, atol=1e-5)


def test_tiny_amplitude_is_not_constant_like_standard_scaler():
    X = 1e-9 * np.sin(np.arange(40) / 3)[np.newaxis].repeat(3, axis=0)
    np.testing.assert_allclose(znormalize(X)[:, 0].std(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ChannelScaler().fit(X).scale_, [StandardScaler().fit(X.reshape(-1, 1)).scale_[0]])
    np.testing.assert_allclose(ChannelScaler().fit_transform(X).std(), 1.0, rtol=1e-5)


def test_variation_at_rounding_level_is_constant_like_standard_scaler():
    # 1e12 plus steps of one float64 spacing (1.2e-4): constant to float64 precision, as StandardScaler decides
    X = np.nextafter(np.full((2, 1, 6), 1e12), np.inf)
    X[:, :, ::2] = 1e12
    assert StandardScaler().fit(X.reshape(-1, 1)).scale_.tolist() == [1.0]
    assert ChannelScaler().fit(X).scale_.tolist() == [1.0]
    np.testing.assert_allclose(znormalize(X), 0.0, atol=1e-3)
    np.testing.assert_allclose(ChannelScaler().fit_transform(X), 0.0, atol=1e-3)


def test_memory_map_is_read_in_blocks_and_left_unchanged(tmp_path, monkeypatch):
    from tsrepr_sklearn import preprocessing

    X = np.concatenate([_offset_signal(), _offset_signal() * 2 - 1e8])[:, np.newaxis, :].repeat(2, axis=1)
    X[1, :, 40:] = np.nan
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    expected_series, scaler = znormalize(X), ChannelScaler().fit(X)
    monkeypatch.setattr(preprocessing, "CHUNK_BYTES", 3 * 2 * 50 * 8)  # blocks of 3 series
    np.testing.assert_allclose(znormalize(mapped), expected_series, rtol=1e-6, atol=1e-6)
    blocked = ChannelScaler().fit(mapped)
    np.testing.assert_allclose(blocked.mean_, scaler.mean_, rtol=1e-14)
    np.testing.assert_allclose(blocked.scale_, scaler.scale_, rtol=1e-12)
    np.testing.assert_allclose(blocked.transform(mapped), scaler.transform(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)


def test_input_array_is_not_modified():
    X = _offset_signal()
    before = X.copy()
    znormalize(X)
    ChannelScaler().fit(X).transform(X)
    np.testing.assert_array_equal(X, before)


def test_every_input_form_of_the_estimators_is_accepted():
    """A 1-D object array or pandas Series of series, as check_series accepts, gives the padded list's result."""
    pd = pytest.importorskip("pandas")
    series = [np.arange(5.0), np.array([3.0, 1.0, 2.0])]
    forms = [np.array(series, dtype=object), pd.Series(series), tuple(series)]
    for form in forms:
        np.testing.assert_array_equal(znormalize(form), znormalize(series))
        np.testing.assert_array_equal(ChannelScaler().fit_transform(form), ChannelScaler().fit_transform(series))

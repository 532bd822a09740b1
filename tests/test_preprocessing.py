"""Normalisation: per-series z-normalisation and the per-channel scaler learned on training data."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

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

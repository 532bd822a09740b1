"""Plots, headless (Agg): they draw what they say and write valid images."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.test_estimators import tiny, two_class_data  # noqa: E402
from tsrepr_sklearn.plotting import plot_history, plot_representations, save_summary_figure  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    X, y = two_class_data()
    return tiny(nb_steps=20).fit(X, y), X, y


def test_plot_history_draws_the_loss_and_its_moving_average(fitted):
    clf, _, _ = fitted
    ax = plot_history(clf, smoothing=5)
    raw, smooth = ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), clf.history_)
    np.testing.assert_allclose(smooth.get_ydata()[0], clf.history_[:4].mean())  # 20 steps: window clipped to 4
    plt.close(ax.figure)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot_representations_one_group_per_label(fitted, method):
    clf, X, y = fitted
    fig, ax = plt.subplots()
    assert plot_representations(clf, X, y, ax=ax, method=method) is ax
    assert len(ax.collections) == 2
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(X)
    plt.close(fig)


def test_plot_errors(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="method must be"):
        plot_representations(clf, X, y, method="umap")
    with pytest.raises(ValueError, match="one label per series"):
        plot_representations(clf, X, y[:3])
    clf_unfitted = tiny()
    with pytest.raises(Exception, match="not fitted"):
        plot_history(clf_unfitted)


def test_save_summary_figure_writes_a_png(fitted, tmp_path):
    clf, X, y = fitted
    save_summary_figure(clf, X, y, tmp_path / "summary.png")
    data = (tmp_path / "summary.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    image = plt.imread(tmp_path / "summary.png")
    assert image.shape[0] > 100 and image.shape[1] > 2 * image.shape[0] * 0.9  # two panels side by side
    assert image[..., :3].std() > 0.05  # not a blank canvas

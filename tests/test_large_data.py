"""Data larger than memory: memory maps are validated, trained on and encoded piece by piece."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from tsrepr_sklearn.losses import triplet_loss_backward
from tsrepr_sklearn.networks import CausalCNNEncoder, LSTMEncoder
from tsrepr_sklearn.sampling import sample_triplets
from tsrepr_sklearn.streaming import PageReleaser, StepWindows, is_large
from tsrepr_sklearn.training import to_device_data
from tsrepr_sklearn.validation import check_series

REPO_ROOT = Path(__file__).resolve().parents[1]


def ragged(rng, n=12, channels=2, length=40):
    lengths = rng.integers(10, length + 1, n)
    X = np.full((n, channels, length), np.nan, dtype=np.float32)
    for i, m in enumerate(lengths):
        X[i, :, :m] = rng.normal(size=(channels, m))
    return X, lengths


@pytest.mark.parametrize("encoder", ["cnn", "lstm"])
@pytest.mark.parametrize("compared_length", [None, 8])
def test_step_windows_give_the_loss_and_gradients_of_the_whole_data(encoder, compared_length):
    rng = np.random.default_rng(0)
    X, lengths = ragged(rng)
    geometry = sample_triplets(rng, np.array([3, 5, 7, 0]), lengths, 3, compared_length, True)
    torch.manual_seed(0)
    if encoder == "cnn":
        make = lambda: CausalCNNEncoder(in_channels=2, channels=4, depth=2, reduced_size=4, out_channels=3, kernel_size=3)  # noqa: E731
    else:
        make = lambda: LSTMEncoder(in_channels=2, hidden_size=4, num_layers=1, out_channels=3)  # noqa: E731
    whole, windows = make(), make()
    windows.load_state_dict(whole.state_dict())
    loss_whole = triplet_loss_backward(whole, to_device_data(X, "cpu"), geometry)
    data, local = StepWindows(X, torch.device("cpu")).prepare(geometry)
    assert data.shape[0] == 4 * (1 + 3) and data.shape[2] == max(geometry.anchor_length.max(),
                                                                 geometry.negative_length.max())
    loss_windows = triplet_loss_backward(windows, data, local)
    torch.testing.assert_close(loss_windows, loss_whole, rtol=1e-6, atol=1e-7)
    for p_whole, p_windows in zip(whole.parameters(), windows.parameters()):
        torch.testing.assert_close(p_windows.grad, p_whole.grad, rtol=1e-5, atol=1e-7)


def test_memmaps_are_validated_in_chunks_without_a_copy(tmp_path, monkeypatch):
    import tsrepr_sklearn.validation as validation

    monkeypatch.setattr(validation, "CHUNK_BYTES", 1000)  # many chunks: errors must name the global index
    rng = np.random.default_rng(0)
    X, lengths = ragged(rng, n=30)
    path = tmp_path / "x.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    assert is_large(mapped)
    checked, found = check_series(mapped)
    assert checked is mapped and np.array_equal(found, lengths)
    X[17, 1, 3] = np.nan
    np.save(path, X)
    with pytest.raises(ValueError, match=r"series 17 of X has a NaN inside it \(channel 1, time step 3\)"):
        check_series(np.load(path, mmap_mode="r"))
    X[17, 1, 3] = np.inf
    np.save(path, X)
    with pytest.raises(ValueError, match=r"X contains infinity \(series 17\)"):
        check_series(np.load(path, mmap_mode="r"))


def test_page_releaser_leaves_copy_on_write_maps_alone(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(10, dtype=np.float32))
    assert PageReleaser(np.load(tmp_path / "x.npy", mmap_mode="r"))._handle is not None
    assert PageReleaser(np.load(tmp_path / "x.npy", mmap_mode="c"))._handle is None


_TRAIN_ON_MEMMAP = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from tsrepr_sklearn import CausalCNNEncoderClassifier

    def status_kb(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

    X = np.load(sys.argv[1], mmap_mode="r")
    clf = CausalCNNEncoderClassifier(nb_steps=3, batch_size=4, nb_random_samples=2, compared_length=128,
                                     channels=4, depth=2, reduced_size=4, out_channels=4, device="cpu",
                                     random_state=0)
    clf.fit_encoder(X[:2]).transform(X[:2])  # warm-up: one-off allocations of torch
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set size to the current one
    before = status_kb("VmRSS")
    start = time.perf_counter()
    clf.fit_encoder(X)
    features = clf.transform(X)
    print(json.dumps({"growth_mb": (status_kb("VmHWM") - before) / 1024, "shape": list(features.shape),
                      "finite": bool(np.isfinite(features).all()), "steps": int(clf.n_steps_),
                      "seconds": time.perf_counter() - start}))
    """
)


def test_two_gigabyte_memmap_trains_and_encodes_with_bounded_memory(tmp_path):
    n_series, channels, length = 1000, 8, 65536  # float32: 2.1 GB on disk
    path = tmp_path / "large.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_series, channels, length))
    rng = np.random.default_rng(0)
    pattern = rng.standard_normal((channels, length)).astype(np.float32)
    for begin in range(0, n_series, 50):
        block = np.broadcast_to(pattern, (50, channels, length)) * rng.uniform(0.5, 2.0, (50, 1, 1))
        X[begin : begin + 50] = block
    X[::7, :, length - 1000 :] = np.nan  # some shorter series, NaN right-padded
    X.flush()
    del X
    assert path.stat().st_size >= 2 * 10**9
    result = subprocess.run([sys.executable, "-c", _TRAIN_ON_MEMMAP, str(path)], capture_output=True, text=True,
                            timeout=600, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["shape"] == [n_series, 4] and report["finite"] and report["steps"] == 3
    assert report["growth_mb"] < 500, report

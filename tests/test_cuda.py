"""GPU behaviour; skipped on machines without CUDA (run by benchmarks/gpu_check.sh when a GPU is lent)."""

import numpy as np
import pytest
import torch

from tests.test_estimators import tiny, two_class_data
from tsrepr_sklearn import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from tsrepr_sklearn.losses import triplet_loss_backward
from tsrepr_sklearn.networks import CausalCNNEncoder, LSTMEncoder
from tsrepr_sklearn.sampling import sample_triplets
from tsrepr_sklearn.training import to_device_data

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def exact_float32():
    """TF32 matrix products would round at 1e-3: compare in true float32, then restore the settings."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.parametrize("encoder_class, kwargs", [
    (CausalCNNEncoder, dict(in_channels=2, channels=8, depth=3, reduced_size=8, out_channels=6, kernel_size=3)),
    (LSTMEncoder, dict(in_channels=2, hidden_size=8, num_layers=2, out_channels=6)),
])
@pytest.mark.parametrize("varying", [False, True])
def test_loss_and_gradients_on_cuda_match_cpu(encoder_class, kwargs, varying):
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 40, 12) if varying else np.full(12, 40)
    X = np.full((12, 2, 40), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        X[i, :, :n] = rng.normal(size=(2, n))
    geometry = sample_triplets(rng, np.arange(6), lengths, 4, None, varying)
    torch.manual_seed(0)
    cpu = encoder_class(**kwargs)
    gpu = encoder_class(**kwargs)
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    loss_cpu = triplet_loss_backward(cpu, to_device_data(X, "cpu"), geometry)
    loss_gpu = triplet_loss_backward(gpu, to_device_data(X, torch.device("cuda")), geometry)
    assert loss_gpu.device.type == "cuda"
    np.testing.assert_allclose(loss_gpu.item(), loss_cpu.item(), rtol=1e-4)
    for (name, p_cpu), p_gpu in zip(cpu.named_parameters(), gpu.parameters()):
        np.testing.assert_allclose(p_gpu.grad.cpu().numpy(), p_cpu.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("cls", [CausalCNNEncoderClassifier, LSTMEncoderClassifier])
def test_estimator_trains_on_cuda_and_loads_on_cpu(cls, tmp_path):
    X, y = two_class_data()
    clf = tiny(cls, device="cuda").fit(X, y)
    assert clf.device_.type == "cuda" and next(clf.encoder_.parameters()).is_cuda
    features = clf.transform(X)
    assert isinstance(features, np.ndarray) and features.dtype == np.float32
    clf.save(tmp_path / "model.pt")
    archive = torch.load(tmp_path / "model.pt", weights_only=True)
    assert all(t.device.type == "cpu" for t in archive["encoder_state"].values())
    loaded = cls.load(tmp_path / "model.pt")
    np.testing.assert_allclose(loaded.transform(X), features, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_auto_device_picks_cuda():
    X, y = two_class_data()
    assert tiny(device="auto").fit(X, y).device_.type == "cuda"


def test_warm_start_continues_a_cuda_model_on_the_cpu():
    X, y = two_class_data()
    clf = tiny(CausalCNNEncoderClassifier, device="cuda", warm_start=True).fit(X, y)
    clf.set_params(device="cpu").fit_encoder(X)
    assert clf.device_.type == "cpu" and clf.n_steps_ == 6
    assert all(not p.is_cuda for p in clf.encoder_.parameters())
    assert all(not t.is_cuda for state in clf.optimizer_.state.values() for t in state.values() if torch.is_tensor(t))

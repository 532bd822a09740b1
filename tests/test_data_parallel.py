"""Data-parallel training with torch.distributed (gloo, 2 processes on the CPU) equals single-process training."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_estimators import tiny, two_class_data

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")

_RANK = textwrap.dedent(
    """
    import json, os, sys
    import torch
    import tsrepr_sklearn.training as training
    from tests.test_estimators import tiny, two_class_data
    torch.set_num_threads(1)
    shares, original = [], training.triplet_loss_backward

    def recording(encoder, data, geometry, *args):
        shares.append(int(geometry.batch_size))  # anchors this rank encodes in the step
        return original(encoder, data, geometry, *args)

    training.triplet_loss_backward = recording
    rank, folder = int(os.environ["RANK"]), sys.argv[1]
    X, y = two_class_data(n=24)
    params = json.loads(sys.argv[2])
    clf = tiny(distributed=True, checkpoint=os.path.join(folder, f"checkpoint-{rank}.pt"), checkpoint_every=2,
               **params).fit(X, y)
    torch.save({k: v.detach() for k, v in clf.encoder_.state_dict().items()}, os.path.join(folder, f"weights-{rank}.pt"))
    print(json.dumps({"rank": rank, "history": clf.history_.tolist(), "predictions": clf.predict(X).tolist(),
                      "world": torch.distributed.get_world_size(), "shares": shares}))
    torch.distributed.destroy_process_group()
    """
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(folder, world_size, params):
    port = free_port()
    processes = []
    for rank in range(world_size):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        processes.append(subprocess.Popen([sys.executable, "-c", _RANK, str(folder), json.dumps(params)], env=env,
                                          cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


@pytest.mark.parametrize("params", [
    dict(nb_steps=4, batch_size=5),  # anchors split 3 / 2 between the ranks
    dict(nb_steps=3, batch_size=4, save_memory=True, compared_length=9),
])
def test_two_gloo_ranks_equal_one_process_on_the_union_of_their_triplets(tmp_path, params):
    outputs = launch(tmp_path, 2, params)
    assert [o["world"] for o in outputs] == [2, 2]
    # each rank encodes only its share of every batch (24 series: full batches, then the last partial one)
    batch = params["batch_size"]
    for rank, output in enumerate(outputs):
        assert output["shares"][0] == len(range(rank, batch, 2))
        assert sum(output["shares"]) < batch * params["nb_steps"]
    X, y = two_class_data(n=24)
    single = tiny(**params).fit(X, y)
    for output in outputs:
        np.testing.assert_allclose(output["history"], single.history_, rtol=1e-5)
    for rank in range(2):
        weights = torch.load(tmp_path / f"weights-{rank}.pt", weights_only=True)
        for name, value in single.encoder_.state_dict().items():
            torch.testing.assert_close(weights[name], value, rtol=1e-4, atol=1e-6, msg=name)
    assert outputs[0]["predictions"] == outputs[1]["predictions"]
    assert (tmp_path / "checkpoint-0.pt").exists() and not (tmp_path / "checkpoint-1.pt").exists()


def test_distributed_without_a_process_group_is_a_clear_error(monkeypatch):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    X, y = two_class_data()
    with pytest.raises(ValueError, match="torchrun"):
        tiny(distributed=True).fit(X, y)

"""Scaling out on one machine: 2 workers versus 1, for a dask grid search and for data-parallel training.

Usage::

    python benchmarks/bench_scale_out.py [--nb-steps 100] [--ddp-steps 30] [--repeats 2] [--output FILE]

(a) ``GridSearchCV`` over 4 candidates x 2 folds of ``CausalCNNEncoderClassifier``
    on GunPoint under ``joblib.parallel_backend("dask")``, with a
    ``LocalCluster`` of 1 worker, then of 2 workers (processes, 1 thread and
    1 PyTorch thread each).
(b) ``fit(..., distributed=True)`` with the paper's architecture on GunPoint,
    launched as 1 process and as 2 processes (gloo, 1 PyTorch thread each),
    as torchrun would; the time per training step is read from each run.

The two configurations of (a) alternate ``--repeats`` times and the table gives
medians and the ratio 1 worker / 2 workers (the speed-up). Both use the same
cores of a shared machine: the report gives the background load.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from benchmarks._common import (  # noqa: E402
    OtherLoad, add_common_arguments, command_line, machine_info, publish, report_header,
)

GRID = {"depth": [3, 4], "nb_random_samples": [5, 10]}

_RANK = textwrap.dedent(
    """
    import json, sys, time
    import torch
    from tsrepr_sklearn import CausalCNNEncoderClassifier
    from tsrepr_sklearn.datasets import load_dataset
    torch.set_num_threads(1)
    X, y = load_dataset("GunPoint", split="train")
    clf = CausalCNNEncoderClassifier(nb_steps=2, distributed=True, device="cpu", random_state=0)
    clf.fit_encoder(X)  # warm-up, and the process group
    torch.distributed.barrier()
    clf.set_params(nb_steps=int(sys.argv[1]))
    start = time.perf_counter()
    clf.fit_encoder(X)
    torch.distributed.barrier()
    print(json.dumps({"seconds": time.perf_counter() - start, "steps": int(clf.n_steps_)}))
    torch.distributed.destroy_process_group()
    """
)


def grid_search_seconds(n_workers, nb_steps):
    import joblib
    from distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    from tsrepr_sklearn import CausalCNNEncoderClassifier
    from tsrepr_sklearn.datasets import load_dataset
    from tsrepr_sklearn.distributed import set_worker_threads

    X, y = load_dataset("GunPoint", split="train")
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        set_worker_threads(client)
        search = GridSearchCV(
            CausalCNNEncoderClassifier(nb_steps=nb_steps, penalty=1.0, device="cpu", random_state=0), GRID, cv=2
        )
        with OtherLoad() as load, joblib.parallel_backend("dask"):
            start = time.perf_counter()
            search.fit(X, y)
            seconds = time.perf_counter() - start
    return seconds, load.cores


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp_seconds_per_step(world_size, steps):
    port = free_port()
    processes = []
    for rank in range(world_size):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        processes.append(subprocess.Popen([sys.executable, "-c", _RANK, str(steps)], env=env, cwd=REPO_ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(err)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return max(r["seconds"] for r in results) / steps


def render(report):
    runs = {int(k): v for k, v in report["grid_search_seconds"].items()}
    ddp = {int(k): v for k, v in report["ddp_s_per_step"].items()}
    nb_steps = report.get("nb_steps", 100)  # the first results file predates the field: the default, 100
    load = report["other_load_cores_max"]
    return "\n".join(report_header("Scaling out on one machine: 2 workers versus 1", report) + [
        "",
        f"(a) dask GridSearchCV, {len(GRID['depth']) * len(GRID['nb_random_samples'])} candidates x 2 folds, "
        f"{nb_steps} steps per fit, GunPoint: 1 worker {statistics.median(runs[1]):.1f} s, "
        f"2 workers {statistics.median(runs[2]):.1f} s (medians of {len(runs[1])}) -> "
        f"{report['grid_search_speedup']:.2f}x",
        f"(b) data-parallel training (gloo), paper architecture, batch 10, GunPoint: 1 process "
        f"{ddp[1]:.3f} s/step, 2 processes {ddp[2]:.3f} s/step -> {report['ddp_speedup']:.2f}x",
        "    every worker / process uses 1 PyTorch thread"
        + (f"; other CPU load during (a): at most {load:.2f} cores" if load is not None else ""),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nb-steps", type=int, default=100, help="training steps of each grid-search fit")
    parser.add_argument("--ddp-steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    add_common_arguments(parser, device=False)
    args = parser.parse_args(argv)
    runs = {1: [], 2: []}
    loads = []
    for _ in range(args.repeats):
        for workers in (1, 2):
            seconds, load = grid_search_seconds(workers, args.nb_steps)
            runs[workers].append(seconds)
            loads.append(load)
    ddp = {world: ddp_seconds_per_step(world, args.ddp_steps) for world in (1, 2)}
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(torch.device("cpu")),
        "nb_steps": args.nb_steps,
        "ddp_steps": args.ddp_steps,
        "grid_search_seconds": {str(k): v for k, v in runs.items()},
        "grid_search_speedup": statistics.median(runs[1]) / statistics.median(runs[2]),
        "ddp_s_per_step": {str(k): v for k, v in ddp.items()},
        "ddp_speedup": ddp[1] / ddp[2],
        "other_load_cores_max": max((v for v in loads if v is not None), default=None),
    }
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

"""How a training step scales with series length and batch size, and its peak memory with and without save_memory.

Usage::

    python benchmarks/bench_scaling.py [--lengths 100 300 1000 3000 10000] [--batch-sizes 5 10 20 40]
                                       [--memory-length 2000] [--steps 3] [--device cpu|cuda] [--output FILE]

Paper architecture (channels 40, depth 10, reduced 160, 320 outputs, kernel
3), K=10, Adam, float32, ``compared_length=None`` (subseries drawn up to the
whole series). A step's work is proportional to the number of time steps it
encodes: the summed lengths of its anchors, positives and negatives, which the
sampling draws at random; the tables divide the measured time by that count.
A constant "us per time step" across rows means cost linear in the time steps
processed.

Memory: each configuration runs in a fresh subprocess that builds the
encoder and data and runs one warm-up step; then the figure is the growth of
the peak resident set size over the resident size before the timed steps (CPU;
the peak is reset through ``/proc/self/clear_refs``), or of
``torch.cuda.max_memory_allocated`` over the allocated memory (CUDA). The same
triplets are used with and without ``save_memory``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._common import (  # noqa: E402
    OtherLoad,
    PeakRSSGrowth,
    add_common_arguments,
    checked_device,
    command_line,
    machine_info,
    publish,
    report_header,
    synchronize,
)  # noqa: E402
from tsrepr_sklearn.losses import triplet_loss_backward  # noqa: E402
from tsrepr_sklearn.networks import CausalCNNEncoder  # noqa: E402
from tsrepr_sklearn.sampling import sample_triplets  # noqa: E402
from tsrepr_sklearn.training import to_device_data  # noqa: E402

PAPER_PARAMS = dict(in_channels=1, channels=40, depth=10, reduced_size=160, out_channels=320, kernel_size=3)
K = 10
N_SERIES = 20


def setup(length, batch_size, device, steps, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SERIES, 1, length)).astype(np.float32)
    lengths = np.full(N_SERIES, length)
    geometries = [
        sample_triplets(rng, rng.permutation(N_SERIES)[:batch_size] if batch_size <= N_SERIES
                        else rng.integers(0, N_SERIES, batch_size), lengths, K, None, False)
        for _ in range(steps + 2)
    ]
    torch.manual_seed(seed)
    encoder = CausalCNNEncoder(**PAPER_PARAMS).to(device).train()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    return encoder, optimizer, to_device_data(X, device), geometries


def step(encoder, optimizer, data, geometry, save_memory=False):
    optimizer.zero_grad(set_to_none=True)
    loss = triplet_loss_backward(encoder, data, geometry, 1.0, save_memory)
    optimizer.step()
    return loss


def positions(geometry):
    return int(geometry.anchor_length.sum() + geometry.positive_length.sum() + geometry.negative_length.sum())



def time_config(length, batch_size, args, device):
    encoder, optimizer, data, geometries = setup(length, batch_size, device, args.steps)
    for geometry in geometries[:2]:  # warm-up: first-call allocations and thread start-up
        step(encoder, optimizer, data, geometry)
    per_step, per_position = [], []
    with OtherLoad() as load:
        for geometry in geometries[2:]:
            synchronize(device)
            start = time.perf_counter()
            step(encoder, optimizer, data, geometry)
            synchronize(device)
            seconds = time.perf_counter() - start
            per_step.append(seconds)
            per_position.append(seconds / positions(geometry))
    return {
        "length": length,
        "batch_size": batch_size,
        "s_per_step": statistics.median(per_step),
        "time_steps_per_step": statistics.mean(positions(g) for g in geometries[2:]),
        "us_per_time_step": 1e6 * statistics.median(per_position),
        "other_load_cores": load.cores,
    }


def probe_memory(length, batch_size, save_memory, steps, device):
    """Run in a subprocess: peak memory growth of ``steps`` training steps, after one warm-up step."""
    encoder, optimizer, data, geometries = setup(length, batch_size, device, steps)
    step(encoder, optimizer, data, geometries[-1], save_memory)  # warm-up: one-off allocations, Adam state
    if device.type != "cuda":
        with PeakRSSGrowth() as memory:
            for geometry in geometries[:steps]:
                step(encoder, optimizer, data, geometry, save_memory)
        return {"peak_growth_mb": memory.growth_mb}
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    for geometry in geometries[:steps]:
        step(encoder, optimizer, data, geometry, save_memory)
    synchronize(device)
    return {"peak_growth_mb": (torch.cuda.max_memory_allocated(device) - before) / 1e6}


def memory_config(length, batch_size, save_memory, args):
    command = [sys.executable, __file__, "--probe", str(length), str(batch_size), str(int(save_memory)),
               "--steps", str(args.steps), "--device", args.device]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]), length=length, batch_size=batch_size,
                save_memory=save_memory)


def render(report):
    lines = report_header(
        "Training step scaling (time per step vs series length and batch size; peak memory)", report
    ) + [
        f"model    : CausalCNN channels 40, depth 10, reduced 160, out 320, kernel 3; K={K}, Adam, float32; "
        f"{report['steps']} timed steps per row (median)",
        "",
    ]
    header = f"{'length':>7} {'batch':>6} {'s/step':>9} {'time steps/step':>16} {'us per time step':>17} {'other load':>11}"
    for title, rows in (("series length (batch 10)", report["by_length"]), ("batch size", report["by_batch"])):
        lines += [f"by {title}:", header, "-" * len(header)]
        for r in rows:
            load = "-" if r["other_load_cores"] is None else f"{r['other_load_cores']:.2f}"
            lines.append(f"{r['length']:>7} {r['batch_size']:>6} {r['s_per_step']:>9.3f} "
                         f"{r['time_steps_per_step']:>16.0f} {r['us_per_time_step']:>17.3f} {load:>11}")
        spread = [r["us_per_time_step"] for r in rows]
        if spread:
            lines.append(f"  us per time step: max/min = {max(spread) / min(spread):.2f}")
        lines.append("")
    if report["memory"]:
        unit = "CUDA max allocated" if report["machine"]["device"].startswith("cuda") else "peak RSS growth"
        lines.append(f"memory ({unit}, MB), {report['steps']} steps:")
        by_key = {(r["length"], r["batch_size"], r["save_memory"]): r["peak_growth_mb"] for r in report["memory"]}
        for length, batch in sorted({(r["length"], r["batch_size"]) for r in report["memory"]}):
            plain, saving = by_key.get((length, batch, False)), by_key.get((length, batch, True))
            lines.append(f"  length {length}, batch {batch}: save_memory=False {plain:.0f} MB, "
                         f"save_memory=True {saving:.0f} MB (ratio {plain / saving:.1f}x)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", nargs="+", type=int, default=[100, 300, 1000, 3000, 10000])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[5, 10, 20, 40])
    parser.add_argument("--batch-length", type=int, default=300, help="series length of the batch-size rows")
    parser.add_argument("--memory-length", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--probe", nargs=3, type=int, help=argparse.SUPPRESS)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    device = checked_device(parser, args.device)
    if args.probe:
        length, batch_size, save_memory = args.probe
        print(json.dumps(probe_memory(length, batch_size, bool(save_memory), args.steps, device)))
        return None
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(device),
        "steps": args.steps,
        "by_length": [time_config(length, 10, args, device) for length in args.lengths],
        "by_batch": [time_config(args.batch_length, b, args, device) for b in args.batch_sizes],
        "memory": [memory_config(args.memory_length, 10, s, args) for s in (False, True)] if args.memory_length else [],
    }
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

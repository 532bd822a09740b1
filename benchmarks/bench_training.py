"""Training-step benchmark: this package's T-Loss against the seed-faithful reference.

Usage::

    python benchmarks/bench_training.py [--steps N] [--device cpu|cuda] [--output FILE]

With the paper's UCR defaults (batch 10, channels 40, depth 10, reduced size
160, 320 output channels, kernel 3, 10 negatives, Adam lr 1e-3, float32) it
times one training step (``zero_grad`` + loss and backward + Adam ``step``) of

* this implementation, :func:`tsrepr_sklearn.losses.triplet_loss_backward`
  with :class:`tsrepr_sklearn.networks.CausalCNNEncoder`, and
* the seed-faithful one, :func:`benchmarks.seed_reference.seed_triplet_loss`
  with :class:`benchmarks.seed_reference.SeedCausalCNNEncoder` (one encoder
  call per loss term for equal lengths, one per subseries for unequal
  lengths, as the original code did),

on two data sets of 50 univariate series: (a) all of length 150, (b) lengths
spread evenly over 29..361, NaN right-padded.

Both implementations see the same sampled triplet geometries (drawn once from
a fixed :class:`numpy.random.Generator`, as ``train_encoder`` draws them). The
timed steps are split into blocks; the blocks of the two implementations
alternate, so that both see the same load of a shared, noisy machine, and a
ratio is taken per block pair; the tables report medians. The fast
implementation runs each of its blocks several times (it is cheap) and keeps
the median.

For (a) it also reports the achieved throughput in nominal GFLOP/s: every
convolution (the two causal ones of each block with all ``kernel_size`` taps,
even those the implementation skips because they only meet padding, and the
1x1 residual ones) counts ``2 * C_in * C_out * kernel_size`` per valid output
position of every subseries encoded in the step, times 3 for forward and
backward; this is compared with a float32 2048x2048 ``torch.matmul`` measured
in the same run, between the blocks.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
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
    add_common_arguments,
    checked_device,
    command_line,
    machine_info,
    make_dataset,
    publish,
    report_header,
    synchronize,
)
from benchmarks.seed_reference import SeedCausalCNNEncoder, seed_triplet_loss  # noqa: E402
from tsrepr_sklearn.losses import triplet_loss_backward  # noqa: E402
from tsrepr_sklearn.networks import CausalCNNEncoder  # noqa: E402
from tsrepr_sklearn.persistence import convert_original_state_dict  # noqa: E402
from tsrepr_sklearn.sampling import sample_triplets  # noqa: E402
from tsrepr_sklearn.training import to_device_data  # noqa: E402

PAPER_PARAMS = dict(in_channels=1, channels=40, depth=10, reduced_size=160, out_channels=320, kernel_size=3)
BATCH_SIZE = 10
NB_RANDOM_SAMPLES = 10
LEARNING_RATE = 1e-3
N_SERIES = 50
GEMM_SIZE = 2048
TARGETS = {"a": 8.0, "b": 10.0}
GEMM_TARGET = 0.60


# --------------------------------------------------------------------------- data and geometry


def make_geometries(rng, lengths, count):
    """``count`` geometries drawn as ``train_encoder`` draws them (shuffled batches, epochs)."""
    varying = bool(lengths.min() != lengths.max())
    geometries = []
    while len(geometries) < count:
        permutation = rng.permutation(lengths.shape[0])
        for begin in range(0, lengths.shape[0], BATCH_SIZE):
            batch = permutation[begin : begin + BATCH_SIZE]
            geometries.append(sample_triplets(rng, batch, lengths, NB_RANDOM_SAMPLES, None, varying))
            if len(geometries) == count:
                break
    return geometries


def nominal_flops(geometry, params=PAPER_PARAMS):
    """Nominal forward + backward FLOPs of the convolutions for all subseries of a geometry."""
    k = params["kernel_size"]
    per_position = 0
    block_in = params["in_channels"]
    widths = [params["channels"]] * params["depth"] + [params["reduced_size"]]
    for block_out in widths:
        per_position += 2 * block_in * block_out * k  # conv1
        per_position += 2 * block_out * block_out * k  # conv2
        if block_in != block_out:
            per_position += 2 * block_in * block_out  # 1x1 residual
        block_in = block_out
    positions = (
        int(geometry.anchor_length.sum()) + int(geometry.positive_length.sum()) + int(geometry.negative_length.sum())
    )
    return 3 * per_position * positions


# --------------------------------------------------------------------------- timing



class _OnDevice(torch.nn.Module):
    """Moves the CPU windows built by ``seed_triplet_loss`` to the encoder's device."""

    def __init__(self, module, device):
        super().__init__()
        self.module = module
        self.device = device

    def forward(self, x):
        return self.module(x.to(self.device, non_blocking=True))


class Runner:
    """One implementation with its encoder, optimiser and step function."""

    def __init__(self, name, encoder, step):
        self.name = name
        self.encoder = encoder
        self.optimizer = torch.optim.Adam(encoder.parameters(), lr=LEARNING_RATE)
        self._step = step

    def step(self, geometry):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._step(self.encoder, geometry)
        self.optimizer.step()
        return loss

    def time_block(self, geometries, device):
        """Seconds per step over ``geometries``."""
        synchronize(device)
        start = time.perf_counter()
        for geometry in geometries:
            self.step(geometry)
        synchronize(device)
        return (time.perf_counter() - start) / len(geometries)


def make_runners(scenario, X, device):
    torch.manual_seed(0)
    seed_encoder = SeedCausalCNNEncoder(**PAPER_PARAMS)
    fast_encoder = CausalCNNEncoder(**PAPER_PARAMS)
    fast_encoder.load_state_dict(convert_original_state_dict(seed_encoder.state_dict(), "CausalCNN"))
    seed_encoder.to(device).train()
    fast_encoder.to(device).train()
    data = to_device_data(X, device)
    per_sample = scenario == "b"
    seed_module = seed_encoder if device.type == "cpu" else _OnDevice(seed_encoder, device)

    def fast_step(encoder, geometry):
        return triplet_loss_backward(encoder, data, geometry)

    def seed_step(encoder, geometry):
        return seed_triplet_loss(seed_module, X, geometry, per_sample=per_sample)

    return Runner("this implementation", fast_encoder, fast_step), Runner("seed-faithful", seed_encoder, seed_step)


def time_gemm(device, repeats=3):
    """Seconds of one float32 GEMM_SIZE x GEMM_SIZE matmul, per repeat."""
    generator = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(GEMM_SIZE, GEMM_SIZE, generator=generator).to(device)
    b = torch.randn(GEMM_SIZE, GEMM_SIZE, generator=generator).to(device)
    out = torch.empty(GEMM_SIZE, GEMM_SIZE, device=device)
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        torch.matmul(a, b, out=out)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def run_scenario(scenario, args, device, gemm_times):
    rng = np.random.default_rng({"a": 2019, "b": 2020}[scenario])
    X, lengths = make_dataset(scenario, N_SERIES, rng)
    fast, seed = make_runners(scenario, X, device)
    blocks = args.blocks
    per_block = max(1, -(-args.steps // blocks))
    warm = make_geometries(rng, lengths, args.warmup)
    timed = make_geometries(rng, lengths, blocks * per_block)
    # warm-up, excluded: allocator, thread pools, first-call dispatch
    for geometry in warm:
        fast.step(geometry)
    for geometry in warm[: max(1, args.warmup // 3)]:
        seed.step(geometry)
    fast_times, seed_times, ratios, gflops, other_load = [], [], [], [], []
    for block in range(blocks):
        geometries = timed[block * per_block : (block + 1) * per_block]
        # alternate the order inside the pair so neither side always runs first
        order = ("fast", "seed") if block % 2 == 0 else ("seed", "fast")
        result = {}
        with OtherLoad() as load:
            for which in order:
                if which == "fast":
                    result["fast"] = statistics.median(
                        fast.time_block(geometries, device) for _ in range(args.fast_repeats)
                    )
                else:
                    result["seed"] = seed.time_block(geometries, device)
            if scenario == "a":
                gemm_times.extend(time_gemm(device))
        other_load.append(load.cores)
        fast_times.append(result["fast"])
        seed_times.append(result["seed"])
        ratios.append(result["seed"] / result["fast"])
        flops = sum(nominal_flops(g) for g in geometries) / len(geometries)
        gflops.append(flops / result["fast"] / 1e9)
        load_text = "" if load.cores is None else f", other load {load.cores:.2f} cores"
        print(
            f"  ({scenario}) block {block + 1}/{blocks}: this {result['fast'] * 1e3:8.1f} ms/step, "
            f"seed {result['seed'] * 1e3:8.1f} ms/step, x{ratios[-1]:.2f}{load_text}",
            flush=True,
        )
    all_lengths = np.concatenate(
        [np.concatenate([g.anchor_length, g.positive_length, g.negative_length.ravel()]) for g in timed]
    )
    return {
        "scenario": scenario,
        "label": "equal lengths (150)" if scenario == "a" else "unequal lengths (29..361)",
        "description": (
            "50 univariate series of length 150"
            if scenario == "a"
            else "50 univariate series, lengths spread evenly over 29..361, NaN right-padded"
        ),
        "seed_mode": "one encoder call per subseries" if scenario == "b" else "one encoder call per loss term",
        "timed_steps": len(timed),
        "blocks": blocks,
        "fast_repeats_per_block": args.fast_repeats,
        "mean_subseries_length": float(all_lengths.mean()),
        "nominal_gflop_per_step": float(np.mean([nominal_flops(g) for g in timed]) / 1e9),
        "fast_s_per_step": statistics.median(fast_times),
        "seed_s_per_step": statistics.median(seed_times),
        "speedup": statistics.median(ratios),
        "speedup_min": min(ratios),
        "speedup_max": max(ratios),
        "fast_gflops": statistics.median(gflops),
        "target_speedup": TARGETS[scenario],
        "other_load_cores_max": None if None in other_load else max(other_load),
        "per_block": {
            "fast_s_per_step": fast_times,
            "seed_s_per_step": seed_times,
            "speedup": ratios,
            "fast_gflops": gflops,
            "other_load_cores": other_load,
        },
    }


# --------------------------------------------------------------------------- report


def render(report):
    lines = report_header("T-Loss training step: this implementation vs the seed-faithful reference", report)
    lines.append(
        "model    : CausalCNN channels 40, depth 10, reduced 160, out 320, kernel 3; "
        "batch 10, K=10, Adam lr 1e-3, float32"
    )
    lines.append("")
    header = (
        f"{'scenario':<30} {'this s/step':>12} {'seed s/step':>12} {'speed-up':>9} {'[min..max]':>15} {'target':>7}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for r in report["scenarios"]:
        label = f"({r['scenario']}) {r['label']}"
        spread = f"[{r['speedup_min']:.1f}..{r['speedup_max']:.1f}]"
        ok = "ok" if r["speedup"] >= r["target_speedup"] else "MISS"
        lines.append(
            f"{label:<30} {r['fast_s_per_step']:>12.4f} {r['seed_s_per_step']:>12.4f} "
            f"{r['speedup']:>8.2f}x {spread:>15} {'>=' + format(r['target_speedup'], 'g') + 'x ' + ok:>7}"
        )
    lines.append(
        "  s/step: median over the blocks; speed-up: median over the blocks of the ratio of the two "
        "implementations' times on the same steps, [min..max] its range"
    )
    for r in report["scenarios"]:
        lines.append(
            f"  ({r['scenario']}) {r['description']}; seed: {r['seed_mode']}; mean subseries length "
            f"{r['mean_subseries_length']:.1f}; {r['timed_steps']} timed steps per implementation in "
            f"{r['blocks']} alternating blocks (this implementation: median of {r['fast_repeats_per_block']} "
            "runs of each block)"
        )
    loads = [r["other_load_cores_max"] for r in report["scenarios"] if r["other_load_cores_max"] is not None]
    if loads:
        busiest = max(loads)
        verdict = "quiet" if busiest < 0.1 else "SHARED: another job was running, times are inflated and noisy"
        lines.append(f"  other CPU load during the blocks: at most {busiest:.2f} cores ({verdict})")
    g = report["gemm"]
    a = next((r for r in report["scenarios"] if r["scenario"] == "a"), None)
    if a is not None and g["gflops"]:
        lines.append("")
        lines.append(
            f"throughput (a): {a['nominal_gflop_per_step']:.2f} nominal GFLOP/step (convolutions, all taps, "
            f"valid positions, x3 fwd+bwd) -> {a['fast_gflops']:.1f} GFLOP/s"
        )
        lines.append(
            f"float32 GEMM {GEMM_SIZE}x{GEMM_SIZE} (torch.matmul, median of {g['repeats']}): {g['gflops']:.1f} GFLOP/s"
        )
        ok = "ok" if report["gemm_fraction"] >= GEMM_TARGET else "MISS"
        lines.append(
            f"=> {100 * report['gemm_fraction']:.0f}% of GEMM throughput (target >= {100 * GEMM_TARGET:.0f}%: {ok})"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=12, help="timed steps per implementation and scenario (default 12)"
    )
    parser.add_argument("--blocks", type=int, default=4, help="alternating blocks the timed steps are split into")
    parser.add_argument("--fast-repeats", type=int, default=3, help="runs of each block by this implementation")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up steps of this implementation (seed: a third)")
    parser.add_argument("--scenarios", default="ab", help="which of a, b to run (default ab)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    args.blocks = max(1, min(args.blocks, args.steps))
    device = checked_device(parser, args.device)

    command = command_line(__file__, argv)
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(device),
        "params": dict(PAPER_PARAMS, batch_size=BATCH_SIZE, nb_random_samples=NB_RANDOM_SAMPLES, lr=LEARNING_RATE),
        "scenarios": [],
    }
    print(f"{report['date']}  {command}", flush=True)
    gemm_times = time_gemm(device, repeats=2)  # warm-up, discarded
    gemm_times = []
    started = time.perf_counter()
    for scenario in args.scenarios:
        report["scenarios"].append(run_scenario(scenario, args, device, gemm_times))
    gemm_s = statistics.median(gemm_times) if gemm_times else float("nan")
    report["gemm"] = {
        "size": GEMM_SIZE,
        "repeats": len(gemm_times),
        "seconds": gemm_s,
        "gflops": 2 * GEMM_SIZE**3 / gemm_s / 1e9 if gemm_times else None,
    }
    a = next((r for r in report["scenarios"] if r["scenario"] == "a"), None)
    report["gemm_fraction"] = a["fast_gflops"] / report["gemm"]["gflops"] if a and gemm_times else None
    report["wall_seconds"] = time.perf_counter() - started
    print()
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

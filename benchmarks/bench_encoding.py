"""Encoding throughput: this package's batched ``encode_series`` against the original code's encoding.

Usage::

    python benchmarks/bench_encoding.py [--n-series 500] [--repeats 3] [--device cpu|cuda] [--output FILE]

Both encoders have the paper's UCR architecture (channels 40, depth 10,
reduced 160, 320 outputs, kernel 3) and the same weights, in eval mode and
float32. The original code's ``encode`` ran the encoder on batches of
``batch_size`` series for equal lengths and on one series at a time (cut to
its length) when lengths differ; the reference here does exactly that with
the seed-faithful modules (``batch_size=50`` for (a), as its
``encode(..., batch_size=50)`` default). This package encodes series sorted by
length in a few right-padded batches with their lengths.

Two data sets of ``--n-series`` univariate series: (a) all of length 150,
(b) lengths spread evenly over 29..361, NaN right-padded. The two
implementations run in alternating repeats, so both see the same machine
load; the table gives series per second (median over repeats) and the median
of the per-repeat ratios. Outputs are checked to agree (max abs difference).
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
)  # noqa: E402
from benchmarks.seed_reference import SeedCausalCNNEncoder  # noqa: E402
from tsrepr_sklearn.encoding import encode_series  # noqa: E402
from tsrepr_sklearn.networks import CausalCNNEncoder  # noqa: E402
from tsrepr_sklearn.persistence import convert_original_state_dict  # noqa: E402

PAPER_PARAMS = dict(in_channels=1, channels=40, depth=10, reduced_size=160, out_channels=320, kernel_size=3)
SEED_BATCH_SIZE = 50


@torch.inference_mode()
def seed_encode(encoder, X, lengths, device):
    """The original ``encode``: batches for equal lengths, one series at a time otherwise."""
    varying = lengths.min() != lengths.max()
    out = []
    if not varying:
        for begin in range(0, X.shape[0], SEED_BATCH_SIZE):
            out.append(encoder(torch.from_numpy(X[begin : begin + SEED_BATCH_SIZE]).to(device)).cpu())
    else:
        for i in range(X.shape[0]):
            out.append(encoder(torch.from_numpy(X[i : i + 1, :, : lengths[i]]).to(device)).cpu())
    return torch.cat(out).numpy()



def timed(function, device):
    synchronize(device)
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def run_scenario(scenario, args, device):
    rng = np.random.default_rng(0)
    X, lengths = make_dataset(scenario, args.n_series, rng)
    torch.manual_seed(0)
    seed_encoder = SeedCausalCNNEncoder(**PAPER_PARAMS)
    fast_encoder = CausalCNNEncoder(**PAPER_PARAMS)
    fast_encoder.load_state_dict(convert_original_state_dict(seed_encoder.state_dict(), "CausalCNN"))
    seed_encoder.to(device).eval()
    fast_encoder.to(device).eval()

    def fast():
        return encode_series(fast_encoder, X, lengths, device)

    def seed():
        return seed_encode(seed_encoder, X, lengths, device)

    fast(), seed()  # warm-up
    fast_times, seed_times, ratios, loads = [], [], [], []
    for _ in range(args.repeats):
        with OtherLoad() as load:
            fast_s, fast_out = timed(fast, device)
            seed_s, seed_out = timed(seed, device)
        fast_times.append(fast_s)
        seed_times.append(seed_s)
        ratios.append(seed_s / fast_s)
        loads.append(load.cores)
    return {
        "scenario": scenario,
        "description": "all length 150" if scenario == "a" else "lengths 29..361, NaN padded",
        "n_series": args.n_series,
        "fast_series_per_s": args.n_series / statistics.median(fast_times),
        "seed_series_per_s": args.n_series / statistics.median(seed_times),
        "speedup": statistics.median(ratios),
        "speedup_min": min(ratios),
        "speedup_max": max(ratios),
        "max_abs_difference": float(np.abs(fast_out - seed_out).max()),
        "other_load_cores_max": max((v for v in loads if v is not None), default=None),
    }


def render(report):
    lines = report_header(
        "Encoding throughput: batched encode_series vs the original per-batch / per-series encode", report
    ) + [
        "model    : CausalCNN channels 40, depth 10, reduced 160, out 320, kernel 3; eval, float32",
        "",
    ]
    header = f"{'scenario':<46} {'this series/s':>14} {'original series/s':>18} {'speed-up':>9} {'[min..max]':>13} " \
             f"{'max |diff|':>11}"
    lines += [header, "-" * len(header)]
    for r in report["scenarios"]:
        label = f"({r['scenario']}) {r['n_series']} series, {r['description']}"
        spread = f"[{r['speedup_min']:.1f}..{r['speedup_max']:.1f}]"
        lines.append(
            f"{label:<46} {r['fast_series_per_s']:>14.1f} {r['seed_series_per_s']:>18.1f} {r['speedup']:>8.1f}x "
            f"{spread:>13} {r['max_abs_difference']:>11.2e}"
        )
    loads = [r["other_load_cores_max"] for r in report["scenarios"] if r["other_load_cores_max"] is not None]
    if loads:
        lines.append(f"  other CPU load during the repeats: at most {max(loads):.2f} cores")
    lines.append(f"  original: batches of {SEED_BATCH_SIZE} series for (a), one series per call for (b)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-series", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenarios", default="ab")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    device = checked_device(parser, args.device)
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(device),
        "scenarios": [run_scenario(s, args, device) for s in args.scenarios],
    }
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

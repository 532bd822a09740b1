"""One very long multivariate series, as in the paper's household power experiment: time and peak memory on CPU.

Usage::

    python benchmarks/bench_long_series.py [--length 2000000] [--channels 7] [--compared-length 500]
                                           [--nb-steps 20] [--window 1440] [--stride 1440] [--output FILE]

A synthetic series (daily and weekly cycles plus noise; 7 channels, about 2
million time steps like the individual household electric power consumption
data) is written to a ``.npy`` file and opened as a read-only memory map. The
paper's causal CNN (default architecture) is trained on it with
``compared_length`` (subseries of at most that length are drawn from the one
series; negatives come from the same series), then ``encode_window`` encodes
windows of a day. The report gives the time per training step, the encoding
throughput, and the growth of the peak resident set size of each phase over
the resident size before it (``/proc/self/clear_refs`` resets the peak), next
to the size of the series itself.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from benchmarks._common import (  # noqa: E402
    PeakRSSGrowth, add_common_arguments, command_line, machine_info, publish, report_header,
)
from tsrepr_sklearn import CausalCNNEncoderClassifier  # noqa: E402


def write_series(path, channels, length, seed=0):
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(1, channels, length))
    chunk = 1 << 18
    phases = rng.uniform(0, 2 * np.pi, (channels, 2))
    for begin in range(0, length, chunk):
        t = np.arange(begin, min(length, begin + chunk))
        day = np.sin(2 * np.pi * t / 1440 + phases[:, :1])
        week = 0.5 * np.sin(2 * np.pi * t / (7 * 1440) + phases[:, 1:])
        X[0, :, begin : begin + t.size] = day + week + 0.3 * rng.standard_normal((channels, t.size))
    X.flush()


def render(report):
    series, t, e = report["series"], report["train"], report["encode_window"]
    # the first results file measured the growth in MiB (2**20 bytes); since then it is in MB, like the sizes
    unit = report.get("memory_unit", "MiB")
    return "\n".join(report_header(
        "One long series (household-power-like), read from a memory map, paper CNN, CPU", report
    ) + [
        f"series   : 1 x {series['channels']} channels x {series['length']:,} time steps = {series['megabytes']:.0f} MB "
        "(float32, on disk)",
        "",
        f"training : {t['steps']} steps with compared_length={t['compared_length']} in {t['seconds']:.1f} s "
        f"({t['s_per_step']:.3f} s/step); peak RSS growth {t['peak_growth_mb']:.0f} {unit}",
        f"encoding : {e['windows']:,} windows of {e['window']} steps (stride {e['stride']}) in {e['seconds']:.1f} s "
        f"({e['windows_per_s']:.0f} windows/s); peak RSS growth {e['peak_growth_mb']:.0f} {unit} "
        f"(of which the {e['output_mb']:.1f} MB result)",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=2_000_000)
    parser.add_argument("--channels", type=int, default=7)
    parser.add_argument("--compared-length", type=int, default=500)
    parser.add_argument("--nb-steps", type=int, default=20)
    parser.add_argument("--window", type=int, default=1440)
    parser.add_argument("--stride", type=int, default=1440)
    add_common_arguments(parser, device=False)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "series.npy"
        write_series(path, args.channels, args.length)
        X = np.load(path, mmap_mode="r")
        clf = CausalCNNEncoderClassifier(compared_length=args.compared_length, nb_steps=args.nb_steps, device="cpu",
                                         random_state=0)
        CausalCNNEncoderClassifier(nb_steps=1, compared_length=50, device="cpu").fit_encoder(X[:, :, :1000])  # warm-up
        with PeakRSSGrowth() as train:
            clf.fit_encoder(X)
        with PeakRSSGrowth() as encode:
            features = clf.encode_window(X, window=args.window, stride=args.stride)
    series_mb = args.channels * args.length * 4 / 1e6
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(torch.device("cpu")),
        "memory_unit": "MB",
        "series": {"channels": args.channels, "length": args.length, "megabytes": series_mb},
        "train": {"steps": int(clf.n_steps_), "seconds": train.seconds, "s_per_step": train.seconds / clf.n_steps_,
                  "peak_growth_mb": train.growth_mb, "compared_length": args.compared_length,
                  "finite_loss": bool(np.isfinite(clf.history_).all())},
        "encode_window": {"window": args.window, "stride": args.stride, "windows": int(features.shape[2]),
                          "seconds": encode.seconds, "windows_per_s": features.shape[2] / encode.seconds,
                          "peak_growth_mb": encode.growth_mb, "output_mb": features.nbytes / 1e6},
    }
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

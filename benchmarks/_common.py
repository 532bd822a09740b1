"""What every benchmark script shares: machine description, background load, command line, report files."""

from __future__ import annotations

import json
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


class OtherLoad:
    """Context manager measuring the CPU load of everything but this process, in cores.

    ``/proc/stat`` busy time minus this process's own CPU time, over the wall
    time; ``None`` where ``/proc/stat`` cannot be read. On a shared machine it
    tells whether a measurement ran alongside another job.
    """

    @staticmethod
    def _machine_busy():
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait

    @staticmethod
    def _own():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def __enter__(self):
        self._busy, self._mine, self._start = self._machine_busy(), self._own(), time.perf_counter()
        self.cores = None
        return self

    def __exit__(self, *exc):
        busy = self._machine_busy()
        if busy is not None and self._busy is not None:
            wall = time.perf_counter() - self._start
            self.cores = max(0.0, (busy - self._busy) - (self._own() - self._mine)) / wall
        return False


def status_bytes(field):
    """A size field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``), in bytes (the kernel writes kB, meaning KiB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


class PeakRSSGrowth:
    """Context manager: growth of the peak resident set size over the block, in MB (10**6 bytes), and its seconds.

    Entering resets the peak (``VmHWM``) to the current resident size through
    ``/proc/self/clear_refs`` (Linux >= 4.0), so ``growth_mb`` is what the block
    added at its highest point over what was resident before it.
    """

    def __enter__(self):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        self._before = status_bytes("VmRSS")
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.growth_mb = (status_bytes("VmHWM") - self._before) / 1e6
        return False


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device):
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["allow_tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    return info


def report_header(title, report):
    """The first lines of every report: title, date, command, machine, torch (and the GPU, with TF32)."""
    m = report["machine"]
    gpu = ""
    if "gpu" in m:
        tf32 = m.get("allow_tf32_matmul")
        gpu = f" ({m['gpu']}" + ("" if tf32 is None else f", TF32 matmul {'on' if tf32 else 'off'}") + ")"
    return [
        title,
        f"date     : {report['date']}",
        f"command  : {report['command']}",
        f"machine  : {m['cpu']} ({m['cpu_count']} logical cores), {m['platform']}"
        + (f", Python {m['python']}" if "python" in m else ""),
        f"torch    : {m['torch']}, {m['torch_threads']} threads, device {m['device']}{gpu}",
    ]


def command_line(script, argv):
    """The command that ran the benchmark, for the report."""
    return shlex.join(["python", *sys.argv]) if argv is None else shlex.join(["python", script, *argv])


def make_dataset(scenario, n_series, rng):
    """(a) series all of length 150; (b) lengths spread over 29..361, NaN right-padded; with their lengths."""
    if scenario == "a":
        lengths = np.full(n_series, 150)
    else:
        lengths = rng.permutation(np.round(np.linspace(29, 361, n_series)).astype(np.int64))
    X = np.full((n_series, 1, int(lengths.max())), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        X[i, :, :n] = rng.standard_normal((1, n)).astype(np.float32)
    return X, lengths


def synchronize(device):
    """Wait for the device's queued work (CUDA runs asynchronously), so that timings are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def add_common_arguments(parser, device=True):
    """``--output`` (and ``--device``) for every benchmark script."""
    parser.add_argument("--output", help="write JSON and markdown reports (a bare name goes to benchmarks/results/)")
    if device:
        parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def checked_device(parser, name):
    """The ``--device`` argument as a torch.device; a usage error when CUDA is asked for and absent."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda requested but CUDA is not available")
    return device


def publish(report, text, output):
    """Print the report and, with ``--output``, write it; returns the report."""
    print(text)
    if output:
        write_report(output, report, text)
    return report


def write_report(output, report, text):
    """Write ``report`` as JSON and ``text`` as markdown; a bare file name goes to ``benchmarks/results/``."""
    path = Path(output)
    if path.parent == Path("."):
        path = RESULTS_DIR / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    path.with_suffix(".md").write_text("```\n" + text + "\n```\n")
    print(f"\nwrote {path.with_suffix('.json')} and {path.with_suffix('.md')}")

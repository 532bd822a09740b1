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


def command_line(script, argv):
    """The command that ran the benchmark, for the report."""
    return shlex.join(["python", *sys.argv]) if argv is None else shlex.join(["python", script, *argv])


def write_report(output, report, text):
    """Write ``report`` as JSON and ``text`` as markdown; a bare file name goes to ``benchmarks/results/``."""
    path = Path(output)
    if path.parent == Path("."):
        path = RESULTS_DIR / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    path.with_suffix(".md").write_text("```\n" + text + "\n```\n")
    print(f"\nwrote {path.with_suffix('.json')} and {path.with_suffix('.md')}")

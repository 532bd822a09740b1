"""Where an encoder falls short of the paper: the SVM's ``C`` and the number of training steps.

Usage::

    python benchmarks/shortfall.py [--datasets BasicMotions ItalyPowerDemand] [--encoder causal_cnn]
                                   [--seeds 0 1 2] [--chunk-steps 500] [--chunks 6] [--threads N]
                                   [--output FILE]

For every dataset and seed it trains the encoder ``--encoder`` (one of
``benchmarks/accuracy.py``'s, with its settings: the paper's) in ``--chunks``
continuations of ``--chunk-steps`` steps each (``warm_start=True``;
``ChannelScaler`` fitted on the training split). After every chunk it records:

* the final loss (mean of the chunk's last 10 steps);
* the test accuracy of the classifier that ``fit`` chose by the original
  code's rule, and the ``C`` it chose;
* the test series that classifier gets wrong (indices in the test split);
* for every ``C`` of that rule's grid, an RBF SVM fitted on all training
  representations: its mean 5-fold cross-validated accuracy on the training
  set (what the rule sees when it searches the grid, i.e. with 50 training
  series or more and at least 5 per class; below that it takes the hard
  margin, ``C=inf``, without looking) and its test accuracy (what it cannot
  see).

The test accuracies per ``C`` use the test labels to *diagnose* the rule; they
are not a way to choose ``C``. The first chunk is the first ``--chunk-steps``
steps of the fit that ``benchmarks/accuracy.py`` makes with the same seed and
the same number of torch threads (rounding, hence the trajectory, depends on
it); every continuation draws fresh triplets (``warm_start``), so later
points are those of another, equally likely, training run.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.model_selection import cross_val_score
from tqdm.auto import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._common import (  # noqa: E402
    OtherLoad, add_common_arguments, command_line, machine_info, publish, report_header,
)
from benchmarks.accuracy import ENCODERS, PAPER_ACCURACY  # noqa: E402
from tsrepr_sklearn.base import SVM_C_GRID, rbf_svm  # noqa: E402
from tsrepr_sklearn.datasets import load_dataset  # noqa: E402
from tsrepr_sklearn.preprocessing import ChannelScaler  # noqa: E402


def svm_sweep(Z_train, y_train, Z_test, y_test, seed):
    """Cross-validated training accuracy and test accuracy of an RBF SVM for every ``C`` of the grid."""
    rows = []
    for C in SVM_C_GRID:
        svm = rbf_svm(C, random_state=seed)
        with warnings.catch_warnings():
            # C=inf cannot fit folds that are not separable: those folds score NaN, as in the rule's search
            warnings.simplefilter("ignore", (FitFailedWarning, UserWarning, ConvergenceWarning))
            cv = cross_val_score(svm, Z_train, y_train, cv=5, error_score=np.nan)
            try:
                test = float(svm.fit(Z_train, y_train).score(Z_test, y_test))
            except ValueError:  # hard margin on non-separable training representations
                test = float("nan")
        rows.append({"C": float(C), "cv_accuracy": float(np.mean(cv)), "test_accuracy": test})
    return rows


def run_one(name, seed, args, data):
    X_train, y_train, X_test, y_test = data
    scaler = ChannelScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    cls, params = ENCODERS[args.encoder]
    estimator = cls(nb_steps=args.chunk_steps, warm_start=True, device="cpu", random_state=seed, **params)
    points = []
    for _ in range(args.chunks):
        with OtherLoad() as load:
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        Z_train, Z_test = estimator.transform(X_train), estimator.transform(X_test)
        points.append({
            "steps": int(estimator.n_steps_),
            "loss": float(estimator.history_[-10:].mean()),
            "rule_C": float(estimator.classifier_.C),
            "rule_accuracy": float(estimator.score(X_test, y_test)),
            "misclassified": np.flatnonzero(estimator.predict(X_test) != y_test).tolist(),  # test series indices
            "sweep": svm_sweep(Z_train, y_train, Z_test, y_test, seed),
            "chunk_seconds": seconds,
            "other_load_cores": load.cores,
        })
        tqdm.write(f"{name:<18} seed {seed} after {points[-1]['steps']:>5} steps: loss {points[-1]['loss']:.4f}, "
                   f"rule C={points[-1]['rule_C']:g} accuracy {points[-1]['rule_accuracy']:.4f}")
    return {"dataset": name, "seed": seed, "points": points}


def _fmt(value):
    return "  nan" if value != value else f"{value:.3f}"


def render(report):
    encoder = report.get("encoder", "causal_cnn")  # the first results files predate --encoder
    lines = report_header(
        f"Shortfall diagnosis of the {encoder} encoder: test accuracy by training steps and by the SVM's C", report
    ) + [
        "settings : paper's UCR settings (batch 10, K=10, lr 0.001)"
        + "".join(f" except {key}={value}" for key, value in ENCODERS[encoder][1].items())
        + f"; {report['chunks']} warm-start chunks of "
        f"{report['chunk_steps']} steps; ChannelScaler fitted on the training split",
        "",
    ]
    grid = [f"{C:g}" for C in SVM_C_GRID]
    for dataset in dict.fromkeys(r["dataset"] for r in report["runs"]):
        runs = [r for r in report["runs"] if r["dataset"] == dataset]
        paper = PAPER_ACCURACY.get((dataset, encoder))
        k = ENCODERS[encoder][1].get("nb_random_samples", 10)
        lines.append(f"{dataset} (paper, K={k}: {paper if paper is not None else '-'}); seeds "
                     + " ".join(str(r["seed"]) for r in runs))
        header = f"  {'steps':>5} {'loss':>6} {'rule acc mean':>13} {'per seed':<30} {'C chosen':<20}"
        lines += [header]
        for i, point in enumerate(runs[0]["points"]):
            at = [r["points"][i] for r in runs]
            lines.append(
                f"  {point['steps']:>5} {statistics.fmean(p['loss'] for p in at):>6.3f} "
                f"{statistics.fmean(p['rule_accuracy'] for p in at):>13.4f} "
                f"{' '.join(format(p['rule_accuracy'], '.3f') for p in at):<30} "
                f"{' '.join(format(p['rule_C'], 'g') for p in at):<20}"
            )
        lines.append("  test accuracy (mean over seeds) of an SVM fitted with each C, and [mean 5-fold CV accuracy "
                     "on the training set]:")
        lines.append(f"  {'steps':>5} " + " ".join(f"{c:>13}" for c in grid))
        for i, point in enumerate(runs[0]["points"]):
            cells = []
            for j in range(len(SVM_C_GRID)):
                test = statistics.fmean(r["points"][i]["sweep"][j]["test_accuracy"] for r in runs)
                cv = statistics.fmean(r["points"][i]["sweep"][j]["cv_accuracy"] for r in runs)
                cells.append(f"{_fmt(test)} [{_fmt(cv)}]")
            lines.append(f"  {point['steps']:>5} " + " ".join(f"{c:>13}" for c in cells))
        wrong = collections.Counter(i for r in runs for p in r["points"] for i in p.get("misclassified", ()))
        if wrong:
            points = len(runs) * len(runs[0]["points"])
            lines.append(f"  test series the rule's classifier got wrong most often, out of {points} points: "
                         + ", ".join(f"#{i} ({n}x)" for i, n in wrong.most_common(5)))
        lines.append("")
    loads = [p["other_load_cores"] for r in report["runs"] for p in r["points"] if p["other_load_cores"] is not None]
    if loads:
        lines.append(f"other CPU load during the fits: mean {statistics.fmean(loads):.2f}, max {max(loads):.2f} "
                     "cores (times only; accuracies are not affected)")
    lines.append("rule: the original code's choice of C (hard margin below 50 training series or 5 per class, "
                 "else 5-fold grid search, the only case where it sees the CV column); nan: an SVM that could not be "
                 "fitted (hard margin, not separable)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["BasicMotions", "ItalyPowerDemand"])
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="causal_cnn")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--chunk-steps", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    add_common_arguments(parser, device=False)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(torch.device("cpu")),
        "encoder": args.encoder,
        "chunk_steps": args.chunk_steps,
        "chunks": args.chunks,
        "svm_C_grid": [float(C) for C in SVM_C_GRID],
        "runs": [],
    }
    print(f"{report['date']}  {report['command']}", flush=True)
    jobs = [(name, seed) for name in args.datasets for seed in args.seeds]
    with tqdm(jobs, desc="runs", unit="run") as progress:
        for name, seed in progress:
            progress.set_postfix_str(f"{name} seed {seed}")
            report["runs"].append(run_one(name, seed, args, load_dataset(name, split=None)))
    print()
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

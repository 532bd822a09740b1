"""How far back a fresh LSTM encoder looks, with PyTorch's initialisation and with ``forget_bias=1.0``.

Usage::

    python benchmarks/lstm_memory.py [--seeds 0 1 2 3 4] [--curve-steps N --curve-chunks M]
                                     [--curve-lr LR] [--output FILE]

Why the LSTM classified GunPoint (series of 150 steps) at chance level: with
PyTorch's default initialisation, which the original code used, the forget
gates of a fresh LSTM are half closed, so its last hidden state (the
representation) depends almost only on the last few time steps. The triplet
loss then has no gradient signal from the rest of the series.

Two measurements, for ``forget_bias=None`` (PyTorch's initialisation) and
``forget_bias=1.0`` (our default), on the GunPoint training series
(normalised with :class:`~tsrepr_sklearn.preprocessing.ChannelScaler`):

1. sensitivity of the representation to the input ``lag`` steps before the
   end, relative to the last step: mean over series and channels of
   ``|d ||f(x)||^2 / d x_t|``, for freshly initialised encoders of the default
   size; geometric mean over the initialisation seeds;
2. test accuracy of the estimator's SVM on the representations of a fresh
   encoder (``nb_steps=1``: one Adam step of ``lr=0.001``), on GunPoint and
   ItalyPowerDemand, mean over the seeds. Training for 1500 steps is measured
   by ``benchmarks/accuracy.py --encoders lstm lstm_pytorch_init``;
3. with ``--curve-steps N --curve-chunks M``: GunPoint during training (seed
   0, learning rate ``--curve-lr``, default the paper's 0.001), every N steps
   up to N * M (``warm_start``): mean loss over the last N
   steps, test accuracy, and the spread of the representations (mean over
   dimensions of the standard deviation across the training series, divided
   by the mean absolute value; near 0 when the encoder maps every series to
   the same vector).
"""

from __future__ import annotations

import argparse
import datetime
import math
import statistics
import sys
import warnings
from pathlib import Path

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._common import (  # noqa: E402
    add_common_arguments, command_line, machine_info, publish, report_header,
)
from tsrepr_sklearn import LSTMEncoderClassifier  # noqa: E402
from tsrepr_sklearn.datasets import load_dataset  # noqa: E402
from tsrepr_sklearn.networks import LSTMEncoder  # noqa: E402
from tsrepr_sklearn.preprocessing import ChannelScaler  # noqa: E402

LAGS = (0, 5, 10, 20, 50, 100, 149)
FORGET_BIASES = (None, 1.0)


def sensitivity_profile(X, forget_bias, seed):
    """Sensitivity of a fresh encoder's output to each lag, relative to the last time step."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = LSTMEncoder(in_channels=X.shape[1], forget_bias=forget_bias)
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    (gradient,) = torch.autograd.grad(encoder(x).square().sum(), x)
    per_step = gradient.abs().mean(dim=(0, 1)).double()
    return {lag: float(per_step[-1 - lag] / per_step[-1]) for lag in LAGS}


def fresh_accuracy(data, forget_bias, seed):
    X_train, y_train, X_test, y_test = data
    estimator = LSTMEncoderClassifier(nb_steps=1, forget_bias=forget_bias, device="cpu", random_state=seed)
    pipeline = make_pipeline(ChannelScaler(), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the SVM on near-constant features of a fresh LSTM
        pipeline.fit(X_train, y_train)
    return float(pipeline.score(X_test, y_test))


def training_curve(data, forget_bias, steps, chunks, lr):
    """Loss, test accuracy and representation spread every ``steps`` steps of one GunPoint fit."""
    X_train, y_train, X_test, y_test = data
    scaler = ChannelScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    estimator = LSTMEncoderClassifier(nb_steps=steps, lr=lr, forget_bias=forget_bias, warm_start=True,
                                      device="cpu", random_state=0)
    points = []
    for _ in range(chunks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X_train, y_train)
        Z = estimator.transform(X_train)
        points.append({
            "steps": int(estimator.n_steps_),
            "loss": float(estimator.history_[-steps:].mean()),
            "accuracy": float(estimator.score(X_test, y_test)),
            "spread": float(Z.std(axis=0).mean() / abs(Z).mean()),
        })
    return points


def render(report):
    lines = report_header(
        "Memory of a fresh LSTM encoder: PyTorch's initialisation (forget_bias=None) against forget_bias=1.0", report
    ) + [
        f"seeds    : {report['seeds']}",
        "",
        "1. sensitivity of the representation to the input `lag` steps before the end, relative to the last step",
        "   (GunPoint training series, length 150; geometric mean over the initialisation seeds)",
        f"{'forget_bias':<12}" + "".join(f"{'lag ' + str(lag):>11}" for lag in LAGS),
    ]
    for row in report["sensitivity"]:
        lines.append(f"{str(row['forget_bias']):<12}" + "".join(f"{row['lags'][str(lag)]:>11.2e}" for lag in LAGS))
    lines += ["", "2. test accuracy of the SVM on a fresh encoder's representations (nb_steps=1), mean over the seeds",
              f"{'dataset':<18} {'forget_bias':<12} {'accuracy mean':>13} {'[min..max]':>15}"]
    for row in report["accuracy"]:
        spread = f"[{min(row['accuracies']):.3f}..{max(row['accuracies']):.3f}]"
        lines.append(f"{row['dataset']:<18} {str(row['forget_bias']):<12} {row['accuracy_mean']:>13.4f} {spread:>15}")
    if report.get("curve"):
        lr = report.get("curve_lr", 0.001)  # the first results file predates --curve-lr: the default lr, 0.001
        lines += ["", f"3. GunPoint during training (seed 0, lr {lr}): loss over the last steps, test "
                  "accuracy, representation spread", f"{'forget_bias':<12} {'steps':>6} {'loss':>7} {'accuracy':>9} {'spread':>7}"]
        for row in report["curve"]:
            for point in row["points"]:
                lines.append(f"{str(row['forget_bias']):<12} {point['steps']:>6} {point['loss']:>7.4f} "
                             f"{point['accuracy']:>9.4f} {point['spread']:>7.3f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--datasets", nargs="+", default=["GunPoint", "ItalyPowerDemand"],
                        help="datasets of the accuracy part (univariate)")
    parser.add_argument("--curve-steps", type=int, default=0, help="part 3: steps between measurements (0: skip)")
    parser.add_argument("--curve-chunks", type=int, default=4, help="part 3: number of measurements")
    parser.add_argument("--curve-lr", type=float, default=0.001, help="part 3: learning rate (default: the paper's)")
    add_common_arguments(parser, device=False)
    args = parser.parse_args(argv)
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(__file__, argv),
        "machine": machine_info(torch.device("cpu")),
        "seeds": args.seeds,
        "sensitivity": [],
        "accuracy": [],
    }
    data = {name: load_dataset(name, split=None) for name in {"GunPoint", *args.datasets}}
    X_gunpoint = ChannelScaler().fit_transform(data["GunPoint"][0])
    for forget_bias in FORGET_BIASES:
        profiles = [sensitivity_profile(X_gunpoint, forget_bias, seed) for seed in args.seeds]
        lags = {str(lag): math.exp(statistics.fmean(math.log(p[lag]) for p in profiles)) for lag in LAGS}
        report["sensitivity"].append({"forget_bias": forget_bias, "lags": lags})
    for name in args.datasets:
        for forget_bias in FORGET_BIASES:
            accuracies = [fresh_accuracy(data[name], forget_bias, seed) for seed in args.seeds]
            report["accuracy"].append({"dataset": name, "forget_bias": forget_bias, "accuracies": accuracies,
                                       "accuracy_mean": statistics.fmean(accuracies)})
    if args.curve_steps:
        report["curve_lr"] = args.curve_lr
        report["curve"] = [{"forget_bias": forget_bias,
                            "points": training_curve(data["GunPoint"], forget_bias, args.curve_steps,
                                                     args.curve_chunks, args.curve_lr)}
                           for forget_bias in FORGET_BIASES]
    return publish(report, render(report), args.output)


if __name__ == "__main__":
    main()

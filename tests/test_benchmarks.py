"""The accuracy benchmarks run end to end, their reports say what they measured (a few steps only), and every
stored results file is still rendered by today's scripts."""

import json

import numpy as np
import pytest

from benchmarks import (
    accuracy, bench_encoding, bench_long_series, bench_scale_out, bench_scaling, bench_training, lstm_memory, shortfall,
)
from benchmarks._common import RESULTS_DIR
from tsrepr_sklearn.base import SVM_C_GRID

#: the script that writes each results file, by the file name's prefix
RENDERERS = {"accuracy": accuracy, "encoding": bench_encoding, "long_series": bench_long_series,
             "scale_out": bench_scale_out, "scaling": bench_scaling, "training": bench_training,
             "lstm_memory": lstm_memory, "shortfall": shortfall}


def test_accuracy_benchmark_reports_each_run_beside_the_paper(tmp_path, capsys):
    output = tmp_path / "accuracy.json"
    report = accuracy.main(["--datasets", "ItalyPowerDemand", "--encoders", "causal_cnn", "lstm_lr1e-4",
                            "--seeds", "0", "1", "--nb-steps", "2", "--device", "cpu", "--output", str(output)])
    assert [(r["encoder"], r["seed"]) for r in report["runs"]] == [
        ("causal_cnn", 0), ("causal_cnn", 1), ("lstm_lr1e-4", 0), ("lstm_lr1e-4", 1)]
    assert all(r["params"]["nb_steps"] == 2 and r["params"]["random_state"] == r["seed"] for r in report["runs"])
    assert [r["params"]["lr"] for r in report["runs"]] == [0.001, 0.001, 1e-4, 1e-4]
    cnn = next(row for row in report["summary"] if row["encoder"] == "causal_cnn")
    assert cnn["paper_accuracy"] == accuracy.PAPER_ACCURACY[("ItalyPowerDemand", "causal_cnn")]
    assert cnn["accuracy_mean"] == pytest.approx(np.mean([r["accuracy"] for r in report["runs"][:2]]))
    assert json.loads(output.read_text())["summary"] == report["summary"]
    text = output.with_suffix(".md").read_text()
    assert "variants : lstm_lr1e-4: lr=0.0001" in text and "ItalyPowerDemand" in text


def test_shortfall_sweep_contains_the_rule_s_own_choice(capsys):
    report = shortfall.main(["--datasets", "ItalyPowerDemand", "--seeds", "0", "--chunk-steps", "2",
                             "--chunks", "2"])
    (run,) = report["runs"]
    assert [point["steps"] for point in run["points"]] == [2, 4]
    for point in run["points"]:
        assert [row["C"] for row in point["sweep"]] == [float(C) for C in SVM_C_GRID]
        assert len(point["misclassified"]) == round((1 - point["rule_accuracy"]) * 1029)  # 1029 test series
        chosen = next(row for row in point["sweep"] if row["C"] == point["rule_C"])
        # the SVM the rule chose, refitted on all training representations, is the sweep's SVM of that C
        assert chosen["test_accuracy"] == pytest.approx(point["rule_accuracy"])
        # the rule chose by cross-validation: no C had a better mean CV score
        assert chosen["cv_accuracy"] == pytest.approx(np.nanmax([row["cv_accuracy"] for row in point["sweep"]]))
    assert "ItalyPowerDemand (paper, K=10: 0.954)" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(RESULTS_DIR.glob("*.json")), ids=lambda path: path.stem)
def test_every_results_file_is_rendered_by_its_script(path):
    (module,) = [module for prefix, module in RENDERERS.items() if path.name.startswith(prefix + "_")]
    text = module.render(json.loads(path.read_text()))
    stored = path.with_suffix(".md").read_text().strip("`\n").splitlines()
    # the same title, date and command; the lines after them may have gained detail since
    assert text.splitlines()[:3] == stored[:3]

"""The command line: every sub-command in-process, the entry points in a subprocess, one-line errors."""

import subprocess
import sys

import numpy as np
import pytest

from tsrepr_sklearn.cli import main
from tsrepr_sklearn.persistence import read_metadata

TINY = ["--nb-steps", "3", "--param", "channels=3", "--param", "depth=1", "--param", "reduced_size=3",
        "--param", "out_channels=4", "--param", "penalty=1.0", "--device", "cpu", "--quiet"]


@pytest.fixture
def data_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2, 20)) * 50 + 10
    y = np.repeat(["up", "down"], 8)
    X[y == "up"] += np.linspace(0, 100, 20)
    np.savez(tmp_path / "train.npz", X=X, y=y)
    np.savez(tmp_path / "test.npz", X=X[::2], y=y[::2])
    np.save(tmp_path / "unlabeled.npy", X[:5])
    np.save(tmp_path / "one_channel.npy", X[:5, :1])
    return tmp_path


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_fit_predict_encode_info_on_files(data_files, capsys):
    model = data_files / "model.pt"
    status, out, _ = run(["fit", "--train", data_files / "train.npz", "--test", data_files / "test.npz",
                          "--output", model, *TINY], capsys)
    assert status == 0
    assert "trained 3 steps on cpu in" in out and "test accuracy: " in out and f"model saved to {model}" in out
    metadata = read_metadata(model)
    assert metadata["normalize"] == "channel" and len(metadata["channel_mean"]) == 2

    status, out, _ = run(["predict", "--model", model, "--input", data_files / "unlabeled.npy"], capsys)
    assert status == 0 and len(out.split()) == 5 and set(out.split()) <= {"up", "down"}

    status, out, _ = run(["predict", "--model", model, "--input", data_files / "test.npz",
                          "--output", data_files / "labels.txt"], capsys)
    assert status == 0 and "accuracy against the labels" in out
    assert len((data_files / "labels.txt").read_text().split()) == 8

    status, out, _ = run(["encode", "--model", model, "--input", data_files / "unlabeled.npy",
                          "--output", data_files / "features.npy"], capsys)
    assert status == 0 and np.load(data_files / "features.npy").shape == (5, 4)
    status, _, _ = run(["encode", "--model", model, "--input", data_files / "unlabeled.npy",
                        "--output", data_files / "windows.npy", "--window", "8", "--stride", "4"], capsys)
    assert status == 0 and np.load(data_files / "windows.npy").shape == (5, 4, 4)

    status, out, _ = run(["info", "--model", model], capsys)
    assert status == 0
    assert "CausalCNNEncoderClassifier" in out and "training: 3 steps" in out and "normalisation: channel" in out


def test_predictions_apply_the_stored_normalisation(data_files, capsys):
    from tsrepr_sklearn import CausalCNNEncoderClassifier
    from tsrepr_sklearn.preprocessing import ChannelScaler

    model = data_files / "model.pt"
    assert run(["fit", "--train", data_files / "train.npz", "--output", model, *TINY], capsys)[0] == 0
    X_train = np.load(data_files / "train.npz")["X"]
    X = np.load(data_files / "unlabeled.npy")
    expected = CausalCNNEncoderClassifier.load(model).transform(ChannelScaler().fit(X_train).transform(X))
    assert run(["encode", "--model", model, "--input", data_files / "unlabeled.npy",
                "--output", data_files / "f.npy"], capsys)[0] == 0
    np.testing.assert_allclose(np.load(data_files / "f.npy"), expected, rtol=1e-5, atol=1e-6)


def test_fit_bundled_dataset_with_plot_and_lstm(tmp_path, capsys):
    png = tmp_path / "summary.png"
    status, out, _ = run(["fit", "--dataset", "ItalyPowerDemand", "--encoder", "lstm", "--nb-steps", "2",
                          "--param", "hidden_size=4", "--param", "num_layers=1", "--param", "out_channels=3",
                          "--param", "penalty=1.0", "--device", "cpu", "--quiet", "--normalize", "series",
                          "--output", tmp_path / "m.pt", "--plot", png], capsys)
    assert status == 0, out
    assert "test accuracy" in out and f"plot saved to {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "--dataset", "GunPont"], "Unknown dataset 'GunPont'. Did you mean 'GunPoint'?"),
        (["fit", "--train", "{d}/missing.npz"], "no such file: {d}/missing.npz"),
        (["fit", "--train", "{d}/unlabeled.npy"], "has no labels"),
        (["fit", "--train", "{d}/train.csv"], "unsupported file type '.csv'"),
        (["fit", "--train", "{d}/train.npz", "--param", "depth=-1"], "'depth' parameter"),
        (["fit", "--train", "{d}/train.npz", "--param", "colour=3"], "unknown parameter"),
        (["fit", "--train", "{d}/train.npz", "--param", "nb_steps=5"],  # with TINY's --nb-steps
         "nb_steps is given twice: by --nb-steps and by --param nb_steps=..."),
        (["fit", "--train", "{d}/train.npz", "--output", "{d}/no/such/folder/m.pt"], "does not exist"),
        (["fit", "--train", "{d}/train.npz", "--device", "cuda:7"], "cuda:7"),
        (["predict", "--model", "{d}/model.pt", "--input", "{d}/one_channel.npy"], "1 channel(s), but"),
        (["predict", "--model", "{d}/train.npz", "--input", "{d}/unlabeled.npy"], "not a readable tsrepr-sklearn"),
        (["info", "--model", "{d}/nothing.pt"], "no such file"),
        (["encode", "--model", "{d}/model.pt", "--input", "{d}/unlabeled.npy", "--output", "{d}/f.txt"],
         "must be a .npy file"),
        (["encode", "--model", "{d}/model.pt", "--input", "{d}/unlabeled.npy", "--output", "{d}/f.npy",
          "--window", "99"], "window=99 is longer"),
    ],
)
def test_errors_are_one_line_and_exit_1(data_files, capsys, argv, message):
    assert run(["fit", "--train", data_files / "train.npz", "--output", data_files / "model.pt", *TINY],
               capsys)[0] == 0
    argv = [a.format(d=data_files) for a in argv]
    if argv[0] == "fit":  # tiny settings first, so that the case's own options win
        argv = ["fit", *TINY, *argv[1:]]
    status, out, err = run(argv, capsys)
    assert status == 1
    assert err.startswith("tsrepr-sklearn: error: ") and err.count("\n") == 1, err
    assert message.format(d=data_files) in err
    assert "Traceback" not in err


def test_param_sets_parameters_whose_option_is_not_given(data_files, capsys):
    model = data_files / "model.pt"
    tiny = [a for a in TINY if a not in ("--nb-steps", "3")]
    status, out, _ = run(["fit", "--train", data_files / "train.npz", "--output", model, "--param", "nb_steps=2",
                          *tiny], capsys)
    assert status == 0 and "trained 2 steps" in out


def test_failed_output_check_costs_no_training(data_files, capsys):
    status, out, err = run(["fit", "--train", data_files / "train.npz", "--output",
                            data_files / "missing_folder" / "m.pt", *TINY], capsys)
    assert status == 1 and "trained" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit"], "one of the arguments --dataset --train is required"),
        # --param device=... would be overridden by --device's default: refused, not ignored
        (["fit", "--dataset", "GunPoint", "--param", "device=cuda"], "device has an option of its own: use --device"),
        (["fit", "--dataset", "GunPoint", "--param", "random_state=3"], "use --seed"),
        (["fit", "--dataset", "GunPoint", "--param", "verbose=0"], "use --quiet"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_test_file_with_a_bundled_dataset_is_a_usage_error(data_files, capsys):
    """--test scores a model fitted on --train; a bundled dataset is scored on its own test split."""
    model = data_files / "model.pt"
    with pytest.raises(SystemExit) as exc:
        main(["fit", *TINY, "--dataset", "ItalyPowerDemand", "--test", str(data_files / "test.npz"),
              "--output", str(model)])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "tsrepr-sklearn fit: error: argument --test: not allowed with argument --dataset" in err
    assert "predict --model MODEL --input FILE" in err
    assert err.count("error:") == 1 and err.strip().splitlines()[-1].startswith("tsrepr-sklearn fit: error:")
    assert "test accuracy" not in out and not model.exists()  # rejected before loading data or training


@pytest.mark.parametrize("entry", [["-m", "tsrepr_sklearn"], ["-c", "from tsrepr_sklearn.cli import main; "
                                                                    "raise SystemExit(main())"]])
def test_module_entry_point(entry):
    result = subprocess.run([sys.executable, *entry, "datasets"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "GunPoint" in result.stdout and "JapaneseVowels" in result.stdout
    result = subprocess.run([sys.executable, *entry, "info", "--model", "nope.pt"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and result.stderr.strip() == "tsrepr-sklearn: error: no such file: nope.pt"


@pytest.mark.parametrize("suffix", [".npz", ".ts", ".tsv"])
def test_files_keep_their_precision_until_the_normalisation(tmp_path, suffix):
    """A signal of amplitude 20 on an offset of 1e8: float32 holds it in steps of 8."""
    from tsrepr_sklearn.cli import _apply_normalisation, read_series_file
    from tsrepr_sklearn.preprocessing import znormalize

    signal = 20 * np.sin(np.arange(40) / 3)
    raw = 1e8 + np.tile(signal, (4, 1))
    path = tmp_path / f"offset{suffix}"
    labels = ["a", "b", "a", "b"]
    if suffix == ".npz":
        np.savez(path, X=raw, y=np.array(labels))
    elif suffix == ".tsv":
        path.write_text("".join(f"{label}\t" + "\t".join(repr(float(v)) for v in row) + "\n"
                                for label, row in zip(labels, raw)))
    else:
        path.write_text("@problemName offset\n@univariate true\n@equalLength true\n@classLabel true a b\n@data\n"
                        + "".join(",".join(repr(float(v)) for v in row) + f":{label}\n" for label, row in zip(labels, raw)))
    X, y = read_series_file(path)
    assert X.dtype == np.float64 and y.tolist() == labels
    expected = znormalize(np.tile(signal, (4, 1)))
    np.testing.assert_allclose(_apply_normalisation({"normalize": "series"}, X), expected, atol=1e-5)

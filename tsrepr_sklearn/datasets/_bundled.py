"""Small UCR/UEA archive datasets shipped with the package.

Each dataset is stored as ``data/<Name>.npz`` next to this module with the
arrays ``X_train``, ``y_train``, ``X_test`` and ``y_test`` (see
``scripts/make_datasets.py`` in the repository for how they were built and
``docs/datasets.md`` for provenance and citations).
"""

from __future__ import annotations

import difflib
from importlib import resources

import numpy as np

__all__ = ["list_datasets", "load_dataset"]

_SPLITS = ("train", "test")


def _data_dir():
    return resources.files(__package__).joinpath("data")


def list_datasets() -> list[str]:
    """List the names of the datasets bundled with the package.

    Returns
    -------
    names : list of str
        Sorted dataset names, usable with :func:`load_dataset`.

    Examples
    --------
    >>> from tsrepr_sklearn.datasets import list_datasets
    >>> list_datasets()
    ['BasicMotions', 'GunPoint', 'ItalyPowerDemand', 'JapaneseVowels']
    """
    data_dir = _data_dir()
    if not data_dir.is_dir():
        return []
    return sorted(
        entry.name[: -len(".npz")]
        for entry in data_dir.iterdir()
        if entry.name.endswith(".npz") and entry.is_file()
    )


def _unknown_name_error(name: str, available: list[str]) -> ValueError:
    suggestion = [a for a in available if a.lower() == name.lower()]
    if not suggestion:
        suggestion = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    hint = f" Did you mean {suggestion[0]!r}?" if suggestion else ""
    return ValueError(
        f"Unknown dataset {name!r}.{hint} Available datasets: {', '.join(available)}."
    )


def load_dataset(
    name: str, split: str | None = "train"
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a bundled UCR/UEA classification dataset.

    Bundled datasets (see :func:`list_datasets`), with ``X`` shapes
    ``(n_series, n_channels, length)`` for the train / test splits:

    - ``GunPoint``: (50, 1, 150) / (150, 1, 150), 2 classes.
    - ``ItalyPowerDemand``: (67, 1, 24) / (1029, 1, 24), 2 classes.
    - ``BasicMotions``: (40, 6, 100) / (40, 6, 100), 4 classes.
    - ``JapaneseVowels``: (270, 12, 29) / (370, 12, 29), 9 classes;
      series have 7 to 29 time points and are right-padded with NaN
      (both splits are padded to the same length, 29).

    Parameters
    ----------
    name : str
        Dataset name, case-sensitive (e.g. ``"GunPoint"``).
    split : {"train", "test"} or None, default="train"
        Which split to return; None returns both.

    Returns
    -------
    X, y : tuple of ndarray
        When ``split`` is ``"train"`` or ``"test"``: ``X`` of shape
        ``(n_series, n_channels, length)`` and dtype float32 (NaN
        right-padded where series lengths differ) and ``y`` of shape
        ``(n_series,)``, a unicode string array with the archive's class
        labels.
    X_train, y_train, X_test, y_test : tuple of ndarray
        When ``split`` is None.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled dataset (the message lists the
        available names and suggests a close match) or ``split`` is invalid.

    Examples
    --------
    >>> from tsrepr_sklearn.datasets import load_dataset
    >>> X, y = load_dataset("GunPoint", split="train")
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((50, 1, 150), dtype('float32'), ['1', '2'])
    >>> X_train, y_train, X_test, y_test = load_dataset("BasicMotions", split=None)
    >>> X_test.shape
    (40, 6, 100)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if split is not None and split not in _SPLITS:
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    available = list_datasets()
    if name not in available:
        raise _unknown_name_error(name, available)

    ref = _data_dir().joinpath(f"{name}.npz")
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        arrays = {
            key: np.array(npz[key])
            for key in ("X_train", "y_train", "X_test", "y_test")
        }
    for part in _SPLITS:
        arrays[f"X_{part}"] = np.ascontiguousarray(arrays[f"X_{part}"], dtype=np.float32)
        arrays[f"y_{part}"] = arrays[f"y_{part}"].astype(str)

    if split is None:
        return arrays["X_train"], arrays["y_train"], arrays["X_test"], arrays["y_test"]
    return arrays[f"X_{split}"], arrays[f"y_{split}"]

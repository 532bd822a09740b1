"""Time series classification datasets and file readers.

Bundled datasets
----------------
Four small datasets from the UCR/UEA time series classification archive are
shipped with the package (GunPoint, ItalyPowerDemand, BasicMotions,
JapaneseVowels); see :func:`list_datasets` and :func:`load_dataset`, and
``docs/datasets.md`` for provenance and the citations requested by the
archive maintainers.

Readers
-------
:func:`read_ts` (sktime/UEA ``.ts``), :func:`read_ucr_tsv` (UCR 2018
``.tsv``) and :func:`read_npy` (``.npy``/``.npz``) load local files.

All collections are returned as float32 arrays of shape
``(n_series, n_channels, length)``, right-padded with NaN when series have
different lengths.
"""

from ._bundled import list_datasets, load_dataset
from ._readers import read_npy, read_ts, read_ucr_tsv

__all__ = ["list_datasets", "load_dataset", "read_npy", "read_ts", "read_ucr_tsv"]

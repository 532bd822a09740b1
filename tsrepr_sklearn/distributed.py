"""Scaling out with dask: encoding a ``dask.array`` on the workers, and worker thread settings.

Hyper-parameter search needs nothing from this module: the estimators pickle,
so ``GridSearchCV``, ``cross_val_score`` and other joblib users distribute
their fits under ``joblib.parallel_backend("dask")`` with a
``dask.distributed.Client``. Call :func:`set_worker_threads` first, so that
each worker's PyTorch uses only the cores given to it.

Needs ``dask[distributed]`` (``pip install "tsrepr-sklearn[dask]"``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_dask_array", "set_worker_threads", "transform_dask"]


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array`` (without importing dask).

    Parameters
    ----------
    X : object
        Input collection.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn.distributed import is_dask_array
    >>> is_dask_array(np.zeros(3))
    False
    """
    return type(X).__module__.startswith("dask.array") and type(X).__name__ == "Array"


def _encode_block(block, estimator):
    return estimator.transform(block)


def transform_dask(estimator, X):
    """Representations of a ``dask.array`` of series, computed block by block where the blocks live.

    The fitted estimator enters the task graph once, as a single task that
    every block depends on: a distributed scheduler ships it once to each
    worker that needs it, not once per block. Each block is validated and
    encoded by ``estimator.transform`` on its worker.

    Parameters
    ----------
    estimator : CausalCNNEncoderClassifier or LSTMEncoderClassifier
        Fitted estimator.
    X : dask.array.Array of shape (n_series, length) or (n_series, n_channels, length)
        Series (NaN right-padded where lengths differ), chunked along the
        series only; other axes are merged into one chunk if needed.

    Returns
    -------
    dask.array.Array of shape (n_series, out_channels), dtype float32
        Lazy representations, chunked like the series.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> from tsrepr_sklearn.distributed import transform_dask
    >>> X = np.random.default_rng(0).normal(size=(12, 20))
    >>> clf = CausalCNNEncoderClassifier(nb_steps=2, channels=2, depth=1, reduced_size=2, out_channels=3,
    ...                                  device="cpu", random_state=0).fit_encoder(X)
    >>> features = transform_dask(clf, da.from_array(X, chunks=(5, 20)))
    >>> features.shape, features.chunks
    ((12, 3), ((5, 5, 2), (3,)))
    >>> bool(np.allclose(features.compute(), clf.transform(X), atol=1e-6))
    True
    """
    import dask

    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "encoder_")
    if X.ndim not in (2, 3):
        raise ValueError(f"X has {X.ndim} dimensions; expected 2-D (n_series, length) or 3-D.")
    channels = 1 if X.ndim == 2 else X.shape[1]
    if channels != estimator.n_channels_in_:
        raise ValueError(
            f"X has {channels} channel(s), but {type(estimator).__name__} was fitted with "
            f"{estimator.n_channels_in_} channel(s)."
        )
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    out_channels = int(estimator.encoder_kwargs_["out_channels"])
    shared = dask.delayed(estimator, pure=True, traverse=False)
    return X.map_blocks(
        _encode_block,
        shared,
        dtype=np.float32,
        chunks=(X.chunks[0], (out_channels,)),
        drop_axis=list(range(1, X.ndim)),
        new_axis=1,
        meta=np.empty((0, out_channels), dtype=np.float32),
    )


def _set_threads(dask_worker=None, threads=None):
    import torch

    if threads is None:
        state = getattr(dask_worker, "state", None)
        threads = state.nthreads if state is not None else dask_worker.nthreads
    count = max(1, int(threads))
    torch.set_num_threads(count)
    return torch.get_num_threads()


def set_worker_threads(client, threads=None):
    """Set PyTorch's CPU thread count on every worker of a ``dask.distributed`` cluster.

    By default each worker uses as many threads as it has dask threads, so
    that workers sharing a machine do not oversubscribe its cores (PyTorch
    would otherwise start one thread per core in every worker).

    Parameters
    ----------
    client : dask.distributed.Client
        Client of the cluster.
    threads : int or None, default=None
        Threads per worker; ``None`` for each worker's ``nthreads``.

    Returns
    -------
    dict
        Worker address to the thread count now in effect.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> set_worker_threads(client)  # doctest: +SKIP
    {'tcp://127.0.0.1:40001': 1, 'tcp://127.0.0.1:40003': 1}
    """
    return client.run(_set_threads, threads=threads)

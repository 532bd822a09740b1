"""dask.distributed: hyper-parameter search on a LocalCluster and encoding of dask arrays on the workers."""

import numpy as np
import pytest

pytest.importorskip("distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from tests.test_estimators import tiny, two_class_data  # noqa: E402
from tsrepr_sklearn import CausalCNNEncoderClassifier  # noqa: E402
from tsrepr_sklearn.distributed import set_worker_threads, transform_dask  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, worker_dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_worker_threads_are_set(client):
    threads = set_worker_threads(client)
    assert len(threads) == 2 and set(threads.values()) == {1}
    assert set(set_worker_threads(client, threads=2).values()) == {2}
    set_worker_threads(client)


def test_grid_search_runs_on_the_workers_and_matches_a_local_search(client):
    X, y = two_class_data(n=24)
    grid = {"depth": [1, 2], "nb_random_samples": [1, 2]}
    local = GridSearchCV(tiny(), grid, cv=2).fit(X, y)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = GridSearchCV(tiny(), grid, cv=2).fit(X, y)
    workers = {task["worker"] for task in stream.data}
    assert len(workers) == 2  # both workers fitted estimators
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_transform_of_a_dask_array_is_computed_on_the_workers(client):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2, 25))
    X[::4, :, 20:] = np.nan  # shorter series
    clf = tiny().fit(X, np.repeat(["a", "b"], 15))
    lazy = clf.transform(da.from_array(X, chunks=(7, 2, 25)))
    assert isinstance(lazy, da.Array) and lazy.chunks == ((7, 7, 7, 7, 2), (3,))
    # the estimator is one task of the graph, whatever the number of blocks
    graph = dict(lazy.__dask_graph__())
    holding = [k for k, v in graph.items() if isinstance(getattr(v, "value", v), CausalCNNEncoderClassifier)]
    assert len(holding) == 1
    with get_task_stream(client) as stream:
        features = client.compute(lazy).result()
    # each of the 5 blocks was encoded by a task on the cluster's workers
    assert sum("_encode_block" in str(task["key"]) for task in stream.data) == 5
    np.testing.assert_allclose(features, clf.transform(X), rtol=1e-5, atol=1e-6)


def test_transform_dask_checks_channels_and_merges_time_chunks():
    X = np.random.default_rng(0).normal(size=(10, 1, 16))
    clf = tiny().fit(X, np.repeat([0, 1], 5))
    with pytest.raises(ValueError, match="2 channel"):
        transform_dask(clf, da.zeros((4, 2, 16)))
    features = transform_dask(clf, da.from_array(X, chunks=(3, 1, 4)))
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_allclose(features.compute(), clf.transform(X), rtol=1e-5, atol=1e-6)

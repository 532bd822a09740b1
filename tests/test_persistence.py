import json
import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
import torch

from benchmarks.seed_reference import SeedCausalCNNEncoder, SeedLSTMEncoder
from tests.test_estimators import tiny, two_class_data
from tsrepr_sklearn import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from tsrepr_sklearn import persistence
from tsrepr_sklearn.persistence import (
    FORMAT_VERSION,
    classifier_from_safe,
    classifier_to_safe,
    read_metadata,
    save_estimator,
)


@pytest.mark.parametrize("labels", [np.array(["a", "b"]), np.array([3, 7]), np.array([1.0, 2.0])])
def test_save_load_round_trip_restores_the_svm_without_unpickling(tmp_path, monkeypatch, labels):
    X, y = two_class_data()
    y = labels[(y == "b").astype(int)]
    clf = tiny().fit(X, y)
    clf.save(tmp_path / "model.pt")

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the safe load unpickled something")

    monkeypatch.setattr(pickle, "loads", no_unpickling)
    safe = CausalCNNEncoderClassifier.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(safe.transform(X), clf.transform(X))
    np.testing.assert_array_equal(safe.predict(X), clf.predict(X))
    np.testing.assert_array_equal(safe.decision_function(X), clf.decision_function(X))
    assert safe.classes_.dtype == clf.classes_.dtype
    assert safe.get_params() == clf.get_params()
    np.testing.assert_array_equal(safe.history_, clf.history_)
    with pytest.raises(ValueError, match="not a LSTMEncoderClassifier"):
        LSTMEncoderClassifier.load(tmp_path / "model.pt")


def test_lstm_file_from_before_forget_bias_loads_with_the_original_initialisation(tmp_path):
    from tsrepr_sklearn.persistence import _checksum

    X, y = two_class_data()
    clf = tiny(LSTMEncoderClassifier, forget_bias=None).fit(X, y)
    clf.save(tmp_path / "model.pt")
    archive = torch.load(tmp_path / "model.pt", weights_only=True)
    params = json.loads(archive["params"])
    del params["forget_bias"]  # what files written before the parameter existed hold
    archive["params"] = json.dumps(params)
    archive["checksum"] = _checksum(archive)
    torch.save(archive, tmp_path / "old.pt")
    old = LSTMEncoderClassifier.load(tmp_path / "old.pt")
    assert old.forget_bias is None
    assert old.get_params() == clf.get_params()
    np.testing.assert_array_equal(old.transform(X), clf.transform(X))
    assert LSTMEncoderClassifier.load(tmp_path / "model.pt").forget_bias is None
    assert tiny(LSTMEncoderClassifier).fit(X, y).forget_bias == 1.0


def test_other_classifiers_need_trust(tmp_path):
    X, y = two_class_data()
    clf = tiny(classifier=KNeighborsClassifier(n_neighbors=3)).fit(X, y)
    clf.save(tmp_path / "model.pt")
    with pytest.warns(UserWarning, match=r"classifier parameter \(sklearn.neighbors.KNeighborsClassifier\) and the "
                      r"fitted classifier \(sklearn.neighbors.KNeighborsClassifier\).*trust_pickled_classifier=True"
                      r".*classifier=None") as record:
        safe = CausalCNNEncoderClassifier.load(tmp_path / "model.pt")
    assert record[0].filename == __file__
    assert not hasattr(safe, "classifier_") and safe.classifier is None  # pickled, so not restored by default
    np.testing.assert_array_equal(safe.transform(X), clf.transform(X))
    trusted = CausalCNNEncoderClassifier.load(tmp_path / "model.pt", trust_pickled_classifier=True)
    np.testing.assert_array_equal(trusted.predict(X), clf.predict(X))


def test_an_svc_classifier_parameter_comes_back_without_unpickling(tmp_path, monkeypatch):
    X, y = two_class_data()
    clf = tiny(classifier=SVC(C=3, kernel="linear", class_weight="balanced")).fit(X, y)
    clf.save(tmp_path / "model.pt")
    monkeypatch.setattr(pickle, "loads", lambda *args, **kwargs: pytest.fail("the safe load unpickled something"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        safe = CausalCNNEncoderClassifier.load(tmp_path / "model.pt")
    assert safe.classifier.get_params() == clf.classifier.get_params()
    np.testing.assert_array_equal(safe.decision_function(X), clf.decision_function(X))
    # a refit of the classifier uses the user's SVC, not the default one
    assert safe.fit_classifier(X, y).classifier_.kernel == "linear"
    np.testing.assert_allclose(safe.decision_function(X), clf.fit_classifier(X, y).decision_function(X))
    # parameters that are not plain values (a class_weight dict) stay pickled, and the load says so
    tiny(classifier=SVC(class_weight={"a": 2.0})).fit(X, y).save(tmp_path / "weighted.pt")
    with pytest.warns(UserWarning, match=r"the classifier parameter \(sklearn.svm.SVC\) and the fitted classifier"):
        assert CausalCNNEncoderClassifier.load(tmp_path / "weighted.pt").classifier is None
    # only the parameters that differ from SVC's defaults are stored: a later scikit-learn may drop the others
    info = json.loads(torch.load(tmp_path / "model.pt", weights_only=True)["classifier_info"])
    assert info["param"]["params"] == {"C": 3, "kernel": "linear", "class_weight": "balanced"}
    # a parameter this scikit-learn does not know: a warning, the rest of the model loads
    with mock.patch.dict(persistence._SAFE_CLASSIFIERS, {"sklearn.svm.SVC": _SVCWithoutClassWeight}):
        with pytest.warns(UserWarning, match=r"cannot be rebuilt with scikit-learn.*left as None"):
            loaded = CausalCNNEncoderClassifier.load(tmp_path / "model.pt")
    assert loaded.classifier is None
    np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))


class _SVCWithoutClassWeight(SVC):
    """An SVC of a scikit-learn that has dropped class_weight."""

    def __init__(self, *, C=1.0, kernel="rbf"):
        super().__init__(C=C, kernel=kernel)


def test_safe_classifier_description_only_rebuilds_allowed_classes():
    X, y = two_class_data()
    svm = SVC().fit(X.reshape(len(X), -1), y)
    text, tensors = classifier_to_safe(svm)
    forged = json.loads(text)
    forged["class"] = "os.system"
    with pytest.raises(ValueError, match="not an allowed"):
        classifier_from_safe(json.dumps(forged), tensors)
    assert classifier_to_safe(KNeighborsClassifier().fit(X.reshape(len(X), -1), y)) is None


def test_metadata_round_trip(tmp_path):
    X, y = two_class_data()
    clf = tiny().fit(X, y)
    save_estimator(clf, tmp_path / "model.pt", metadata={"normalize": "channel", "mean": [1.5]})
    assert read_metadata(tmp_path / "model.pt") == {"normalize": "channel", "mean": [1.5]}
    clf.save(tmp_path / "plain.pt")
    assert read_metadata(tmp_path / "plain.pt") == {}


def test_load_rejects_corrupted_newer_and_malicious_files(tmp_path):
    X, y = two_class_data()
    tiny().fit(X, y).save(tmp_path / "model.pt")
    data = (tmp_path / "model.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable"):
        CausalCNNEncoderClassifier.load(tmp_path / "truncated.pt")
    archive = torch.load(tmp_path / "model.pt", weights_only=True)
    archive["format_version"] = FORMAT_VERSION + 1
    torch.save(archive, tmp_path / "newer.pt")
    with pytest.raises(ValueError, match="newer"):
        CausalCNNEncoderClassifier.load(tmp_path / "newer.pt")
    # a readable file whose content changed after it was written (one weight): the checksum catches it
    archive = torch.load(tmp_path / "model.pt", weights_only=True)
    weight = next(key for key, value in archive["encoder_state"].items() if value.is_floating_point())
    archive["encoder_state"][weight] = archive["encoder_state"][weight] + 1e-3
    torch.save(archive, tmp_path / "tampered.pt")
    with pytest.raises(ValueError, match="checksum does not match"):
        CausalCNNEncoderClassifier.load(tmp_path / "tampered.pt")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with open(tmp_path / "evil.pt", "wb") as file:
        pickle.dump({"format": "tsrepr-sklearn", "x": Payload()}, file)
    with pytest.raises(ValueError):
        CausalCNNEncoderClassifier.load(tmp_path / "evil.pt")
    assert not marker.exists()


@pytest.mark.parametrize("architecture", ["CausalCNN", "LSTM"])
def test_from_original_reproduces_the_original_network(tmp_path, architecture):
    torch.manual_seed(0)
    if architecture == "CausalCNN":
        hyper = dict(batch_size=10, channels=5, compared_length=None, depth=2, nb_steps=3, in_channels=2,
                     kernel_size=3, penalty=None, early_stopping=None, lr=0.001, nb_random_samples=2,
                     negative_penalty=1, out_channels=4, reduced_size=6, cuda=False, gpu=0)
        seed = SeedCausalCNNEncoder(2, 5, 2, 6, 4, 3).double()
        cls = CausalCNNEncoderClassifier
    else:
        hyper = dict(batch_size=10, compared_length=None, nb_steps=3, in_channels=2, penalty=None, early_stopping=None,
                     lr=0.001, nb_random_samples=2, negative_penalty=1, cuda=False, gpu=0)
        seed = SeedLSTMEncoder(in_channels=2).double()
        cls = LSTMEncoderClassifier
    torch.save(seed.state_dict(), tmp_path / "encoder.pth")  # float64, original keys
    (tmp_path / "hyper.json").write_text(json.dumps(hyper))
    clf = cls.from_original(tmp_path / "hyper.json", encoder_path=tmp_path / "encoder.pth")
    assert clf.device == "cpu" and clf.nb_steps == 3
    if architecture == "LSTM":  # a refit starts from the original code's initialisation
        assert clf.forget_bias is None
    X = np.random.default_rng(0).normal(size=(5, 2, 30))
    with torch.no_grad():
        expected = seed(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(clf.transform(X), expected, rtol=1e-4, atol=1e-5)
    clf.fit_classifier(X, [0, 1, 0, 1, 0])
    assert clf.predict(X).shape == (5,)


def test_numpy_scalar_parameters_are_saved_as_numbers(tmp_path):
    """GridSearchCV grids built with numpy give numpy scalars; save and checkpoints must take them."""
    X, y = two_class_data()
    path = tmp_path / "model.pt"
    clf = tiny(depth=np.int64(1), lr=np.float64(0.01), random_state=np.int64(5), checkpoint=str(path)).fit(X, y)
    loaded = CausalCNNEncoderClassifier.load(path)
    params = loaded.get_params()
    assert (params["depth"], params["lr"], params["random_state"]) == (1, 0.01, 5)
    assert type(params["depth"]) is int and type(params["random_state"]) is int
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_a_random_state_instance_is_saved_as_none_with_a_warning(tmp_path):
    X, y = two_class_data()
    clf = tiny(random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.warns(UserWarning, match="stores random_state=None") as via_method:
        clf.save(tmp_path / "model.pt")
    assert CausalCNNEncoderClassifier.load(tmp_path / "model.pt").random_state is None
    with pytest.warns(UserWarning, match="stores random_state=None") as via_function:
        save_estimator(clf, tmp_path / "again.pt")
    with pytest.warns(UserWarning, match="stores random_state=None") as via_checkpoint:
        clf.set_params(checkpoint=str(tmp_path / "run.pt"), checkpoint_every=1, nb_steps=2).fit(X, y)
    # whichever way the file is written, the warning points at the line of this test that wrote it
    for record in (via_method, via_function, via_checkpoint):
        assert {w.filename for w in record} == {__file__}


def test_from_original_reads_the_original_files_unlimited_compared_length(tmp_path):
    """The original wrote compared_length=numpy.inf as the JSON token Infinity: no limit, i.e. None."""
    path = tmp_path / "CricketX_hyperparameters.json"
    path.write_text('{"compared_length": Infinity, "depth": 10, "cuda": false, "gpu": 0}')
    clf = CausalCNNEncoderClassifier.from_original(path)
    assert clf.compared_length is None and clf.depth == 10
    assert CausalCNNEncoderClassifier.from_original({"compared_length": 50}).compared_length == 50
    with pytest.raises(ValueError, match="'compared_length' parameter"):  # the usual validation error
        CausalCNNEncoderClassifier.from_original({"compared_length": "inf"})


def test_from_original_rejects_unknown_keys_and_warns_on_ignored_ones():
    with pytest.raises(ValueError, match="unknown keys"):
        CausalCNNEncoderClassifier.from_original({"bogus": 1})
    with pytest.warns(UserWarning, match="early_stopping is ignored"):
        CausalCNNEncoderClassifier.from_original({"early_stopping": 5})
    assert CausalCNNEncoderClassifier.from_original({"cuda": True, "gpu": 1}).device == "cuda:1"

"""Behaviour of the public estimators beyond scikit-learn's generic checks."""

import pickle
import warnings
from unittest import mock

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

import tsrepr_sklearn.training as training
from tsrepr_sklearn import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from tsrepr_sklearn.sampling import sample_triplets

TINY = dict(nb_steps=3, batch_size=4, nb_random_samples=2, device="cpu", random_state=0)
CNN = dict(channels=4, depth=2, reduced_size=4, out_channels=3)
LSTM = dict(hidden_size=4, num_layers=1, out_channels=3)


def tiny(cls=CausalCNNEncoderClassifier, **params):
    return cls(**{**TINY, **(CNN if cls is CausalCNNEncoderClassifier else LSTM), **params})


@pytest.fixture(params=[CausalCNNEncoderClassifier, LSTMEncoderClassifier], ids=["cnn", "lstm"])
def estimator_class(request):
    return request.param


def two_class_data(n=20, length=16, n_channels=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_channels, length))
    y = np.repeat(["a", "b"], n // 2)
    X[y == "b"] += np.sin(np.arange(length))
    return X, y


def test_fit_transform_predict_shapes_and_string_labels(estimator_class):
    X, y = two_class_data()
    clf = tiny(estimator_class).fit(X, y)
    features = clf.transform(X)
    assert features.shape == (20, 3) and features.dtype == np.float32
    np.testing.assert_array_equal(clf.classes_, ["a", "b"])
    assert clf.history_.shape == (3,) and clf.n_steps_ == 3 and clf.n_channels_in_ == 1
    # predict is the classifier on each series' own representation (row order kept)
    np.testing.assert_array_equal(clf.predict(X), clf.classifier_.predict(features))
    np.testing.assert_array_equal(clf.decision_function(X), clf.classifier_.decision_function(features))
    assert clf.score(X, y) == 1.0  # the hard-margin SVM separates the training representations


def test_input_forms_agree(estimator_class):
    """2-D arrays, 3-D arrays, DataFrames and lists of arrays are the same series."""
    pd = pytest.importorskip("pandas")
    X, y = two_class_data()
    clf = tiny(estimator_class).fit(X, y)
    expected = clf.transform(X)
    np.testing.assert_allclose(clf.transform(X[:, 0, :]), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.transform(pd.DataFrame(X[:, 0, :])), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.transform(list(X[:, 0, :])), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.transform(X.astype(np.float32)), expected, rtol=1e-5, atol=1e-6)


def test_unequal_lengths_encode_like_single_series(estimator_class):
    rng = np.random.default_rng(1)
    series = [rng.normal(size=(2, n)) for n in (5, 12, 1, 9, 12, 3)]
    clf = tiny(estimator_class).fit(series, [0, 1, 0, 1, 0, 1])
    together = clf.transform(series)
    alone = np.concatenate([clf.transform(s[np.newaxis]) for s in series])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    padded = np.full((6, 2, 12), np.nan)
    for i, s in enumerate(series):
        padded[i, :, : s.shape[1]] = s
    np.testing.assert_allclose(clf.transform(padded), together, rtol=1e-5, atol=1e-6)


def test_subset_invariance_at_float32_tolerance(estimator_class):
    X, y = two_class_data(n=30)
    clf = tiny(estimator_class).fit(X, y)
    np.testing.assert_allclose(clf.transform(X[7:11]), clf.transform(X)[7:11], rtol=1e-5, atol=1e-6)


def global_random_states():
    """numpy's full global state (key and position: a few draws change only the position) and torch's."""
    _, key, position, *_ = np.random.get_state()
    return key.copy(), position, torch.get_rng_state().clone()


def assert_global_random_states_are(expected):
    key, position, torch_state = global_random_states()
    np.testing.assert_array_equal(key, expected[0])
    assert position == expected[1]
    assert torch.equal(torch_state, expected[2])


@pytest.mark.parametrize("random_state", [3, None])
def test_same_seed_same_results_and_global_rng_untouched(estimator_class, random_state, tmp_path):
    X, y = two_class_data()
    before = global_random_states()
    a = tiny(estimator_class, random_state=random_state).fit(X, y)
    a.fit_classifier(X, y)
    pickle.loads(pickle.dumps(a))
    a.save(tmp_path / "model.pt")
    type(a).load(tmp_path / "model.pt")
    assert_global_random_states_are(before)
    if random_state is None:
        return
    b = tiny(estimator_class, random_state=3).fit(X, y)
    c = tiny(estimator_class, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.history_, b.history_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.transform(X), c.transform(X))
    # refitting the same estimator replays the same training
    np.testing.assert_array_equal(a.fit(X, y).transform(X), b.transform(X))


def test_clone_pipeline_gridsearch_cross_val():
    X, y = two_class_data(n=24)
    X2 = X[:, 0, :]
    est = tiny()
    assert clone(est).get_params() == est.get_params()
    pipe = Pipeline([("repr", tiny()), ("clf", LogisticRegression())]).fit(X2, y)
    assert pipe.predict(X2).shape == (24,)
    search = GridSearchCV(tiny(), {"nb_steps": [1, 2], "penalty": [0.1, 1.0]}, cv=2, n_jobs=2).fit(X2, y)
    assert set(search.best_params_) == {"nb_steps", "penalty"}
    scores = cross_val_score(tiny(penalty=1.0), X2, y, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))


def test_default_classifier_follows_the_original_rule():
    X, y = two_class_data(n=20)
    clf = tiny().fit(X, y)  # fewer than 50 labeled series: C = inf, no search
    assert clf.classifier_.C == np.inf and clf.classifier_.gamma == "scale"
    assert tiny(penalty=0.5).fit(X, y).classifier_.C == pytest.approx(2.0)
    X, y = two_class_data(n=60)
    searches = []

    def make_search(*args, **kwargs):
        searches.append(GridSearchCV(*args, **kwargs))
        return searches[-1]

    with mock.patch("tsrepr_sklearn.base.GridSearchCV", side_effect=make_search) as search:
        chosen = tiny().fit(X, y).classifier_.C
    assert search.call_args.args[1] == {"C": [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, np.inf]}
    assert search.call_args.kwargs["cv"] == 5
    assert chosen == searches[0].best_params_["C"]



class _FailingSVC(SVC):
    """An SVC whose fit fails for the C values in ``failing`` (class attribute set by the test)."""

    failing = ()

    def fit(self, X, y, sample_weight=None):
        if self.C in self.failing:
            raise ValueError("The dual coefficients or intercepts are not finite.")
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("failing, warned", [((np.inf,), False), ((np.inf, 1.0), True)], ids=["hard-margin", "finite-C"])
def test_grid_search_failures_of_the_hard_margin_candidate_are_logged_not_warned(failing, warned, caplog):
    """C=inf cannot fit folds that are not separable: expected, so logged; any other failure still warns."""
    features, y = two_class_data(n=60)
    features = features[:, 0, :]
    with mock.patch("tsrepr_sklearn.base.SVC", _FailingSVC), mock.patch.object(_FailingSVC, "failing", failing), \
            warnings.catch_warnings(record=True) as caught, caplog.at_level("INFO", logger="tsrepr_sklearn.base"):
        warnings.simplefilter("always")
        chosen = tiny()._make_classifier(features, y).C
    non_finite = [w for w in caught if "test scores are non-finite" in str(w.message)]
    assert bool(non_finite) is warned
    assert chosen not in failing
    assert "fits failed out of a total of 50" in caplog.text
    assert ("hard-margin candidate (C=inf) scored NaN" in caplog.text) is not warned


def test_custom_classifier_and_available_methods():
    X, y = two_class_data()
    assert not hasattr(tiny(), "predict_proba")  # SVC without probability
    assert hasattr(tiny(), "decision_function")
    clf = tiny(classifier=LogisticRegression()).fit(X, y)
    assert isinstance(clf.classifier_, LogisticRegression)
    proba = clf.predict_proba(X)
    assert proba.shape == (20, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_semi_supervised_rows_train_the_encoder_only():
    X, _ = two_class_data(n=20)
    y = np.array([0, 1] * 5 + [-1] * 10)
    with pytest.warns(UserWarning, match="10 series labeled -1") as record:
        clf = tiny().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    with pytest.warns(UserWarning, match="10 series labeled -1") as through_fit_transform:
        tiny().fit_transform(X, y)  # scikit-learn's set_output wraps fit_transform: still this line
    with pytest.warns(UserWarning, match="10 series labeled -1") as through_fit_classifier:
        clf.fit_classifier(X, y)
    assert {w.filename for w in [*record, *through_fit_transform, *through_fit_classifier]} == {__file__}
    with pytest.raises(ValueError, match="at least 2 classes.*-1 are unlabeled"):
        tiny().fit(X, np.array([1] * 10 + [-1] * 10))


@pytest.mark.parametrize("y", [["a"] * 20, [-1, 1] * 10, [-1] * 20], ids=["one class", "-1 and 1", "all -1"])
def test_labels_of_fewer_than_two_classes_are_refused_before_training(y):
    X, _ = two_class_data(n=20)
    fitted = tiny().fit_encoder(X)
    before = fitted.transform(X)
    with mock.patch("tsrepr_sklearn.base.train_encoder", side_effect=AssertionError("trained")):
        for call in (tiny().fit, tiny().fit_transform, fitted.fit):
            with pytest.raises(ValueError, match="at least 2 classes"):
                call(X, np.array(y))
    np.testing.assert_array_equal(fitted.transform(X), before)  # the previous fit is untouched


def test_a_regression_or_multi_output_target_trains_the_encoder_only_in_a_pipeline():
    from sklearn.linear_model import Ridge
    from sklearn.multioutput import MultiOutputClassifier

    X, y = two_class_data(n=20)
    X2 = X[:, 0, :]
    target = np.random.default_rng(1).normal(size=20)
    pipe = Pipeline([("repr", tiny()), ("ridge", Ridge())]).fit(X2, target)
    encoder = pipe.named_steps["repr"]
    assert encoder.n_steps_ == 3 and not hasattr(encoder, "classifier_")
    # the same encoder as fit_transform without labels
    np.testing.assert_array_equal(encoder.transform(X2), tiny().fit_transform(X2))
    assert pipe.predict(X2).shape == (20,)
    two_outputs = np.stack([y, y[::-1]], axis=1)
    pipe = Pipeline([("repr", tiny()), ("clf", MultiOutputClassifier(LogisticRegression()))]).fit(X2, two_outputs)
    assert pipe.predict(X2).shape == (20, 2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tiny().fit_transform(X2, target[:-1])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        tiny().fit(X2, target)  # fit trains the classifier, which needs class labels


def test_fit_leaves_the_global_cuda_generators_alone():
    X, y = two_class_data()
    with mock.patch("torch.cuda.manual_seed_all") as seed_all, mock.patch("torch.cuda.manual_seed") as seed:
        tiny().fit(X, y)
        tiny(LSTMEncoderClassifier).fit(X, y)
    assert not seed_all.called and not seed.called


def test_warm_start_refuses_a_changed_architecture(estimator_class):
    X, y = two_class_data()
    clf = tiny(estimator_class, warm_start=True).fit(X, y)
    before = clf.transform(X)
    with pytest.raises(ValueError, match=r"architecture parameters have changed.*out_channels 3 -> 7"):
        clf.set_params(out_channels=7).fit(X, y)
    assert clf.n_steps_ == 3
    np.testing.assert_array_equal(clf.transform(X), before)
    assert clf.set_params(out_channels=3).fit(X, y).n_steps_ == 6
    if estimator_class is LSTMEncoderClassifier:  # forget_bias sets the initial weights only: no matter here
        assert clf.set_params(forget_bias=None).fit(X, y).n_steps_ == 9


def test_fit_encoder_then_fit_classifier_and_warm_start():
    X, y = two_class_data()
    clf = tiny().fit_encoder(X)
    assert clf.transform(X).shape == (20, 3) and not hasattr(clf, "classifier_")
    with pytest.raises(NotFittedError, match="not fitted"):
        clf.predict(X)
    clf.fit_classifier(X[:10:2].tolist() + X[1:10:2].tolist(), ["a"] * 5 + ["b"] * 5)
    assert clf.predict(X).shape == (20,)
    before = clf.transform(X)
    clf.set_params(warm_start=True).fit_encoder(X)
    assert clf.n_steps_ == 6 and clf.history_.shape == (6,)
    assert not np.allclose(clf.transform(X), before)
    # the classifier was fitted on the old encoder's representations: dropped, never used stale
    assert not hasattr(clf, "classifier_") and not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError, match="not fitted"):
        clf.predict(X)
    # a continuation draws new triplets: it does not replay the first fit's
    drawn = []

    def record(*args, **kwargs):
        drawn.append(sample_triplets(*args, **kwargs))
        return drawn[-1]

    with mock.patch("tsrepr_sklearn.training.sample_triplets", side_effect=record):
        tiny().fit_encoder(X).set_params(warm_start=True).fit_encoder(X)
    assert len(drawn) == 6
    geometry = [np.concatenate([g.anchor_series, g.anchor_start, g.negative_series.ravel()]) for g in drawn]
    assert not any(np.array_equal(geometry[i], geometry[i + 3]) for i in range(3))


def test_encode_window_matches_encoding_each_window():
    X, y = two_class_data(n=4, length=12)
    clf = tiny().fit(X, [0, 1, 0, 1])
    windows = clf.encode_window(X, window=5, stride=2)
    assert windows.shape == (4, 3, 4)
    expected = clf.transform(X[:, :, 2:7])
    np.testing.assert_allclose(windows[:, :, 1], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="longer than the longest series"):
        clf.encode_window(X, window=13)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[1.0, np.nan, 2.0]] * 4), "NaN inside it"),
        (np.array([[1.0, np.inf, 2.0]] * 4), "infinity|inf"),
        (np.full((4, 3), np.nan), "no valid value"),
        (np.zeros((0, 3)), "0 sample"),
        (np.zeros((4, 1, 2, 3)), "4 dimensions"),
        (np.array([["a", "b"]] * 4), "real numbers"),
        (np.ones((4, 3)) * 1e39, "float32 range"),
        (np.ones((4, 3)) + 1j, "Complex"),
    ],
)
def test_bad_input_errors_name_the_problem(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny().fit(X, [0, 1, 0, 1][: len(X)] if len(X) else [])


def test_channel_and_label_errors():
    X, y = two_class_data(n_channels=2)
    clf = tiny().fit(X, y)
    with pytest.raises(ValueError, match="3 channel.*fitted with 2"):
        clf.transform(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="20 series but y has 19"):
        tiny().fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN labels"):
        tiny().fit(X, np.r_[np.nan, np.ones(19)])
    with pytest.raises(ValueError, match="CUDA is not available"):
        with mock.patch("torch.cuda.is_available", return_value=False):
            tiny(device="cuda").fit(X, y)


def test_verbose_shows_a_progress_bar(capsys):
    X, y = two_class_data()
    tiny().fit(X, y)
    assert "training" not in capsys.readouterr().err
    tiny(verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "training" in err and "3/3" in err


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_round_trip_keeps_results(estimator_class, dump, tmp_path):
    X, y = two_class_data()
    clf = tiny(estimator_class).fit(X, y)
    if dump == "pickle":
        state = clf.__getstate__()
        assert all(t.device.type == "cpu" for t in state["encoder_"].values())
        loaded = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    # the optimizer state came along: continuing the copy equals continuing the original
    loaded.set_params(warm_start=True).fit_encoder(X)
    clf.set_params(warm_start=True).fit_encoder(X)
    assert loaded.n_steps_ == 6
    np.testing.assert_array_equal(loaded.history_, clf.history_)
    np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))


def test_model_trained_on_cuda_loads_on_a_cpu_only_machine():
    X, y = two_class_data()
    clf = tiny().fit(X, y)
    state = clf.__getstate__()
    state["device_"] = "cuda:0"  # as written by a GPU machine: tensors are already on the CPU
    restored = CausalCNNEncoderClassifier.__new__(CausalCNNEncoderClassifier)
    with mock.patch("torch.cuda.is_available", return_value=False):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    assert next(restored.encoder_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.transform(X), clf.transform(X))


def test_model_trained_on_a_missing_gpu_loads_on_the_cpu():
    """A model from cuda:2 on a machine with one GPU: the CPU, not a failed .to('cuda:2')."""
    X, y = two_class_data()
    clf = tiny().fit(X, y)
    state = clf.__getstate__()
    state["device_"] = "cuda:2"
    restored = CausalCNNEncoderClassifier.__new__(CausalCNNEncoderClassifier)
    with mock.patch("torch.cuda.is_available", return_value=True), \
            mock.patch("torch.cuda.device_count", return_value=1):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(X), clf.transform(X))


def test_save_memory_training_equals_default_training():
    X, y = two_class_data()
    with mock.patch("tsrepr_sklearn.training.triplet_loss_backward", wraps=training.triplet_loss_backward) as spy:
        a = tiny(save_memory=True).fit(X, y)
    assert spy.call_count == 3 and all(call.args[4] is True for call in spy.call_args_list)  # it reached training
    b = tiny(save_memory=False).fit(X, y)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-4)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-3, atol=1e-5)


def test_loss_parameters_reach_training():
    """negative_penalty and compared_length are passed to the loss and the sampling, not dropped."""
    X, y = two_class_data(length=40)
    with mock.patch("tsrepr_sklearn.training.triplet_loss_backward", wraps=training.triplet_loss_backward) as loss, \
            mock.patch("tsrepr_sklearn.training.sample_triplets", wraps=sample_triplets) as sampling:
        clf = tiny(negative_penalty=5.0, compared_length=7).fit(X, y)
    assert [call.args[3] for call in loss.call_args_list] == [5.0] * 3
    assert [call.args[4] for call in sampling.call_args_list] == [7] * 3
    assert not np.allclose(clf.history_, tiny(compared_length=7).fit(X, y).history_)


def test_invalid_parameters_are_rejected():
    X, y = two_class_data()
    for params in ({"nb_steps": 0}, {"nb_steps": -1}, {"compared_length": 0}, {"lr": 0}, {"batch_size": 0}):
        with pytest.raises(ValueError, match=list(params)[0]):
            tiny(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny(batch_size=100).fit(X, y)  # larger than the data: one batch per step


def test_feature_names_and_set_output(estimator_class):
    pd = pytest.importorskip("pandas")
    from sklearn import config_context

    X, y = two_class_data()
    X2 = X[:, 0, :]
    clf = tiny(estimator_class)
    with pytest.raises(NotFittedError):
        clf.get_feature_names_out()
    names = clf.fit(X, y).get_feature_names_out()
    prefix = estimator_class.__name__.lower()
    assert names.tolist() == [f"{prefix}{i}" for i in range(3)]
    pipe = Pipeline([("repr", tiny(estimator_class)), ("clf", LogisticRegression())]).set_output(transform="pandas")
    frame = pipe.fit(X2, y).named_steps["repr"].transform(X2)
    assert isinstance(frame, pd.DataFrame) and frame.columns.tolist() == names.tolist()
    np.testing.assert_array_equal(frame.to_numpy(), clf.transform(X2))
    with config_context(transform_output="pandas"):
        assert isinstance(tiny(estimator_class).fit_transform(X2, y), pd.DataFrame)
    assert isinstance(clf.transform(X2), np.ndarray)  # the default output is unchanged

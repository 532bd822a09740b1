"""Faults during training and encoding: divergence, interruption, checkpoints, out-of-memory, reproducibility."""

import hashlib
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import tsrepr_sklearn.persistence as persistence
import tsrepr_sklearn.training as training
from tests.test_estimators import tiny, two_class_data
from tsrepr_sklearn import CausalCNNEncoderClassifier
from tsrepr_sklearn.encoding import encode_series
from tsrepr_sklearn.networks import CausalCNNEncoder
from tsrepr_sklearn.persistence import save_estimator
from tsrepr_sklearn.training import TrainingDivergedError

REPO_ROOT = Path(__file__).resolve().parents[1]


def interrupt_at(monkeypatch, call):
    """Make the ``call``-th training step raise KeyboardInterrupt (as Ctrl-C would)."""
    original = training.triplet_loss_backward
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "triplet_loss_backward", step)


def fail_checkpoint_writes(monkeypatch, failure, which):
    """Make the checkpoint writes whose number (from 1) satisfies ``which`` call ``failure(path)``.

    Returns the real ``torch.save``, to put back.
    """
    original_save = torch.save
    writes = []

    def save(obj, f, *args, **kwargs):
        writes.append(1)
        if which(len(writes)):
            return failure(f)
        return original_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(persistence.torch, "save", save)
    return original_save


# --------------------------------------------------------------------------- divergence


def test_divergence_leaves_a_fresh_estimator_unfitted():
    X, y = two_class_data()
    clf = tiny(lr=1e30, nb_steps=20)
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 2: the loss is (nan|inf).*last finite loss "
                                                    r"[0-9.]+ at step 1.*unfitted"):
        clf.fit(X, y)
    for attribute in ("encoder_", "optimizer_", "history_", "n_steps_", "classifier_"):
        assert not hasattr(clf, attribute)
    with pytest.raises(NotFittedError):
        clf.transform(X)


def test_divergence_in_warm_start_keeps_the_last_finite_weights():
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)
    before = clf.transform(X)
    history = clf.history_.copy()
    clf.set_params(lr=1e30, nb_steps=20)
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 5.*weights before step 4"):
        clf.fit(X, y)
    assert clf.n_steps_ == 3
    np.testing.assert_array_equal(clf.history_, history)
    np.testing.assert_array_equal(clf.transform(X), before)
    assert all(torch.isfinite(p).all() for p in clf.encoder_.parameters())
    clf.set_params(lr=1e-3, nb_steps=2)
    clf.fit(X, y)  # and it can go on training
    assert clf.n_steps_ == 5 and np.isfinite(clf.history_).all()
    reference = _continued_reference(X, y, steps=2)  # as if the diverged attempt never happened
    assert _same_weights(clf, reference)  # the optimizer state was put back too


def test_divergence_from_data_scale_says_so():
    X, y = two_class_data()
    with pytest.raises(TrainingDivergedError, match=r"step 1.*largest absolute value in X is 3.75e\+30.*znormalize"):
        tiny().fit(X * 1e30, y)


# --------------------------------------------------------------------------- interruption


def test_keyboard_interrupt_keeps_the_trained_encoder_and_fits_the_classifier(monkeypatch):
    X, y = two_class_data()
    interrupt_at(monkeypatch, call=4)
    clf = tiny(nb_steps=10)
    with pytest.warns(UserWarning, match=r"interrupted after 3 of 10 steps"):
        clf.fit(X, y)
    assert clf.n_steps_ == 3 and clf.history_.shape == (3,)
    assert clf.predict(X).shape == (len(X),)
    assert np.isfinite(clf.transform(X)).all()


def test_keyboard_interrupt_before_the_first_step_still_gives_a_usable_estimator(monkeypatch):
    X, y = two_class_data()
    interrupt_at(monkeypatch, call=1)
    with pytest.warns(UserWarning, match=r"interrupted after 0 of 10 steps.*untrained"):
        clf = tiny(nb_steps=10).fit(X, y)
    assert clf.n_steps_ == 0 and clf.predict(X).shape == (len(X),)



def test_ctrl_c_during_an_optimizer_step_never_leaves_weights_ahead_of_the_history(monkeypatch):
    """SIGINT right after the weights changed, before the step is recorded: the step counts, then training stops."""
    X, y = two_class_data()
    applied = []
    adam_step = torch.optim.Adam.step

    def step_then_ctrl_c(self, *args, **kwargs):
        result = adam_step(self, *args, **kwargs)
        applied.append(1)
        if len(applied) == 3:
            signal.raise_signal(signal.SIGINT)  # delivered as KeyboardInterrupt at the next bytecode
        return result

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_ctrl_c)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.warns(UserWarning, match="interrupted after 3 of 10"):
        clf = tiny(nb_steps=10).fit_encoder(X)
    assert clf.n_steps_ == len(applied) == 3
    assert signal.getsignal(signal.SIGINT) is handler  # the handler in place before training is back

# --------------------------------------------------------------------------- checkpoints


def test_checkpoints_are_written_and_resume_with_warm_start(tmp_path):
    X, y = two_class_data()
    path = tmp_path / "checkpoint.pt"
    clf = tiny(nb_steps=5, checkpoint=str(path), checkpoint_every=2).fit(X, y)
    saved = CausalCNNEncoderClassifier.load(path)
    assert saved.n_steps_ == 5  # the final state is written at the end too, classifier included
    np.testing.assert_array_equal(saved.history_, clf.history_)
    np.testing.assert_array_equal(saved.transform(X), clf.transform(X))
    np.testing.assert_array_equal(saved.decision_function(X), clf.decision_function(X))
    # the optimizer state travels: resuming equals continuing the same estimator
    saved.set_params(warm_start=True, nb_steps=3, checkpoint=None)
    clf.set_params(warm_start=True, nb_steps=3, checkpoint=None)
    saved.fit(X, y)
    clf.fit(X, y)
    assert saved.n_steps_ == clf.n_steps_ == 8
    np.testing.assert_array_equal(saved.history_, clf.history_)
    np.testing.assert_array_equal(saved.transform(X), clf.transform(X))


def test_checkpoints_of_a_continued_fit_never_pair_the_new_encoder_with_the_old_classifier(tmp_path):
    X, y = two_class_data()
    path = tmp_path / "checkpoint.pt"
    clf = tiny(nb_steps=3).fit(X, y)
    old_decision = clf.decision_function(X)
    intermediate = []

    def record(estimator, checkpoint_path):
        save_estimator(estimator, checkpoint_path)
        intermediate.append(CausalCNNEncoderClassifier.load(checkpoint_path))

    clf.set_params(warm_start=True, nb_steps=4, checkpoint=str(path), checkpoint_every=2)
    with mock.patch("tsrepr_sklearn.base.save_estimator", side_effect=record):
        clf.fit(X, y)
    # during training: the encoder only; after fit: the new encoder with the classifier fitted on it
    assert [m.n_steps_ for m in intermediate] == [5, 7, 7]  # step 7 is written once by training, once by fit
    assert [hasattr(m, "classifier_") for m in intermediate] == [False, False, True]
    np.testing.assert_array_equal(intermediate[-1].decision_function(X), clf.decision_function(X))
    assert not np.allclose(clf.decision_function(X), old_decision)


def test_a_continuation_interrupted_before_its_first_step_keeps_the_classifier(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3).fit(X, y)
    decision = clf.decision_function(X)
    interrupt_at(monkeypatch, call=1)
    with pytest.warns(UserWarning, match="interrupted after 0 of 3") as record:
        clf.set_params(warm_start=True).fit_encoder(X)
    assert [w.filename for w in record] == [__file__]  # the warning points at the caller, not the package
    assert clf.n_steps_ == 3  # the encoder did not change, so its classifier still applies
    np.testing.assert_array_equal(clf.decision_function(X), decision)


def test_interrupted_training_leaves_a_checkpoint_of_the_steps_done(tmp_path, monkeypatch):
    X, y = two_class_data()
    path = tmp_path / "checkpoint.pt"
    interrupt_at(monkeypatch, call=6)
    with pytest.warns(UserWarning, match="interrupted after 5 of 10") as record:
        tiny(nb_steps=10, checkpoint=str(path), checkpoint_every=2).fit(X, y)
    assert [w.filename for w in record] == [__file__]
    assert CausalCNNEncoderClassifier.load(path).n_steps_ == 5


def test_a_crash_while_writing_never_corrupts_the_previous_checkpoint(tmp_path, monkeypatch):
    X, y = two_class_data()
    path = tmp_path / "checkpoint.pt"

    def crash(f):  # the checkpoint dies half-way through writing
        with open(f, "wb") as file:
            file.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    original_save = fail_checkpoint_writes(monkeypatch, crash, lambda write: write >= 2)
    with pytest.warns(UserWarning, match=r"could not write the checkpoint.*No space left") as record:
        clf = tiny(nb_steps=6, checkpoint=str(path), checkpoint_every=2).fit(X, y)
    assert {w.filename for w in record} == {__file__}  # written during training or by fit: this test's line
    assert clf.n_steps_ == 6  # training went on
    monkeypatch.setattr(persistence.torch, "save", original_save)
    assert CausalCNNEncoderClassifier.load(path).n_steps_ == 2  # the first checkpoint, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]  # no temporary files left


def test_checkpoint_parameters_are_validated():
    X, y = two_class_data()
    with pytest.raises(ValueError, match="'checkpoint_every' parameter"):
        tiny(checkpoint_every=0).fit(X, y)


def test_a_continuation_that_fails_keeps_the_steps_it_applied_in_the_history(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)
    original = training.triplet_loss_backward
    calls = []

    def step(*args, **kwargs):  # the 3rd step of the continuation runs out of memory
        calls.append(1)
        if len(calls) == 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "triplet_loss_backward", step)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        clf.set_params(nb_steps=5).fit(X, y)
    assert clf.n_steps_ == 5 and clf.history_.shape == (5,)  # the 2 steps applied to the weights are recorded
    assert np.isfinite(clf.history_).all()
    assert not hasattr(clf, "classifier_")  # fitted on the representations before those steps
    monkeypatch.setattr(training, "triplet_loss_backward", original)
    continued = tiny(nb_steps=3, warm_start=True).fit(X, y)
    continued.set_params(nb_steps=2).fit_encoder(X)  # the same 2 steps, without the failure
    np.testing.assert_allclose(clf.history_, continued.history_, rtol=1e-6)
    np.testing.assert_allclose(clf.transform(X), continued.transform(X), rtol=1e-5, atol=1e-6)


def _continued_reference(X, y, steps):
    """An estimator trained 3 steps, then continued ``steps`` steps without any failure."""
    reference = tiny(nb_steps=3, warm_start=True).fit(X, y)
    if steps:
        reference.set_params(nb_steps=steps).fit_encoder(X)
    return reference


def test_an_optimizer_step_that_fails_part_way_is_undone(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)
    original_step = torch.optim.Adam.step
    calls = []

    def step_then_fail(self, *args, **kwargs):  # the 2nd step of the continuation updates the weights, then fails
        calls.append(1)
        result = original_step(self, *args, **kwargs)
        if len(calls) == 2:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return result

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_fail)
    with pytest.raises(RuntimeError, match="illegal memory access"):
        clf.set_params(nb_steps=5).fit(X, y)
    monkeypatch.setattr(torch.optim.Adam, "step", original_step)
    reference = _continued_reference(X, y, steps=1)
    assert clf.n_steps_ == 4 and not hasattr(clf, "classifier_")
    np.testing.assert_array_equal(clf.history_, reference.history_)
    np.testing.assert_array_equal(clf.transform(X), reference.transform(X))  # back at the weights of step 4
    clf.set_params(nb_steps=1).fit(X, y)  # and training goes on from there, optimizer state included
    reference.set_params(nb_steps=1).fit(X, y)
    np.testing.assert_array_equal(clf.transform(X), reference.transform(X))


def test_a_failure_right_after_a_step_counts_that_step_and_checkpoints_it(tmp_path, monkeypatch):
    X, y = two_class_data()
    path = tmp_path / "run.pt"
    clf = tiny(nb_steps=3, warm_start=True, checkpoint=str(path), checkpoint_every=100).fit(X, y)

    def broken_progress_bar(self, n=1):  # e.g. stderr closed under the progress bar
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(training.tqdm, "update", broken_progress_bar)
    with pytest.raises(BrokenPipeError):
        clf.set_params(nb_steps=5).fit(X, y)
    monkeypatch.undo()
    reference = _continued_reference(X, y, steps=1)
    assert clf.n_steps_ == 4 and not hasattr(clf, "classifier_")
    np.testing.assert_array_equal(clf.transform(X), reference.transform(X))
    saved = CausalCNNEncoderClassifier.load(path)  # the checkpoint holds the step too
    assert saved.n_steps_ == 4
    np.testing.assert_array_equal(saved.transform(X), reference.transform(X))


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.encoder_.state_dict().values(), b.encoder_.state_dict().values()))


def test_a_failure_while_reporting_a_divergence_leaves_the_history_matching_the_weights(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)

    def out_of_memory(*args, **kwargs):  # e.g. looking for the largest value of X on a full GPU
        raise MemoryError

    monkeypatch.setattr(training, "_divergence_message", out_of_memory)
    with pytest.raises(MemoryError):
        clf.set_params(lr=1e30, nb_steps=20).fit(X, y)
    reference = tiny(nb_steps=3, warm_start=True).fit(X, y)
    reference.set_params(lr=1e30, nb_steps=1).fit_encoder(X)  # the one step the weights hold
    assert clf.n_steps_ == reference.n_steps_ == 4
    assert _same_weights(clf, reference)


def test_an_exception_from_a_sigint_handler_after_a_step_keeps_history_and_weights_together(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)
    adam_step = torch.optim.Adam.step
    calls = []

    def step_then_ctrl_c(self, *args, **kwargs):
        result = adam_step(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # held until the step is recorded, then given to the handler
        return result

    def application_handler(signum, frame):
        raise RuntimeError("the application's own SIGINT handler")

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, application_handler)
    try:
        with pytest.raises(RuntimeError, match="own SIGINT handler"):
            clf.set_params(nb_steps=5).fit(X, y)
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.setattr(torch.optim.Adam, "step", adam_step)
    reference = _continued_reference(X, y, steps=1)  # the weights hold the steps before the interrupted one
    assert clf.n_steps_ == reference.n_steps_ == 4
    assert _same_weights(clf, reference)


def test_a_diverged_continuation_rewrites_a_checkpoint_of_the_discarded_step(tmp_path):
    X, y = two_class_data()
    path = tmp_path / "run.pt"
    clf = tiny(nb_steps=3, warm_start=True, checkpoint=str(path), checkpoint_every=1).fit(X, y)
    decision = clf.decision_function(X)
    with pytest.raises(TrainingDivergedError, match="weights before step 4"):
        clf.set_params(lr=1e30, nb_steps=20).fit(X, y)  # step 4 is written, then undone when step 5 diverges
    assert clf.n_steps_ == 3
    np.testing.assert_array_equal(clf.decision_function(X), decision)  # back where the classifier was fitted
    saved = CausalCNNEncoderClassifier.load(path)
    assert saved.n_steps_ == 3 and _same_weights(saved, clf)
    np.testing.assert_array_equal(saved.decision_function(X), decision)


def test_ctrl_c_while_a_checkpoint_is_written_still_leaves_a_checkpoint_of_every_step(tmp_path, monkeypatch):
    X, _ = two_class_data()
    path = tmp_path / "run.pt"

    def ctrl_c(f):
        raise KeyboardInterrupt

    original_save = fail_checkpoint_writes(monkeypatch, ctrl_c, lambda write: write == 2)  # that of step 4
    with pytest.warns(UserWarning, match="interrupted after 4 of 6"):
        clf = tiny(nb_steps=6, checkpoint=str(path), checkpoint_every=2).fit_encoder(X)
    monkeypatch.setattr(persistence.torch, "save", original_save)
    saved = CausalCNNEncoderClassifier.load(path)
    assert clf.n_steps_ == saved.n_steps_ == 4
    assert _same_weights(saved, clf)


def test_a_continuation_that_fails_before_its_first_step_keeps_the_classifier(monkeypatch):
    X, y = two_class_data()
    clf = tiny(nb_steps=3, warm_start=True).fit(X, y)
    decision = clf.decision_function(X)

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(training, "triplet_loss_backward", out_of_memory)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        clf.fit(X, y)
    assert clf.n_steps_ == 3
    np.testing.assert_array_equal(clf.decision_function(X), decision)


# --------------------------------------------------------------------------- out of memory


def test_cuda_out_of_memory_in_training_suggests_remedies(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(training, "triplet_loss_backward", out_of_memory)
    X, y = two_class_data()
    clf = tiny()
    with pytest.raises(torch.cuda.OutOfMemoryError, match=r"save_memory=True.*batch_size.*compared_length"):
        clf.fit(X, y)
    assert not hasattr(clf, "encoder_")


class _SmallMemoryEncoder(torch.nn.Module):
    """Raises CUDA's out-of-memory error when a call holds more than ``limit`` series x time steps."""

    def __init__(self, encoder, limit):
        super().__init__()
        self.encoder, self.limit, self.calls = encoder, limit, []

    def forward(self, x, lengths=None):
        self.calls.append(x.shape[0] * x.shape[2])
        if x.shape[0] * x.shape[2] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
        return self.encoder(x, lengths)


def test_encoding_retries_in_smaller_chunks_after_out_of_memory():
    torch.manual_seed(0)
    encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    X = np.random.default_rng(0).normal(size=(40, 1, 50)).astype(np.float32)
    lengths = np.full(40, 50)
    expected = encode_series(encoder, X, lengths, torch.device("cpu"))
    small = _SmallMemoryEncoder(encoder, limit=500)
    np.testing.assert_allclose(encode_series(small, X, lengths, torch.device("cpu")), expected, rtol=1e-6, atol=1e-7)
    assert max(small.calls) > 500 and small.calls[-1] <= 500  # it failed, then went on in smaller chunks


def test_encoding_out_of_memory_on_a_single_series_is_a_clear_error():
    torch.manual_seed(0)
    encoder = CausalCNNEncoder(in_channels=1, channels=2, depth=1, reduced_size=2, out_channels=3, kernel_size=3)
    X = np.zeros((2, 1, 100), dtype=np.float32)
    with pytest.raises(torch.cuda.OutOfMemoryError, match=r"even one series.*encode_window"):
        encode_series(_SmallMemoryEncoder(encoder, limit=50), X, np.full(2, 100), torch.device("cpu"))


# --------------------------------------------------------------------------- reproducibility


_FIT_AND_HASH = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    from tests.test_estimators import tiny, two_class_data
    X, y = two_class_data()
    clf = tiny(nb_steps=5, random_state=int(sys.argv[1])).fit(X, y)
    digest = hashlib.sha256()
    for array in (clf.transform(X), clf.history_, clf.predict(X).astype(str)):
        digest.update(np.ascontiguousarray(array).tobytes())
    print(digest.hexdigest())
    """
)


def _fit_and_hash(seed):
    X, y = two_class_data()
    clf = tiny(nb_steps=5, random_state=seed).fit(X, y)
    digest = hashlib.sha256()
    for array in (clf.transform(X), clf.history_, clf.predict(X).astype(str)):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_same_seed_is_bit_identical_across_processes_and_different_seeds_differ():
    def in_subprocess(seed):
        result = subprocess.run([sys.executable, "-c", _FIT_AND_HASH, str(seed)], capture_output=True, text=True,
                                check=True, timeout=300, cwd=REPO_ROOT)
        return result.stdout.strip()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        here = _fit_and_hash(0)
    assert in_subprocess(0) == here == _fit_and_hash(0)
    assert in_subprocess(1) != here

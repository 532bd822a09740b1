"""The estimator shared by every encoder: parameters, fitting, encoding, prediction, pickling."""

from __future__ import annotations

import logging
import math
import numbers
import os
import warnings
from abc import abstractmethod

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._warn import warn
from .distributed import is_dask_array, transform_dask
from .encoding import encode_series, encode_windows
from .persistence import (
    load_estimator,
    load_original_state_dict,
    optimizer_state_to_cpu,
    read_original_hyperparameters,
    save_estimator,
)
from .streaming import StepWindows, is_large
from .training import TrainingDivergedError, _as_history, resolve_device, to_device_data, train_encoder
from .validation import check_labels, check_series, check_two_classes, is_regression_target, unlabeled_mask

__all__ = ["BaseEncoderClassifier"]

logger = logging.getLogger(__name__)

#: Grid of SVM C values searched when ``penalty=None``, as in the original code.
SVM_C_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, np.inf)


def rbf_svm(C, random_state=None):
    """The original code's classifier: an RBF SVM with scikit-learn's ``gamma="scale"``."""
    return SVC(C=C, gamma="scale", max_iter=10_000_000, random_state=random_state)


def _classifier_has(attribute):
    """``available_if`` check: does the (fitted, else configured) classifier have ``attribute``?"""

    def check(self):
        classifier = getattr(self, "classifier_", None)
        if classifier is None:
            classifier = self.classifier if self.classifier is not None else SVC()
        return hasattr(classifier, attribute)

    return check


class BaseEncoderClassifier(ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    """Shared implementation of the encoder + classifier estimators.

    Subclasses define the encoder's parameters (in ``__init__`` and
    ``_parameter_constraints``) and :meth:`_encoder_kwargs` /
    :attr:`_encoder_class`. Everything else is here.
    """

    _parameter_constraints: dict = {
        "compared_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "nb_random_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "negative_penalty": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "nb_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "penalty": [Interval(numbers.Real, 0, None, closed="left"), None],
        "classifier": [HasMethods(["fit", "predict"]), None],
        "device": [str, torch.device],
        "save_memory": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "checkpoint": [str, os.PathLike, None],
        "checkpoint_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "distributed": ["boolean"],
    }

    #: Fitted attributes set by training the encoder; all removed when a fresh fit fails.
    _CLASSIFIER_ATTRIBUTES = ("classifier_", "classes_")
    _FITTED_ATTRIBUTES = (
        "encoder_", "encoder_kwargs_", "optimizer_", "history_", "n_steps_", "device_", "n_channels_in_",
        *_CLASSIFIER_ATTRIBUTES,
    )

    _encoder_class: type
    #: Parameters that reproduce the original code where our defaults differ (used by :meth:`from_original`).
    _original_initialisation: dict = {}
    _architecture: str

    @abstractmethod
    def _encoder_kwargs(self, n_channels):
        """Keyword arguments building the encoder for ``n_channels`` input channels."""

    # ------------------------------------------------------------------ helpers

    @property
    def _n_features_out(self):
        """Size of a representation: names ``<classname>0`` ... for ``get_feature_names_out``/``set_output``."""
        return self.encoder_kwargs_["out_channels"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN right padding marks the end of shorter series
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # representations are always float32
        # with a fixed random_state, results are reproducible on CPU but not on CUDA
        tags.non_deterministic = self.device not in ("cpu", torch.device("cpu")) and torch.cuda.is_available()
        return tags

    def _validate_series(self, X, *, reset):
        """Validate X; with ``reset=False`` also check it against what fit saw."""
        X, lengths = check_series(X)
        if reset:
            self.n_channels_in_ = X.shape[1]
        elif X.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[1]} channel(s), but {type(self).__name__} was fitted with "
                f"{self.n_channels_in_} channel(s)."
            )
        return X, lengths

    def _seed_sequence(self, continuing, group=None):
        """Seed sequence for this fit; never touches the global numpy or torch state.

        In data-parallel training every rank uses rank 0's seed, so that all start from the same weights
        and draw the same triplets.
        """
        random_state = self.random_state
        if isinstance(random_state, np.random.RandomState):
            random_state = int(random_state.randint(np.iinfo(np.int32).max))
        elif random_state is not None:
            random_state = int(random_state)
        if group is not None:
            import torch.distributed as dist

            shared = [random_state if random_state is not None else np.random.SeedSequence().entropy]
            dist.broadcast_object_list(shared, src=0, group=group)
            random_state = shared[0]
        # a continuation (warm_start) draws new triplets rather than replaying the first fit's
        return np.random.SeedSequence(random_state, spawn_key=(self.n_steps_ if continuing else 0,))

    def _build_encoder(self, kwargs, seed, device):
        with torch.random.fork_rng(devices=[]):
            # the CPU generator alone: torch.manual_seed would also reseed every CUDA device's global generator
            torch.default_generator.manual_seed(seed)
            encoder = self._encoder_class(**kwargs)
        return encoder.to(device)

    def _make_optimizer(self):
        return torch.optim.Adam(self.encoder_.parameters(), lr=float(self.lr))  # a numpy lr could not be saved

    # ------------------------------------------------------------------ fitting

    def fit(self, X, y):
        """Train the encoder on all series (without labels), then the classifier on the labeled ones.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Training series; NaN right-padded where lengths differ.
        y : array-like of shape (n_series,)
            Labels of any type. Rows labeled ``-1`` (scikit-learn's
            semi-supervised convention) are unlabeled: they train the encoder
            only.

        Returns
        -------
        self
        """
        self._fit_and_encode(X, y, require_labels=True)
        return self

    def fit_encoder(self, X, y=None):
        """Train the encoder only, without labels.

        With ``warm_start=True`` and an encoder already fitted, training
        continues from it for ``nb_steps`` more steps; once a step has
        changed the encoder, the classifier fitted on the previous
        representations is removed (call :meth:`fit_classifier` again).

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Training series.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        self._fit_encoder(*check_series(X))
        return self

    def fit_classifier(self, X, y):
        """Fit the classifier on the representations of X computed by the fitted encoder.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series.
        y : array-like of shape (n_series,)
            Labels; rows labeled ``-1`` are ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        check_is_fitted(self, "encoder_")
        X_checked, lengths = self._validate_series(X, reset=False)
        y = check_labels(y, X_checked.shape[0])
        self._fit_classifier(self._encode(X_checked, lengths), y)
        return self

    def _fit_encoder(self, X, lengths):
        continuing = self.warm_start and hasattr(self, "encoder_")
        if continuing:
            self._check_continuation(X)
        group = self._process_group() if self.distributed else None
        seeds = self._seed_sequence(continuing, group)
        numpy_seed, torch_seed = seeds.spawn(2)
        device = resolve_device(self.device)
        if group is not None and device.type == "cuda" and device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))  # one GPU per process
        if not continuing:
            self._forget_fit()  # a failed fresh fit must not leave the previous fit's classifier behind
            self.device_ = device
            self.n_channels_in_ = X.shape[1]
            self.encoder_kwargs_ = self._encoder_kwargs(X.shape[1])
            self.encoder_ = self._build_encoder(
                self.encoder_kwargs_, int(torch_seed.generate_state(1)[0]), self.device_
            )
            self.optimizer_ = self._make_optimizer()
            self.history_ = np.empty(0)
            self.n_steps_ = 0
        else:
            if device != self.device_:
                # continue on the device asked for now (a GPU-trained model refined on the CPU, say); loading
                # the optimizer's state moves it to its parameters' device
                self.encoder_.to(device)
                optimizer_state = self.optimizer_.state_dict()
                self.optimizer_ = self._make_optimizer()
                self.optimizer_.load_state_dict(optimizer_state)
                self.device_ = device
            for param_group in self.optimizer_.param_groups:
                param_group["lr"] = float(self.lr)
        prior_history = self.history_
        prior_classifier = {key: self.__dict__[key] for key in self._CLASSIFIER_ATTRIBUTES if key in self.__dict__}
        applied = []  # train_encoder's live list of the losses of the steps that the weights hold
        written = []  # n_steps_ of the last checkpoint this fit wrote

        def callback(losses):
            applied[:] = [losses]
            if self.checkpoint is not None and len(losses) % self.checkpoint_every == 0:
                self._record_history(prior_history, _as_history(losses))
                self._forget_classifier()  # never saved beside an encoder it was not fitted on
                if self._write_checkpoint():
                    written[:] = [self.n_steps_]

        def settle(steps, write=True):
            """Record the steps the weights hold; the classifier goes unless the encoder is back where it was."""
            self._record_history(prior_history, steps)
            if len(steps):
                self._forget_classifier()
            else:  # no step kept: the encoder is the one the classifier was fitted on
                self.__dict__.update(prior_classifier)
            if self.checkpoint is not None and written != [self.n_steps_] and (write or written or len(steps)):
                self._write_checkpoint()  # unless the step callback has just written this very state

        try:
            history = train_encoder(
                self.encoder_,
                self.optimizer_,
                StepWindows(X, self.device_) if is_large(X) else to_device_data(X, self.device_),
                lengths,
                rng=np.random.default_rng(numpy_seed),
                nb_steps=self.nb_steps,
                batch_size=self.batch_size,
                nb_random_samples=self.nb_random_samples,
                negative_penalty=self.negative_penalty,
                compared_length=self.compared_length,
                save_memory=self.save_memory,
                verbose=self.verbose,
                first_step=self.n_steps_ + 1,
                keep_last_finite=continuing,
                callback=callback,
                process_group=group,
            )
        except TrainingDivergedError as exc:
            if not continuing:
                self._forget_fit()
                raise TrainingDivergedError(f"{exc} The estimator is left unfitted.", history=exc.history) from None
            settle(exc.history)  # back at the last finite weights, with the steps that were kept
            raise
        except BaseException:
            if not continuing:
                self._forget_fit()
            else:  # out of memory, a failing data source, ...: the steps applied so far stay
                settle(_as_history(applied[0]) if applied else np.empty(0), write=False)
            raise
        settle(history)
        if len(history) < self.nb_steps:
            warn(
                f"Training interrupted after {len(history)} of {self.nb_steps} steps; the estimator keeps the "
                + ("encoder trained so far." if self.n_steps_ else "encoder untrained (no step was done).")
                + " Continue with warm_start=True."
            )

    def _check_continuation(self, X):
        """A warm start continues the fitted encoder: its input channels and architecture must not change."""
        if X.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"warm_start: X has {X.shape[1]} channel(s) but the encoder was trained on {self.n_channels_in_}."
            )
        wanted = self._encoder_kwargs(X.shape[1])
        changed = [f"{key} {self.encoder_kwargs_.get(key)!r} -> {value!r}" for key, value in wanted.items()
                   # parameters of the initial weights only (forget_bias) do not matter to a continuation
                   if self.encoder_kwargs_.get(key) != value and key not in self._original_initialisation]
        if changed:
            raise ValueError(
                "warm_start=True continues the fitted encoder, but its architecture parameters have changed since "
                f"(fitted -> now: {', '.join(changed)}). Restore them, or set warm_start=False to train a new "
                "encoder."
            )

    def _process_group(self):
        """The default process group, initialised from torchrun's environment when needed."""
        import torch.distributed as dist

        if not dist.is_available():
            raise ValueError("distributed=True needs torch.distributed, which this PyTorch build lacks.")
        if not dist.is_initialized():
            if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
                raise ValueError(
                    "distributed=True needs a torch.distributed process group: launch the script with torchrun "
                    "(see the scaling guide), or call torch.distributed.init_process_group first."
                )
            backend = "nccl" if torch.cuda.is_available() and resolve_device(self.device).type == "cuda" else "gloo"
            dist.init_process_group(backend=backend)
        return dist.group.WORLD

    def _writes_files(self):
        """Only rank 0 writes checkpoints in data-parallel training."""
        if not self.distributed:
            return True
        import torch.distributed as dist

        return not dist.is_initialized() or dist.get_rank() == 0

    def _record_history(self, prior_history, history):
        self.history_ = np.concatenate([prior_history, history])
        self.n_steps_ = len(self.history_)

    def _forget_fit(self):
        """Remove every fitted attribute: the estimator is unfitted again."""
        for attribute in self._FITTED_ATTRIBUTES:
            self.__dict__.pop(attribute, None)

    def _forget_classifier(self):
        """Remove the classifier, fitted on the representations of an encoder that has since changed."""
        for attribute in self._CLASSIFIER_ATTRIBUTES:
            self.__dict__.pop(attribute, None)

    def _write_checkpoint(self):
        """Save the estimator to ``checkpoint`` (atomically); a failure warns and training goes on.

        Returns whether the file was written.
        """
        if not self._writes_files():
            return False
        try:
            save_estimator(self, self.checkpoint)
        except Exception as exc:  # a full disk must not cost the training run
            warn(
                f"could not write the checkpoint {os.fspath(self.checkpoint)!r}: {exc}; training goes on and the "
                "previous checkpoint, if any, is intact."
            )
            return False
        return True

    def _fit_classifier(self, features, y):
        labeled = ~unlabeled_mask(y)
        if not labeled.all():
            warn(
                f"{int((~labeled).sum())} series labeled -1 are treated as unlabeled (scikit-learn's "
                "semi-supervised convention): they trained the encoder but not the classifier. "
                "If -1 is a real class, relabel it."
            )
        check_two_classes(y)
        features, y = features[labeled], y[labeled]
        self.classifier_ = self._make_classifier(features, y)
        self.classes_ = self.classifier_.classes_

    def _make_classifier(self, features, y):
        """The original code's classifier choice, unless ``classifier`` is given."""
        if self.classifier is not None:
            return clone(self.classifier).fit(features, y)
        C = np.inf if self.penalty is None or self.penalty == 0 else 1.0 / self.penalty
        # scikit-learn seeds libsvm from the global numpy state unless given a seed; child 2 of this fit's
        # seed sequence, as children 0 and 1 seed the training (_fit_encoder)
        svm_seed = int(self._seed_sequence(continuing=False).spawn(3)[2].generate_state(1)[0] >> 1)
        svm = rbf_svm(C, random_state=svm_seed)
        _, counts = np.unique(y, return_counts=True)
        if self.penalty is not None or features.shape[0] < 50 or counts.min() < 5:
            return svm.fit(features, y)
        search = GridSearchCV(svm, {"C": list(SVM_C_GRID)}, cv=5, error_score=np.nan)
        if features.shape[0] > 10_000:
            # as the original: choose C, and fit the returned SVM, on a stratified subset of 10,000 series
            features, _, y, _ = train_test_split(features, y, train_size=10_000, random_state=0, stratify=y)
        with warnings.catch_warnings(record=True) as caught:
            # C=inf (hard margin) cannot fit folds that are not separable; such candidates score NaN and lose
            warnings.simplefilter("always", FitFailedWarning)
            search.fit(features, y)
        scores = search.cv_results_["mean_test_score"]
        only_hard_margin_failed = all(C == np.inf for C in search.cv_results_["param_C"][~np.isfinite(scores)])
        for warning in caught:
            message = str(warning.message)
            if issubclass(warning.category, FitFailedWarning):
                logger.info("SVM grid search: %s", message.splitlines()[1])
            elif only_hard_margin_failed and message.startswith("One or more of the test scores are non-finite"):
                # the expected failure above, already logged; the other candidates decide
                logger.info("SVM grid search: the hard-margin candidate (C=inf) scored NaN and was not chosen")
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        logger.info("SVM grid search chose C=%s", search.best_params_["C"])
        return search.best_estimator_

    # ------------------------------------------------------------------ encoding

    def _encode(self, X, lengths):
        return _check_finite_output(encode_series(self.encoder_, X, lengths, self.device_), X)

    def transform(self, X):
        """Representations of series computed by the trained encoder.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series of any lengths (NaN right-padded where they differ). A
            ``dask.array`` chunked along the series gives a ``dask.array``
            of representations computed on the workers (see
            :func:`tsrepr_sklearn.distributed.transform_dask`).

        Returns
        -------
        ndarray of shape (n_series, out_channels), dtype float32
            A pandas DataFrame instead after ``set_output(transform="pandas")``
            (columns named by :meth:`get_feature_names_out`).
        """
        check_is_fitted(self, "encoder_")
        if is_dask_array(X):  # lazy, computed on the blocks' workers
            return transform_dask(self, X)
        return self._encode(*self._validate_series(X, reset=False))

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the training set's representations.

        With classification labels this is ``fit(X, y).transform(X)``: the
        encoder, then the classifier. With ``y=None``, or a target that is
        not classification labels (a regression or multi-output target, as a
        Pipeline passes to a step before such a model), only the encoder is
        trained: the triplet loss needs no labels.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Training series.
        y : array-like of shape (n_series,) or (n_series, n_outputs), or None, default=None
            Labels, another target, or None.
        **fit_params : dict
            Unused; accepted for scikit-learn compatibility.

        Returns
        -------
        ndarray of shape (n_series, out_channels), dtype float32
        """
        return self._fit_and_encode(X, y, require_labels=False)

    def _fit_and_encode(self, X, y, *, require_labels):
        """Validate, train the encoder, encode the training set, fit the classifier when labeled.

        Labels are checked before training, so bad labels never cost a training run.
        """
        self._validate_params()
        X_checked, lengths = check_series(X)
        if not require_labels and y is not None and is_regression_target(y):
            # a Pipeline passes its target to every step: before a regressor or a multi-output model, the
            # representations are still wanted, and the T-Loss needs no labels
            check_consistent_length(X_checked, y)
            logger.info("fit_transform: y is not a classification target; only the encoder is trained.")
            y = None
        if y is not None or require_labels:
            y = check_labels(y, X_checked.shape[0])
            check_two_classes(y)  # before training, so that such labels never cost a training run
        self._fit_encoder(X_checked, lengths)
        features = self._encode(X_checked, lengths)
        if y is not None:
            self._fit_classifier(features, y)
            if self.checkpoint is not None:  # the last checkpoint is then the complete model
                self._write_checkpoint()
        return features

    def encode_window(self, X, window, stride=1):
        """Representations of all sliding windows of every series, as the original ``encode_window``.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series.
        window : int
            Window length (at least 1, at most the longest series' length).
        stride : int, default=1
            Step between consecutive windows.

        Returns
        -------
        ndarray of shape (n_series, out_channels, n_windows), dtype float32
            Window ``w`` covers time steps ``[w * stride, w * stride + window)``;
            ``n_windows = (length - window) // stride + 1``. Windows that do
            not fit in a shorter series are NaN.
        """
        check_is_fitted(self, "encoder_")
        X_checked, lengths = self._validate_series(X, reset=False)
        for name, value in (("window", window), ("stride", stride)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if window > lengths.max():
            raise ValueError(f"window={window} is longer than the longest series ({int(lengths.max())} time steps).")
        features = encode_windows(self.encoder_, X_checked, lengths, int(window), int(stride), self.device_)
        n_valid = np.where(lengths >= window, (lengths - window) // stride + 1, 0)
        valid_windows = np.arange(features.shape[2]) < n_valid[:, np.newaxis]
        return _check_finite_output(features, X_checked, valid_windows)

    # ------------------------------------------------------------------ prediction

    def predict(self, X):
        """Predict labels of series.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series.

        Returns
        -------
        ndarray of shape (n_series,)
            Labels, of the type given to ``fit``.
        """
        return self._classifier_output("predict", X)

    def _classifier_output(self, method, X):
        check_is_fitted(self, "classifier_")
        return getattr(self.classifier_, method)(self.transform(X))

    @available_if(_classifier_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, when the classifier provides them.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series.

        Returns
        -------
        ndarray of shape (n_series, n_classes)
        """
        return self._classifier_output("predict_proba", X)

    @available_if(_classifier_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the classifier.

        Parameters
        ----------
        X : array-like of shape (n_series, length) or (n_series, n_channels, length), or list of arrays
            Series.

        Returns
        -------
        ndarray of shape (n_series,) or (n_series, n_classes)
        """
        return self._classifier_output("decision_function", X)

    # ------------------------------------------------------------------ pickling

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return the live __dict__
        if "encoder_" in state:
            state["encoder_"] = {k: v.detach().cpu() for k, v in self.encoder_.state_dict().items()}
            state["optimizer_"] = optimizer_state_to_cpu(self.optimizer_.state_dict())
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        encoder_state = state.get("encoder_")
        if isinstance(encoder_state, dict):
            state = dict(state)
            restore = {key: state.pop(key) for key in ("encoder_", "encoder_kwargs_", "device_", "optimizer_")}
            super().__setstate__(state)
            self._restore_encoder(restore)
        else:
            super().__setstate__(state)

    def _restore_encoder(self, state):
        """Rebuild ``encoder_`` (and ``optimizer_``) from CPU tensors, on the saved device if available."""
        try:
            device = resolve_device(state["device_"])
        except ValueError:  # a CUDA device this machine lacks (resolve_device's own check)
            logger.info("Model trained on %s loaded on the CPU (this machine has no such CUDA device).",
                        state["device_"])
            device = torch.device("cpu")
        with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten: keep the global state
            encoder = self._encoder_class(**state["encoder_kwargs_"])
        encoder.load_state_dict(state["encoder_"])
        self.encoder_kwargs_ = state["encoder_kwargs_"]
        self.encoder_ = encoder.to(device).eval()
        self.device_ = device
        self.optimizer_ = self._make_optimizer()
        if state.get("optimizer_") is not None:
            self.optimizer_.load_state_dict(state["optimizer_"])

    # ------------------------------------------------------------------ files

    def save(self, path):
        """Save the fitted estimator in the safe on-disk format.

        See :func:`tsrepr_sklearn.persistence.save_estimator`.

        Parameters
        ----------
        path : str or os.PathLike
            Destination file.
        """
        save_estimator(self, path)

    @classmethod
    def load(cls, path, *, trust_pickled_classifier=False):
        """Load an estimator saved with :meth:`save`; never runs code from the file by default.

        The default classifier (an RBF ``SVC``) comes back fitted; another
        classifier is stored pickled and comes back only with
        ``trust_pickled_classifier=True``.

        See :func:`tsrepr_sklearn.persistence.load_estimator`.

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.
        trust_pickled_classifier : bool, default=False
            Also unpickle a fitted classifier other than ``SVC`` (only for
            trusted files: unpickling can run arbitrary code).

        Returns
        -------
        estimator
        """
        estimator = load_estimator(path, trust_pickled_classifier=trust_pickled_classifier)
        if not isinstance(estimator, cls):
            raise ValueError(f"{path!r} holds a {type(estimator).__name__}, not a {cls.__name__}.")
        return estimator

    @classmethod
    def from_original(cls, hyperparameters, encoder_path=None):
        """Build an estimator from the original code's hyper-parameters (and trained encoder).

        Keys map to the parameters of the same name; ``cuda``/``gpu`` map to
        ``device`` (``"cuda:<gpu>"`` or ``"cpu"``); ``in_channels`` is the
        number of channels of the encoder in ``encoder_path`` (the estimators
        otherwise read it from the data); ``early_stopping`` is ignored with a
        warning, because training here always runs ``nb_steps`` steps; keys of
        the other architecture are ignored with a warning. A ``compared_length``
        of ``Infinity`` (the original's ``numpy.inf``, no limit) becomes ``None``.

        Parameters
        ----------
        hyperparameters : str, os.PathLike or dict
            The original ``*_hyperparameters.json`` file, or its content.
        encoder_path : str or os.PathLike, default=None
            The original ``*_encoder.pth`` file (``torch.save`` of the encoder's
            ``state_dict``, float64, deprecated weight-norm keys). It is read
            with ``weights_only=True``. The estimator then has a fitted encoder
            computing the original network's representations (in float32):
            ``transform`` works and ``fit_classifier`` can follow.

        Returns
        -------
        estimator

        Examples
        --------
        >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
        >>> clf = CausalCNNEncoderClassifier.from_original({"channels": 40, "depth": 10, "cuda": False, "gpu": 0})
        >>> clf.device
        'cpu'
        """
        original = read_original_hyperparameters(hyperparameters)
        valid = cls().get_params()
        params, ignored = dict(cls._original_initialisation), []
        for key, value in original.items():
            if key in ("cuda", "gpu", "in_channels", "early_stopping"):
                continue
            if key == "compared_length" and isinstance(value, numbers.Real) and math.isinf(value) and value > 0:
                value = None  # the original's numpy.inf (JSON Infinity): no limit
            if key in valid:
                params[key] = value
            else:
                ignored.append(key)
        if "cuda" in original:
            params["device"] = f"cuda:{original.get('gpu', 0)}" if original["cuda"] else "cpu"
        if original.get("early_stopping") is not None:
            warn("early_stopping is ignored: training runs nb_steps steps.")
        if ignored:
            warn(f"ignored hyper-parameters of another architecture: {sorted(ignored)}")
        estimator = cls(**params)
        estimator._validate_params()
        if encoder_path is not None:
            in_channels = int(original.get("in_channels", 1))
            device = resolve_device("auto") if estimator.device == "auto" else torch.device(estimator.device)
            estimator._restore_encoder(
                {
                    "encoder_": load_original_state_dict(encoder_path, cls._architecture),
                    "encoder_kwargs_": estimator._encoder_kwargs(in_channels),
                    "device_": device,
                }
            )
            estimator.n_channels_in_ = in_channels
            estimator.history_ = np.empty(0)
            estimator.n_steps_ = 0
        return estimator


def _check_finite_output(features, X, valid_windows=None):
    """Refuse NaN or infinite representations (they come from data of extreme magnitude), naming the series.

    For sliding windows ``(n_series, out_channels, n_windows)``, ``valid_windows`` (n_series, n_windows)
    tells which windows lie inside their series; the others are NaN by design.
    """
    if valid_windows is not None:
        bad = (~np.isfinite(features).all(axis=1) & valid_windows).any(axis=1)
    else:
        bad = ~np.isfinite(features).all(axis=1)
    if not bad.any():
        return features
    first = int(np.flatnonzero(bad)[0])
    largest = float(np.nanmax(np.abs(np.asarray(X[first], dtype=np.float64))))
    raise ValueError(
        f"The encoder produced non-finite representations for {int(bad.sum())} series (first: series {first}, "
        f"whose largest absolute value is {largest:.3g}): rescale the series, e.g. with znormalize or "
        "ChannelScaler from tsrepr_sklearn.preprocessing."
    )

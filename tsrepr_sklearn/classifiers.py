"""The public estimators: which encoder they build, and its parameters."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from .base import BaseEncoderClassifier
from .networks import CausalCNNEncoder, LSTMEncoder

__all__ = ["CausalCNNEncoderClassifier", "LSTMEncoderClassifier"]

_SHARED_PARAMETERS_DOC = """
    compared_length : int or None, default=None
        Maximum length of the subseries drawn for the triplet loss (``None``:
        the series' length). Set it for long series.
    nb_random_samples : int, default=10
        Number ``K`` of negative subseries per anchor.
    negative_penalty : float, default=1.0
        Weight of the negative terms of the loss.
    batch_size : int, default=10
        Number of anchors per optimisation step.
    nb_steps : int, default=1500
        Number of optimisation steps (Adam).
    lr : float, default=0.001
        Learning rate of Adam.
    penalty : float or None, default=None
        Classifier: with ``None``, an RBF SVM (``gamma="scale"``) whose ``C``
        is chosen by 5-fold cross-validated grid search over
        ``{1e-4, ..., 1e4, inf}`` when there are at least 50 labeled series
        and at least 5 per class, and ``C=inf`` otherwise (as in the
        original code); with a number ``p``, ``C = 1 / p`` (``inf`` for 0).
    classifier : scikit-learn classifier or None, default=None
        Replaces the SVM; cloned at fit.
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...; resolved at fit.
    save_memory : bool, default=False
        Backpropagate the loss term by term (lower peak memory, same
        gradients, slower).
    random_state : int, RandomState instance or None, default=None
        Seeds the encoder's initialisation, the batches and the triplets.
        The global numpy and torch random states are never used.
    verbose : int, default=0
        Show a progress bar with the running loss during training when
        positive.
    warm_start : bool, default=False
        Continue training the fitted encoder (and its optimizer) on the next
        fit instead of starting anew.
    checkpoint : str, os.PathLike or None, default=None
        File to save the estimator to every ``checkpoint_every`` steps and
        at the end of training (including an interrupted one), in the format
        of :meth:`save`, with the optimizer state. Writes are atomic (a new
        file replaces the old one only once complete), and a failed write
        warns without stopping training. Resume with
        ``load(checkpoint)``, ``set_params(warm_start=True, nb_steps=...)``
        and ``fit``.
    checkpoint_every : int, default=100
        Steps between two checkpoints.
    distributed : bool, default=False
        Data-parallel training with ``torch.distributed`` across the
        processes of a job launched with ``torchrun`` (or after
        ``torch.distributed.init_process_group``): every process calls
        ``fit`` with the same data; each encodes its share of every batch and
        the gradients of the whole batch are summed over the processes, so
        the result is the single-process result (up to float rounding) in
        less time per step. Only rank 0 writes checkpoints. See the scaling
        guide.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    encoder_ : torch.nn.Module
        The trained encoder.
    encoder_kwargs_ : dict
        Arguments it was built with.
    optimizer_ : torch.optim.Adam
        Its optimizer (used by ``warm_start``).
    classifier_ : estimator
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_channels_in_ : int
        Number of channels of the training series.
    history_ : ndarray of shape (n_steps,)
        Training loss of every step.
    n_steps_ : int
        Number of optimisation steps done.
    device_ : torch.device
        Device the encoder lives on.
"""


class CausalCNNEncoderClassifier(BaseEncoderClassifier):
    __doc__ = (
        """Dilated causal CNN encoder trained with the triplet loss, followed by a classifier.

    The method of Franceschi, Dieuleveut & Jaggi, *Unsupervised Scalable
    Representation Learning for Multivariate Time Series* (NeurIPS 2019). The
    encoder is trained without labels; ``transform`` gives fixed-size
    representations of series of any length, and ``predict`` classifies them.
    Defaults are the paper's settings for the UCR archive.

    Parameters
    ----------"""
        + _SHARED_PARAMETERS_DOC
        + """    channels : int, default=40
        Channels of the hidden causal convolution blocks.
    depth : int, default=10
        Number of hidden blocks (dilations 1, 2, ..., 2**(depth-1)).
    reduced_size : int, default=160
        Channels of the last block, max-pooled over time.
    out_channels : int, default=320
        Size of the representations.
    kernel_size : int, default=3
        Kernel size of the causal convolutions.
"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn import CausalCNNEncoderClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(size=(10, 30)), rng.normal(size=(10, 30)) + np.sin(np.arange(30))])
    >>> y = np.repeat(["noise", "sine"], 10)
    >>> clf = CausalCNNEncoderClassifier(nb_steps=5, channels=4, depth=2, reduced_size=4,
    ...                                  out_channels=4, device="cpu", random_state=0).fit(X, y)
    >>> clf.transform(X).shape
    (20, 4)
    >>> clf.predict(X[:2]).shape
    (2,)
    """
    )

    _parameter_constraints: dict = {
        **BaseEncoderClassifier._parameter_constraints,
        "channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "depth": [Interval(numbers.Integral, 0, None, closed="left")],
        "reduced_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "out_channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }
    _encoder_class = CausalCNNEncoder
    _architecture = "CausalCNN"

    def __init__(
        self,
        *,
        compared_length=None,
        nb_random_samples=10,
        negative_penalty=1.0,
        batch_size=10,
        nb_steps=1500,
        lr=0.001,
        channels=40,
        depth=10,
        reduced_size=160,
        out_channels=320,
        kernel_size=3,
        penalty=None,
        classifier=None,
        device="auto",
        save_memory=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        checkpoint=None,
        checkpoint_every=100,
        distributed=False,
    ):
        self.compared_length = compared_length
        self.nb_random_samples = nb_random_samples
        self.negative_penalty = negative_penalty
        self.batch_size = batch_size
        self.nb_steps = nb_steps
        self.lr = lr
        self.channels = channels
        self.depth = depth
        self.reduced_size = reduced_size
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.penalty = penalty
        self.classifier = classifier
        self.device = device
        self.save_memory = save_memory
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed

    def _encoder_kwargs(self, n_channels):
        return dict(
            in_channels=n_channels,
            channels=self.channels,
            depth=self.depth,
            reduced_size=self.reduced_size,
            out_channels=self.out_channels,
            kernel_size=self.kernel_size,
        )


class LSTMEncoderClassifier(BaseEncoderClassifier):
    __doc__ = (
        """LSTM encoder trained with the triplet loss, followed by a classifier.

    The LSTM variant of Franceschi, Dieuleveut & Jaggi (NeurIPS 2019): the
    representation is a linear map of the last hidden state of a stacked LSTM.
    Unequal lengths are handled exactly by packing the padded series.

    Parameters
    ----------"""
        + _SHARED_PARAMETERS_DOC
        + """    hidden_size : int, default=256
        Hidden size of the LSTM.
    num_layers : int, default=2
        Number of stacked LSTM layers.
    out_channels : int, default=160
        Size of the representations.
    forget_bias : float or None, default=1.0
        Initial forget-gate bias of the LSTM. ``None`` keeps PyTorch's default
        initialisation, as the original code did; with it, the encoder
        forgets all but the last 20 or so time steps and does not learn longer
        dependencies (see :class:`~tsrepr_sklearn.networks.LSTMEncoder`).
"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from tsrepr_sklearn import LSTMEncoderClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=n) for n in (12, 20, 15, 9)]
    >>> clf = LSTMEncoderClassifier(nb_steps=3, hidden_size=4, num_layers=1, out_channels=2,
    ...                             device="cpu", random_state=0).fit(X, [0, 1, 0, 1])
    >>> clf.transform(X).shape
    (4, 2)
    """
    )

    _parameter_constraints: dict = {
        **BaseEncoderClassifier._parameter_constraints,
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "out_channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "forget_bias": [Interval(numbers.Real, None, None, closed="neither"), None],
    }
    _encoder_class = LSTMEncoder
    _architecture = "LSTM"
    _original_initialisation = {"forget_bias": None}

    def __init__(
        self,
        *,
        compared_length=None,
        nb_random_samples=10,
        negative_penalty=1.0,
        batch_size=10,
        nb_steps=1500,
        lr=0.001,
        hidden_size=256,
        num_layers=2,
        out_channels=160,
        forget_bias=1.0,
        penalty=None,
        classifier=None,
        device="auto",
        save_memory=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        checkpoint=None,
        checkpoint_every=100,
        distributed=False,
    ):
        self.compared_length = compared_length
        self.nb_random_samples = nb_random_samples
        self.negative_penalty = negative_penalty
        self.batch_size = batch_size
        self.nb_steps = nb_steps
        self.lr = lr
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.out_channels = out_channels
        self.forget_bias = forget_bias
        self.penalty = penalty
        self.classifier = classifier
        self.device = device
        self.save_memory = save_memory
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed

    def _encoder_kwargs(self, n_channels):
        return dict(
            in_channels=n_channels,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            out_channels=self.out_channels,
            forget_bias=self.forget_bias,
        )

"""scikit-learn's estimator checks on both estimators, with tiny fast settings."""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_classifiers_train, check_transformer_general, parametrize_with_checks

from tsrepr_sklearn import CausalCNNEncoderClassifier, LSTMEncoderClassifier
from tsrepr_sklearn.preprocessing import ChannelScaler

# penalty=1.0 skips the SVM grid search (tested in test_estimators.py) to keep the checks fast
TINY_CNN = CausalCNNEncoderClassifier(
    penalty=1.0,
    nb_steps=4, batch_size=8, nb_random_samples=2, channels=4, depth=1, reduced_size=4, out_channels=4, device="cpu"
)
TINY_LSTM = LSTMEncoderClassifier(
    penalty=1.0,
    nb_steps=4, batch_size=8, nb_random_samples=2, hidden_size=4, num_layers=1, out_channels=4, device="cpu"
)

_ANY_LENGTH = (
    "series of any length are accepted by transform/predict (the encoder is length-agnostic), so a "
    "2-D X with another number of columns is valid input, not an error; the fitted input is described "
    "by n_channels_in_ rather than n_features_in_"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _ANY_LENGTH,
    "check_n_features_in_after_fitting": _ANY_LENGTH,
    # these two end by requiring an error for a different number of columns; everything before passes
    "check_classifiers_train": _ANY_LENGTH,
    "check_transformer_general": _ANY_LENGTH,
    "check_estimators_pickle": (
        "allow_nan is True because NaN right padding marks shorter series, but this check puts NaN at "
        "random places, which is rejected with a clear error; pickling is tested in test_estimators.py"
    ),
    "check_methods_subset_invariance": (
        "representations are computed in float32 and matrix products of different batch sizes round "
        "differently, at the 1e-6 relative level, above this check's 1e-7 tolerance; "
        "test_estimators.py checks subset invariance at 1e-5"
    ),
    "check_classifiers_classes": (
        "uses -1 as a class label, which the estimators treat as 'unlabeled' (scikit-learn's "
        "semi-supervised convention), leaving a single class: a clear ValueError is raised"
    ),
}


_SCALER_FAILED_CHECKS = (
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_transformer_general",
    "check_estimators_pickle",
)


def expected_failed_checks(estimator):
    if isinstance(estimator, ChannelScaler):  # a transformer of series of any length, like the estimators
        return {name: EXPECTED_FAILED_CHECKS[name] for name in _SCALER_FAILED_CHECKS}
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks([TINY_CNN, TINY_LSTM, ChannelScaler()], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [TINY_CNN, TINY_LSTM], ids=["cnn", "lstm"])
@pytest.mark.parametrize("check, kind", [(check_classifiers_train, "classifier"),
                                         (check_transformer_general, "transformer")])
def test_expected_failures_fail_only_at_the_any_length_step(estimator, check, kind):
    """These checks are expected failures because of their last step (another number of columns must be an
    error); everything before it, e.g. training accuracy above 0.83, must pass, so the failure must be that step."""
    with pytest.raises(AssertionError, match=f"The {kind} est does not raise an error when the number of features"):
        check("est", clone(estimator))

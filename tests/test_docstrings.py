"""Every public object has a complete numpydoc docstring with an Examples section.

Public objects are the names in ``__all__`` of the modules below; for the two
estimator classes, their public methods are checked as well. Only the error
codes in ``CHECKED_CODES`` are enforced (see ``numpydoc.validate`` for their
meaning), with the exemptions described in :func:`_expected_failures`.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate")

MODULES = [
    "tsrepr_sklearn.networks",
    "tsrepr_sklearn.sampling",
    "tsrepr_sklearn.losses",
    "tsrepr_sklearn.training",
    "tsrepr_sklearn.encoding",
    "tsrepr_sklearn.validation",
    "tsrepr_sklearn.persistence",
    "tsrepr_sklearn.plotting",
    "tsrepr_sklearn.cli",
    "tsrepr_sklearn.datasets",
    "tsrepr_sklearn.preprocessing",
    "tsrepr_sklearn.classifiers",
    "tsrepr_sklearn.streaming",
    "tsrepr_sklearn.distributed",
]

ESTIMATORS = [
    "tsrepr_sklearn.classifiers.CausalCNNEncoderClassifier",
    "tsrepr_sklearn.classifiers.LSTMEncoderClassifier",
]

ESTIMATOR_METHODS = [
    "fit",
    "fit_encoder",
    "fit_classifier",
    "transform",
    "fit_transform",
    "encode_window",
    "predict",
    "predict_proba",
    "decision_function",
    "save",
    "load",
    "from_original",
]

#: GL08 no docstring, PR01 parameter not documented, PR02 unknown parameter
#: documented, RT01 no Returns section, EX01 no Examples section.
CHECKED_CODES = ("GL08", "PR01", "PR02", "RT01", "EX01")


def _public_objects():
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names.extend(f"{module_name}.{name}" for name in module.__all__)
    methods = [f"{estimator}.{method}" for estimator in ESTIMATORS for method in ESTIMATOR_METHODS]
    return names, methods


PUBLIC_OBJECTS, ESTIMATOR_METHOD_NAMES = _public_objects()


def _resolve(name):
    module_name, _, attribute = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except ModuleNotFoundError:
        owner = _resolve(module_name)
        return inspect.getattr_static(owner, attribute)


def _ignored_codes(name, *, is_method):
    """Codes not enforced for ``name``: RT01 for classes, EX01 for estimator methods."""
    ignored = set()
    if not is_method and inspect.isclass(_resolve(name)):
        ignored.add("RT01")
    if is_method:
        ignored.add("EX01")
    return ignored


def _check(name, *, is_method):
    result = validate.validate(name)
    ignored = _ignored_codes(name, is_method=is_method)
    errors = [(code, message) for code, message in result["errors"] if code in CHECKED_CODES and code not in ignored]
    if errors:
        details = "\n".join(f"  {name}: {code} {message}" for code, message in errors)
        pytest.fail(f"numpydoc found {len(errors)} docstring error(s) in {name}:\n{details}", pytrace=False)


def test_public_objects_are_found():
    assert len(PUBLIC_OBJECTS) >= 30
    for name in PUBLIC_OBJECTS + ESTIMATOR_METHOD_NAMES:
        assert _resolve(name) is not None, name


@pytest.mark.parametrize("name", PUBLIC_OBJECTS)
def test_public_object_docstring(name):
    _check(name, is_method=False)


@pytest.mark.parametrize("name", ESTIMATOR_METHOD_NAMES)
def test_estimator_method_docstring(name):
    _check(name, is_method=True)

"""Warnings attributed to the user's code, whichever path inside the package raised them."""

from __future__ import annotations

import sys
import warnings

#: Frames skipped: this package's, and scikit-learn's set_output wrapper around our ``transform`` and
#: ``fit_transform`` (the user called our method; the wrapper is in between).
_SKIPPED_MODULES = ("tsrepr_sklearn", "sklearn.utils._set_output")


def _skipped(frame):
    name = frame.f_globals.get("__name__", "")
    return any(name == module or name.startswith(module + ".") for module in _SKIPPED_MODULES)


def warn(message, category=UserWarning):
    """``warnings.warn`` pointing at the first caller outside this package.

    A warning can be raised at different depths (``save`` or ``save_estimator``,
    ``fit`` or a checkpoint written during training): a fixed ``stacklevel``
    is right for only one of them. This is Python 3.12's
    ``skip_file_prefixes``, by module name, for every Python version we
    support. Called through a Pipeline or a search, the warning points at
    scikit-learn's code that called us, as any warning raised in ``fit`` does.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and _skipped(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)

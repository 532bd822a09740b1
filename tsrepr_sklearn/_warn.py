"""Warnings attributed to the user's code, whichever path inside the package raised them."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """``warnings.warn`` pointing at the first caller outside this package.

    A warning can be raised at different depths (``save`` or ``save_estimator``,
    ``fit`` or a checkpoint written during training): a fixed ``stacklevel``
    is right for only one of them. This is Python 3.12's
    ``skip_file_prefixes``, for the Python versions we support.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)

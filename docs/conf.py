"""Sphinx configuration: numpydoc API reference, MyST pages, examples executed at build time.

Build (offline, warnings are errors)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import tsrepr_sklearn  # noqa: E402

project = "tsrepr-sklearn"
author = "the tsrepr-sklearn developers"
copyright = "2026, the tsrepr-sklearn developers"
release = version = tsrepr_sklearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# API reference
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# MyST: ``$ command`` blocks and heading anchors for in-page links
myst_heading_anchors = 3

# examples: executed at every build; figures are part of the page
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.figsize": (9, 3.6)}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Unsupervised representations of time series for scikit-learn"}

"""``python -m tsrepr_sklearn``: the command line, as ``tsrepr-sklearn``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

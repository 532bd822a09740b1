#!/usr/bin/env bash
# The whole test suite on the oldest releases pyproject.toml admits (the newest patch release of each
# floor), in a throw-away virtual environment. Not part of CI: it downloads PyPI's torch 2.2.2 (a CUDA
# build with its NVIDIA libraries, about 5 GB installed), since the CPU-only wheels are not on PyPI.
#
# Usage, from anywhere:  bash scripts/check_oldest_deps.sh
#   PYTHON  interpreter to build the environment with (default python3; any of 3.10, 3.11)
#   VENV    where to build it (default ${TMPDIR:-/tmp}/tsrepr-oldest-deps; reused when there)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-${TMPDIR:-/tmp}/tsrepr-oldest-deps}
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
# the floors of pyproject.toml's dependencies, then test-only libraries old enough for numpy 1.24
printf '%s\n' torch==2.2.2 numpy==1.24.4 scikit-learn==1.6.1 joblib==1.2.0 tqdm==4.60.0 \
    'scipy<1.12' 'pandas<2.1' 'matplotlib<3.9' 'contourpy<1.3' >"$constraints"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet -c "$constraints" torch
"$VENV/bin/pip" install --quiet -c "$constraints" -e ".[test]"
"$VENV/bin/python" -c "import sys, torch, numpy, sklearn, joblib, tqdm
print('python', sys.version.split()[0], '| torch', torch.__version__, '| numpy', numpy.__version__,
      '| scikit-learn', sklearn.__version__, '| joblib', joblib.__version__, '| tqdm', tqdm.__version__)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider

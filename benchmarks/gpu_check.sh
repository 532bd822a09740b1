#!/usr/bin/env bash
# When a GPU is lent: the GPU tests, then the speed benchmarks on CUDA, results written to
# benchmarks/results/ (and copied to $OUT when set, for the device tool). A few minutes in all.
#
# Usage, from anywhere:  bash benchmarks/gpu_check.sh
#   PYTHON   interpreter (default: .venv/bin/python if there, else python3: the device machine has no
#            .venv but a python3 with torch, numpy, scikit-learn, joblib, tqdm and pytest; the package
#            itself is imported from the checkout, nothing is installed)
#   DEVICE   cuda (default); DEVICE=cpu runs the same steps on the CPU, to check the script itself
#   RESULTS  folder for the reports (default benchmarks/results)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
DEVICE=${DEVICE:-cuda}
RESULTS=${RESULTS:-benchmarks/results}
STAMP=$(date +%Y-%m-%d)
export PYTHONUNBUFFERED=1
status=0
if [ "$DEVICE" = cuda ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
fi
"$PYTHON" -c "import sys, torch, sklearn, numpy; print('python', sys.version.split()[0], '| torch', torch.__version__,
      '| cuda', torch.version.cuda, torch.cuda.is_available(), '| scikit-learn', sklearn.__version__,
      '| numpy', numpy.__version__)" || exit 1
"$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py tests/test_losses.py tests/test_estimators.py \
    || status=1
for bench in "training --steps 24" "encoding --n-series 2000" "scaling --steps 5"; do
    set -- $bench
    "$PYTHON" "benchmarks/bench_$1.py" --device "$DEVICE" "${@:2}" --output "$RESULTS/$1_${DEVICE}_${STAMP}.json" \
        || status=1
done
if [ -n "${OUT:-}" ]; then cp "$RESULTS"/*_"${DEVICE}_${STAMP}".* "$OUT"/ 2>/dev/null || true; fi
exit $status

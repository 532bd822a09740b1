#!/usr/bin/env bash
# When a GPU is lent: the GPU tests, then the speed benchmarks on CUDA, results written to
# benchmarks/results/ (and copied to $OUT when set, for the device tool). A few minutes in all.
# Usage: bash benchmarks/gpu_check.sh            (from the repository root, with .venv set up)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
STAMP=$(date +%Y-%m-%d)
status=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
$PY -m pytest -q -rs tests/test_cuda.py tests/test_losses.py tests/test_estimators.py || status=1
$PY benchmarks/bench_training.py --device cuda --steps 24 --output "training_cuda_${STAMP}.json" || status=1
$PY benchmarks/bench_encoding.py --device cuda --n-series 2000 --output "encoding_cuda_${STAMP}.json" || status=1
$PY benchmarks/bench_scaling.py --device cuda --steps 5 --output "scaling_cuda_${STAMP}.json" || status=1
if [ -n "${OUT:-}" ]; then cp benchmarks/results/*cuda_"${STAMP}".* "$OUT"/ 2>/dev/null || true; fi
exit $status

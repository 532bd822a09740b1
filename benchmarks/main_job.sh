#!/usr/bin/env bash
# The README's main job (train on GunPoint with the paper's settings), run under /usr/bin/time -v, its
# output and wall time / peak memory written with the machine and the command to
# benchmarks/results/main_job_<device>_<date>.md. The model goes to a temporary folder.
# Usage: bash benchmarks/main_job.sh [--device cpu] ...   (from the repository root, with .venv set up;
#        arguments are passed on to `tsrepr-sklearn fit`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DEVICE=cpu
for ((i = 1; i <= $#; i++)); do
    if [ "${!i}" = "--device" ]; then j=$((i + 1)); DEVICE=${!j%%:*}; fi
done
OUTFILE="benchmarks/results/main_job_${DEVICE}_$(date +%Y-%m-%d).md"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
COMMAND=(tsrepr-sklearn fit --dataset GunPoint --quiet --output "$WORK/GunPoint-causal_cnn.pt" "$@")
/usr/bin/time -v "$(dirname "$PY")/tsrepr-sklearn" "${COMMAND[@]:1}" >"$WORK/out.txt" 2>"$WORK/time.txt"
{
    echo '```'
    echo "README main job, timed"
    echo "date     : $(date -Iseconds)"
    echo "command  : /usr/bin/time -v ${COMMAND[*]}" | sed "s#$WORK#<tmp>#"
    echo "machine  : $($PY -c 'import platform, os, torch; print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, torch {torch.__version__}, {torch.get_num_threads()} threads")')"
    echo "cpu      : $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "load     : $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min load averages when it ended)"
    echo
    sed "s#$WORK#<tmp>#" "$WORK/out.txt"
    echo
    grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$WORK/time.txt" | sed 's/^\t//'
    echo '```'
} >"$OUTFILE"
cat "$OUTFILE"

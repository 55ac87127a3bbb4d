#!/usr/bin/env bash
# Data-parallel throughput of `fas train` on this machine: training steps per second with N = 1
# and N = 2 ranks (one thread per rank; N = 1 also with 2 threads, the same cores as N = 2), from
# the second epoch of a short run (the first pays for start-up and first-touch allocation).
# Usage: bench/mpi_scaling.sh [BUILD_DIR] [MODEL:BATCH:ITEMS ...]
#   default models: mobilenetv2-lite:32:192 stacked-ae:16:192 (AE1, stage 1), 128x128 inputs.
# Prints a markdown table and the load average (the machine may be shared: note it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(mobilenetv2-lite:32:192 stacked-ae:16:192)
FAS=$BUILD/fas
OUT=$BUILD/mpi_scaling
DATA=data/sample/train.txt
export OMP_WAIT_POLICY=passive
rm -rf "$OUT"
# seconds and steps of the last epoch in a history.json
last_epoch() { python3 -c "
import json,sys; h=json.load(open(sys.argv[1]))['epochs']; e=h[-1]; p=h[-2] if len(h)>1 else {'step':0}
print(e['seconds'], e['step']-p['step'])" "$1"; }
echo "load before: $(uptime)"
echo
echo "| model | batch | N ranks x threads | steps | s/epoch | steps/s | items/s | vs N=1x1 |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "${MODELS[@]}"; do
  IFS=: read -r model batch items <<<"$spec"
  base=""
  for cfg in 1x1 1x2 2x1; do
    n=${cfg%x*} t=${cfg#*x}
    o=$OUT/$model-$cfg
    args=(train --model "$model" --data "$DATA" --limit "$items" --batch "$batch" --epochs 2 --augment none
          --threads "$t" --quiet --out "$o")
    if [ "$n" = 1 ]; then "$FAS" "${args[@]}"; else
      mpirun -np "$n" --oversubscribe --allow-run-as-root "$FAS" "${args[@]}"; fi
    read -r secs steps < <(last_epoch "$o/history.json")
    sps=$(python3 -c "print('%.3f' % ($steps / $secs))")
    [ -n "$base" ] || base=$sps
    echo "| $model | $batch | $n x $t | $steps | $(printf %.2f "$secs") | $sps | $(python3 -c "print('%.1f' % ($steps * $batch / $secs))") | $(python3 -c "print('%.2f' % ($sps / $base))") |"
  done
done
echo
echo "load after: $(uptime)"

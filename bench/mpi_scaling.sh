#!/usr/bin/env bash
# Data-parallel throughput of `fas train` on this machine: training steps per second with N = 1
# and N = 2 ranks (one thread per rank; N = 1 also with 2 threads, the same cores as N = 2).
# Steps/s over epochs 2..E of a short run (the first pays for start-up and first-touch
# allocation), in ROUNDS interleaved rounds (the order of the three set-ups reversed every other
# round); per round the ratio to 1 x 1, then the median of the rounds. A single run does not
# settle a ratio on a shared or virtual machine: the same build has given 1.59x and 1.87x in
# consecutive runs (docs/experiments/EXP-135).
# Usage: bench/mpi_scaling.sh [BUILD_DIR] [MODEL:BATCH:ITEMS[:EPOCHS] ...]   (ROUNDS=3 by default)
#   ITEMS: a number (--limit of data/sample/train.txt), or liveN: the first N live images of the
#   sample, for models that train on live images only, so that every batch is full (a last batch
#   of one image costs a 2-rank step as much as a full one).
#   default: mobilenetv2-lite:32:192:8 stacked-ae:16:192:8 (AE1, stage 1), 128x128 inputs.
# Prints a markdown table and the load average (the machine may be shared: note it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(mobilenetv2-lite:32:192:8 stacked-ae:16:192:8)
ROUNDS=${ROUNDS:-3}
FAS=$BUILD/fas
OUT=$BUILD/mpi_scaling
DATA=data/sample/train.txt
export OMP_WAIT_POLICY=passive
rm -rf "$OUT" && mkdir -p "$OUT"
# steps/s over every epoch but the first of a history.json
steps_per_s() { python3 -c "
import json,sys; h=json.load(open(sys.argv[1]))['epochs']
print('%.4f' % ((h[-1]['step'] - h[0]['step']) / sum(e['seconds'] for e in h[1:])))" "$1"; }
run() {  # MODEL BATCH ITEMS EPOCHS N THREADS -> steps/s
  local o=$OUT/run data=(--data "$DATA" --limit "$3")
  if [[ $3 == live* ]]; then
    grep ' 1$' "$DATA" | head -n "${3#live}" | sed "s|^|$PWD/data/sample/|" >"$OUT/$3.txt"
    data=(--data "$OUT/$3.txt")
  fi
  rm -rf "$o"
  local args=(train --model "$1" "${data[@]}" --batch "$2" --epochs "$4" --augment none --threads "$6" --quiet --out "$o")
  if [ "$5" = 1 ]; then "$FAS" "${args[@]}"; else
    mpirun -np "$5" --oversubscribe --allow-run-as-root "$FAS" "${args[@]}"; fi
  steps_per_s "$o/history.json"
}
median() { python3 -c "import statistics,sys; print('%.2f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
# One clear line for a malformed spec, before any run.
for spec in "${MODELS[@]}"; do
  IFS=: read -r model batch items epochs <<<"$spec"
  [[ -n $model && $batch =~ ^[1-9][0-9]*$ && $items =~ ^(live)?[1-9][0-9]*$ && ${epochs:-2} =~ ^[0-9]+$ && ${epochs:-2} -ge 2 ]] || {
    echo "mpi_scaling: '$spec' is not MODEL:BATCH:ITEMS[:EPOCHS] (ITEMS a number or liveN, EPOCHS >= 2: the first is not timed)" >&2
    exit 2
  }
done
echo "load before: $(uptime)"
echo
echo "| model | batch | items | N ranks x threads | steps/s per round | vs 1 x 1 per round | median vs 1 x 1 |"
echo "|---|---|---|---|---|---|---|"
for spec in "${MODELS[@]}"; do
  IFS=: read -r model batch items epochs <<<"$spec"
  epochs=${epochs:-2}
  declare -A sps=()
  for r in $(seq "$ROUNDS"); do
    cfgs=(1x1 1x2 2x1)
    [ $((r % 2)) = 1 ] || cfgs=(2x1 1x2 1x1)
    for cfg in "${cfgs[@]}"; do sps[$cfg]+="$(run "$model" "$batch" "$items" "$epochs" "${cfg%x*}" "${cfg#*x}") "; done
  done
  read -ra base <<<"${sps[1x1]}"
  for cfg in 1x1 1x2 2x1; do
    read -ra v <<<"${sps[$cfg]}"
    ratios=()
    for i in "${!v[@]}"; do ratios+=("$(python3 -c "print('%.2f' % (${v[$i]} / ${base[$i]}))")"); done
    echo "| $model | $batch | $items | ${cfg%x*} x ${cfg#*x} | ${v[*]} | ${ratios[*]} | **$(median "${ratios[@]}")** |"
  done
  unset sps
done
echo
echo "load after: $(uptime)"

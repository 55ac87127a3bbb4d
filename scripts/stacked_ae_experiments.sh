#!/bin/sh
# Spec 000 §0 experiments on NUAA face crops: E1 random init, no dropout, no augmentation;
# E2 + augmentation; E3 + augmentation + dropout; E4/E5 greedy AE pre-training (the four AEs are
# E4) then CNN8 from the encoders, fine-tuned with augmentation + dropout (as E3, so only the
# initialisation differs). Each run is evaluated on the test list at threshold 0.5 (the
# validation list is the test list here, so neither best-epoch selection nor the EER threshold
# is used: the last checkpoint is evaluated).
#   scripts/stacked_ae_experiments.sh [--data-dir DIR] OUT [SIZE] [LIMIT] [CNN_EPOCHS] [AE_EPOCHS]
# --data-dir DIR (or DATA=DIR): the prepared NUAA directory (docs/data.md; default ../shared/data/nuaa).
# RUNS="e1 e2 e3 e5" (the default) chooses the experiments, e.g. RUNS="e1 e2 e3" and RUNS=e5 in
# two shells to use two cores (then THREADS=1 each). EXTRA="flags" adds fas train flags to every
# stage, e.g. EXTRA="--set normalize=equalize" (every stage must share the input normalisation).
set -eu
FAS=${FAS:-build/fas}
DATA=${DATA:-../shared/data/nuaa}
if [ "${1:-}" = --data-dir ]; then DATA=${2:?--data-dir needs a directory}; shift 2; fi
out=$1 size=${2:-128} limit=${3:-0} ep=${4:-20} ae_ep=${5:-10}
threads="--threads ${THREADS:-2}"
common="--size $size $threads"
[ "$limit" -gt 0 ] && common="$common --limit $limit"
common="$common ${EXTRA:-}"
eval_limit=${EVAL_LIMIT:-$limit}  # the test subset scored by eval (0 = all)
ecommon=$threads
[ "$eval_limit" -gt 0 ] && ecommon="$ecommon --limit $eval_limit"
train=${TRAIN:-$DATA/faces_train.txt} test=${TEST:-$DATA/faces_test.txt}  # TRAIN / TEST: other lists
val=${VAL:-$test}  # the list of the per-epoch curves (e.g. a subset of the test list, to save time)
run() {  # name, fas train flags...
  name=$1; shift
  echo "== $name"
  # shellcheck disable=SC2086
  "$FAS" train --data "$train" --val "$val" --epochs "$ep" --out "$out/$name" $common "$@"
}
evaluate() {
  # shellcheck disable=SC2086
  "$FAS" eval --ckpt "$1/last.safetensors" --data "$test" --threshold 0.5 --out "$1/eval" $ecommon
}
runs=${RUNS:-e1 e2 e3 e5}
for e in $runs; do  # every name checked before anything trains
  case $e in e1|e2|e3|e5) ;; *) echo "stacked_ae_experiments.sh: unknown run '$e' (e1 e2 e3 e5)" >&2; exit 2 ;; esac
done
for e in $runs; do
  case $e in
    e1) run e1 --model cnn8 --set dropout=0 --augment none ;;
    e2) run e2 --model cnn8 --set dropout=0 ;;
    e3) run e3 --model cnn8 ;;
    # shellcheck disable=SC2086
    e5) FAS=$FAS sh "$(dirname "$0")/stacked_ae_pipeline.sh" "$train" "$val" "$out/e5" "$ae_ep" "$ep" $common ;;
  esac
done
for e in $runs; do
  [ "$e" = e5 ] || { evaluate "$out/$e"; continue; }
  evaluate "$out/e5/cnn8"
  for k in 1 2 3 4; do  # E4: inputs above reconstructions (through the frozen decoders)
    # shellcheck disable=SC2086
    "$FAS" eval --ckpt "$out/e5/ae$k/last.safetensors" --data "$test" --out "$out/e5/ae$k/eval" $ecommon
  done
done

#!/bin/sh
# MobileNetV2-lite (spec 003) on the NUAA face crops: train on faces_train.txt, evaluate the last
# checkpoint on faces_test.txt with the training graph, the float inference engine and the int8
# engine (calibrated on 256 training images). The test list is passed as --val only to draw the
# per-epoch curves: the last checkpoint is evaluated at the fixed threshold 0.5, so nothing is
# selected on it (no best-epoch choice, no tuned threshold, no plateau schedule). VAL=LIST draws
# the curves on another list instead (e.g. a subset of the test list, to save time).
# AUG= and SCHED= replace the augmentation and the lr schedule (AUG=recipe: spec 003 §3.4 only).
# With --ema DECAY among the flags, the averaged weights (OUT/ema.safetensors) are evaluated.
#   scripts/mobilenet_nuaa.sh [--data-dir DIR] OUT [SIZE] [EPOCHS] [extra fas train flags...]
# --data-dir DIR (or DATA=DIR): the prepared NUAA directory (docs/data.md; default ../shared/data/nuaa).
set -eu
FAS=${FAS:-build/fas}
DATA=${DATA:-../shared/data/nuaa}
if [ "${1:-}" = --data-dir ]; then DATA=${2:?--data-dir needs a directory}; shift 2; fi
out=$1 size=${2:-128} epochs=${3:-36}
shift; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
train=$DATA/faces_train.txt test=$DATA/faces_test.txt val=${VAL:-$DATA/faces_test.txt}
"$FAS" train --model mobilenetv2-lite --data "$train" --val "$val" --size "$size" --epochs "$epochs" \
  --set bn_momentum=0.99 --lr-schedule "${SCHED:-cosine:0.01}" \
  --augment "${AUG:-flip=0.5,rotate=30,shift=0.1,zoom=0.15,brightness=0.2,contrast=0.3,noise=0.02@0.5}" \
  --out "$out" "$@"
ckpt=$out/last.safetensors
[ -f "$out/ema.safetensors" ] && ckpt=$out/ema.safetensors
for e in graph float int8; do
  "$FAS" eval --ckpt "$ckpt" --data "$test" --threshold 0.5 --engine $e \
    --calib "$train" --out "$out/eval_$e"
done

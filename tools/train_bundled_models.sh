#!/usr/bin/env bash
# Trains the checkpoints bundled in models/ (served by `fas serve` with no flags and scored by
# tools/demo.sh): lbp-lr and mobilenetv2-lite on NUAA's faces_train.txt, recipe defaults, seed 42,
# then evaluates each and their fusion on faces_test.txt (threshold 0.5, nothing chosen on it).
#   tools/train_bundled_models.sh [NUAA_DIR] [MNV2_EPOCHS]
# MNV2_EPOCHS (default 2) shortens mobilenetv2-lite's 30-epoch recipe: the full recipe takes over
# an hour on a shared 2-core machine; models/README.md states the count used.
# Environment: FAS (default build/fas), OUT (scratch directory, default out/bundled).
set -euo pipefail
cd "$(dirname "$0")/.."
nuaa=${1:-../shared/data/nuaa}
epochs=${2:-2}
fas=${FAS:-build/fas}
out=${OUT:-out/bundled}
mkdir -p "$out" models
"$fas" train --model lbp-lr --data "$nuaa/faces_train.txt" --threads 1 --out "$out/lbp-lr" > "$out/lbp-lr.log" 2>&1 &
lbp=$!
"$fas" train --model mobilenetv2-lite --data "$nuaa/faces_train.txt" --epochs "$epochs" --threads 1 \
  --out "$out/mobilenetv2-lite" > "$out/mobilenetv2-lite.log" 2>&1
wait "$lbp"
cp "$out/lbp-lr/last.safetensors" models/lbp-lr.safetensors
cp "$out/mobilenetv2-lite/last.safetensors" models/mobilenetv2-lite.safetensors
for m in lbp-lr mobilenetv2-lite; do
  "$fas" eval --ckpt "models/$m.safetensors" --data "$nuaa/faces_test.txt" --threshold 0.5 --out "$out/eval-$m"
done
"$fas" eval --ckpt models/lbp-lr.safetensors --ckpt models/mobilenetv2-lite.safetensors \
  --data "$nuaa/faces_test.txt" --threshold 0.5 --out "$out/eval-fused"
ls -l models/*.safetensors

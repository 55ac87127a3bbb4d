#!/usr/bin/env bash
# Trains the checkpoints bundled in models/ (served by `fas serve` with no flags and scored by
# tools/demo.sh): lbp-lr and mobilenetv2-lite on NUAA's faces_train.txt, recipe defaults, seed 42,
# then evaluates each and their fusion on faces_test.txt (threshold 0.5, nothing chosen on it).
#   tools/train_bundled_models.sh [NUAA_DIR] [MNV2_EPOCHS]
# mobilenetv2-lite: the recipe of docs/models/mobilenetv2-lite.md (3x128x128, bn_momentum 0.99,
# 30 epochs; MNV2_EPOCHS shortens it for a quick try). About 15 min on 2 idle cores.
# Environment: FAS (default build/fas), OUT (scratch directory, default out/bundled).
set -euo pipefail
cd "$(dirname "$0")/.."
nuaa=${1:-../shared/data/nuaa}
epochs=${2:-30}
fas=${FAS:-build/fas}
out=${OUT:-out/bundled}
mkdir -p "$out" models
"$fas" train --model lbp-lr --data "$nuaa/faces_train.txt" --threads 1 --out "$out/lbp-lr" > "$out/lbp-lr.log" 2>&1 &
lbp=$!
"$fas" train --model mobilenetv2-lite --data "$nuaa/faces_train.txt" --size 128 --set bn_momentum=0.99 \
  --epochs "$epochs" --batch 32 --threads 1 \
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

#!/bin/sh
# Spec 004's auto-decoder on two groups of NUAA faces: subject 0001's live faces (group 0) and the
# same subject's printed photos (group 1), resized to 256x256. Trains the per-image codes and the
# decoder, then projects held-out faces of both groups (decoder frozen) and the training faces
# themselves, and decodes the presets. Every step is seeded.
#   scripts/autodecoder_nuaa.sh [--data-dir DIR] OUT [TRAIN_PER_GROUP] [EPOCHS]
# --data-dir DIR (or DATA=DIR): the prepared NUAA directory (docs/data.md; default ../shared/data/nuaa).
# Images are taken in list order: the first TRAIN_PER_GROUP (default 32) of each group train, the
# next 8 of each are held out. SEED (default 42) seeds the training: some initial draws lose a
# whole layer of dead ReLUs in the first steps and then decode one flat colour (EXP-055).
set -eu
DATA=${DATA:-../shared/data/nuaa}
if [ "${1:-}" = --data-dir ]; then DATA=${2:?--data-dir needs a directory}; shift 2; fi
OUT=${1:?usage: scripts/autodecoder_nuaa.sh [--data-dir DIR] OUT [TRAIN_PER_GROUP] [EPOCHS]}
K=${2:-32} EPOCHS=${3:-300} SEED=${SEED:-42}
FAS=${FAS:-build/fas}
mkdir -p "$OUT"
DATA=$(cd "$DATA" && pwd)
pick() {  # pattern first count -> absolute list lines
  grep "$1" "$DATA/faces_train.txt" | sed -n "$2,$(($2 + $3 - 1))p" | sed "s|^|$DATA/|"
}
pick ClientFace/0001/ 1 "$K" > "$OUT/live.txt"
pick ImposterFace/0001/ 1 "$K" > "$OUT/print.txt"
{ pick ClientFace/0001/ $((K + 1)) 8; pick ImposterFace/0001/ $((K + 1)) 8; } > "$OUT/held_out.txt"
cat "$OUT/live.txt" "$OUT/print.txt" > "$OUT/train_all.txt"
$FAS train --model autodecoder --data "$OUT/live.txt" --data2 "$OUT/print.txt" --set images=$((2 * K)) \
  --epochs "$EPOCHS" --seed "$SEED" --out "$OUT/run"
$FAS project --ckpt "$OUT/run/last.safetensors" --data "$OUT/held_out.txt" --out "$OUT/project_held_out"
$FAS project --ckpt "$OUT/run/last.safetensors" --data "$OUT/train_all.txt" --limit 16 --out "$OUT/project_train"
for p in mean group:0 group:1 image:0 random; do
  $FAS generate --ckpt "$OUT/run/last.safetensors" --preset "$p" --out "$OUT/gen_$(echo "$p" | tr : _).png"
done
$FAS generate --ckpt "$OUT/run/last.safetensors" --interpolate 0,$K --frames 8 --out "$OUT/interpolate.png"
$FAS generate --ckpt "$OUT/run/last.safetensors" --hybrid 0,$K --dims 0,1,2,3,4,5,6,7,8,9,10,11,12 --out "$OUT/hybrid.png"

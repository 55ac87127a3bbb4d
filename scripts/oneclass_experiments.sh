#!/bin/sh
# Spec 001's one-class models on NUAA (docs/models/dcvae.md, docs/experiments/EXP-050..051): train
# on the live images of faces_train.txt only, score faces_test.txt, threshold = 0.95 quantile of
# the scores of the live training images (nothing chosen on the test list), per-subject errors;
# then the latent analysis (PCA, Gaussian mixtures of 1..128 components on the live training latents).
#   sh scripts/oneclass_experiments.sh MODEL SEED [OUT_ROOT]     MODEL: dcvae | resvae | ganomaly
# EXTRA='--set width_mult=1 --set latent=512' appends to the training options (the later --set wins).
set -eu
MODEL=$1
SEED=$2
ROOT=${3:-runs}
NUAA=${NUAA:-../shared/data/nuaa}
FAS=${FAS:-build/fas}
OUT=$ROOT/${MODEL}_s$SEED
case $MODEL in
  # Small widths for 2 CPU cores; lr raised from the recipe's (1e-4 / 2e-5 over the thesis' 60 000 /
  # 75 000 steps) because these runs take a few hundred steps.
  dcvae | resvae) ARGS="--set width_mult=0.125 --set latent=128 --epochs 8 --batch 32 --lr 1e-3" ;;
  ganomaly) ARGS="--set width_mult=0.0625 --set latent=128 --epochs 5 --batch 16 --lr 2e-4" ;;
  *) echo "usage: $0 dcvae|resvae|ganomaly SEED [OUT_ROOT]" >&2; exit 1 ;;
esac
ARGS="$ARGS ${EXTRA:-}"
# shellcheck disable=SC2086
$FAS train --model "$MODEL" $ARGS --data "$NUAA/faces_train.txt" --threads 2 --seed "$SEED" --out "$OUT"
$FAS eval --ckpt "$OUT/last.safetensors" --data "$NUAA/faces_test.txt" --val "$NUAA/faces_train.txt" \
  --live-quantile 0.95 --group-by '/([0-9]{4})_' --threads 2 --out "$OUT/eval"
$FAS latent --ckpt "$OUT/last.safetensors" --data "$NUAA/faces_train.txt" --test "$NUAA/faces_test.txt" \
  --threads 2 --out "$OUT/latent"

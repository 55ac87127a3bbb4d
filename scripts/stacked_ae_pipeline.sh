#!/bin/sh
# Spec 000 §2 as one command: greedy layer-wise pre-training of AE1..AE4 (each on the frozen
# code of the previous ones), then CNN8 initialised from the eight encoder convs and fine-tuned.
# Each stage writes its own checkpoints, history and loss plot under OUT/<stage>/.
#   scripts/stacked_ae_pipeline.sh TRAIN_LIST VAL_LIST OUT [AE_EPOCHS] [CNN_EPOCHS] [extra fas train flags...]
# e.g. scripts/stacked_ae_pipeline.sh $NUAA/faces_train.txt $NUAA/faces_test.txt runs/e5 10 20 (NUAA: docs/data.md)
set -eu
FAS=${FAS:-build/fas}
train=$1 val=$2 out=$3
ae_epochs=${4:-10} cnn_epochs=${5:-20}
shift 3; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
from=""
for k in 1 2 3 4; do
  set_from=""
  [ -n "$from" ] && set_from="--set from=$from"
  echo "== stage ae$k"
  # shellcheck disable=SC2086
  "$FAS" train --model stacked-ae --set stage=$k $set_from --data "$train" --val "$val" \
    --epochs "$ae_epochs" --out "$out/ae$k" "$@"
  from="$out/ae$k/last.safetensors"
done
echo "== stage cnn8 (fine-tune)"
"$FAS" train --model cnn8 --set init="$from" --data "$train" --val "$val" --epochs "$cnn_epochs" \
  --out "$out/cnn8" "$@"

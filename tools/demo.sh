#!/usr/bin/env bash
# The README's main command: install the dependencies, build the CLI, train the small conv
# classifier on the bundled NUAA sample (best epoch and threshold chosen on val.txt), then
# evaluate it on the sample's test list. Everything lands in out/demo/ (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
bash tools/setup.sh
bash tools/build.sh fas_cli
./build/fas train --model tiny-cnn --data data/sample/train.txt --val data/sample/val.txt --out "$out"
./build/fas eval --ckpt "$out/best.safetensors" --data data/sample/test.txt --out "$out/eval"
echo "demo: metrics, plots and checkpoints are in $out/ (eval results in $out/eval/)"

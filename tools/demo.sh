#!/usr/bin/env bash
# The README's main command: install the dependencies, build the CLI, then
#  1. score the bundled sample's 200 test faces (NUAA, capture sessions the models never saw) with
#     the bundled checkpoints in models/ (lbp-lr and mobilenetv2-lite, fused by their mean live
#     log-odds, threshold 0.5): the liveness check `fas serve` runs, with its metrics and plots;
#  2. train a small classifier of your own on the sample and evaluate it the same way.
# Everything lands in out/demo/ (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
bash tools/setup.sh
bash tools/build.sh fas_cli
echo "== 1. the bundled liveness models on the sample's test faces"
./build/fas eval --ckpt models/lbp-lr.safetensors --ckpt models/mobilenetv2-lite.safetensors \
  --data data/sample/test.txt --threshold 0.5 --out "$out/bundled"
echo "== 2. a small model trained here on the sample's training faces"
./build/fas train --model tiny-cnn --data data/sample/train.txt --val data/sample/val.txt --out "$out/tiny-cnn"
./build/fas eval --ckpt "$out/tiny-cnn/best.safetensors" --data data/sample/test.txt --out "$out/tiny-cnn/eval"
echo "demo: results in $out/bundled/ (bundled models) and $out/tiny-cnn/ (trained here);"
echo "      the web service with the same models: ./build/fas serve   (then open http://127.0.0.1:8080/)"

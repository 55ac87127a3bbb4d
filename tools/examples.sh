#!/usr/bin/env bash
# Builds and runs examples/ as another project would use fas (called by .ci/run after the tests):
#   1. add_subdirectory: examples/ against this source tree; train_sample trains on the bundled
#      sample and saves a checkpoint;
#   2. find_package: fas installed from build/ into a temporary prefix; infer loads a checkpoint
#      that `fas train` wrote and scores sample images; fas_example (C, the C API) scores the
#      bundled faces with a model `fas export` wrote.
# Expects build/ to hold a Release build (tools/build.sh). Prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake -S examples -B "$tmp/sub" -DCMAKE_BUILD_TYPE=Release -DFAS_SOURCE_DIR="$PWD" >/dev/null
cmake --build "$tmp/sub" -j2 --target train_sample >/dev/null
"$tmp/sub/train_sample" data/sample/train.txt "$tmp/example.safetensors"
test -s "$tmp/example.safetensors"

cmake --install build --prefix "$tmp/prefix" >/dev/null
cmake -S examples -B "$tmp/pkg" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/pkg" -j2 --target infer >/dev/null
build/fas train --model tiny-cnn --data data/sample/train.txt --epochs 1 --out "$tmp/run" --quiet
"$tmp/pkg/infer" "$tmp/run/last.safetensors" data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg \
  data/sample/faces/ImposterFace/0001/0001_00_00_01_0.jpg | tee "$tmp/infer.out"
test "$(grep -c 'P(live) = ' "$tmp/infer.out")" = 2
# The C example through the installed library's C API, on a model `fas export` wrote.
cmake --build "$tmp/pkg" -j2 --target fas_example >/dev/null
build/fas export --ckpt models/lbp-lr.safetensors --out "$tmp/lbp.fasm" >/dev/null
"$tmp/pkg/fas_example" "$tmp/lbp.fasm" examples/c/face_live.ppm examples/c/face_spoof.ppm | tee "$tmp/c.out"
test "$(grep -c 'P(live) = ' "$tmp/c.out")" = 2
echo "examples: all built and ran ($(( $(date +%s) - start )) s)"

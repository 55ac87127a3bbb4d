#!/bin/sh
# The minimal deployment build (cmake -DFAS_MINIMAL=ON, docs/deploy.md) against the full build,
# natively (ctest DeployMinimalBuild runs it):
#   1. `fas export` the bundled models: mobilenetv2-lite float and int8 (calibrated on the
#      sample's training list), lbp-lr;
#   2. configure and build the minimal build (libfas_min.a, the C example, min_check) in OUT,
#      with run-time dispatch and scalar-only (FAS_MINIMAL_SCALAR); for each:
#   3. min_check: the kernels under every ISA against the scalar references, each model under
#      every ISA, a corrupt copy refused;
#   4. the C example on the two bundled faces against `fas predict` of the full build on the same
#      images (its scalar path for the scalar-only build): the float and int8 engines
#      bit-identical, lbp-lr (the full build scores its graph, whose GEMM sums in another order)
#      within 1e-5;
#   5. prints the stripped sizes and each model's RAM (weights + arena);
#   6. W-IQA: fits a small wiqa-lda (24 sample faces), exports it, builds the minimal build with
#      FAS_MINIMAL_WIQA=ON and checks it as in 3-5 on two 640x480 grey frames (written here as
#      PGM: a smooth and a noisy synthetic frame) against `fas predict`, within 1e-5.
# Usage: tools/minimal_check.sh [FAS_BINARY [OUT_DIR]]   (defaults build/fas, build/deploy_minimal)
set -eu
cd "$(dirname "$0")/.."
FAS=${1:-build/fas}
OUT=${2:-build/deploy_minimal}
start=$(date +%s)
mkdir -p "$OUT/models"
M=$OUT/models
IMAGES="examples/c/face_live.ppm examples/c/face_spoof.ppm"
CALIB="--calib data/sample/train.txt --calib-n 64"
"$FAS" export --ckpt models/mobilenetv2-lite.safetensors --out "$M/mobilenetv2-lite.fasm" >/dev/null
"$FAS" export --ckpt models/mobilenetv2-lite.safetensors --engine int8 $CALIB --out "$M/mobilenetv2-lite-int8.fasm" >/dev/null
"$FAS" export --ckpt models/lbp-lr.safetensors --out "$M/lbp-lr.fasm" >/dev/null
check() {  # label, fasm, tolerance, fas predict arguments
  label=$1 model=$2 tol=$3
  shift 3
  "$FAS" predict "$@" $IMAGES >"$OUT/full.txt"
  "$B/fas_example" "$model" $IMAGES >"$OUT/min.txt"
  python3 tools/compare_scores.py "$OUT/full.txt" "$OUT/min.txt" "$tol" "$label"
}
sizes() {  # label; the build in $B
  strip -o "$B/fas_example.stripped" "$B/fas_example"
  strip --strip-unneeded -o "$B/libfas_min.stripped.a" "$B/libfas_min.a"
  lib=$(stat -c %s "$B/libfas_min.stripped.a") ex=$(stat -c %s "$B/fas_example.stripped")
  echo "$1: sizes (stripped): libfas_min.a $lib bytes, fas_example $ex bytes, together $((lib + ex)) bytes"
}
# The default build (run-time dispatch, compared with the full build's default path), then the
# scalar-only one (FAS_MINIMAL_SCALAR, compared with the full build's FAS_ISA=scalar).
for variant in dispatch scalar; do
  B=$OUT/build-$variant
  if [ $variant = scalar ]; then opt=ON; export FAS_ISA=scalar; else opt=OFF; unset FAS_ISA; fi
  cmake -S . -B "$B" -DFAS_MINIMAL=ON -DFAS_MINIMAL_SCALAR=$opt -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$B" -j2 >/dev/null
  "$B/min_check" "$M/mobilenetv2-lite.fasm" "$M/mobilenetv2-lite-int8.fasm" "$M/lbp-lr.fasm"
  check "$variant: mobilenetv2-lite float" "$M/mobilenetv2-lite.fasm" 0 --ckpt models/mobilenetv2-lite.safetensors --engine float
  check "$variant: mobilenetv2-lite int8" "$M/mobilenetv2-lite-int8.fasm" 0 --ckpt models/mobilenetv2-lite.safetensors --engine int8 $CALIB
  check "$variant: lbp-lr" "$M/lbp-lr.fasm" 1e-5 --ckpt models/lbp-lr.safetensors
  sizes "$variant"
done
unset FAS_ISA
# W-IQA (FAS_MINIMAL_WIQA=ON; OFF in the two builds above, whose sizes are the default's).
"$FAS" train --model wiqa-lda --data data/sample/train.txt --limit 24 --quiet --out "$OUT/wiqa" >/dev/null
"$FAS" export --ckpt "$OUT/wiqa/best.safetensors" --out "$M/wiqa-lda.fasm" >/dev/null
python3 - "$OUT" <<'PY'
import math, random, sys
random.seed(1)
for name, noise in (("smooth", 4), ("noisy", 60)):
    px = bytes(max(0, min(255, int(128 + 90 * math.sin(x / 37.0) * math.cos(y / 23.0) + random.gauss(0, noise))))
               for y in range(480) for x in range(640))
    open(f"{sys.argv[1]}/frame_{name}.pgm", "wb").write(b"P5\n640 480\n255\n" + px)
PY
B=$OUT/build-wiqa
cmake -S . -B "$B" -DFAS_MINIMAL=ON -DFAS_MINIMAL_WIQA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 >/dev/null
"$B/min_check" "$M/wiqa-lda.fasm" "$M/lbp-lr.fasm"
IMAGES="$OUT/frame_smooth.pgm $OUT/frame_noisy.pgm"
check "wiqa: wiqa-lda" "$M/wiqa-lda.fasm" 1e-5 --ckpt "$OUT/wiqa/best.safetensors"
sizes "wiqa (FAS_MINIMAL_WIQA=ON)"
"$B/fas_example" "$M/wiqa-lda.fasm" "$OUT/frame_smooth.pgm" | sed -n 1p
for f in "$M"/mobilenetv2-lite.fasm "$M"/mobilenetv2-lite-int8.fasm "$M"/lbp-lr.fasm; do "$OUT/build-dispatch/fas_example" "$f" examples/c/face_live.ppm | sed -n 1p; done
echo "minimal_check.sh: passed ($(( $(date +%s) - start )) s)"

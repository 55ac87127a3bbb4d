#!/bin/sh
# The minimal deployment build (FAS_MINIMAL, docs/deploy.md) on ARM, under qemu user-mode
# emulation (.ci/run calls this after the native tests):
#   aarch64 (g++-aarch64-linux-gnu): min_check -- every NEON kernel of the minimal build against
#     its scalar reference, and each exported model under NEON against the scalar path -- then
#     the C example on the bundled faces, whose P(live) must match the x86-64 full build's
#     `fas predict` (its SIMD path): float and lbp-lr within 1e-5, int8 within 0.05 (the float
#     stem rounds differently with and without fused multiply-adds and can move an int8
#     activation by a step: on the bundled spoof face x86 scalar and AVX2 differ by 0.043 in
#     P(live), EXP-100; aarch64 has matched AVX2 exactly here);
#   armhf (g++-arm-linux-gnueabihf, ARMv7): the same with the scalar kernels (the NEON files are
#     A64-only; see CMakeLists.txt), against the x86-64 full build's scalar path (FAS_ISA=scalar):
#     int8 bit-identical, float and lbp-lr within 1e-5.
# Installs the cross compilers and qemu-user if missing (Debian bookworm). The models are
# exported by the native build's fas (FAS, default build/fas: build it first, tools/build.sh).
# Usage: tools/arm_check.sh [OUT_DIR]   (default build-arm). Prints how long it took.
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
OUT=${1:-build-arm}
FAS=${FAS:-build/fas}
JOBS=${JOBS:-2}
missing=""
for p in g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -x "$FAS" ] || { echo "arm_check.sh: $FAS missing: build fas first (tools/build.sh)" >&2; exit 1; }
M=$OUT/models
mkdir -p "$M"
IMAGES="examples/c/face_live.ppm examples/c/face_spoof.ppm"
CALIB="--calib data/sample/train.txt --calib-n 64"
"$FAS" export --ckpt models/mobilenetv2-lite.safetensors --out "$M/mobilenetv2-lite.fasm" >/dev/null
"$FAS" export --ckpt models/mobilenetv2-lite.safetensors --engine int8 $CALIB --out "$M/mobilenetv2-lite-int8.fasm" >/dev/null
"$FAS" export --ckpt models/lbp-lr.safetensors --out "$M/lbp-lr.fasm" >/dev/null
# The x86-64 full build's scores of the bundled faces, on its default (SIMD) and scalar paths.
for isa in default scalar; do
  if [ $isa = default ]; then unset FAS_ISA; else export FAS_ISA=scalar; fi
  "$FAS" predict --ckpt models/mobilenetv2-lite.safetensors --engine float $IMAGES >"$M/float.$isa.txt"
  "$FAS" predict --ckpt models/mobilenetv2-lite.safetensors --engine int8 $CALIB $IMAGES >"$M/int8.$isa.txt"
  "$FAS" predict --ckpt models/lbp-lr.safetensors $IMAGES >"$M/lbp.$isa.txt"
done
unset FAS_ISA
for arch in aarch64 armhf; do
  t0=$(date +%s)
  if [ $arch = aarch64 ]; then triple=aarch64-linux-gnu proc=aarch64 qemu=qemu-aarch64 ref=default int8_tol=0.05
  else triple=arm-linux-gnueabihf proc=armv7l qemu=qemu-arm ref=scalar int8_tol=0; fi
  B=$OUT/$arch
  cmake -S . -B "$B" -DFAS_MINIMAL=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=$proc \
    -DCMAKE_C_COMPILER=$triple-gcc -DCMAKE_CXX_COMPILER=$triple-g++ >/dev/null
  cmake --build "$B" -j"$JOBS" >/dev/null
  run="$qemu -L /usr/$triple"
  # A time limit turns an emulator hang into a failure instead of a stuck run.
  timeout 600 $run "$B/min_check" "$M/mobilenetv2-lite.fasm" "$M/mobilenetv2-lite-int8.fasm" "$M/lbp-lr.fasm"
  for m in float int8 lbp; do
    case $m in
      float) f=mobilenetv2-lite.fasm tol=1e-5 ;;
      int8) f=mobilenetv2-lite-int8.fasm tol=$int8_tol ;;
      lbp) f=lbp-lr.fasm tol=1e-5 ;;
    esac
    timeout 300 $run "$B/fas_example" "$M/$f" $IMAGES >"$B/$m.txt"
    python3 tools/compare_scores.py "$M/$m.$ref.txt" "$B/$m.txt" $tol "$arch $f vs x86-64 full build ($ref path)"
  done
  $triple-strip -o "$B/fas_example.stripped" "$B/fas_example"
  $triple-strip --strip-unneeded -o "$B/libfas_min.stripped.a" "$B/libfas_min.a"
  echo "$arch: stripped libfas_min.a $(stat -c %s "$B/libfas_min.stripped.a") bytes, fas_example" \
       "$(stat -c %s "$B/fas_example.stripped") bytes; build and checks $(( $(date +%s) - t0 )) s"
done
echo "arm_check.sh: aarch64 (NEON) and armhf (scalar) passed under qemu ($(( $(date +%s) - start )) s)"

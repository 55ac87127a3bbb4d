#!/usr/bin/env bash
# Runs the AVX-512 kernels' tests on a CPU without AVX-512: a second build whose *_avx512.cpp
# files are compiled over SIMDe's portable implementation of the AVX-512 intrinsics (Debian
# libsimde-dev; CMake option FAS_AVX512_EMULATE, which also reports AVX-512 as available), then
# the kernel tests (they loop over every available ISA, now including avx512) and the op, layer,
# golden and model tests with FAS_ISA=avx512 so the ops dispatch to those kernels.
# This checks the kernels' logic (lanes, masks, tails, permutes, reductions) as the intrinsics
# are specified; it says nothing about speed on AVX-512 hardware. On a CPU with AVX-512 the
# normal build's tests already run the real instructions.
#   tools/avx512_emulated.sh [build-dir]      (default build-avx512emu; JOBS=N, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-avx512emu}
JOBS=${JOBS:-2}
[ -f /usr/include/simde/x86/avx512.h ] || { echo "avx512_emulated.sh: install libsimde-dev (tools/setup.sh does)" >&2; exit 1; }
TESTS="test_cpu test_gemm test_dwconv3x3 test_elementwise test_conv1x1 test_pool_kernels test_conv test_mobilenet_infer
  test_core test_layers test_grad_write test_golden test_mobilenet test_lbp"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DFAS_AVX512_EMULATE=ON -DFAS_BUILD_BENCH=OFF -DFAS_BUILD_APPS=OFF >/dev/null
cmake --build "$B" -j"$JOBS" --target $TESTS >/dev/null
export FAS_ISA=avx512 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1
for t in $TESTS; do
  "$B/$t" --gtest_brief=1 || { echo "avx512_emulated.sh: $t failed" >&2; exit 1; }
done
echo "avx512_emulated.sh: all selected tests passed with the AVX-512 kernels (SIMDe emulation): $(echo $TESTS)"

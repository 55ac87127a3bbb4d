#!/bin/sh
# Cross-builds fas for aarch64 with Debian's cross compiler and runs the kernel tests (every
# ISA the emulated CPU has: scalar + NEON) under qemu-aarch64 user-mode emulation. A hand run
# (the whole library, arm64 OpenBLAS and GoogleTest); CI runs tools/arm_check.sh instead: the
# minimal deployment build for aarch64 and armhf, its kernels and the exported models, in a minute.
#
# One-time setup (Debian 12, as root):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y --no-install-recommends g++-aarch64-linux-gnu qemu-user \
#       libopenblas-dev:arm64 libgtest-dev:arm64 libgomp1:arm64
# Run:   tools/cross_aarch64.sh [build-dir]            (default build-aarch64)
#        TESTS="test_dwconv3x3 test_elementwise" tools/cross_aarch64.sh   (choose the tests)
#        JOBS=1 tools/cross_aarch64.sh                 (parallel build jobs; default nproc)
# The test binaries are ordinary aarch64 executables, run here through qemu-aarch64. Not through
# ctest: it sets OMP_NUM_THREADS=2 per test (CMakeLists.txt), which hangs qemu-user (below).
set -eu
cd "$(dirname "$0")/.."
B=${1:-build-aarch64}
# Every test that checks a NEON kernel against its scalar reference (these loop over
# available_isas(), so each runs both paths): dispatch, 3x3 depthwise, elementwise/BN, fused 1x1,
# pool/upsample, direct conv and the conv ops (test_conv), the NHWC inference kernels
# (test_mobilenet_infer); then op, layer and model tests whose ops dispatch to the NEON kernels
# (FAS_ISA=neon below), with PyTorch golden values (test_golden, test_mobilenet) and the int8
# engine against the float one (test_mobilenet_int8: also the scalar int8 kernels on a CPU whose
# plain char is unsigned). About 4 minutes under qemu here; test_stacked_ae (dense layers, ~2
# more minutes) is left out.
TESTS=${TESTS:-"test_cpu test_dwconv3x3 test_elementwise test_conv1x1 test_pool_kernels test_conv
  test_mobilenet_infer test_core test_layers test_golden test_mobilenet test_mobilenet_int8 test_lbp"}
TESTS=$(echo $TESTS)   # one line
JOBS=${JOBS:-$(nproc)}
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v $tool >/dev/null || { echo "cross_aarch64.sh: $tool missing (see the setup above)" >&2; exit 1; }
done
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu   # the aarch64 loader and libc for qemu
# Debian 12's qemu-user (7.2) hangs in libgomp as soon as an OpenMP team has 2+ threads (seen
# here with a 5-line test program), so the emulated tests run single-threaded; the threaded
# paths are covered by the native test runs. FAS_TEST_MAX_THREADS caps the thread counts that
# tests pass to kernels explicitly (tests/testutil.h test_thread_counts) to 1 as well.
export OMP_NUM_THREADS=1 FAS_TEST_MAX_THREADS=1 OPENBLAS_NUM_THREADS=1
# Ops dispatch on FAS_ISA: force NEON (an error if the emulated CPU lacked it), so op-level tests
# run the NEON kernels too; the kernel tests iterate over every available ISA regardless.
export FAS_ISA=neon
# These exports come before the build: gtest_discover_tests runs each test binary (under qemu)
# at build time to list its tests, and that hangs too without OMP_NUM_THREADS=1.
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
  -DCMAKE_LIBRARY_ARCHITECTURE=aarch64-linux-gnu \
  -DCMAKE_FIND_ROOT_PATH="/usr/aarch64-linux-gnu;/usr" \
  -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER \
  -DCBLAS_INCLUDE_DIR=/usr/include/aarch64-linux-gnu/openblas-pthread \
  -DCMAKE_CROSSCOMPILING_EMULATOR="qemu-aarch64;-L;/usr/aarch64-linux-gnu" \
  -DFAS_BUILD_APPS=OFF -DFAS_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j"$JOBS" --target $TESTS
cd "$B"
# A per-binary time limit turns an emulator hang into a failure instead of a stuck run.
for t in $TESTS; do
  timeout 900 qemu-aarch64 -L /usr/aarch64-linux-gnu ./$t --gtest_brief=1 ||
    { echo "cross_aarch64.sh: $t failed or timed out under qemu-aarch64" >&2; exit 1; }
done
echo "cross_aarch64.sh: all selected tests passed under qemu-aarch64: $TESTS"

#!/bin/sh
# Cross-builds fas for aarch64 with Debian's cross compiler and runs the kernel tests (every
# ISA the emulated CPU has: scalar + NEON) under qemu-aarch64 user-mode emulation.
#
# One-time setup (Debian 12, as root):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y --no-install-recommends g++-aarch64-linux-gnu qemu-user \
#       libopenblas-dev:arm64 libgtest-dev:arm64 libgomp1:arm64
# Run:   tools/cross_aarch64.sh [build-dir]            (default build-aarch64)
#        TESTS="test_dwconv3x3 test_elementwise" tools/cross_aarch64.sh   (choose the tests)
# The test binaries are ordinary aarch64 executables; ctest runs them through qemu-aarch64
# (CMAKE_CROSSCOMPILING_EMULATOR), so `ctest` in the build dir works as on a native machine.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build-aarch64}
TESTS=${TESTS:-"test_cpu test_dwconv3x3 test_elementwise test_conv1x1"}
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v $tool >/dev/null || { echo "cross_aarch64.sh: $tool missing (see the setup above)" >&2; exit 1; }
done
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu   # the aarch64 loader and libc for qemu
# Debian 12's qemu-user (7.2) hangs in libgomp as soon as an OpenMP team has 2+ threads (seen
# here with a 5-line test program), so the emulated tests run single-threaded; the threaded
# paths are covered by the native test runs.
export OMP_NUM_THREADS=1
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
  -DCMAKE_LIBRARY_ARCHITECTURE=aarch64-linux-gnu \
  -DCMAKE_FIND_ROOT_PATH="/usr/aarch64-linux-gnu;/usr" \
  -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER \
  -DCBLAS_INCLUDE_DIR=/usr/include/aarch64-linux-gnu/openblas-pthread \
  -DCMAKE_CROSSCOMPILING_EMULATOR="qemu-aarch64;-L;/usr/aarch64-linux-gnu" \
  -DFAS_BUILD_APPS=OFF -DFAS_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" --target $TESTS
cd "$B"
for t in $TESTS; do qemu-aarch64 -L /usr/aarch64-linux-gnu ./$t --gtest_brief=1; done
echo "cross_aarch64.sh: all selected tests passed under qemu-aarch64: $TESTS"

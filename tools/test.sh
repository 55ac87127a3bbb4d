#!/usr/bin/env bash
# The README's test command: install dependencies, build, run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# clang's C++17 parse of every source first (about 2 minutes): the clang builds come late in CI.
bash tools/clang_syntax.sh
bash tools/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)
# The AVX-512 kernels' tests, over SIMDe emulation where the CPU has no AVX-512 (about 3 minutes).
bash tools/avx512_emulated.sh

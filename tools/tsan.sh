#!/usr/bin/env bash
# ThreadSanitizer over fas's OpenMP regions: the tests of the code with `#pragma omp` (kernels,
# elementwise/norm/conv ops, LBP, the W-IQA LDA, tensor copies, optimisers) built with clang,
# -fsanitize=thread and LLVM's libomp, whose Archer tool (libarcher.so, OMP_TOOL_LIBRARIES)
# tells TSan about OpenMP's barriers and task edges; GCC's libgomp has no such annotations, so
# under it every barrier would be reported as a race. Any report fails the test. OpenBLAS is not
# instrumented and runs one thread. Prints the wall time at the end.
#   tools/tsan.sh [build-dir]      (default build-tsan; JOBS=N, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-tsan}
JOBS=${JOBS:-2}
ARCHER=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | sort -V | tail -n 1)
command -v clang++ >/dev/null && [ -n "$ARCHER" ] || { echo "tsan.sh: install clang and libomp-dev (tools/setup.sh)" >&2; exit 1; }
# The test executables whose code paths run OpenMP regions (test_mobilenet_split: the engine
# with an image split over threads).
TESTS="test_conv test_conv1x1 test_dwconv3x3 test_elementwise test_pool_kernels test_lbp test_layers test_core test_iqa test_train_step test_mobilenet_split"
start=$(date +%s)
SAN="-fsanitize=thread -fno-omit-frame-pointer"
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DFAS_BUILD_BENCH=OFF -DFAS_BUILD_APPS=OFF -DFAS_MPI=OFF >/dev/null
cmake --build "$B" -j"$JOBS" --target $TESTS >/dev/null
built=$(date +%s)
export OMP_TOOL_LIBRARIES="$ARCHER"
# ignore_noninstrumented_modules: what Archer asks for at start-up. libomp itself is not built
# with TSan, and its internal mutexes (set up by one thread, locked by another through libomp's
# own synchronisation) otherwise show as races inside pthread_mutex_lock called from libomp.
# Races in fas code inside OpenMP regions are still reported (Archer orders them for TSan).
export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1"
export TEST_TMPDIR="$(cd "$B" && pwd)/tmp/"
rm -rf "$TEST_TMPDIR" && mkdir -p "$TEST_TMPDIR"
# The canary: the same settings must report a racy OpenMP loop and pass a race-free one.
clang++ -fopenmp $SAN -O1 -g tools/tsan_canary.cpp -o "$B/tsan_canary"
if TSAN_OPTIONS="$TSAN_OPTIONS:abort_on_error=0" OMP_NUM_THREADS=4 "$B/tsan_canary" racy >"$B/tsan_canary.log" 2>&1 || ! grep -q "data race" "$B/tsan_canary.log"; then
  echo "tsan.sh: the canary's race was not reported: TSan is not seeing OpenMP code here" >&2; exit 1
fi
OMP_NUM_THREADS=4 "$B/tsan_canary" >"$B/tsan_canary.log" 2>&1 || { cat "$B/tsan_canary.log" >&2; echo "tsan.sh: the race-free canary was reported" >&2; exit 1; }
echo "tsan.sh: canary: a racy OpenMP loop reported, the race-free one not"
rc=0
for t in $TESTS; do
  # Four threads on two cores: the regions split work even where a test's tensors are small.
  if ! OMP_NUM_THREADS=4 OPENBLAS_NUM_THREADS=1 "$B/$t" --gtest_brief=1 >"$B/$t.log" 2>&1; then
    tail -n 80 "$B/$t.log" >&2
    echo "tsan.sh: $t FAILED (log $B/$t.log)" >&2
    rc=1
  else
    echo "tsan.sh: $t: $(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$B/$t.log" | sed -n 1p), no report"
  fi
done
end=$(date +%s)
echo "tsan.sh: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s (TSan + libomp/Archer, $B)"
exit $rc

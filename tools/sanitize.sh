#!/usr/bin/env bash
# Builds the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (its own build
# directory, -O1 -g1 -fno-omit-frame-pointer: -g1's line tables are all a report's stack needs,
# full debug info only slows the build and its links) and runs ctest; any sanitizer report fails
# the test that triggered it (ASan and UBSan abort on the first report; the one skipped
# third-party report is listed with its reason in tools/ubsan.supp). Prints the wall time.
#   tools/sanitize.sh [build-dir]      (default build-asan; JOBS=N, default 2)
# Excluded tests (ctest -E regex, variable EXCLUDE; EXCLUDE= runs everything): by default only
# InstallAndFindPackage, which builds a separate consumer project without the sanitizer runtime
# against the instrumented library (it cannot link); the normal build runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-asan}
JOBS=${JOBS:-2}
EXCLUDE=${EXCLUDE-^InstallAndFindPackage$}
start=$(date +%s)
# -Wno-maybe-uninitialized: GCC 12 warns falsely inside libstdc++ <regex> under ASan at -O1.
# shift-base stays recoverable so tools/ubsan.supp can skip one third-party report; every
# other UBSan check aborts, and halt_on_error makes any unsuppressed report fatal too.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize-recover=shift-base \
  -fno-omit-frame-pointer -Wno-maybe-uninitialized"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAS_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$B" -j"$JOBS" >/dev/null
built=$(date +%s)
# detect_leaks: fas owns its buffers through RAII, so a leak is a bug. halt_on_error: first report fails.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tools/ubsan.supp"
# A private scratch root for the tests' temp directories (gtest's TempDir): on a shared machine
# another checkout running the same tests would otherwise share /tmp/fas_<test> with this one.
# Short, under /tmp: a test bounds the length of an error message that quotes its file's path.
export TEST_TMPDIR="$(mktemp -d /tmp/fas.XXXXXX)/"
trap 'rm -rf "$TEST_TMPDIR"' EXIT
rc=0
(cd "$B" && ctest --output-on-failure -j"$JOBS" --timeout 900 ${EXCLUDE:+-E "$EXCLUDE"}) || rc=$?
end=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s (ASan+UBSan, $B)"
exit $rc

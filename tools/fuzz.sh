#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cpp) with clang, -fsanitize=fuzzer,address,undefined
# (the whole library instrumented; -O1 with line tables only, all a report's stack needs), and
# runs each for SECONDS seconds from its committed seed corpus (fuzz/corpus/<target>/) and its
# past crashes (fuzz/regress/; new inputs go to a scratch copy, the committed files are not
# touched). Any crash, leak, timeout or sanitizer report fails the script; the reproducer is left
# as <build-dir>/<target>-crash-* for a regression test.
#   tools/fuzz.sh [SECONDS] [target...]      (default 30 s each, every target; BUILD=build-fuzz, JOBS=2)
#   RUNS=1000000 tools/fuzz.sh 0 [target...] (each target until it has run RUNS inputs, no time limit)
#   RUNS=20000 SEED=1 tools/fuzz.sh 0        (what CI runs: a fixed count from a fixed seed, so the
#                                             same inputs every run, none that no local run has seen)
# Needs Debian's clang, libclang-rt-14-dev and libomp-dev (tools/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
shift || true
B=${BUILD:-build-fuzz}
JOBS=${JOBS:-2}
command -v clang++ >/dev/null || { echo "fuzz.sh: install clang, libclang-rt-14-dev and libomp-dev (tools/setup.sh)" >&2; exit 1; }
LIMIT=(-max_total_time="$SECS")
[ -n "${RUNS:-}" ] && LIMIT+=(-runs="$RUNS")
[ -n "${SEED:-}" ] && LIMIT+=(-seed="$SEED")
start=$(date +%s)
# shift-exponent stays recoverable so tools/ubsan.supp can skip one report inside stb's JPEG
# decoder (see there); every other UBSan check aborts, and halt_on_error makes any unsuppressed
# report fatal too.
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fsanitize-recover=shift-exponent \
  -fno-omit-frame-pointer"
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DFAS_BUILD_FUZZ=ON -DFAS_BUILD_TESTS=OFF -DFAS_BUILD_APPS=OFF -DFAS_BUILD_BENCH=OFF >/dev/null
TARGETS=${*:-$(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')}
cmake --build "$B" -j"$JOBS" --target $TARGETS >/dev/null
built=$(date +%s)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tools/ubsan.supp"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for t in $TARGETS; do
  work="$B/corpus-$t"
  rm -rf "$work" && mkdir -p "$work" && cp fuzz/corpus/"$t"/* "$work"/
  # The inputs that once crashed this target (fuzz/regress/<name without fuzz_>-*) run first too.
  cp fuzz/regress/"${t#fuzz_}"-* "$work"/ 2>/dev/null || true
  # -rss_limit_mb: the image limit (io/image.h kMaxImagePixels) keeps a decode far below it.
  t0=$(date +%s.%N)
  if ! "$B/$t" "$work" "${LIMIT[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$B/$t-" -print_final_stats=1 >"$B/$t.log" 2>&1; then
    tail -n 60 "$B/$t.log" >&2
    echo "fuzz.sh: $t FAILED (log $B/$t.log, reproducer $B/$t-*)" >&2
    exit 1
  fi
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/$t.log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$B/$t.log" | tail -n 1)
  printf 'fuzz.sh: %s: %d executions in %.0f s (%.0f exec/s), %s, no crash\n' "$t" "$runs" "$secs" "$(awk -v r="$runs" -v s="$secs" 'BEGIN { print r / s }')" "$cov"
done
end=$(date +%s)
echo "fuzz.sh: build $((built - start)) s, fuzzing $((end - built)) s, total $((end - start)) s"

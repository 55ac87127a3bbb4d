#!/usr/bin/env bash
# Every C++ source parsed by clang as C++17 (-fsyntax-only, no code generated; about a minute
# on 2 cores). GCC 12 accepts some C++20 under -std=c++17 without a word (lambda captures of
# structured bindings, for one), which the clang builds of tools/tsan.sh and tools/fuzz.sh then
# reject late in CI: this finds such code before the long build starts.
# NEON files are left to tools/arm_check.sh (they need an ARM target).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
MPI_FLAGS=""
command -v mpicxx >/dev/null && MPI_FLAGS=$(mpicxx --showme:compile)
export MPI_FLAGS
mapfile -t files < <(find src apps tests bench fuzz examples -name '*.cpp' 2>/dev/null \
  | grep -v -e '_neon\.cpp$' | sort)
check() {
  local extra=""
  case "$1" in *dist_mpi.cpp) extra="$MPI_FLAGS -DFAS_HAVE_MPI=1" ;; esac
  # shellcheck disable=SC2086
  clang++ -std=c++17 -fsyntax-only -fopenmp -Wno-unknown-pragmas \
    -Isrc -Iinclude -Itests -Ibench -I/usr/include/stb \
    -I/usr/include/x86_64-linux-gnu/openblas-pthread $(pkg-config --cflags openblas 2>/dev/null) \
    -DFAS_SOURCE_DIR='"."' -DFAS_BINARY_DIR='"build"' $extra "$1" \
    || { echo "clang_syntax: $1 does not parse as C++17 with clang" >&2; return 1; }
}
export -f check
printf '%s\n' "${files[@]}" | xargs -P 2 -I{} bash -c 'check "$1"' _ {}
echo "clang_syntax: ${#files[@]} files parse as C++17 with clang ($(( $(date +%s) - start )) s)"

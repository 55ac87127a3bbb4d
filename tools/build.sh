#!/usr/bin/env bash
# Configures and builds fas (Release) into build/ with two jobs. Optional: target names
# (e.g. `bash tools/build.sh fas_cli` builds only the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ $# -gt 0 ]; then
  for t in "$@"; do cmake --build build -j2 --target "$t"; done
else
  cmake --build build -j2
fi

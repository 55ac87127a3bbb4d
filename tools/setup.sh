#!/usr/bin/env bash
# Installs fas's build and test dependencies from Debian's packages (bookworm or later).
set -euo pipefail
PKGS="build-essential cmake libopenblas-dev libstb-dev libgtest-dev libbenchmark-dev
      nlohmann-json3-dev libcli11-dev libsimde-dev pkg-config libcpp-httplib-dev libdlib-dev libjpeg-dev
      libopenmpi-dev openmpi-bin python3 clang libomp-dev"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
install() {
  local missing=""
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
install $PKGS
# tools/fuzz.sh, tools/tsan.sh: clang's sanitizer and libFuzzer runtimes, which clang only
# recommends, named after its major version.
CLANG_V=$(clang --version | grep -o 'version [0-9]*' | grep -o '[0-9]*$')
install "libclang-rt-$CLANG_V-dev"

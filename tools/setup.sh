#!/usr/bin/env bash
# Installs fas's build and test dependencies from Debian's packages (bookworm or later).
set -euo pipefail
PKGS="build-essential cmake libopenblas-dev libstb-dev libgtest-dev libbenchmark-dev
      nlohmann-json3-dev libcli11-dev libsimde-dev pkg-config libcpp-httplib-dev libdlib-dev libjpeg-dev
      libopenmpi-dev openmpi-bin python3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

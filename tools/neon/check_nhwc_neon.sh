#!/bin/sh
# Cross-compiles the NEON NHWC inference kernels with Debian's g++-aarch64-linux-gnu and checks
# them against the scalar references under qemu-aarch64 (qemu-user). Needs no aarch64 libraries:
# only the kernel files and a stub for fail()/isa_name() are linked (statically).
set -e
cd "$(dirname "$0")/../.."
aarch64-linux-gnu-g++ -std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -static -Isrc \
  tools/neon/nhwc_neon_check.cpp tools/neon/nhwc_neon_stub.cpp src/kernels/nhwc.cpp src/kernels/nhwc_neon.cpp \
  -o /tmp/fas_nhwc_neon_check
qemu-aarch64 /tmp/fas_nhwc_neon_check

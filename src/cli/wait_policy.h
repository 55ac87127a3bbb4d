// How fas's OpenMP threads wait between parallel regions. libgomp spin-waits by default, which
// is fastest alone but collapses when two jobs share the cores: two concurrent MobileNetV2-lite
// training jobs (batch 32, 2 threads each, 2 cores) took 3.2 s per step each with spinning and
// 0.17 s with OMP_WAIT_POLICY=passive, while passive costs about 7 % alone (0.085 -> 0.092 s).
// A job started while the cores are already at least half busy (1-minute load average) therefore
// waits passively; a job on an idle machine keeps spinning, and a job started first keeps its
// speed (measured beside a passive one: 0.089 s). The user's own OMP_WAIT_POLICY or
// GOMP_SPINCOUNT always wins.
#pragma once

namespace fas::cli {

// The decision, pure (tested): policy/spincount are the environment values (null: unset).
bool should_wait_passively(const char* policy, const char* spincount, double load1, long cpus);

// libgomp reads OMP_WAIT_POLICY once, when the program loads, so choosing passive means
// setting it and re-executing this program with the same arguments (Linux /proc/self/exe).
// Returns normally when nothing changes or the re-exec is impossible.
void choose_wait_policy(char** argv);

}  // namespace fas::cli

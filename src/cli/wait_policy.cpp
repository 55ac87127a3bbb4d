#include "cli/wait_policy.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace fas::cli {

bool should_wait_passively(const char* policy, const char* spincount, double load1, long cpus) {
  if ((policy && *policy) || (spincount && *spincount) || cpus < 2) return false;
  return load1 >= 0.5 * (double)cpus;
}

void choose_wait_policy(char** argv) {
  double load1 = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load1) != 1) load1 = 0;
    std::fclose(f);
  }
  if (!should_wait_passively(std::getenv("OMP_WAIT_POLICY"), std::getenv("GOMP_SPINCOUNT"), load1,
                             sysconf(_SC_NPROCESSORS_ONLN)))
    return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // only returns on failure: then run on as we are
  unsetenv("OMP_WAIT_POLICY");
}

}  // namespace fas::cli

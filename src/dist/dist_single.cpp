// The one-rank group of a build without MPI (see dist.h): every collective is the identity.
#include <cstdio>

#include "dist/dist.h"

namespace fas::dist {

void init() {}
bool built_with_mpi() { return false; }
int rank() { return 0; }
int size() { return 1; }
void allreduce_sum(float*, size_t) {}
void allreduce_sum(double*, size_t) {}
void broadcast(float*, size_t, int) {}
void iallreduce_sum(float*, size_t) {}
void progress() {}
void wait_all() {}
void barrier() {}
void finalize() {}
int fail_all(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "fas: error: %s\n", message.c_str());
  return 1;
}

}  // namespace fas::dist

// The process group over MPI_COMM_WORLD (see dist.h). MPI's C API only: the deprecated C++
// bindings that mpi.h would pull into a C++ file need a library fas does not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "dist/dist.h"

namespace fas::dist {

namespace {

bool g_active = false;  // MPI_Init done and not finalized
std::vector<MPI_Request> g_pending;  // started non-blocking sums
int g_rank = 0, g_size = 1;

// Launched by an MPI launcher (Open MPI's mpirun/prterun, or a PMI-based one such as srun or
// MPICH's hydra). Without one, MPI is not initialised at all: a singleton MPI_Init would try to
// start a runtime daemon, which a plain `fas train` must not need.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

// MPI counts are int: long buffers go in int-sized pieces.
template <class T>
void for_chunks(T* v, size_t n, void (*f)(T*, int)) {
  const size_t step = INT_MAX / 2;
  for (size_t i = 0; i < n; i += step) f(v + i, (int)(n - i < step ? n - i : step));
}

}  // namespace

void init() {
  if (g_active || !launched_by_mpi()) return;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(nullptr, nullptr);
  // Errors of MPI itself (a peer that died) return to fas, which reports them and aborts the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_active = true;
}

bool built_with_mpi() { return true; }
int rank() { return g_rank; }
int size() { return g_size; }

namespace {
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  std::exit(fail_all(std::string(what) + " failed on rank " + std::to_string(g_rank) + ": " + std::string(msg, len)));
}
}  // namespace

void allreduce_sum(float* v, size_t n) {
  if (g_size < 2) return;
  for_chunks<float>(v, n, [](float* p, int k) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  });
}

void allreduce_sum(double* v, size_t n) {
  if (g_size < 2) return;
  for_chunks<double>(v, n, [](double* p, int k) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  });
}

void broadcast(float* v, size_t n, int root) {
  if (g_size < 2) return;
  static int s_root;
  s_root = root;
  for_chunks<float>(v, n, [](float* p, int k) { check(MPI_Bcast(p, k, MPI_FLOAT, s_root, MPI_COMM_WORLD), "MPI_Bcast"); });
}

void iallreduce_sum(float* v, size_t n) {
  if (g_size < 2) return;
  for_chunks<float>(v, n, [](float* p, int k) {
    g_pending.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, p, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &g_pending.back()), "MPI_Iallreduce");
  });
}

void progress() {
  if (g_pending.empty()) return;
  int done = 0;
  check(MPI_Testall((int)g_pending.size(), g_pending.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
}

void wait_all() {
  if (g_pending.empty()) return;
  check(MPI_Waitall((int)g_pending.size(), g_pending.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  g_pending.clear();
}

void barrier() {
  if (g_size > 1) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void finalize() {
  if (!g_active) return;
  g_active = false;
  MPI_Finalize();
}

int fail_all(const std::string& message) {
  // An error every rank meets alike (a bad flag, a missing list) should print once: the other
  // ranks give rank 0 a moment to report it and end the job before they speak.
  if (g_active && g_size > 1 && g_rank != 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::fflush(stdout);
  if (g_active && g_size > 1)
    std::fprintf(stderr, "fas: error: rank %d of %d: %s\n", g_rank, g_size, message.c_str());
  else
    std::fprintf(stderr, "fas: error: %s\n", message.c_str());
  std::fflush(stderr);
  if (g_active && g_size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
  finalize();
  return 1;
}

}  // namespace fas::dist

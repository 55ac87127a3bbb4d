// Data-parallel process group: the ranks of one `mpirun -np N fas train` job.
//
// The only MPI-facing module of fas. Built with MPI (CMake FAS_MPI), dist_mpi.cpp implements it
// over MPI_COMM_WORLD; without, dist_single.cpp is the trivial one-rank group. Everything above
// (gradient averaging, SyncBN, the trainer) is written against this interface, so neither build
// has a branch of its own in the trainer.
#pragma once
#include <cstddef>
#include <string>

namespace fas::dist {

// Joins the job when the process was launched by an MPI launcher (its environment says so), else
// stays a one-rank group: `fas train` without mpirun behaves exactly as a plain build. Idempotent.
void init();
bool built_with_mpi();
int rank();  // 0 .. size()-1; 0 without MPI
int size();  // 1 without MPI
inline bool parallel() { return size() > 1; }
inline bool is_root() { return rank() == 0; }

// Collectives over all ranks (no-ops on one rank). Every rank must call them in the same order.
void allreduce_sum(float* v, size_t n);
void allreduce_sum(double* v, size_t n);
void broadcast(float* v, size_t n, int root = 0);
// Non-blocking sum (MPI_Iallreduce) of v in place: v must stay alive and untouched until
// wait_all(). progress() lets started sums advance while the caller computes (Open MPI moves
// non-blocking collectives only inside MPI calls); wait_all() completes every started sum.
void iallreduce_sum(float* v, size_t n);
void progress();
void wait_all();
void barrier();

// Leaves the group cleanly at the end of a run (MPI_Finalize); nothing on one rank.
void finalize();
// An error on this rank: prints "fas: error: MESSAGE" once and ends every rank of the job
// (MPI_Abort), so no rank waits forever in a collective. Returns (code 1) when not parallel.
int fail_all(const std::string& message);

}  // namespace fas::dist

// Data-parallel steps: gradient averaging and synchronised batch-norm statistics (SyncBN).
//
// The trainer brackets each step with begin_step / end_step, naming this rank's part of the
// global batch. Between them, on more than one rank:
//  - Optimizer::step (optim/optim.h) calls average_gradients first, so every optimizer of every
//    model's TrainStep (GANomaly's two included) updates with the same global-batch gradient;
//  - batch_norm in training mode calls the sync_bn_* hooks when --sync-bn is on.
// Outside a step, or on one rank, all of these do nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "autograd/graph.h"
#include "layers/module.h"

namespace fas::dist {

// local: the items of the global batch this rank holds; global: the global batch's items.
void begin_step(size_t local, size_t global);
void end_step();
// This rank's weight local/global while a parallel step is in progress, else 1.
double batch_share();
bool step_active();  // a step of a parallel run is in progress

// Each rank's loss is a mean over its own items, so the global batch's gradient is the
// items-weighted mean sum_r (local_r / global) g_r: exact for any split, also an uneven last
// batch. Summed with MPI_Allreduce in buckets of ~4 MB (a few large messages, not one per tensor);
// a gradient of a bucket or more is summed in place, on its own memory.
// Parameters without a gradient are skipped, alike on every rank (same graph).
void average_gradients(const NamedTensors& params);

// Floats per gradient bucket from FAS_GRAD_BUCKET_KB's text (null: the 4 MB default); anything
// but a whole number of KB from 1 to 1,048,576 is an error naming the variable.
size_t bucket_floats_from(const char* kb);

// Scope of a step's one backward pass (a one-optimizer step: zero_grad, backward, step): as the
// pass finishes each parameter's gradient (graph.h's LeafGradHook) it is packed into the current
// bucket, and a full bucket's MPI_Iallreduce starts at once, overlapping the rest of the pass, as
// PyTorch DDP's gradient buckets do. Buckets fill in the graph's order, alike on every rank, so
// every rank starts the same sums. average_gradients then waits for them and reduces only the
// gradients no bucket took. Steps with several backward passes per update (GANomaly) do not use
// it: a gradient reduced after the first pass could still grow in the second. Nothing happens
// outside a parallel step.
class OverlappedBackward {
 public:
  explicit OverlappedBackward(const NamedTensors& params);
  ~OverlappedBackward();  // starts the last, partly filled bucket
  OverlappedBackward(const OverlappedBackward&) = delete;
  OverlappedBackward& operator=(const OverlappedBackward&) = delete;

 private:
  std::optional<LeafGradHook> hook_;
};

// SyncBN: batch statistics over the whole global batch instead of this rank's part.
void set_sync_bn(bool on);
bool sync_bn_requested();
bool sync_bn_active();  // on, and a parallel step in progress
// In: this rank's per-channel mean and biased variance over its M values. Out: the global ones;
// returns the global count.
int64_t sync_bn_stats(int64_t M, float* mean, float* var, int64_t C);
// In: this rank's sums of gy and gy * (x - mean) per channel (mean: the global one). Out: the
// global sums as seen at this rank's gradient scale (divided by batch_share, see grad_sync.cpp).
void sync_bn_grad_sums(float* sum_g, float* sum_gxc, int64_t C);

}  // namespace fas::dist

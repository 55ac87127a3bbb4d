// Lean float inference for a trained MobileNetV2Lite (spec 003, issue 6 "inference for small
// devices"):
//   - batch norm folded into the conv weights and a bias (models/mobilenetv2_fold.h), ReLU6
//     fused into each conv's epilogue, the residual add fused into the project conv's;
//   - NHWC activations; each inverted-residual block runs fused row by row: 1x1 expand into a
//     3-row ring buffer, depthwise 3x3 into one row, 1x1 project (+ residual) into the output,
//     so the 6x-expanded tensor is never materialised (3 rows of it stay in cache);
//   - Conv_1 (1280 wide) runs fused with the global average pool: only the sums are kept;
//   - a static memory plan (models/mobilenetv2_plan.h): every activation buffer is allocated
//     once at build time; blocks run in place where they can, so two ping-pong buffers serve
//     and no separate residual buffer is needed.
// Kernels come from kernels/nhwc.h for active_isa() at each call (FAS_ISA forces one).
//   - set_threads(T): each image split over T threads by rows (models/mobilenetv2_run.h
//     Mnv2Split), with a barrier between layers; each thread has its own ring, row and halo.
// Not thread-safe: one engine per calling thread (the buffers are the engine's).
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "models/deploy_engine.h"
#include "models/mobilenetv2_lite.h"
#include "models/mobilenetv2_plan.h"
#include "models/mobilenetv2_run.h"

namespace fas {

class MobileNetV2Infer : public DeployEngine {
 public:
  explicit MobileNetV2Infer(const MobileNetV2Lite& model);
  explicit MobileNetV2Infer(FoldedMobileNetV2 net);
  // The view points into the engine's own buffers: not copyable.
  MobileNetV2Infer(const MobileNetV2Infer&) = delete;
  MobileNetV2Infer& operator=(const MobileNetV2Infer&) = delete;

  // x: n images [n, C, H, W] (NCHW, the training model's layout). Writes n logits / P(live).
  // No allocation.
  void logits(const float* x, int64_t n, float* out);
  void predict(const float* x, int64_t n, float* out) override;  // sigmoid(logits)
  // Splits each image over up to `threads` threads (1: the caller's thread only); reallocates
  // the buffers (the plan of a split image has no shifted in-place block). Returns the count.
  int set_threads(int threads) override;
  int threads() const { return parts_; }
  // The global-average-pooled features the Dense layer reads: n x folded().head.cout.
  void features(const float* x, int64_t n, float* out);
  // Convenience wrapper like MobileNetV2Lite::forward: [N, C, H, W] -> P(live) [N, 1]; checks
  // the shape (fas::Error naming expected and actual) and allocates only the result tensor.
  Tensor forward(const Tensor& x);

  // Calls obs(point, values, pixels, channels) for every NHWC row produced at each
  // quantisation point while running n images (int8 calibration). Points, in order: input
  // (NCHW, passed as pixels x 1), stem, then per block [expand (never called if none),
  // depthwise, block output], then the head (Conv_1 after ReLU6).
  using Observer = Mnv2Observer;
  void observe(const float* x, int64_t n, const Observer& obs);
  size_t activation_points() const { return 3 + 3 * net_.blocks.size(); }

  const FoldedMobileNetV2& folded() const { return net_; }
  const MobileNetV2Plan& plan() const { return plan_; }
  // Geometry, plan, packed weights and buffers as the shared run loops see them
  // (models/mobilenetv2_run.h; the .fasm export writes what it points to).
  const Mnv2F32View& view() const { return views_[0]; }
  // Bytes of all activation buffers of the plan (ping-pong, ring, depthwise row, pool sums);
  // the input image is the caller's and not counted.
  size_t activation_bytes() const override;
  // The packed weights and the folded network they were packed from.
  size_t weight_bytes() const override;
  // The planned buffers' addresses: equal before and after calls (tests: no reallocation).
  std::vector<const float*> buffer_addresses() const;

 private:
  struct Packed {  // one conv, packed for kernels/nhwc.h
    std::vector<float> w, b;
  };

  // Allocates the plan's buffers for `parts` threads per image and points the views at them.
  void allocate(int parts);
  // Runs images [0, n) of x, each over the parts_ threads, and calls done(i, pool) with image
  // i's global-pool sums.
  template <class Done>
  void run_images(const float* x, int64_t n, Done&& done);

  FoldedMobileNetV2 net_;
  MobileNetV2Plan plan_;
  Packed stem_, head_;
  std::vector<Packed> expand_, dw_, project_;
  int parts_ = 1;
  // The plan's buffers in one 64-byte aligned block (mnv2_carve_f32): ping-pong, then each
  // part's ring, row, pool sums and halo.
  AlignedBlock arena_;
  size_t activation_bytes_ = 0;
  std::vector<float> head_row_;  // calibration (observe) only
  std::vector<F32ConvView> expand_v_, dw_v_, project_v_;
  std::vector<Mnv2F32View> views_;  // one per part
};

}  // namespace fas

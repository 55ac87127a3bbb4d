// Lean float inference for a trained MobileNetV2Lite (spec 003, issue 6 "inference for small
// devices"):
//   - batch norm folded into the conv weights and a bias (models/mobilenetv2_fold.h), ReLU6
//     fused into each conv's epilogue, the residual add fused into the project conv's;
//   - NHWC activations; each inverted-residual block runs fused row by row: 1x1 expand into a
//     3-row ring buffer, depthwise 3x3 into one row, 1x1 project (+ residual) into the output,
//     so the 6x-expanded tensor is never materialised (3 rows of it stay in cache);
//   - Conv_1 (1280 wide) runs row by row straight into the global-average-pool sums;
//   - a static memory plan: every activation buffer is allocated once at build time. Two
//     ping-pong buffers hold block inputs/outputs; a stride-1 block with an expand conv and a
//     residual runs in place (its input rows are consumed by the ring before being overwritten
//     and its input row is the residual), so no separate residual buffer is needed. Block 0
//     (no expand, depthwise reads its input rows directly) runs in place shifted by one row:
//     output row y goes where input row y-1 was, which the depthwise has already read and no
//     later output row needs; the producer (stem) leaves that one row of slack in front.
// Kernels come from kernels/nhwc.h for active_isa() at each call (FAS_ISA forces one).
// Not thread-safe: one engine per thread (the buffers are the engine's).
#pragma once
#include <cstddef>
#include <vector>

#include "models/mobilenetv2_fold.h"

namespace fas {

class MobileNetV2Infer {
 public:
  explicit MobileNetV2Infer(const MobileNetV2Lite& model);
  explicit MobileNetV2Infer(FoldedMobileNetV2 net);

  // x: n images [n, C, H, W] (NCHW, the training model's layout). Writes n logits / P(live).
  // No allocation.
  void logits(const float* x, int64_t n, float* out);
  void predict(const float* x, int64_t n, float* out);  // sigmoid(logits)
  // Convenience wrapper like MobileNetV2Lite::forward: [N, C, H, W] -> P(live) [N, 1]; checks
  // the shape (fas::Error naming expected and actual) and allocates only the result tensor.
  Tensor forward(const Tensor& x);

  const FoldedMobileNetV2& folded() const { return net_; }
  // Bytes of all activation buffers of the plan (ping-pong, ring, row buffers, pool sums);
  // the input image is the caller's and not counted.
  size_t activation_bytes() const;
  // The planned buffers' addresses: equal before and after calls (tests: no reallocation).
  std::vector<const float*> buffer_addresses() const;

 private:
  struct Packed {  // one conv, packed for kernels/nhwc.h
    std::vector<float> w, b;
  };
  struct Block {
    Packed expand, dw, project;
    int src = 0, dst = 0;  // ping-pong buffer indices (equal: in place)
    size_t src_off = 0, dst_off = 0;  // float offsets into them
  };
  void plan();
  float run_one(const float* x);

  FoldedMobileNetV2 net_;
  Packed stem_, head_;
  std::vector<Block> blocks_;
  int final_buf_ = 0;
  size_t stem_off_ = 0, final_off_ = 0;
  std::vector<float> buf_[2], ring_, row_, head_row_, pool_;
};

}  // namespace fas

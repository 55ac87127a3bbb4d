// The run loops of the MobileNetV2-lite inference engines over non-owning views: the float
// engine (mobilenetv2_infer.h), the int8 engine (mobilenetv2_int8.h) and the .fasm runtime of
// the minimal deployment build (deploy/fasm.h) all run these, so a model exported to a .fasm
// file computes exactly what the engine it was exported from computes.
// A view names the geometry (FoldedMobileNetV2: only its shape fields are read, its weight
// vectors may be empty), the static plan, the packed weights (kernels/nhwc.h, qs8_nhwc.h
// layouts) and the planned buffers. Nothing here allocates.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "models/mobilenetv2_plan.h"

namespace fas {

// obs(point, values, pixels, channels): see MobileNetV2Infer::observe.
using Mnv2Observer = std::function<void(size_t point, const float* v, int64_t pixels, int64_t channels)>;

struct F32ConvView {
  const float* w = nullptr;  // packed weights
  const float* b = nullptr;  // packed bias
};

struct Mnv2F32View {
  const FoldedMobileNetV2* net = nullptr;
  const MobileNetV2Plan* plan = nullptr;
  F32ConvView stem, head;
  const F32ConvView *expand = nullptr, *dw = nullptr, *project = nullptr;  // one per block
  const float* dense_w = nullptr;  // [head.cout]
  float dense_b = 0.f;
  // Buffers (sizes from the plan): ping-pong, ring, depthwise row, pool sums [head.cout];
  // head_row [head.W * head.cout] is needed only when observing (calibration); halo
  // [2 * plan.ring / 3] only when an image is split over threads (Mnv2Split).
  float *buf[2] = {nullptr, nullptr}, *ring = nullptr, *row = nullptr, *pool = nullptr, *head_row = nullptr;
  float* halo = nullptr;
};

// One image over `parts` threads that call mnv2_f32_pool together, each with its own view (own
// ring, row, halo and pool; the ping-pong buffers shared): part p computes rows
// [n p / parts, n (p + 1) / parts) of every layer's n output rows, and that share of the head's
// pixels, leaving its partial pool sums in its view's pool. sync() is a barrier of all parts,
// called between layers (the same number of times in every part). The plan must have no
// shifted in-place block (plan_mobilenetv2(net, false)): a block in place has each part expand
// the two boundary rows the other part overwrites into its halo before the first barrier.
struct Mnv2Split {
  int part = 0, parts = 1;
  const std::function<void()>* sync = nullptr;
};

// Runs one NCHW image; leaves the global-pool sums of the head output in v.pool. obs only
// with a single part.
void mnv2_f32_pool(const Mnv2F32View& v, const float* x, const Mnv2Observer* obs, const Mnv2Split& split = {});
// The Dense layer on the mean of the head output, from its pool sums.
float mnv2_f32_dense(const Mnv2F32View& v, const float* pool);
// The logit of one image (mnv2_f32_pool, then mnv2_f32_dense).
float mnv2_f32_logit(const Mnv2F32View& v, const float* x);

struct Q8ConvView {
  const int16_t* w = nullptr;  // packed int8 values (qs8_nhwc.h)
  const float *scale = nullptr, *bias = nullptr;  // requantisation, padded to 8
  float lo = 0, hi = 0;
};

struct Mnv2Q8View {
  const FoldedMobileNetV2* net = nullptr;
  const MobileNetV2Plan* plan = nullptr;
  F32ConvView stem;          // the float stem
  float stem_scale = 1.f;    // activation scale of the stem output
  const Q8ConvView *expand = nullptr, *dw = nullptr, *project = nullptr;  // one per block
  const float* res_scale = nullptr;  // per block: s_in / s_out
  Q8ConvView head;
  const float* head_scale = nullptr;  // [head.cout] activation scale of the head output
  const float* dense_w = nullptr;
  float dense_b = 0.f;
  int8_t *buf[2] = {nullptr, nullptr}, *ring = nullptr, *row = nullptr, *head_row = nullptr;
  float* stem_row = nullptr;  // [stem.Wo * stem.cout]
  int32_t* pool = nullptr;    // [head.cout]
};

void mnv2_q8_pool(const Mnv2Q8View& v, const float* x);  // v.pool = int32 sums of the head output
float mnv2_q8_logit(const Mnv2Q8View& v, const float* x);

// The planned buffers of the engines and of the .fasm runtime are carved out of one block, each
// 64-byte aligned: a row that starts on a cache line is loaded without line splits (EXP-133).
struct Carver {
  uint8_t* base = nullptr;  // null: only counts the bytes (used)
  size_t used = 0;
  template <class T>
  T* take(size_t n) {
    used = (used + 63) / 64 * 64;
    T* p = base ? reinterpret_cast<T*>(base + used) : nullptr;
    used += n * sizeof(T);
    return p;
  }
};

// One zero-filled block whose start is 64-byte aligned.
class AlignedBlock {
 public:
  AlignedBlock() = default;
  explicit AlignedBlock(size_t bytes);
  uint8_t* data() const { return base_; }

 private:
  std::unique_ptr<uint8_t[]> raw_;
  uint8_t* base_ = nullptr;
};

// The halo of one part of an image split over `parts` threads: two expanded rows.
inline size_t mnv2_halo_floats(const MobileNetV2Plan& plan, int parts) { return parts > 1 ? 2 * plan.ring / 3 : 0; }
// Points v[0..parts) at their buffers: the ping-pong pair shared, then each part's ring, row,
// pool sums and (parts > 1) halo.
void mnv2_carve_f32(Carver& a, const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, Mnv2F32View* v, int parts = 1);
// The int8 view's buffers, head_row and the float stem row included.
void mnv2_carve_q8(Carver& a, const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, Mnv2Q8View& v);

}  // namespace fas

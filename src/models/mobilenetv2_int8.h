// Int8 post-training quantisation of MobileNetV2-lite (issue 6 "inference for small devices"),
// running the same fused row-by-row blocks and static memory plan as the float engine
// (mobilenetv2_infer.h), with int8 activations (a quarter of the float buffers).
//
// Quantisation scheme (symmetric, zero point 0, kernels/qs8_nhwc.h):
//   - weights: per output channel, s_w = max|w| / 127 over the channel's BN-folded weights;
//   - activations: one scale per tensor, s = T / 127, calibrated on the calibration images
//     with the float engine at every quantisation point (stem output, each block's expand /
//     depthwise / output, head output). T is the max |a| (Int8Calibration::MaxAbs, the
//     default) or a percentile of |a| over all values of the tensor (Percentile), which
//     clips rare outliers to give the bulk finer steps. On random nets MaxAbs was as good or
//     better (feature error 3.9 % vs 4.0 % at 99.99 %, 5.2 % at 99.9 %, 16 % at 99 %): the
//     ReLU6 tensors are bounded by 6 anyway, and clipping the residual stream hurts. Per-channel
//     activation scales (folded into the consumer's weights) were tried: they did not lower
//     the error (folding moves the resolution loss into the weights) and a channel rarely
//     active during calibration gets a tiny range that later images clip badly.
//   - int32 accumulation, requantisation in float with round-half-even and saturation to
//     [-127, 127]; the residual add happens in that epilogue (dequantised).
//   - the stem conv (2-3 input channels, 7 % of the MACs) stays float and quantises its output:
//     the raw image is not quantised. Global pooling sums the int8 head output in int32; the
//     1280->1 Dense runs in float.
#pragma once
#include <cstdint>
#include <vector>

#include "models/deploy_engine.h"
#include "models/mobilenetv2_plan.h"
#include "models/mobilenetv2_run.h"

namespace fas {

class MobileNetV2Infer;

enum class Int8Calibration { MaxAbs, Percentile };
struct Int8Options {
  Int8Calibration calibration = Int8Calibration::MaxAbs;
  double percentile = 99.99;  // of |a|, for Percentile
};
// The options of the CLI's --calib-pct: 0 = max-abs, else that percentile (checked when used).
inline Int8Options int8_options(double calib_pct) {
  return calib_pct > 0 ? Int8Options{Int8Calibration::Percentile, calib_pct} : Int8Options{};
}

class MobileNetV2Int8 : public DeployEngine {
 public:
  // Calibrates on n images calib [n, C, H, W] (NCHW, like training inputs).
  MobileNetV2Int8(FoldedMobileNetV2 net, const float* calib, int64_t n, Int8Options opt = {});
  // The view points into the engine's own buffers: not copyable.
  MobileNetV2Int8(const MobileNetV2Int8&) = delete;
  MobileNetV2Int8& operator=(const MobileNetV2Int8&) = delete;

  void logits(const float* x, int64_t n, float* out);  // no allocation
  void predict(const float* x, int64_t n, float* out) override;  // sigmoid(logits)
  void features(const float* x, int64_t n, float* out);  // pooled features, n x head channels

  size_t activation_bytes() const override;
  // The quantised weights, scales and biases, the float stem and the folded network.
  size_t weight_bytes() const override;
  // Activation scales (stored per channel, all equal) in MobileNetV2Infer::observe's point
  // order (index 0, the input, unused).
  const std::vector<std::vector<float>>& activation_scales() const { return act_scale_; }
  // Geometry, plan, packed weights, scales and buffers as the shared run loops see them
  // (models/mobilenetv2_run.h; the .fasm export writes what it points to).
  const Mnv2Q8View& view() const { return view_; }
  const FoldedMobileNetV2& folded() const { return net_; }
  const MobileNetV2Plan& plan() const { return plan_; }

 private:
  struct Conv {
    std::vector<int16_t> w;  // packed int8 values
    std::vector<float> scale, bias;  // requantisation, padded to 8
    float lo = 0, hi = 0;
  };
  Conv make_conv(const FoldedConv& c, const std::vector<float>& s_in, const std::vector<float>& s_out);

  FoldedMobileNetV2 net_;
  MobileNetV2Plan plan_;
  std::vector<std::vector<float>> act_scale_;
  std::vector<float> stem_w_, stem_b_;  // float stem, packed for kernels/nhwc.h
  std::vector<Conv> expand_, dw_, project_;
  std::vector<float> res_scale_;  // per block: s_in / s_out
  Conv head_;
  AlignedBlock arena_;  // the plan's buffers, 64-byte aligned (mnv2_carve_q8)
  std::vector<Q8ConvView> expand_v_, dw_v_, project_v_;
  Mnv2Q8View view_;
};

// Agreement of the int8 engine with the float engine on a data set of n images: decisions
// P(live) >= threshold agree, and the differences of P(live).
struct Int8Agreement {
  int64_t n = 0;
  double decision_agreement = 0;  // fraction of images with the same decision
  double max_abs_prob_diff = 0, mean_abs_prob_diff = 0;
  double max_abs_logit_diff = 0;
};
Int8Agreement int8_agreement(MobileNetV2Infer& f32, MobileNetV2Int8& q8, const float* x, int64_t n,
                             float threshold = 0.5f);

}  // namespace fas

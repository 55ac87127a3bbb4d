// Colour texture descriptor as a layer: uniform LBP histograms per channel, radius and grid
// cell (kernels/lbp.h), the features of the classical LBP anti-spoofing baselines (Maatta et al.
// 2011: grey; Boulkenafet et al. 2015: per YCbCr / HSV channel). The output is piecewise constant
// in the input (gradient zero almost everywhere), so the layer records no autograd node: it is a
// fixed front end, trained models put learnable layers after it.
#pragma once
#include <string>
#include <vector>

#include "layers/module.h"

namespace fas {

enum class LbpSpace { Grey, YCbCr };
LbpSpace parse_lbp_space(const std::string& s);  // "grey" | "ycc"

struct LbpConfig {
  LbpSpace space = LbpSpace::YCbCr;
  std::vector<int> radii{1, 2, 3};
  int grid = 3;
  // Each cell's histogram sums to `scale`; 59 gives the average bin the value 1, a scale at which
  // a logistic regression on the raw histograms needs no per-feature standardisation.
  float scale = 59.f;
};

class LbpHistogram : public Module {
 public:
  explicit LbpHistogram(LbpConfig cfg);
  // x [N, C, H, W] in [0, 1], taken as 8-bit levels (rounded): C = 3 (RGB) for ycc; for grey 1
  // (used as is) or 3 (luma by BT.601's integer weights 77, 150, 29 / 256).
  // -> [N, features()], laid out channel, radius, cell, bin (outermost first).
  Tensor forward(const Tensor& x) override;
  // The checks forward makes on an input shape [N, C, H, W] (channels, size for the largest
  // radius and the grid), for models that validate their configured input at build time.
  void check_input(const Shape& x) const;
  std::string type_name() const override { return "LbpHistogram"; }
  int64_t features() const;
  const LbpConfig& config() const { return cfg_; }

 private:
  LbpConfig cfg_;
};

}  // namespace fas

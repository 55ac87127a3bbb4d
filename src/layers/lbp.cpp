#include "layers/lbp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/lbp.h"
#include "tensor/tensor.h"

namespace fas {

LbpSpace parse_lbp_space(const std::string& s) {
  if (s == "grey") return LbpSpace::Grey;
  if (s == "ycc") return LbpSpace::YCbCr;
  fail("lbp: colour space must be 'grey' or 'ycc', got '" + s + "'");
}

LbpHistogram::LbpHistogram(LbpConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.radii.empty()) fail("lbp: needs at least one radius");
  for (int r : cfg_.radii)
    if (r < 1 || r > 16) fail("lbp: radius must be in 1..16, got " + std::to_string(r));
  if (cfg_.grid < 1 || cfg_.grid > 16) fail("lbp: grid must be in 1..16, got " + std::to_string(cfg_.grid));
  if (!(cfg_.scale > 0)) fail("lbp: scale must be positive");
}

int64_t LbpHistogram::features() const {
  const int64_t ch = cfg_.space == LbpSpace::YCbCr ? 3 : 1;
  return ch * (int64_t)cfg_.radii.size() * cfg_.grid * cfg_.grid * kLbpBins;
}

void LbpHistogram::check_input(const Shape& x) const {
  const bool ycc = cfg_.space == LbpSpace::YCbCr;
  if (x.size() != 4 || (ycc ? x[1] != 3 : (x[1] != 1 && x[1] != 3)))
    fail(std::string("lbp: expected input [N, ") + (ycc ? "3" : "1 or 3") + ", H, W], got " + shape_str(x));
  const int rmax = *std::max_element(cfg_.radii.begin(), cfg_.radii.end());
  if (std::min(x[2], x[3]) - 2 * rmax < cfg_.grid)
    fail("lbp: input " + shape_str(x) + " is too small for radius " + std::to_string(rmax) + " and a " +
         std::to_string(cfg_.grid) + "x" + std::to_string(cfg_.grid) + " grid");
}

Tensor LbpHistogram::forward(const Tensor& x) {
  if (!x.defined()) fail("lbp: expected input [N, C, H, W], got undefined");
  check_input(x.shape());
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), HW = H * W;
  const int64_t F = features();
  Tensor out = Tensor::uninit({N, F});
  const float* in = x.data();
  float* o = out.data();
  const int T = (int)std::min<int64_t>(num_threads(), N);
#pragma omp parallel num_threads(T)
  {
    std::vector<float> levels((size_t)(C * HW)), plane((size_t)HW);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      lbp_image_features(in + n * C * HW, C, H, W, cfg_.space == LbpSpace::YCbCr, cfg_.radii.data(),
                         (int)cfg_.radii.size(), cfg_.grid, cfg_.scale, levels.data(), plane.data(), o + n * F);
    }
  }
  return out;
}

}  // namespace fas

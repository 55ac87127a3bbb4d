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

namespace {
// BT.601 (JPEG) luma and chroma x 256 in integers, on 8-bit levels, without the chroma offsets
// (LBP compares values within one channel). Integer arithmetic makes ties exact: the chroma rows
// sum to 0, so with float coefficients R+1, G+1, B+1 would tie or not by rounding, and the codes
// of smooth regions would depend on the evaluation order (tools/nuaa_texture_baseline.py uses
// the same integers).
constexpr float kYcc[3][3] = {{77.f, 150.f, 29.f}, {-43.f, -85.f, 128.f}, {128.f, -107.f, -21.f}};
float level(float v) { return std::nearbyint(255.f * v); }  // [0, 1] -> 8-bit level
}  // namespace

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
  const int64_t planes = cfg_.space == LbpSpace::YCbCr ? 3 : 1, per_radius = (int64_t)cfg_.grid * cfg_.grid * kLbpBins;
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
      const float* img = in + n * C * HW;
      for (int64_t i = 0; i < C * HW; ++i) levels[i] = level(img[i]);  // once per image, not per plane
      for (int64_t p = 0; p < planes; ++p) {
        if (C == 1) {
          std::copy(levels.begin(), levels.end(), plane.begin());
        } else {
          const float* m = kYcc[p];
          const float *r = levels.data(), *g = r + HW, *b = g + HW;
          for (int64_t i = 0; i < HW; ++i) plane[i] = m[0] * r[i] + m[1] * g[i] + m[2] * b[i];
        }
        for (size_t k = 0; k < cfg_.radii.size(); ++k)
          f32_lbp8_u2_hist(plane.data(), H, W, cfg_.radii[k], cfg_.grid, cfg_.scale,
                           o + n * F + ((int64_t)p * cfg_.radii.size() + k) * per_radius);
      }
    }
  }
  return out;
}

}  // namespace fas

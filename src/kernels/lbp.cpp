#include "kernels/lbp.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "kernels/lbp_impl.h"
#include "kernels/simd/vec_scalar.h"
#include "base/error.h"

namespace fas {

namespace {
std::array<uint8_t, 256> make_u2_bins() {
  std::array<uint8_t, 256> bins{};
  uint8_t next = 0;
  for (int v = 0; v < 256; ++v) {
    int transitions = 0;
    for (int i = 0; i < 8; ++i) transitions += ((v >> i) & 1) != ((v >> ((i + 1) % 8)) & 1);
    bins[v] = transitions <= 2 ? next++ : (uint8_t)(kLbpBins - 1);
  }
  return bins;
}
}  // namespace

const uint8_t* lbp_u2_bins() {
  static const std::array<uint8_t, 256> bins = make_u2_bins();
  return bins.data();
}

void f32_lbp8_u2_hist__ref(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  const uint8_t* bins = lbp_u2_bins();
  const int64_t h = H - 2 * r, w = W - 2 * r;
  const std::array<int64_t, 8> off = lbp8_offsets(W, r);
  for (int64_t i = 0; i < (int64_t)grid * grid * kLbpBins; ++i) out[i] = 0.f;
  for (int gy = 0; gy < grid; ++gy) {
    const int64_t y0 = gy * h / grid, y1 = (gy + 1) * h / grid;
    for (int gx = 0; gx < grid; ++gx) {
      const int64_t x0 = gx * w / grid, x1 = (gx + 1) * w / grid;
      float* hist = out + ((int64_t)gy * grid + gx) * kLbpBins;
      // Counts are exact in float up to 2^24 pixels per cell.
      for (int64_t y = y0; y < y1; ++y) {
        const float* row = x + (y + r) * W + r;
        for (int64_t c = x0; c < x1; ++c) {
          hist[bins[lbp8_code(row + c, off)]] += 1.f;
        }
      }
      const float norm = scale / (float)((y1 - y0) * (x1 - x0));
      for (int k = 0; k < kLbpBins; ++k) hist[k] *= norm;
    }
  }
}

void f32_lbp8_u2_hist__scalar(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  e_lbp8_u2_hist<VecScalar>(x, H, W, r, grid, scale, out);
}

Lbp8U2HistFn lbp8_u2_hist_kernel(Isa isa) {
  if (!isa_supported(isa)) fail(std::string("lbp: ISA ") + isa_name(isa) + " is not available on this CPU or build");
#if defined(FAS_X86_KERNELS)
  if (isa == Isa::Avx2) return f32_lbp8_u2_hist__avx2;
  if (isa == Isa::Avx512) return f32_lbp8_u2_hist__avx512;
#elif defined(FAS_NEON_KERNELS)
  if (isa == Isa::Neon) return f32_lbp8_u2_hist__neon;
#endif
  return f32_lbp8_u2_hist__scalar;
}

void f32_lbp8_u2_hist(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  lbp8_u2_hist_kernel(active_isa())(x, H, W, r, grid, scale, out);  // follows set_active_isa
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

void lbp_image_features(const float* img, int64_t C, int64_t H, int64_t W, bool ycc, const int* radii, int nradii,
                        int grid, float scale, float* levels, float* plane, float* out) {
  const int64_t HW = H * W, planes = ycc ? 3 : 1, per_radius = (int64_t)grid * grid * kLbpBins;
  for (int64_t i = 0; i < C * HW; ++i) levels[i] = level(img[i]);  // once per image, not per plane
  for (int64_t p = 0; p < planes; ++p) {
    if (C == 1) {
      std::copy(levels, levels + HW, plane);
    } else {
      const float* m = kYcc[p];  // grey: p = 0, the luma row
      const float *r = levels, *g = r + HW, *b = g + HW;
      for (int64_t i = 0; i < HW; ++i) plane[i] = m[0] * r[i] + m[1] * g[i] + m[2] * b[i];
    }
    for (int k = 0; k < nradii; ++k)
      f32_lbp8_u2_hist(plane, H, W, radii[k], grid, scale, out + (p * nradii + k) * per_radius);
  }
}

}  // namespace fas

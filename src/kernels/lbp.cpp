#include "kernels/lbp.h"

#include <array>

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

void f32_lbp8_u2_hist(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  const uint8_t* bins = lbp_u2_bins();
  const int64_t h = H - 2 * r, w = W - 2 * r;
  // Neighbour offsets in elements, bit 0 first (see the header).
  const int64_t off[8] = {-r * W - r, -r * W, -r * W + r, r, r * W + r, r * W, r * W - r, -r};
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
          const float* p = row + c;
          const float v = *p;
          unsigned code = 0;
          for (int b = 0; b < 8; ++b) code |= (unsigned)(p[off[b]] >= v) << b;
          hist[bins[code]] += 1.f;
        }
      }
      const float norm = scale / (float)((y1 - y0) * (x1 - x0));
      for (int k = 0; k < kLbpBins; ++k) hist[k] *= norm;
    }
  }
}

}  // namespace fas

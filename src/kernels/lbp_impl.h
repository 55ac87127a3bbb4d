// The LBP(8, r) histogram kernel as a template over the vector traits (simd/vec_*.h),
// instantiated per ISA in lbp.cpp (scalar), lbp_avx2.cpp, lbp_avx512.cpp, lbp_neon.cpp.
// Internal linkage: see simd/vec_scalar.h.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/lbp.h"

namespace fas {
namespace {

// Neighbour offsets in elements of a row-major plane of width W, bit 0 first (see lbp.h).
inline std::array<int64_t, 8> lbp8_offsets(int64_t W, int r) {
  return {-r * W - r, -r * W, -r * W + r, r, r * W + r, r * W, r * W - r, -r};
}

// The code of the pixel at p: bit b set when its neighbour b is >= it (false on NaN).
inline unsigned lbp8_code(const float* p, const std::array<int64_t, 8>& off) {
  const float v = *p;
  unsigned code = 0;
  for (int b = 0; b < 8; ++b) code |= (unsigned)(p[off[b]] >= v) << b;
  return code;
}

template <class T>
void e_lbp8_u2_hist(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  constexpr int V = T::V;
  constexpr int64_t kChunk = 64;  // codes computed per pass, a multiple of every V
  const uint8_t* bins = lbp_u2_bins();
  const int64_t h = H - 2 * r, w = W - 2 * r;
  const std::array<int64_t, 8> off = lbp8_offsets(W, r);
  for (int gy = 0; gy < grid; ++gy) {
    const int64_t y0 = gy * h / grid, y1 = (gy + 1) * h / grid;
    for (int gx = 0; gx < grid; ++gx) {
      const int64_t x0 = gx * w / grid, x1 = (gx + 1) * w / grid;
      // Four tables: consecutive pixels often share a code (flat regions), and one table would
      // make each increment wait for the previous store to the same counter.
      uint32_t counts[4][256] = {};
      alignas(64) uint32_t codes[kChunk];
      for (int64_t y = y0; y < y1; ++y) {
        const float* row = x + (y + r) * W + r;
        for (int64_t c = x0; c < x1; c += kChunk) {
          const int64_t n = std::min(kChunk, x1 - c);
          const float* p = row + c;
          auto vector_codes = [&](int64_t j) {
            const typename T::vec v = T::load(p + j);
            typename T::ivec code = T::izero();
            for (int b = 0; b < 8; ++b) code = T::or_bit_ge(code, T::load(p + j + off[b]), v, 1u << b);
            T::istore(codes + j, code);
          };
          int64_t j = 0;
          for (; j + V <= n; j += V) vector_codes(j);
          // The ragged end: one more vector ending at n (it recomputes a few codes, identically),
          // unless the segment is narrower than a vector.
          if (j < n && n >= V) vector_codes(n - V);
          else
            for (; j < n; ++j) codes[j] = lbp8_code(p + j, off);
          j = 0;
          for (; j + 4 <= n; j += 4) {
            ++counts[0][codes[j]], ++counts[1][codes[j + 1]];
            ++counts[2][codes[j + 2]], ++counts[3][codes[j + 3]];
          }
          for (; j < n; ++j) ++counts[0][codes[j]];
        }
      }
      uint32_t binned[kLbpBins] = {};
      for (int k = 0; k < 256; ++k) binned[bins[k]] += counts[0][k] + counts[1][k] + counts[2][k] + counts[3][k];
      // (float)count * norm is what __ref computes: its float counts are exact below 2^24.
      const float norm = scale / (float)((y1 - y0) * (x1 - x0));
      float* hist = out + ((int64_t)gy * grid + gx) * kLbpBins;
      for (int k = 0; k < kLbpBins; ++k) hist[k] = (float)binned[k] * norm;
    }
  }
}

}  // namespace
}  // namespace fas

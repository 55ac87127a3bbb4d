// 2x nearest upsampling forward and backward written once over vector traits T (simd/vec_*.h),
// instantiated in pool_<isa>.cpp. Full vectors, then the reference's scalar loop on the row end,
// with the reference's order of additions, so results equal f32_upsample2x*__ref exactly.
#pragma once
#include <cstdint>

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

template <class T>
void e_upsample2x(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  const int64_t ow = 2 * w;
  for (int64_t r = 0; r < planes * h; ++r) {  // input row r feeds output rows 2r and 2r + 1
    const float* xr = x + r * w;
    float* y0 = y + 2 * r * ow;
    float* y1 = y0 + ow;
    int64_t j = 0;
    for (; j + T::V <= w; j += T::V) {
      const typename T::vec v = T::load(xr + j);
      typename T::vec lo, hi;
      T::interleave(v, v, lo, hi);
      T::store(y0 + 2 * j, lo), T::store(y0 + 2 * j + T::V, hi);
      T::store(y1 + 2 * j, lo), T::store(y1 + 2 * j + T::V, hi);
    }
    for (; j < w; ++j) y0[2 * j] = y0[2 * j + 1] = y1[2 * j] = y1[2 * j + 1] = xr[j];
  }
}

template <class T>
void e_upsample2x_bwd(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  const int64_t ow = 2 * w;
  for (int64_t r = 0; r < planes * h; ++r) {
    float* xr = gx + r * w;
    const float* g0 = gy + 2 * r * ow;
    const float* g1 = g0 + ow;
    int64_t j = 0;
    for (; j + T::V <= w; j += T::V) {
      typename T::vec e0, o0, e1, o1;
      T::deinterleave(T::load(g0 + 2 * j), T::load(g0 + 2 * j + T::V), e0, o0);
      T::deinterleave(T::load(g1 + 2 * j), T::load(g1 + 2 * j + T::V), e1, o1);
      // The reference's order: +g00, +g01, +g10, +g11.
      T::store(xr + j, T::add(T::add(T::add(T::add(T::load(xr + j), e0), o0), e1), o1));
    }
    for (; j < w; ++j) xr[j] = (((xr[j] + g0[2 * j]) + g0[2 * j + 1]) + g1[2 * j]) + g1[2 * j + 1];
  }
}

}  // namespace
}  // namespace fas

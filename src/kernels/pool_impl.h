// 2x2 max pooling (forward with argmax, backward) and 2x nearest upsampling (forward, backward),
// written once over vector traits T (simd/vec_*.h: V, load/store/add, (de)interleave,
// window_max, window_picks), instantiated in pool_<isa>.cpp. Full vectors, then the reference's
// scalar loop on the row end, with the reference's comparisons and order of additions, so
// results equal the references exactly.
#pragma once
#include <cstdint>

#include "kernels/pool.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

template <class T>
void e_maxpool2x2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* r0 = xp + 2 * i * w;
      const float* r1 = r0 + w;
      float* yr = y + (p * oh + i) * ow;
      int32_t* ar = argmax ? argmax + (p * oh + i) * ow : nullptr;
      int64_t j = 0;
      for (; j + T::V <= ow; j += T::V) {  // V outputs from 2V inputs per row: even/odd columns
        typename T::vec e0, o0, e1, o1;
        T::deinterleave(T::load(r0 + 2 * j), T::load(r0 + 2 * j + T::V), e0, o0);
        T::deinterleave(T::load(r1 + 2 * j), T::load(r1 + 2 * j + T::V), e1, o1);
        T::store(yr + j, T::window_max(e0, o0, e1, o1, (int32_t)(2 * i * w + 2 * j), (int32_t)w, ar ? ar + j : nullptr));
      }
      f32_maxpool2x2_row_tail(xp, w, i, j, ow, yr, ar);
    }
  }
}

template <class T>
void e_maxpool2x2_bwd(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w, float* gx) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t p = 0; p < planes; ++p) {
    float* gp = gx + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* gr = gy + (p * oh + i) * ow;
      const int32_t* ar = argmax + (p * oh + i) * ow;
      float* r0 = gp + 2 * i * w;
      float* r1 = r0 + w;
      int64_t j = 0;
      for (; j + T::V <= ow; j += T::V) {
        typename T::vec p00, p01, p10, p11, lo, hi;
        T::window_picks(ar + j, (int32_t)(2 * i * w + 2 * j), (int32_t)w, T::load(gr + j), p00, p01, p10, p11);
        T::interleave(p00, p01, lo, hi);
        T::store(r0 + 2 * j, T::add(T::load(r0 + 2 * j), lo));
        T::store(r0 + 2 * j + T::V, T::add(T::load(r0 + 2 * j + T::V), hi));
        T::interleave(p10, p11, lo, hi);
        T::store(r1 + 2 * j, T::add(T::load(r1 + 2 * j), lo));
        T::store(r1 + 2 * j + T::V, T::add(T::load(r1 + 2 * j + T::V), hi));
      }
      for (; j < ow; ++j) gp[ar[j]] += gr[j];
    }
  }
}

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

// The pointwise conv kernel written once over vector traits T; instantiated per ISA by
// FAS_DEFINE_CONV1X1 in conv1x1_<isa>.cpp.
#pragma once
#include <cstdint>

#include "kernels/conv1x1.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

// MR output channels x NV vectors of pixels starting at (o, p0), accumulated in registers.
template <class T, int MR, int NV>
inline void c1x1_tile(const float* x, const float* w, const float* bias, float* y, int64_t C, int64_t P, int64_t o,
                      int64_t p0, typename T::vec vlo, typename T::vec vhi) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  vec acc[MR][NV];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int n = 0; n < NV; ++n) acc[m][n] = bias ? T::set1(bias[o + m]) : T::zero();
  for (int64_t c = 0; c < C; ++c) {
    vec xv[NV];
#pragma GCC unroll 4
    for (int n = 0; n < NV; ++n) xv[n] = T::load(x + c * P + p0 + n * V);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const vec wv = T::set1(w[(o + m) * C + c]);
#pragma GCC unroll 4
      for (int n = 0; n < NV; ++n) acc[m][n] = T::fma(xv[n], wv, acc[m][n]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int n = 0; n < NV; ++n) T::store(y + (o + m) * P + p0 + n * V, T::min(T::max(acc[m][n], vlo), vhi));
}

template <class T, int NV>
inline void c1x1_columns(const float* x, const float* w, const float* bias, float* y, int64_t C, int64_t OC, int64_t P,
                         int64_t p0, typename T::vec vlo, typename T::vec vhi) {
  int64_t o = 0;
  for (; o + 4 <= OC; o += 4) c1x1_tile<T, 4, NV>(x, w, bias, y, C, P, o, p0, vlo, vhi);
  for (; o < OC; ++o) c1x1_tile<T, 1, NV>(x, w, bias, y, C, P, o, p0, vlo, vhi);
}

template <class T>
void c1x1(const float* x, const float* w, const float* bias, float* y, int64_t C, int64_t OC, int64_t P, float lo,
          float hi) {
  constexpr int V = T::V;
  const typename T::vec vlo = T::set1(lo), vhi = T::set1(hi);
  int64_t p0 = 0;
  // Pixel blocks outermost: the block's C x 2V inputs stay in L1 while every OC row uses them.
  for (; p0 + 2 * V <= P; p0 += 2 * V) c1x1_columns<T, 2>(x, w, bias, y, C, OC, P, p0, vlo, vhi);
  for (; p0 + V <= P; p0 += V) c1x1_columns<T, 1>(x, w, bias, y, C, OC, P, p0, vlo, vhi);
  for (; p0 < P; ++p0)  // ragged pixel tail
    for (int64_t o = 0; o < OC; ++o) {
      float s = bias ? bias[o] : 0.f;
      for (int64_t c = 0; c < C; ++c) s += w[o * C + c] * x[c * P + p0];
      y[o * P + p0] = s < lo ? lo : (s > hi ? hi : s);
    }
}

}  // namespace
}  // namespace fas

#define FAS_DEFINE_CONV1X1(isa, T)                                                                           \
  namespace fas {                                                                                            \
  void f32_conv1x1_bias_clamp__##isa(const float* x, const float* w, const float* bias, float* y, int64_t C, \
                                     int64_t OC, int64_t P, float lo, float hi) {                           \
    c1x1<T>(x, w, bias, y, C, OC, P, lo, hi);                                                               \
  }                                                                                                          \
  }  // namespace fas

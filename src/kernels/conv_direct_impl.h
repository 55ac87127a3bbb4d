// Direct stride-1 conv kernels written once over a vector-traits type T (simd/vec_*.h) and
// instantiated per ISA by FAS_DEFINE_CONV_DIRECT in conv_direct_<isa>.cpp. The input is a
// zero-padded copy (kernels/conv_direct.h), so the inner loops never test bounds; only the last
// vector of a row is ragged, and it goes through a small stack buffer.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/conv_direct.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

// The tile loops have compile-time trip counts; unrolled, their accumulators live in registers
// (GCC's -O2 keeps them in memory otherwise).
#define FAS_UNROLL _Pragma("GCC unroll 16")

// Rows per cache band: the band's padded input rows (forward) or output-gradient and input rows
// (weight gradient) stay in L2 while every output-channel block passes over them.
constexpr int64_t kDirectBandFloats = 64 * 1024;

// Forward register tile: OB output channels x NV vectors of adjacent outputs of row oh from
// column ow; `lanes` of the NV*V outputs are real.
template <class T, int OB, int NV>
inline void direct_fwd_tile(const float* xp, const float* w, const float* b, float* y, const DirectConvGeom& g,
                            int64_t oc, int64_t oh, int64_t ow, int lanes, bool acc) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t P = g.plane, CKK = g.C * g.KH * g.KW;
  const bool full = lanes == NV * V;
  alignas(64) float tmp[OB][NV * V];
  vec a[OB][NV];
  FAS_UNROLL
  for (int o = 0; o < OB; ++o) {
    float* yo = y + (oc + o) * P + oh * g.OW + ow;
    const vec bv = T::set1(b ? b[oc + o] : 0.f);
    if (!full) {  // ragged: stage y through tmp (the lanes past `lanes` are dropped at the end)
      std::memset(tmp[o], 0, sizeof(tmp[o]));
      if (acc) std::memcpy(tmp[o], yo, sizeof(float) * lanes);
    }
    const float* src = full ? yo : tmp[o];
    FAS_UNROLL
    for (int j = 0; j < NV; ++j) a[o][j] = acc ? T::add(T::load(src + j * V), bv) : bv;
  }
  for (int64_t c = 0; c < g.C; ++c)
    for (int kh = 0; kh < g.KH; ++kh) {
      const float* xr = xp + (c * g.Hp + oh + kh) * g.Wp + ow;
      const float* wr = w + ((oc * g.C + c) * g.KH + kh) * g.KW;
      for (int kw = 0; kw < g.KW; ++kw) {
        vec xv[NV];
        FAS_UNROLL
        for (int j = 0; j < NV; ++j) xv[j] = T::load(xr + kw + j * V);
        FAS_UNROLL
        for (int o = 0; o < OB; ++o) {
          const vec wv = T::set1(wr[o * CKK + kw]);
          FAS_UNROLL
          for (int j = 0; j < NV; ++j) a[o][j] = T::fma(xv[j], wv, a[o][j]);
        }
      }
    }
  FAS_UNROLL
  for (int o = 0; o < OB; ++o) {
    float* yo = y + (oc + o) * P + oh * g.OW + ow;
    float* dst = full ? yo : tmp[o];
    FAS_UNROLL
    for (int j = 0; j < NV; ++j) T::store(dst + j * V, a[o][j]);
    if (!full) std::memcpy(yo, tmp[o], sizeof(float) * lanes);
  }
}

template <class T, int OB>
void direct_fwd_rows(const float* xp, const float* w, const float* b, float* y, const DirectConvGeom& g, int64_t oc,
                     int64_t oh0, int64_t oh1, bool acc) {
  constexpr int V = T::V;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t ow = 0;
    for (; ow + 3 * V <= g.OW; ow += 3 * V) direct_fwd_tile<T, OB, 3>(xp, w, b, y, g, oc, oh, ow, 3 * V, acc);
    if (ow + 2 * V <= g.OW) direct_fwd_tile<T, OB, 2>(xp, w, b, y, g, oc, oh, ow, 2 * V, acc), ow += 2 * V;
    for (; ow < g.OW; ow += V)
      direct_fwd_tile<T, OB, 1>(xp, w, b, y, g, oc, oh, ow, (int)std::min<int64_t>(V, g.OW - ow), acc);
  }
}

template <class T>
void direct_fwd(const float* xp, const float* w, const float* b, float* y, const DirectConvGeom& g, int64_t oc0,
                int64_t oc1, int64_t oh0, int64_t oh1, bool acc) {
  const int64_t band = std::max<int64_t>(1, kDirectBandFloats / (g.C * g.Wp) - g.KH + 1);
  for (int64_t r0 = oh0; r0 < oh1; r0 += band) {
    const int64_t r1 = std::min(oh1, r0 + band);
    for (int64_t oc = oc0; oc < oc1; oc += 4) switch (std::min<int64_t>(4, oc1 - oc)) {
        case 4: direct_fwd_rows<T, 4>(xp, w, b, y, g, oc, r0, r1, acc); break;
        case 3: direct_fwd_rows<T, 3>(xp, w, b, y, g, oc, r0, r1, acc); break;
        case 2: direct_fwd_rows<T, 2>(xp, w, b, y, g, oc, r0, r1, acc); break;
        default: direct_fwd_rows<T, 1>(xp, w, b, y, g, oc, r0, r1, acc); break;
      }
  }
}

// Weight-gradient register tile: OB output channels x NK taps (kw0 .. kw0+NK-1) of kernel row
// kh, input channel c, summed over rows [oh0, oh1) in vector lanes, then added to gw.
template <class T, int OB, int NK>
void direct_dw_tile(const float* xp, const float* gy, float* gw, const DirectConvGeom& g, int64_t oc, int64_t c,
                    int kh, int kw0, int64_t oh0, int64_t oh1) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t P = g.plane;
  vec a[OB][NK];
  FAS_UNROLL
  for (int o = 0; o < OB; ++o)
    FAS_UNROLL
    for (int k = 0; k < NK; ++k) a[o][k] = T::zero();
  auto step = [&](const float* const* gr, const float* xr) {
    vec gv[OB];
    FAS_UNROLL
    for (int o = 0; o < OB; ++o) gv[o] = T::load(gr[o]);
    FAS_UNROLL
    for (int k = 0; k < NK; ++k) {
      const vec xv = T::load(xr + k);
      FAS_UNROLL
      for (int o = 0; o < OB; ++o) a[o][k] = T::fma(gv[o], xv, a[o][k]);
    }
  };
  const int64_t full = g.OW / V * V, tail = g.OW - full;
  alignas(64) float tmp[OB][V];
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const float* xr = xp + (c * g.Hp + oh + kh) * g.Wp + kw0;
    const float* gr[OB];
    FAS_UNROLL
    for (int o = 0; o < OB; ++o) gr[o] = gy + (oc + o) * P + oh * g.OW;
    for (int64_t ow = 0; ow < full; ow += V) {
      const float* gp[OB];
      FAS_UNROLL
      for (int o = 0; o < OB; ++o) gp[o] = gr[o] + ow;
      step(gp, xr + ow);
    }
    if (tail) {  // ragged end: gy lanes past the row are zero, so the x lanes there add nothing
      const float* gp[OB];
      FAS_UNROLL
      for (int o = 0; o < OB; ++o) {
        std::memset(tmp[o], 0, sizeof(tmp[o]));
        std::memcpy(tmp[o], gr[o] + full, sizeof(float) * tail);
        gp[o] = tmp[o];
      }
      step(gp, xr + full);
    }
  }
  FAS_UNROLL
  for (int o = 0; o < OB; ++o)
    FAS_UNROLL
    for (int k = 0; k < NK; ++k) gw[(((oc + o) * g.C + c) * g.KH + kh) * g.KW + kw0 + k] += T::hsum(a[o][k]);
}

template <class T, int OB>
void direct_dw_taps(const float* xp, const float* gy, float* gw, const DirectConvGeom& g, int64_t oc, int64_t c,
                    int64_t oh0, int64_t oh1) {
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; kw += 3) switch (std::min(3, g.KW - kw)) {
        case 3: direct_dw_tile<T, OB, 3>(xp, gy, gw, g, oc, c, kh, kw, oh0, oh1); break;
        case 2: direct_dw_tile<T, OB, 2>(xp, gy, gw, g, oc, c, kh, kw, oh0, oh1); break;
        default: direct_dw_tile<T, OB, 1>(xp, gy, gw, g, oc, c, kh, kw, oh0, oh1); break;
      }
}

template <class T>
void direct_dw(const float* xp, const float* gy, float* gw, const DirectConvGeom& g, int64_t oh0, int64_t oh1) {
  const int64_t band = std::max<int64_t>(1, kDirectBandFloats / (g.OC * g.OW + g.C * g.Wp));
  for (int64_t r0 = oh0; r0 < oh1; r0 += band) {
    const int64_t r1 = std::min(oh1, r0 + band);
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oc = 0; oc < g.OC; oc += 3) switch (std::min<int64_t>(3, g.OC - oc)) {
          case 3: direct_dw_taps<T, 3>(xp, gy, gw, g, oc, c, r0, r1); break;
          case 2: direct_dw_taps<T, 2>(xp, gy, gw, g, oc, c, r0, r1); break;
          default: direct_dw_taps<T, 1>(xp, gy, gw, g, oc, c, r0, r1); break;
        }
  }
}

}  // namespace
}  // namespace fas

#define FAS_DEFINE_CONV_DIRECT(isa, T)                                                                      \
  namespace fas {                                                                                           \
  void f32_conv2d_s1_4oc3v__##isa(const float* xp, const float* w, const float* b, float* y,                \
                                  const DirectConvGeom& g, int64_t oc0, int64_t oc1, int64_t oh0, int64_t oh1, \
                                  bool acc) {                                                               \
    direct_fwd<T>(xp, w, b, y, g, oc0, oc1, oh0, oh1, acc);                                                 \
  }                                                                                                         \
  void f32_conv2d_s1_dw_3oc3tap__##isa(const float* xp, const float* gy, float* gw, const DirectConvGeom& g, \
                                       int64_t oh0, int64_t oh1) {                                          \
    direct_dw<T>(xp, gy, gw, g, oh0, oh1);                                                                  \
  }                                                                                                         \
  }

// Depthwise 3x3 kernels written once over a vector-traits type T (simd/vec_*.h) and instantiated
// per ISA by FAS_DEFINE_DWCONV3X3 in dwconv3x3_<isa>.cpp. Vectorised along W: a chunk is V
// adjacent outputs of one row. Chunks whose input window leaves the plane (borders, ragged tails)
// read a zero-padded copy of the window on the stack, so the inner code never branches on bounds.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/dwconv3x3.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

inline int64_t floor_div2(int64_t a) { return a >= 0 ? a / 2 : -((1 - a) / 2); }

// The three input rows a chunk of V outputs reads, each readable for SPAN floats: a pointer
// straight into x when the window lies inside the row, else a zero-padded copy.
template <int V, int S>
struct DwWindow {
  static constexpr int SPAN = V * S + 2;  // s1: V + 2 taps; s2: two loads of 2V at +0 and +2
  alignas(64) float buf[3][SPAN];
  alignas(64) float zero[SPAN] = {};
  const float* row[3];

  void fetch(const float* x, const DwConv3x3Geom& g, int64_t iy0, int64_t c0) {
    const bool inside = c0 >= 0 && c0 + SPAN <= g.w;
    for (int r = 0; r < 3; ++r) {
      const int64_t iy = iy0 + r;
      if (iy < 0 || iy >= g.h) {
        row[r] = zero;
        continue;
      }
      const float* src = x + iy * g.w;
      if (inside) {
        row[r] = src + c0;
        continue;
      }
      for (int i = 0; i < SPAN; ++i) {
        const int64_t c = c0 + i;
        buf[r][i] = (c >= 0 && c < g.w) ? src[c] : 0.f;
      }
      row[r] = buf[r];
    }
  }
};

// The three tap vectors of one input row: lane j holds row[j*S + kx], kx = 0, 1, 2.
template <class T, int S>
inline void row_taps(const float* p, typename T::vec& t0, typename T::vec& t1, typename T::vec& t2) {
  constexpr int V = T::V;
  if constexpr (S == 1) {
    t0 = T::load(p), t1 = T::load(p + 1), t2 = T::load(p + 2);
  } else {
    typename T::vec unused;
    T::deinterleave(T::load(p), T::load(p + V), t0, t1);
    T::deinterleave(T::load(p + 2), T::load(p + 2 + V), t2, unused);
  }
}

// Copies n (< V) floats to a V-float buffer, zero-filling the rest.
template <int V>
inline void copy_partial(float* dst, const float* src, int64_t n) {
  for (int i = 0; i < V; ++i) dst[i] = i < n ? src[i] : 0.f;
}

template <class T, int S>
void dw_fwd(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g, float out_min,
            float out_max, bool accumulate) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  DwWindow<V, S> win;
  vec wv[9];
  for (int k = 0; k < 9; ++k) wv[k] = T::set1(w9[k]);
  const vec vb = T::set1(bias), vlo = T::set1(out_min), vhi = T::set1(out_max);
  alignas(64) float ybuf[V];
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    float* yrow = y + oy * g.ow;
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += V) {
      win.fetch(x, g, oy * S - g.pad_top, ox0 * S - g.pad_left);
      const int64_t n = g.ow - ox0;
      float* yp = n >= V ? yrow + ox0 : ybuf;
      if (n < V && accumulate) copy_partial<V>(ybuf, yrow + ox0, n);
      // Three independent accumulators (one per kernel row) keep the FMA chains short.
      vec acc[3] = {accumulate ? T::add(T::load(yp), vb) : vb, T::zero(), T::zero()};
      for (int r = 0; r < 3; ++r) {
        vec t0, t1, t2;
        row_taps<T, S>(win.row[r], t0, t1, t2);
        acc[r] = T::fma(t0, wv[3 * r], acc[r]);
        acc[r] = T::fma(t1, wv[3 * r + 1], acc[r]);
        acc[r] = T::fma(t2, wv[3 * r + 2], acc[r]);
      }
      const vec s = T::add(T::add(acc[0], acc[1]), acc[2]);
      T::store(yp, T::min(T::max(s, vlo), vhi));
      if (n < V)
        for (int64_t i = 0; i < n; ++i) yrow[ox0 + i] = ybuf[i];
    }
  }
}

template <class T, int S>
void dw_wgrad(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  DwWindow<V, S> win;
  vec acc[9];
  for (auto& a : acc) a = T::zero();
  alignas(64) float dbuf[V];
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* dyrow = dy + oy * g.ow;
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += V) {
      win.fetch(x, g, oy * S - g.pad_top, ox0 * S - g.pad_left);
      const int64_t n = g.ow - ox0;
      if (n < V) copy_partial<V>(dbuf, dyrow + ox0, n);  // lanes past the row contribute 0
      const vec d = T::load(n >= V ? dyrow + ox0 : dbuf);
      for (int r = 0; r < 3; ++r) {
        vec t0, t1, t2;
        row_taps<T, S>(win.row[r], t0, t1, t2);
        acc[3 * r] = T::fma(t0, d, acc[3 * r]);
        acc[3 * r + 1] = T::fma(t1, d, acc[3 * r + 1]);
        acc[3 * r + 2] = T::fma(t2, d, acc[3 * r + 2]);
      }
    }
  }
  for (int k = 0; k < 9; ++k) dw9[k] += T::hsum(acc[k]);
}

// Stride 1: the input gradient is a stride-1 correlation of dy with the 180-degree rotated
// kernel, padded by 2 - pad (negative = crop), accumulated into dx.
template <class T>
void dw_dx_s1(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g) {
  float wr[9];
  for (int k = 0; k < 9; ++k) wr[k] = w9[8 - k];
  const DwConv3x3Geom t{g.oh, g.ow, g.h, g.w, 2 - g.pad_top, 2 - g.pad_left};
  dw_fwd<T, 1>(dy, wr, 0.f, dx, t, -INFINITY, INFINITY, true);
}

// Stride 2: dx column 2j - pad_left gets dy[j]*w[.][0] + dy[j-1]*w[.][2], the next column
// dy[j]*w[.][1]. Even and odd columns are computed as two vectors over j and interleaved.
// Row iy gets kernel rows ky with iy + pad_top - ky even: ky = 0 and 2, or ky = 1 alone.
template <class T>
void dw_dx_s2(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t j_begin = floor_div2(g.pad_left), j_end = floor_div2(g.w - 1 + g.pad_left) + 1;
  alignas(64) float dbuf[2][V + 1];
  alignas(64) float obuf[2 * V];
  for (int64_t iy = 0; iy < g.h; ++iy) {
    const int64_t t = iy + g.pad_top;
    const float* rows[2];
    vec w0[2], w1[2], w2[2];
    int nr = 0;
    auto add_row = [&](int64_t oy, int ky) {
      if (oy < 0 || oy >= g.oh) return;
      rows[nr] = dy + oy * g.ow;
      w0[nr] = T::set1(w9[3 * ky]), w1[nr] = T::set1(w9[3 * ky + 1]), w2[nr] = T::set1(w9[3 * ky + 2]);
      ++nr;
    };
    if (t % 2 == 0) {
      add_row(floor_div2(t), 0);
      add_row(floor_div2(t) - 1, 2);
    } else {
      add_row(floor_div2(t - 1), 1);
    }
    if (nr == 0) continue;
    float* dxrow = dx + iy * g.w;
    for (int64_t j0 = j_begin; j0 < j_end; j0 += V) {
      vec e = T::zero(), o = T::zero();
      for (int q = 0; q < nr; ++q) {
        // p[0] = dy[j0 - 1], p[1..V] = dy[j0 .. j0 + V - 1], zero outside the row.
        const float* p = rows[q] + j0 - 1;
        if (j0 - 1 < 0 || j0 + V > g.ow) {
          for (int i = 0; i <= V; ++i) {
            const int64_t c = j0 - 1 + i;
            dbuf[q][i] = (c >= 0 && c < g.ow) ? rows[q][c] : 0.f;
          }
          p = dbuf[q];
        }
        const vec a = T::load(p + 1), b = T::load(p);
        e = T::fma(a, w0[q], T::fma(b, w2[q], e));
        o = T::fma(a, w1[q], o);
      }
      vec lo, hi;
      T::interleave(e, o, lo, hi);
      const int64_t ix0 = 2 * j0 - g.pad_left;
      if (ix0 >= 0 && ix0 + 2 * V <= g.w) {
        T::store(dxrow + ix0, T::add(T::load(dxrow + ix0), lo));
        T::store(dxrow + ix0 + V, T::add(T::load(dxrow + ix0 + V), hi));
      } else {
        T::store(obuf, lo);
        T::store(obuf + V, hi);
        for (int i = 0; i < 2 * V; ++i)
          if (ix0 + i >= 0 && ix0 + i < g.w) dxrow[ix0 + i] += obuf[i];
      }
    }
  }
}

}  // namespace
}  // namespace fas

// Defines the six exported kernels of one ISA from traits type T.
#define FAS_DEFINE_DWCONV3X3(isa, T)                                                                         \
  namespace fas {                                                                                            \
  void f32_dwconv3x3_s1__##isa(const float* x, const float* w, float b, float* y, const DwConv3x3Geom& g,    \
                               float lo, float hi, bool acc) {                                               \
    dw_fwd<T, 1>(x, w, b, y, g, lo, hi, acc);                                                                \
  }                                                                                                          \
  void f32_dwconv3x3_s2__##isa(const float* x, const float* w, float b, float* y, const DwConv3x3Geom& g,    \
                               float lo, float hi, bool acc) {                                               \
    dw_fwd<T, 2>(x, w, b, y, g, lo, hi, acc);                                                                \
  }                                                                                                          \
  void f32_dwconv3x3_s1_dx__##isa(const float* dy, const float* w, float* dx, const DwConv3x3Geom& g) {      \
    dw_dx_s1<T>(dy, w, dx, g);                                                                               \
  }                                                                                                          \
  void f32_dwconv3x3_s2_dx__##isa(const float* dy, const float* w, float* dx, const DwConv3x3Geom& g) {      \
    dw_dx_s2<T>(dy, w, dx, g);                                                                               \
  }                                                                                                          \
  void f32_dwconv3x3_s1_dw__##isa(const float* x, const float* dy, float* dw, const DwConv3x3Geom& g) {      \
    dw_wgrad<T, 1>(x, dy, dw, g);                                                                            \
  }                                                                                                          \
  void f32_dwconv3x3_s2_dw__##isa(const float* x, const float* dy, float* dw, const DwConv3x3Geom& g) {      \
    dw_wgrad<T, 2>(x, dy, dw, g);                                                                            \
  }                                                                                                          \
  }  // namespace fas

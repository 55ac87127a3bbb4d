// Depthwise 3x3 kernels written once over a vector-traits type T (simd/vec_*.h) and instantiated
// per ISA by FAS_DEFINE_DWCONV3X3 in dwconv3x3_<isa>.cpp. Vectorised along W: a chunk is V
// adjacent outputs of one row. Chunks whose input window leaves the plane (borders, ragged tails)
// read a zero-padded copy of the window on the stack, so the inner code never branches on bounds.
#pragma once
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

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

// One chunk of V outputs from three row pointers (each readable for SPAN floats). Written out
// per kernel row so the accumulators stay in registers; one chain per kernel row.
template <class T, int S>
inline typename T::vec fwd_chunk(const float* p0, const float* p1, const float* p2, const typename T::vec* wv,
                                 typename T::vec init) {
  typename T::vec t0, t1, t2;
  row_taps<T, S>(p0, t0, t1, t2);
  typename T::vec a0 = T::fma(t2, wv[2], T::fma(t1, wv[1], T::fma(t0, wv[0], init)));
  row_taps<T, S>(p1, t0, t1, t2);
  typename T::vec a1 = T::fma(t2, wv[5], T::fma(t1, wv[4], T::mul(t0, wv[3])));
  row_taps<T, S>(p2, t0, t1, t2);
  typename T::vec a2 = T::fma(t2, wv[8], T::fma(t1, wv[7], T::mul(t0, wv[6])));
  return T::add(T::add(a0, a1), a2);
}

template <class T, int S>
inline void wgrad_chunk(const float* p0, const float* p1, const float* p2, typename T::vec d, typename T::vec* acc) {
  typename T::vec t0, t1, t2;
  row_taps<T, S>(p0, t0, t1, t2);
  acc[0] = T::fma(t0, d, acc[0]), acc[1] = T::fma(t1, d, acc[1]), acc[2] = T::fma(t2, d, acc[2]);
  row_taps<T, S>(p1, t0, t1, t2);
  acc[3] = T::fma(t0, d, acc[3]), acc[4] = T::fma(t1, d, acc[4]), acc[5] = T::fma(t2, d, acc[5]);
  row_taps<T, S>(p2, t0, t1, t2);
  acc[6] = T::fma(t0, d, acc[6]), acc[7] = T::fma(t1, d, acc[7]), acc[8] = T::fma(t2, d, acc[8]);
}

// Window path (rows wider than the ring): fast when all three input rows exist and the chunk's window lies inside them.
template <int V, int S>
inline bool chunk_inside(const DwConv3x3Geom& g, bool rows_ok, int64_t ox0, int64_t c0) {
  return rows_ok && ox0 + V <= g.ow && c0 >= 0 && c0 + DwWindow<V, S>::SPAN <= g.w;
}

// The window path's walk (rows wider than the ring): f(oy, ox0, p0, p1, p2, n) for every chunk,
// p0..p2 its three input rows (straight into x when the window lies inside, else zero-padded
// copies), n = outputs left in the row (>= V: a full chunk).
template <int V, int S, class F>
inline void for_each_window_chunk(const float* x, const DwConv3x3Geom& g, F&& f) {
  DwWindow<V, S> win;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const int64_t iy0 = oy * S - g.pad_top;
    const bool rows_ok = iy0 >= 0 && iy0 + 2 < g.h;
    const float* r0 = rows_ok ? x + iy0 * g.w : x;
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += V) {
      const int64_t c0 = ox0 * S - g.pad_left;
      if (chunk_inside<V, S>(g, rows_ok, ox0, c0)) {
        f(oy, ox0, r0 + c0, r0 + g.w + c0, r0 + 2 * g.w + c0, g.ow - ox0);
        continue;
      }
      win.fetch(x, g, iy0, c0);
      f(oy, ox0, win.row[0], win.row[1], win.row[2], g.ow - ox0);
    }
  }
}

template <class T, int S>
void dw_fwd_rows(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g, float out_min,
                 float out_max, bool accumulate) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  vec wv[9];
  for (int k = 0; k < 9; ++k) wv[k] = T::set1(w9[k]);
  const vec vb = T::set1(bias), vlo = T::set1(out_min), vhi = T::set1(out_max);
  alignas(64) float ybuf[V];
  for_each_window_chunk<V, S>(x, g, [&](int64_t oy, int64_t ox0, const float* p0, const float* p1, const float* p2,
                                        int64_t n) {
    float* yrow = y + oy * g.ow;
    float* yp = n >= V ? yrow + ox0 : ybuf;  // a ragged tail goes through ybuf
    if (n < V && accumulate) copy_partial<V>(ybuf, yrow + ox0, n);
    const vec init = accumulate ? T::add(T::load(yp), vb) : vb;
    T::store(yp, T::min(T::max(fwd_chunk<T, S>(p0, p1, p2, wv, init), vlo), vhi));
    if (n < V)
      for (int64_t i = 0; i < n; ++i) yrow[ox0 + i] = ybuf[i];
  });
}

template <class T, int S>
void dw_wgrad_rows(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  vec acc[9];
  for (auto& a : acc) a = T::zero();
  alignas(64) float dbuf[V];
  for_each_window_chunk<V, S>(x, g, [&](int64_t oy, int64_t ox0, const float* p0, const float* p1, const float* p2,
                                        int64_t n) {
    const float* dyrow = dy + oy * g.ow;
    if (n < V) copy_partial<V>(dbuf, dyrow + ox0, n);  // lanes past the row contribute 0
    wgrad_chunk<T, S>(p0, p1, p2, T::load(n >= V ? dyrow + ox0 : dbuf), acc);
  });
  for (int k = 0; k < 9; ++k) dw9[k] += T::hsum(acc[k]);
}

// The main path: zero-padded copies of the input rows in a 3-slot ring on the stack. Column c of
// a copy is input column c - pad_left, so chunk ox0 reads [ox0*S, ox0*S + SPAN) of three copies
// and no chunk ever branches on bounds; each input row is copied once (stride 1 and 2). Rows
// too wide for the ring (> kRingRowFloats after padding) take the per-chunk window path above.
constexpr int64_t kRingRowFloats = 1536;  // 4 x 6 KB of stack (3 slots + a zero row)

template <int V, int S>
inline int64_t padded_width(const DwConv3x3Geom& g) { return (g.ow + V - 1) / V * V * S + 2; }

class PaddedRows {
 public:
  PaddedRows(const float* x, const DwConv3x3Geom& g, int64_t wp) : x_(x), g_(g), wp_(wp) {
    std::memset(zero_, 0, sizeof(float) * wp);
  }
  // Rows iy0 .. iy0+count-1 (zero rows outside the input), reusing copies still in the ring.
  void get(int64_t iy0, const float* rows[3], int count = 3) {
    for (int r = 0; r < count; ++r) {
      const int64_t iy = iy0 + r;
      if (iy < 0 || iy >= g_.h) {
        rows[r] = zero_;
        continue;
      }
      int slot = -1;
      for (int s = 0; s < 3; ++s)
        if (tag_[s] == iy) slot = s;
      if (slot < 0) {  // evict a slot holding none of the three rows needed now
        for (int s = 0; s < 3 && slot < 0; ++s)
          if (tag_[s] < iy0 || tag_[s] >= iy0 + count) slot = s;
        fill(iy, buf_[slot]);
        tag_[slot] = iy;
      }
      rows[r] = buf_[slot];
    }
  }

  const float* zero_row() const { return zero_; }

 private:
  void fill(int64_t iy, float* dst) const {
    const float* src = x_ + iy * g_.w;
    const int64_t pl = g_.pad_left;
    const int64_t c_begin = std::min(wp_, std::max<int64_t>(0, pl));
    const int64_t c_end = std::max(c_begin, std::min(wp_, g_.w + pl));
    std::memset(dst, 0, sizeof(float) * c_begin);  // all-zero bits = 0.0f
    std::memcpy(dst + c_begin, src + c_begin - pl, sizeof(float) * (c_end - c_begin));
    std::memset(dst + c_end, 0, sizeof(float) * (wp_ - c_end));
  }
  const float* x_;
  const DwConv3x3Geom& g_;
  int64_t wp_;
  int64_t tag_[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
  alignas(64) float buf_[3][kRingRowFloats];
  alignas(64) float zero_[kRingRowFloats];
};

template <class T, int S>
void dw_fwd(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g, float out_min,
            float out_max, bool accumulate) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t wp = padded_width<V, S>(g);
  if (wp > kRingRowFloats) return dw_fwd_rows<T, S>(x, w9, bias, y, g, out_min, out_max, accumulate);
  PaddedRows ring(x, g, wp);
  vec wv[9];
  for (int k = 0; k < 9; ++k) wv[k] = T::set1(w9[k]);
  const vec vb = T::set1(bias), vlo = T::set1(out_min), vhi = T::set1(out_max);
  alignas(64) float ybuf[V];
  const int64_t full = g.ow / V * V;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* rows[3];
    ring.get(oy * S - g.pad_top, rows);
    float* yrow = y + oy * g.ow;
    for (int64_t ox0 = 0; ox0 < full; ox0 += V) {
      const vec init = accumulate ? T::add(T::load(yrow + ox0), vb) : vb;
      const vec s = fwd_chunk<T, S>(rows[0] + ox0 * S, rows[1] + ox0 * S, rows[2] + ox0 * S, wv, init);
      T::store(yrow + ox0, T::min(T::max(s, vlo), vhi));
    }
    if (full < g.ow) {  // ragged tail through ybuf
      const int64_t n = g.ow - full;
      if (accumulate) copy_partial<V>(ybuf, yrow + full, n);
      const vec init = accumulate ? T::add(T::load(ybuf), vb) : vb;
      const vec s = fwd_chunk<T, S>(rows[0] + full * S, rows[1] + full * S, rows[2] + full * S, wv, init);
      T::store(ybuf, T::min(T::max(s, vlo), vhi));
      for (int64_t i = 0; i < n; ++i) yrow[full + i] = ybuf[i];
    }
  }
}

template <class T, int S>
void dw_wgrad(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t wp = padded_width<V, S>(g);
  if (wp > kRingRowFloats) return dw_wgrad_rows<T, S>(x, dy, dw9, g);
  PaddedRows ring(x, g, wp);
  vec acc[9];
  for (auto& a : acc) a = T::zero();
  alignas(64) float dbuf[V];
  const int64_t full = g.ow / V * V;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* rows[3];
    ring.get(oy * S - g.pad_top, rows);
    const float* dyrow = dy + oy * g.ow;
    for (int64_t ox0 = 0; ox0 < full; ox0 += V)
      wgrad_chunk<T, S>(rows[0] + ox0 * S, rows[1] + ox0 * S, rows[2] + ox0 * S, T::load(dyrow + ox0), acc);
    if (full < g.ow) {  // lanes past the row contribute 0
      copy_partial<V>(dbuf, dyrow + full, g.ow - full);
      wgrad_chunk<T, S>(rows[0] + full * S, rows[1] + full * S, rows[2] + full * S, T::load(dbuf), acc);
    }
  }
  for (int k = 0; k < 9; ++k) dw9[k] += T::hsum(acc[k]);
}

// Stride 1: the input gradient is a stride-1 correlation of dy with the 180-degree rotated
// kernel, padded by 2 - pad (negative = crop), accumulated into (or written to) all of dx.
template <class T>
void dw_dx_s1(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, bool acc) {
  float wr[9];
  for (int k = 0; k < 9; ++k) wr[k] = w9[8 - k];
  const DwConv3x3Geom t{g.oh, g.ow, g.h, g.w, 2 - g.pad_top, 2 - g.pad_left};
  dw_fwd<T, 1>(dy, wr, 0.f, dx, t, -INFINITY, INFINITY, acc);
}

// Stride-2 input gradient for rows too wide for the ring (see dw_dx_s2 for the scheme).
template <class T>
void dw_dx_s2_window(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, bool acc) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  if (!acc) std::fill(dx, dx + g.h * g.w, 0.f);  // this rare path only adds
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
      const int64_t ix0 = 2 * j0 - g.pad_left;
      vec e, o, lo, hi;
      if (j0 >= 1 && j0 + V <= g.ow && ix0 >= 0 && ix0 + 2 * V <= g.w) {  // fast path, no copies
        const vec a = T::load(rows[0] + j0), b = T::load(rows[0] + j0 - 1);
        e = T::fma(a, w0[0], T::mul(b, w2[0]));
        o = T::mul(a, w1[0]);
        if (nr == 2) {
          const vec a1 = T::load(rows[1] + j0), b1 = T::load(rows[1] + j0 - 1);
          e = T::fma(a1, w0[1], T::fma(b1, w2[1], e));
          o = T::fma(a1, w1[1], o);
        }
        T::interleave(e, o, lo, hi);
        T::store(dxrow + ix0, T::add(T::load(dxrow + ix0), lo));
        T::store(dxrow + ix0 + V, T::add(T::load(dxrow + ix0 + V), hi));
        continue;
      }
      e = T::zero(), o = T::zero();
      for (int q = 0; q < nr; ++q) {
        // dbuf[0] = dy[j0 - 1], dbuf[1..V] = dy[j0 .. j0 + V - 1], zero outside the row.
        for (int i = 0; i <= V; ++i) {
          const int64_t c = j0 - 1 + i;
          dbuf[q][i] = (c >= 0 && c < g.ow) ? rows[q][c] : 0.f;
        }
        const vec a = T::load(dbuf[q] + 1), b = T::load(dbuf[q]);
        e = T::fma(a, w0[q], T::fma(b, w2[q], e));
        o = T::fma(a, w1[q], o);
      }
      T::interleave(e, o, lo, hi);
      T::store(obuf, lo);
      T::store(obuf + V, hi);
      for (int i = 0; i < 2 * V; ++i)
        if (ix0 + i >= 0 && ix0 + i < g.w) dxrow[ix0 + i] += obuf[i];
    }
  }
}

// Stride 2: dx column 2j - pad_left gets dy[j]*w[.][0] + dy[j-1]*w[.][2], the next column
// dy[j]*w[.][1]. Even and odd columns are computed as two vectors over j and interleaved.
// Row iy gets kernel rows ky with iy + pad_top - ky even: ky = 0 (dy row t/2) and ky = 2 (row
// t/2 - 1), or ky = 1 (row (t-1)/2) alone. dy rows come zero-padded from the ring (slot q holds
// dy[j_begin - 1 + q]); the interleaved result goes to a row buffer that is added into (!acc:
// copied to) dx; rows no dy row reaches are then zeroed.
template <class T>
void dw_dx_s2(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, bool acc) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  const int64_t j_begin = floor_div2(g.pad_left), j_end = floor_div2(g.w - 1 + g.pad_left) + 1;
  const int64_t nj = (j_end - j_begin + V - 1) / V * V;  // j chunks, padded to full vectors
  // The dx row buffer holds 2*nj columns starting at dx column 2*j_begin - pad_left (0 or -1).
  if (nj + 1 > kRingRowFloats) return dw_dx_s2_window<T>(dy, w9, dx, g, acc);
  const DwConv3x3Geom dyg{g.oh, g.ow, 0, 0, 0, (int)(1 - j_begin)};
  PaddedRows ring(dy, dyg, nj + 1);
  alignas(64) float obuf[2 * kRingRowFloats];
  vec w[9];
  for (int k = 0; k < 9; ++k) w[k] = T::set1(w9[k]);
  const int64_t base = 2 * j_begin - g.pad_left;  // dx column of obuf[0]
  for (int64_t iy = 0; iy < g.h; ++iy) {
    const int64_t t = iy + g.pad_top;
    const float* rows[3];
    const bool even = t % 2 == 0;
    ring.get(even ? floor_div2(t) - 1 : floor_div2(t - 1), rows, even ? 2 : 1);
    if (rows[0] == ring.zero_row() && (!even || rows[1] == ring.zero_row())) {  // no dy row reaches iy
      if (!acc) std::fill(dx + iy * g.w, dx + (iy + 1) * g.w, 0.f);
      continue;
    }
    for (int64_t jj = 0; jj < nj; jj += V) {
      vec e, o, lo, hi;
      if (even) {  // rows[1] = dy row t/2 through ky = 0, rows[0] = row t/2 - 1 through ky = 2
        const vec a1 = T::load(rows[1] + jj + 1), b1 = T::load(rows[1] + jj);
        const vec a0 = T::load(rows[0] + jj + 1), b0 = T::load(rows[0] + jj);
        e = T::fma(a1, w[0], T::fma(b1, w[2], T::fma(a0, w[6], T::mul(b0, w[8]))));
        o = T::fma(a1, w[1], T::mul(a0, w[7]));
      } else {
        const vec a = T::load(rows[0] + jj + 1), b = T::load(rows[0] + jj);
        e = T::fma(a, w[3], T::mul(b, w[5]));
        o = T::mul(a, w[4]);
      }
      T::interleave(e, o, lo, hi);
      T::store(obuf + 2 * jj, lo);
      T::store(obuf + 2 * jj + V, hi);
    }
    float* dxrow = dx + iy * g.w;
    const int64_t skip = -base;  // 0 or 1 leading buffer columns that fall left of dx column 0
    if (!acc) {  // obuf covers every dx column (zero where no dy column reaches)
      std::copy(obuf + skip, obuf + skip + g.w, dxrow);
      continue;
    }
    int64_t ix = 0;
    for (; ix + V <= g.w; ix += V) T::store(dxrow + ix, T::add(T::load(dxrow + ix), T::load(obuf + ix + skip)));
    for (; ix < g.w; ++ix) dxrow[ix] += obuf[ix + skip];
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
  void f32_dwconv3x3_s1_dx__##isa(const float* dy, const float* w, float* dx, const DwConv3x3Geom& g,       \
                                  bool acc) {                                                                \
    dw_dx_s1<T>(dy, w, dx, g, acc);                                                                          \
  }                                                                                                          \
  void f32_dwconv3x3_s2_dx__##isa(const float* dy, const float* w, float* dx, const DwConv3x3Geom& g,       \
                                  bool acc) {                                                                \
    dw_dx_s2<T>(dy, w, dx, g, acc);                                                                          \
  }                                                                                                          \
  void f32_dwconv3x3_s1_dw__##isa(const float* x, const float* dy, float* dw, const DwConv3x3Geom& g) {      \
    dw_wgrad<T, 1>(x, dy, dw, g);                                                                            \
  }                                                                                                          \
  void f32_dwconv3x3_s2_dw__##isa(const float* x, const float* dy, float* dw, const DwConv3x3Geom& g) {      \
    dw_wgrad<T, 2>(x, dy, dw, g);                                                                            \
  }                                                                                                          \
  }  // namespace fas

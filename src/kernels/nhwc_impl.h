// The NHWC inference kernels (contract and scalar references in nhwc.h / nhwc.cpp) written once
// over vector traits T (simd/vec_<isa>.h); instantiated per ISA by FAS_DEFINE_NHWC in
// nhwc_<isa>.cpp, which also picks the pointwise tile shapes for its register file.
// Channel vectors of T::V lanes; a partial last vector (channels not a multiple of V) uses
// masked loads/stores for activations. Packed weights and biases are zero-padded to
// NHWC_CH_PAD = 8 channels: whole loads when V == 8, masked ones for the last vector when V > 8.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/nhwc.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

// A load of packed (padded) weights or biases: the vector may run past the padding only when
// V > NHWC_CH_PAD, and then only in the last, partial vector (PART), which is masked.
template <class T, bool PART>
inline typename T::vec nhwc_wload(const float* p, typename T::mask m) {
  if constexpr (PART && (T::V > NHWC_CH_PAD)) return T::load_first(p, m);
  else return T::load(p);
}
template <class T, bool PART>
inline typename T::vec nhwc_aload(const float* p, typename T::mask m) {
  if constexpr (PART) return T::load_first(p, m);
  else return T::load(p);
}
template <class T, bool PART>
inline void nhwc_astore(float* p, typename T::vec v, typename T::mask m) {
  if constexpr (PART) T::store_first(p, v, m);
  else T::store(p, v);
}
template <class T>
inline typename T::vec nhwc_clamp(typename T::vec v, typename T::vec lo, typename T::vec hi) {
  return T::min(T::max(v, lo), hi);
}

// One MR x (V*NV) tile of the pointwise GEMM (w, b, res, y, sum point at column n0). The last
// vector holds `last` valid output lanes (PART: fewer than V) and `wlast` packed weight lanes.
template <class T, int MR, int NV, bool PART>
inline void nhwc_pw_tile(int64_t K, const float* x, int64_t ldx, const float* w, int64_t Np, const float* b,
                         const float* res, float* y, float* sum, int64_t N, typename T::mask m, typename T::mask wm,
                         typename T::vec vlo, typename T::vec vhi) {
  using vec = typename T::vec;
  constexpr int V = T::V;
  vec acc[MR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const vec bj = j == NV - 1 ? nhwc_wload<T, PART>(b + V * j, wm) : T::load(b + V * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) acc[i][j] = bj;
  }
  for (int64_t k = 0; k < K; ++k) {
    vec wv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j)
      wv[j] = j == NV - 1 ? nhwc_wload<T, PART>(w + k * Np + V * j, wm) : T::load(w + k * Np + V * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const vec xb = T::bcast(x + i * ldx + k);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = T::fma(xb, wv[j], acc[i][j]);
    }
  }
  if (sum) {  // fused global pooling: add the clamped outputs of the MR pixels into sum
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      vec t = T::zero();
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) t = T::add(t, nhwc_clamp<T>(acc[i][j], vlo, vhi));
      if (j == NV - 1) nhwc_astore<T, PART>(sum + V * j, T::add(t, nhwc_aload<T, PART>(sum + V * j, m)), m);
      else T::store(sum + V * j, T::add(t, T::load(sum + V * j)));
    }
    return;
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      vec v = acc[i][j];
      float* yp = y + i * N + V * j;
      if (j == NV - 1) {
        if (res) v = T::add(v, nhwc_aload<T, PART>(res + i * N + V * j, m));
        nhwc_astore<T, PART>(yp, nhwc_clamp<T>(v, vlo, vhi), m);
      } else {
        if (res) v = T::add(v, T::load(res + i * N + V * j));
        T::store(yp, nhwc_clamp<T>(v, vlo, vhi));
      }
    }
}

// All pixels of one column block [n0, n0 + V*NV) (nhwc_pw_pixel_tiles: MR, then 4, 2, 1).
template <class T, int MR, int NV>
void nhwc_pw_columns(int64_t M, int64_t K, int64_t N, int64_t n0, const float* x, int64_t ldx, const float* w,
                     const float* b, const float* res, float* y, float* sum, typename T::vec vlo,
                     typename T::vec vhi) {
  constexpr int V = T::V;
  const int64_t Np = nhwc_pad_ch(N), last = std::min<int64_t>(V, N - n0 - V * (NV - 1));
  const typename T::mask m = T::first(last), wm = T::first(Np - n0 - V * (NV - 1));
  auto run = [&](auto part) {
    nhwc_pw_pixel_tiles<MR>(M, [&](int64_t i, auto S) {
      nhwc_pw_tile<T, decltype(S)::value, NV, decltype(part)::value>(
          K, x + i * ldx, ldx, w + n0, Np, b + n0, res ? res + i * N + n0 : nullptr, y ? y + i * N + n0 : nullptr,
          sum ? sum + n0 : nullptr, N, m, wm, vlo, vhi);
    });
  };
  if (last < V) run(std::true_type{});
  else run(std::false_type{});
}

// The pointwise conv over column blocks of whole vectors: one block when the outputs fill one or
// two vectors (tiles of MR1 or MR2 pixels), else blocks of WIDE vectors (MRW pixels) and the
// rest as one block of 3 (MRW), 2 (MR2) or 1 (MR1) vectors. Each ISA's file picks the heights
// that keep most of its registers as accumulators. Plain: sum null; pooled: y and res null.
template <class T, int MR1, int MR2, int MRW, int WIDE>
void nhwc_pwconv_blocks(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
                        const float* res, float* y, float* sum, float lo, float hi) {
  const typename T::vec vlo = T::set1(lo), vhi = T::set1(hi);
  const int64_t nv = (N + T::V - 1) / T::V;
  auto block = [&](auto mr, auto nvb, int64_t v) {
    nhwc_pw_columns<T, decltype(mr)::value, decltype(nvb)::value>(M, K, N, v * T::V, x, ldx, w, b, res, y, sum, vlo,
                                                                   vhi);
  };
  using C1 = std::integral_constant<int, 1>;
  using C2 = std::integral_constant<int, 2>;
  if (nv == 1) return block(std::integral_constant<int, MR1>{}, C1{}, 0);
  if (nv == 2) return block(std::integral_constant<int, MR2>{}, C2{}, 0);
  int64_t v = 0;
  for (; v + WIDE <= nv; v += WIDE) block(std::integral_constant<int, MRW>{}, std::integral_constant<int, WIDE>{}, v);
  if constexpr (WIDE > 3)
    if (nv - v == 3) block(std::integral_constant<int, MRW>{}, std::integral_constant<int, 3>{}, v);
  if (nv - v == 2) block(std::integral_constant<int, MR2>{}, C2{}, v);
  if (nv - v == 1) block(std::integral_constant<int, MR1>{}, C1{}, v);
}

// One channel vector [c0, c0+V) of a depthwise output row from NR present input rows (the
// others are zero padding). Interior pixels (all three taps in range) run four at a time with
// independent accumulators; edge pixels check each tap. NR is a template parameter so the
// 3*NR weight vectors stay in registers.
template <class T, bool PART, int NR>
void nhwc_dw_channel_vector(const float* const* r, int64_t W, int64_t C, int stride, int pad_left, int64_t Wo,
                            const float* const* wrow, const float* b, float* y, int64_t c0, typename T::vec vlo,
                            typename T::vec vhi) {
  using vec = typename T::vec;
  const typename T::mask m = T::first(C - c0);
  vec wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) wk[i][kx] = nhwc_wload<T, PART>(wrow[i] + kx * nhwc_pad_ch(C) + c0, m);
  const vec bias = nhwc_wload<T, PART>(b + c0, m);
  auto edge = [&](int64_t ox) {
    vec acc = bias;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix >= 0 && ix < W) acc = T::fma(nhwc_aload<T, PART>(r[i] + ix * C + c0, m), wk[i][kx], acc);
      }
    nhwc_astore<T, PART>(y + ox * C + c0, nhwc_clamp<T>(acc, vlo, vhi), m);
  };
  // kPix pixels per block, one FMA chain each. Each input column of a row is loaded once into a
  // register and feeds every tap that reads it ((P-1)*S + 3 loads for 3P FMAs; at stride 1,
  // P + 2): the kernel is bound by loads, not FMAs. A tail of 4-pixel blocks keeps the narrow late
  // planes (13, 7 pixels) off the edge path. The 16-register AVX2 file holds 4 pixels' chains
  // beside the 9 weight vectors and the columns, the 32-register ones 8.
  constexpr int kPix = T::V >= 16 ? 8 : 4;
  nhwc_row_walk_3<kPix, 4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S, auto NP) {
    constexpr int kS = decltype(S)::value, P = decltype(NP)::value, kCols = (P - 1) * kS + 3;
    vec a[P];
#pragma GCC unroll 8
    for (int u = 0; u < P; ++u) a[u] = bias;
    const int64_t off = (ox * kS - pad_left) * C + c0;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i) {
      const float* q = r[i] + off;
      vec col[kCols];
#pragma GCC unroll 17
      for (int t = 0; t < kCols; ++t, q += C) col[t] = nhwc_aload<T, PART>(q, m);
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 8
        for (int u = 0; u < P; ++u) a[u] = T::fma(col[u * kS + kx], wk[i][kx], a[u]);
    }
#pragma GCC unroll 8
    for (int u = 0; u < P; ++u) nhwc_astore<T, PART>(y + (ox + u) * C + c0, nhwc_clamp<T>(a[u], vlo, vhi), m);
  });
}

template <class T, bool PART>
void nhwc_dw_channel_vector_rows(const float* const* r, const float* const* wrow, int nr, int64_t W, int64_t C,
                                 int stride, int pad_left, int64_t Wo, const float* b, float* y, int64_t c0,
                                 typename T::vec vlo, typename T::vec vhi) {
  nhwc_const_0to3(nr, [&](auto NR) {
    nhwc_dw_channel_vector<T, PART, decltype(NR)::value>(r, W, C, stride, pad_left, Wo, wrow, b, y, c0, vlo, vhi);
  });
}

template <class T>
void nhwc_dwconv3x3_row(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left, int64_t Wo,
                        const float* w, const float* b, float* y, float lo, float hi) {
  constexpr int V = T::V;
  const typename T::vec vlo = T::set1(lo), vhi = T::set1(hi);
  const float* r[3];
  const float* wrow[3];  // weights of the present rows' taps (ky*3 + kx)
  const int nr = nhwc_present_rows(rows, w, nhwc_pad_ch(C), r, wrow);
  for (int64_t c0 = 0; c0 < C; c0 += V) {
    if (c0 + V <= C) nhwc_dw_channel_vector_rows<T, false>(r, wrow, nr, W, C, stride, pad_left, Wo, b, y, c0, vlo, vhi);
    else nhwc_dw_channel_vector_rows<T, true>(r, wrow, nr, W, C, stride, pad_left, Wo, b, y, c0, vlo, vhi);
  }
}

// One output-channel vector [o0, o0+V) of the full 3x3 row conv (PART: fewer than V channels).
template <class T, bool PART>
void nhwc_conv3x3_channel_vector(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,
                                 int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,
                                 float* y, int64_t o0, typename T::vec vlo, typename T::vec vhi) {
  using vec = typename T::vec;
  const int64_t Cp = nhwc_pad_ch(Cout);
  const typename T::mask m = T::first(Cout - o0);
  int64_t ilo, ihi;
  nhwc_interior_3(W, stride, pad_left, Wo, ilo, ihi);
  const vec bias = nhwc_wload<T, PART>(b + o0, m);
  auto store = [&](int64_t ox, vec acc) { nhwc_astore<T, PART>(y + ox * Cout + o0, nhwc_clamp<T>(acc, vlo, vhi), m); };
  auto edge = [&](int64_t ox) {
    vec acc = bias;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix < 0 || ix >= W) continue;
        const float* wp = w + (ky * 3 + kx) * Cin * Cp + o0;
        for (int64_t c = 0; c < Cin; ++c)
          acc = T::fma(T::set1(rows[ky][ix * xs + c * cs]), nhwc_wload<T, PART>(wp + c * Cp, m), acc);
      }
    }
    store(ox, acc);
  };
  for (int64_t ox = 0; ox < ilo; ++ox) edge(ox);
  int64_t ox = ilo;
  // Interior pixels in blocks of P, the stride S (1 or 2; others take the edge path) and the
  // channel count (1..3, the stem's image channels, unrolled; 0 = any, a runtime loop) as
  // constants. Per input row and channel, the (P - 1)S + 3 columns of a block are broadcast once
  // each into registers and feed all their taps: the stem is bound by its broadcasts, not its
  // FMAs (EXP-131). P = 8 then 4 with 32 registers, 4 with 16 (columns and chains must fit).
  auto interior = [&](auto cin_c, auto S, auto NP) {
    constexpr int kC = decltype(cin_c)::value, kS = decltype(S)::value, P = decltype(NP)::value;
    constexpr int kCols = (P - 1) * kS + 3;
    const int64_t cin = kC > 0 ? kC : Cin;
    for (; ox + P <= ihi; ox += P) {
      vec a[P];
#pragma GCC unroll 8
      for (int u = 0; u < P; ++u) a[u] = bias;
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
#pragma GCC unroll 3
        for (int64_t c = 0; c < cin; ++c) {
          const float* q = rows[ky] + (ox * kS - pad_left) * xs + c * cs;
          vec col[kCols];
#pragma GCC unroll 17
          for (int t = 0; t < kCols; ++t, q += xs) col[t] = T::bcast(q);
#pragma GCC unroll 3
          for (int kx = 0; kx < 3; ++kx) {
            const vec wv = nhwc_wload<T, PART>(w + ((ky * 3 + kx) * cin + c) * Cp + o0, m);
#pragma GCC unroll 8
            for (int u = 0; u < P; ++u) a[u] = T::fma(col[u * kS + kx], wv, a[u]);
          }
        }
      }
#pragma GCC unroll 8
      for (int u = 0; u < P; ++u) store(ox + u, a[u]);
    }
  };
  if (stride == 1 || stride == 2)
    nhwc_const_0to3(int(Cin), [&](auto cin_c) {
      auto blocks = [&](auto S) {
        if constexpr (T::V >= 16) interior(cin_c, S, std::integral_constant<int, 8>{});
        interior(cin_c, S, std::integral_constant<int, 4>{});
      };
      if (stride == 1) blocks(std::integral_constant<int, 1>{});
      else blocks(std::integral_constant<int, 2>{});
    });
  for (; ox < Wo; ++ox) edge(ox);
}

template <class T>
void nhwc_conv3x3_row(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs, int stride,
                      int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b, float* y, float lo,
                      float hi) {
  constexpr int V = T::V;
  const typename T::vec vlo = T::set1(lo), vhi = T::set1(hi);
  for (int64_t o0 = 0; o0 < Cout; o0 += V) {
    if (o0 + V <= Cout)
      nhwc_conv3x3_channel_vector<T, false>(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, w, b, y, o0, vlo, vhi);
    else nhwc_conv3x3_channel_vector<T, true>(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, w, b, y, o0, vlo, vhi);
  }
}

}  // namespace
}  // namespace fas

// The public row kernels of an ISA: DW and CONV3 are functions with the signatures of
// f32_dwconv3x3_nhwc_row and f32_conv3x3_row (the shared templates below, or the ISA's own).
#define FAS_DEFINE_NHWC_ROWS(isa, DW, CONV3)                                                                     \
  void f32_dwconv3x3_nhwc_row__##isa(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left, \
                                     int64_t Wo, const float* w, const float* b, float* y, float lo, float hi) {  \
    DW(rows, W, C, stride, pad_left, Wo, w, b, y, lo, hi);                                                       \
  }                                                                                                              \
  void f32_conv3x3_row__##isa(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,       \
                              int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b, \
                              float* y, float lo, float hi) {                                                   \
    CONV3(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, w, b, y, lo, hi);                                    \
  }

// The four public kernels of an ISA: the shared templates above over traits T, and the file's
// pwconv(M, K, N, x, ldx, w, b, res, y, sum, lo, hi) (plain: sum null; pooled: y and res null),
// nhwc_pwconv_blocks with the ISA's tile heights (or its own tiles where they help).
#define FAS_DEFINE_NHWC(isa, T) \
  FAS_DEFINE_NHWC_PWCONV(isa)   \
  FAS_DEFINE_NHWC_ROWS(isa, nhwc_dwconv3x3_row<T>, nhwc_conv3x3_row<T>)

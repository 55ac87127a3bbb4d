// AVX2+FMA NHWC inference kernels (contract and references in nhwc.h / nhwc.cpp). Channel
// vectors of 8; a partial last vector (channels not a multiple of 8) uses masked loads/stores
// for activations, while packed weights and biases are zero-padded and loaded whole.
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "kernels/nhwc.h"

namespace fas {

namespace {

inline __m256i lane_mask(int64_t valid) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
template <bool TAIL>
inline __m256 load8(const float* p, __m256i m) {
  if constexpr (TAIL) return _mm256_maskload_ps(p, m);
  else return _mm256_loadu_ps(p);
}
template <bool TAIL>
inline void store8(float* p, __m256 v, __m256i m) {
  if constexpr (TAIL) _mm256_maskstore_ps(p, m, v);
  else _mm256_storeu_ps(p, v);
}

// One MR x (8*NV) tile of the pointwise GEMM. The last vector holds `last` valid lanes.
template <int MR, int NV>
inline void pw_tile(int64_t K, const float* x, int64_t ldx, const float* w, int64_t Np, const float* b,
                    const float* res, float* y, float* sum, int64_t N, int64_t last, __m256 vlo, __m256 vhi) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const __m256 bj = _mm256_loadu_ps(b + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc[i][j] = bj;
  }
  for (int64_t k = 0; k < K; ++k) {
    __m256 wv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) wv[j] = _mm256_loadu_ps(w + k * Np + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + i * ldx + k);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_fmadd_ps(xb, wv[j], acc[i][j]);
    }
  }
  const __m256i m = lane_mask(last);
  if (sum) {  // fused global pooling: add the clamped outputs of the MR pixels into sum
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      __m256 t = _mm256_setzero_ps();
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) t = _mm256_add_ps(t, _mm256_min_ps(_mm256_max_ps(acc[i][j], vlo), vhi));
      if (j == NV - 1 && last < 8) _mm256_maskstore_ps(sum + 8 * j, m, _mm256_add_ps(t, _mm256_maskload_ps(sum + 8 * j, m)));
      else _mm256_storeu_ps(sum + 8 * j, _mm256_add_ps(t, _mm256_loadu_ps(sum + 8 * j)));
    }
    return;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      __m256 v = acc[i][j];
      float* yp = y + i * N + 8 * j;
      if (j == NV - 1 && last < 8) {
        if (res) v = _mm256_add_ps(v, _mm256_maskload_ps(res + i * N + 8 * j, m));
        _mm256_maskstore_ps(yp, m, _mm256_min_ps(_mm256_max_ps(v, vlo), vhi));
      } else {
        if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + i * N + 8 * j));
        _mm256_storeu_ps(yp, _mm256_min_ps(_mm256_max_ps(v, vlo), vhi));
      }
    }
}

// All pixels of one column block [n0, n0 + 8*NV) (nhwc_pw_pixel_tiles: MR, then 4, 2, 1).
template <int MR, int NV>
void pw_columns(int64_t M, int64_t K, int64_t N, int64_t n0, const float* x, int64_t ldx, const float* w,
                const float* b, const float* res, float* y, float* sum, __m256 vlo, __m256 vhi) {
  const int64_t Np = nhwc_pad_ch(N), last = std::min<int64_t>(8, N - n0 - 8 * (NV - 1));
  float* s = sum ? sum + n0 : nullptr;
  nhwc_pw_pixel_tiles<MR>(M, [&](int64_t m, auto S) {
    pw_tile<decltype(S)::value, NV>(K, x + m * ldx, ldx, w + n0, Np, b + n0, res ? res + m * N + n0 : nullptr,
                                    y ? y + m * N + n0 : nullptr, s, N, last, vlo, vhi);
  });
}

// Shared by f32_pwconv_nhwc__avx2 (sum null) and f32_pwconv_sum_nhwc__avx2 (y null).
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const int64_t nv = nhwc_pad_ch(N) / 8;
  // Tile shapes keep 8-12 accumulators in registers: narrow outputs take more rows per tile.
  if (nv == 1) return pw_columns<8, 1>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv == 2) return pw_columns<6, 2>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  int64_t v = 0;
  for (; v + 3 <= nv; v += 3) pw_columns<4, 3>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 2) pw_columns<4, 2>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 1) pw_columns<4, 1>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
}

}  // namespace

FAS_DEFINE_NHWC_PWCONV(avx2)

namespace {

// One channel vector [c0, c0+8) of a depthwise output row from NR present input rows (the
// others are zero padding). Interior pixels (all three taps in range) run four at a time with
// independent accumulators; edge pixels check each tap. NR is a template parameter so the
// 3*NR weight vectors stay in registers.
template <bool TAIL, int NR>
void dw_channel_vector(const float* const* r, int64_t W, int64_t C, int stride, int pad_left, int64_t Wo,
                       const float* const* wrow, const float* b, float* y, int64_t c0, __m256 vlo, __m256 vhi) {
  const __m256i m = lane_mask(C - c0);
  __m256 wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) wk[i][kx] = _mm256_loadu_ps(wrow[i] + kx * nhwc_pad_ch(C) + c0);
  const __m256 bias = _mm256_loadu_ps(b + c0);
  auto edge = [&](int64_t ox) {
    __m256 acc = bias;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix >= 0 && ix < W) acc = _mm256_fmadd_ps(load8<TAIL>(r[i] + ix * C + c0, m), wk[i][kx], acc);
      }
    store8<TAIL>(y + ox * C + c0, _mm256_min_ps(_mm256_max_ps(acc, vlo), vhi), m);
  };
  // Four pixels per block (stride 1: 6 input columns per row feed the 4 outputs, not 12).
  nhwc_row_walk_3<4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S) {
    constexpr int kS = decltype(S)::value;
    __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    const int64_t off = (ox * kS - pad_left) * C + c0;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i) {
      const float* p = r[i] + off;
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        a0 = _mm256_fmadd_ps(load8<TAIL>(p + (0 * kS + kx) * C, m), wk[i][kx], a0);
        a1 = _mm256_fmadd_ps(load8<TAIL>(p + (1 * kS + kx) * C, m), wk[i][kx], a1);
        a2 = _mm256_fmadd_ps(load8<TAIL>(p + (2 * kS + kx) * C, m), wk[i][kx], a2);
        a3 = _mm256_fmadd_ps(load8<TAIL>(p + (3 * kS + kx) * C, m), wk[i][kx], a3);
      }
    }
    float* yp = y + ox * C + c0;
    store8<TAIL>(yp, _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi), m);
    store8<TAIL>(yp + C, _mm256_min_ps(_mm256_max_ps(a1, vlo), vhi), m);
    store8<TAIL>(yp + 2 * C, _mm256_min_ps(_mm256_max_ps(a2, vlo), vhi), m);
    store8<TAIL>(yp + 3 * C, _mm256_min_ps(_mm256_max_ps(a3, vlo), vhi), m);
  });
}

template <bool TAIL>
void dw_channel_vector_rows(const float* const* r, const float* const* wrow, int nr, int64_t W, int64_t C,
                            int stride, int pad_left, int64_t Wo, const float* b, float* y, int64_t c0, __m256 vlo,
                            __m256 vhi) {
  switch (nr) {
    case 3: return dw_channel_vector<TAIL, 3>(r, W, C, stride, pad_left, Wo, wrow, b, y, c0, vlo, vhi);
    case 2: return dw_channel_vector<TAIL, 2>(r, W, C, stride, pad_left, Wo, wrow, b, y, c0, vlo, vhi);
    case 1: return dw_channel_vector<TAIL, 1>(r, W, C, stride, pad_left, Wo, wrow, b, y, c0, vlo, vhi);
    default: return dw_channel_vector<TAIL, 0>(r, W, C, stride, pad_left, Wo, wrow, b, y, c0, vlo, vhi);
  }
}

}  // namespace

void f32_dwconv3x3_nhwc_row__avx2(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                  int64_t Wo, const float* w, const float* b, float* y, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const int64_t Cp = nhwc_pad_ch(C);
  const float* r[3];
  const float* wrow[3];  // weights of the present rows' taps (ky*3 + kx)
  const int nr = nhwc_present_rows(rows, w, Cp, r, wrow);
  for (int64_t c0 = 0; c0 < C; c0 += 8) {
    if (c0 + 8 <= C) dw_channel_vector_rows<false>(r, wrow, nr, W, C, stride, pad_left, Wo, b, y, c0, vlo, vhi);
    else dw_channel_vector_rows<true>(r, wrow, nr, W, C, stride, pad_left, Wo, b, y, c0, vlo, vhi);
  }
}

void f32_conv3x3_row__avx2(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,
                           int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,
                           float* y, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const int64_t Cp = nhwc_pad_ch(Cout);
  int64_t ilo, ihi;
  nhwc_interior_3(W, stride, pad_left, Wo, ilo, ihi);
  for (int64_t o0 = 0; o0 < Cout; o0 += 8) {
    const __m256i m = lane_mask(Cout - o0);
    const bool tail = o0 + 8 > Cout;
    const __m256 bias = _mm256_loadu_ps(b + o0);
    auto store = [&](int64_t ox, __m256 acc) {
      acc = _mm256_min_ps(_mm256_max_ps(acc, vlo), vhi);
      if (tail) _mm256_maskstore_ps(y + ox * Cout + o0, m, acc);
      else _mm256_storeu_ps(y + ox * Cout + o0, acc);
    };
    auto edge = [&](int64_t ox) {
      __m256 acc = bias;
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * stride - pad_left + kx;
          if (ix < 0 || ix >= W) continue;
          const float* wp = w + (ky * 3 + kx) * Cin * Cp + o0;
          for (int64_t c = 0; c < Cin; ++c)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(rows[ky][ix * xs + c * cs]), _mm256_loadu_ps(wp + c * Cp), acc);
        }
      }
      store(ox, acc);
    };
    for (int64_t ox = 0; ox < ilo; ++ox) edge(ox);
    int64_t ox = ilo;
    const int64_t step = stride * xs;
    // Eight pixels per pass; the channel count as a constant (1..3, the stem's image channels)
    // unrolls the tap loop fully so each broadcast feeds its FMA without loop overhead.
    auto interior = [&](auto cin_c) {
      constexpr int kC = decltype(cin_c)::value;
      const int64_t cin = kC > 0 ? kC : Cin;
      for (; ox + 8 <= ihi; ox += 8) {
        __m256 a[8];
#pragma GCC unroll 8
        for (int u = 0; u < 8; ++u) a[u] = bias;
        for (int ky = 0; ky < 3; ++ky) {
          if (!rows[ky]) continue;
#pragma GCC unroll 3
          for (int kx = 0; kx < 3; ++kx) {
            const float* p = rows[ky] + (ox * stride - pad_left + kx) * xs;
            const float* wp = w + (ky * 3 + kx) * cin * Cp + o0;
#pragma GCC unroll 4
            for (int64_t c = 0; c < cin; ++c) {
              const __m256 wv = _mm256_loadu_ps(wp + c * Cp);
              const float* q = p + c * cs;
#pragma GCC unroll 8
              for (int u = 0; u < 8; ++u) a[u] = _mm256_fmadd_ps(_mm256_broadcast_ss(q + u * step), wv, a[u]);
            }
          }
        }
#pragma GCC unroll 8
        for (int u = 0; u < 8; ++u) store(ox + u, a[u]);
      }
    };
    switch (Cin) {
      case 1: interior(std::integral_constant<int, 1>{}); break;
      case 2: interior(std::integral_constant<int, 2>{}); break;
      case 3: interior(std::integral_constant<int, 3>{}); break;
      default: interior(std::integral_constant<int, 0>{});
    }
    for (; ox < Wo; ++ox) edge(ox);
  }
}

}  // namespace fas

// AVX-512F NHWC inference kernels: nhwc_impl.h over 16-lane vectors (contract and references in
// nhwc.h / nhwc.cpp; this file gets the ISA's compile flags, see CMakeLists.txt). Weights are
// padded to 8 channels, so a 16-lane row of 24 channels is one whole and one half (masked)
// vector; the 32 registers hold twice the AVX2 tiles (16-24 accumulators).
#include "kernels/nhwc_impl.h"
#include "kernels/simd/vec_avx512.h"

#include <cstring>

namespace fas {
namespace {

// Pointwise tile of MR pixels for N <= 8 outputs (the 8-channel projections of alpha-0.1
// nets). As a half-empty 16-lane vector each FMA would need its own broadcast of x, so loads
// bind (MR + 1 loads per MR FMAs). Here each FMA covers two k: lanes (2n, 2n+1) sum output n
// over even and odd k, the x operand is the pair (x[k], x[k+1]) broadcast by one 64-bit load,
// and weight rows k, k+1 (adjacent in the [K][8] packing) are interleaved once per k pair for
// all MR pixels. The two lanes of each output are added at the end.
template <int MR>
inline void pw8_tile(int64_t K, const float* x, int64_t ldx, const float* w, const float* b, const float* res,
                     float* y, float* sum, int64_t N, __m512 vlo, __m512 vhi) {
  const __m512i inter = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  __m512 acc[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 2 <= K; k += 2) {
    const __m512 wv = _mm512_permutexvar_ps(inter, _mm512_loadu_ps(w + k * 8));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      double pair;
      std::memcpy(&pair, x + i * ldx + k, sizeof pair);
      acc[i] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(pair)), wv, acc[i]);
    }
  }
  if (k < K) {  // odd K: the last row alone, against zero odd lanes
    const __m512 wv = _mm512_permutexvar_ps(inter, _mm512_maskz_loadu_ps(0x00FF, w + k * 8));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(x[i * ldx + k]), wv, acc[i]);
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 1, 1, 1, 1, 1, 1, 1, 1);
  const __mmask16 m = VecAvx512::first(N);
  const __m512 bias = _mm512_maskz_loadu_ps(m, b);
  __m512 t = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    __m512 v = _mm512_add_ps(
        _mm512_add_ps(bias, _mm512_permutexvar_ps(even, acc[i])), _mm512_permutexvar_ps(odd, acc[i]));
    if (sum) {  // fused global pooling, as in nhwc_pw_tile
      t = _mm512_add_ps(t, nhwc_clamp<VecAvx512>(v, vlo, vhi));
      continue;
    }
    if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res + i * N));
    _mm512_mask_storeu_ps(y + i * N, m, nhwc_clamp<VecAvx512>(v, vlo, vhi));
  }
  if (sum) _mm512_mask_storeu_ps(sum, m, _mm512_add_ps(t, _mm512_maskz_loadu_ps(m, sum)));
}

// Shared by f32_pwconv_nhwc__avx512 (sum null) and f32_pwconv_sum_nhwc__avx512 (y null).
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  if (N <= 8) {
    const __m512 vlo = VecAvx512::set1(lo), vhi = VecAvx512::set1(hi);
    return nhwc_pw_pixel_tiles<12>(M, [&](int64_t i, auto S) {
      pw8_tile<decltype(S)::value>(K, x + i * ldx, ldx, w, b, res ? res + i * N : nullptr, y ? y + i * N : nullptr,
                                   sum, N, vlo, vhi);
    });
  }
  // 12-24 of the 32 registers as accumulators.
  nhwc_pwconv_blocks<VecAvx512, 12, 8, 6, 4>(M, K, N, x, ldx, w, b, res, y, sum, lo, hi);
}

// Depthwise 3x3 row at C = 8, stride 1 (block 0 of alpha-0.1 nets, on the largest plane). The
// channel-vector kernel would fill half of each 16-lane FMA; here one vector holds two adjacent
// output pixels, whose inputs at a tap are 16 contiguous floats of the NHWC row, so every FMA
// fills all lanes. Blocks of eight (then four) pairs share the loads of overlapping windows;
// pixels whose window leaves the row run alone on 8-lane halves (EXP-131).
template <int NR>
void dw8_s1_row(const float* const* r, const float* const* wrow, int64_t W, int pad_left, int64_t Wo, const float* b,
                float* y, float lo, float hi) {
  __m512 wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) wk[i][kx] = _mm512_broadcast_f32x8(_mm256_loadu_ps(wrow[i] + kx * 8));
  const __m512 bias = _mm512_broadcast_f32x8(_mm256_loadu_ps(b));
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  auto single = [&](int64_t ox) {
    __m256 acc = _mm512_castps512_ps256(bias);
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox - pad_left + kx;
        if (ix >= 0 && ix < W) acc = _mm256_fmadd_ps(_mm256_loadu_ps(r[i] + ix * 8), _mm512_castps512_ps256(wk[i][kx]), acc);
      }
    acc = _mm256_min_ps(_mm256_max_ps(acc, _mm512_castps512_ps256(vlo)), _mm512_castps512_ps256(vhi));
    _mm256_storeu_ps(y + ox * 8, acc);
  };
  auto pairs = [&](int64_t ox, auto np) {  // np pairs from pixel ox, every window inside the row
    constexpr int P = decltype(np)::value;
    __m512 a[P];
#pragma GCC unroll 8
    for (int j = 0; j < P; ++j) a[j] = bias;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i) {
      const float* p = r[i] + (ox - pad_left) * 8;
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 8
        for (int j = 0; j < P; ++j) a[j] = _mm512_fmadd_ps(_mm512_loadu_ps(p + (2 * j + kx) * 8), wk[i][kx], a[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < P; ++j) _mm512_storeu_ps(y + (ox + 2 * j) * 8, nhwc_clamp<VecAvx512>(a[j], vlo, vhi));
  };
  int64_t ilo, ihi;
  nhwc_interior_3(W, 1, pad_left, Wo, ilo, ihi);
  int64_t ox = 0;
  for (; ox < ilo; ++ox) single(ox);
  for (; ox + 16 <= ihi; ox += 16) pairs(ox, std::integral_constant<int, 8>{});
  for (; ox + 8 <= ihi; ox += 8) pairs(ox, std::integral_constant<int, 4>{});
  for (; ox + 2 <= ihi; ox += 2) pairs(ox, std::integral_constant<int, 1>{});
  for (; ox < Wo; ++ox) single(ox);
}

void dwconv3x3_row(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left, int64_t Wo,
                   const float* w, const float* b, float* y, float lo, float hi) {
  if (C != 8 || stride != 1) return nhwc_dwconv3x3_row<VecAvx512>(rows, W, C, stride, pad_left, Wo, w, b, y, lo, hi);
  const float* r[3];
  const float* wrow[3];
  const int nr = nhwc_present_rows(rows, w, 8, r, wrow);
  nhwc_const_0to3(nr, [&](auto NR) { dw8_s1_row<decltype(NR)::value>(r, wrow, W, pad_left, Wo, b, y, lo, hi); });
}

}  // namespace

FAS_DEFINE_NHWC_PWCONV(avx512)
FAS_DEFINE_NHWC_ROWS(avx512, dwconv3x3_row, nhwc_conv3x3_row<VecAvx512>)

}  // namespace fas

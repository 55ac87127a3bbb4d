// The 8-lane int8 kernels (contract and scalar references in qs8_nhwc.h / qs8_nhwc.cpp), written
// once over D::dot2(acc, a, b) = acc + the pairwise int16 dot products of a and b in each int32
// lane, and instantiated for AVX2 (vpmaddwd + vpaddd, qs8_nhwc_avx2.cpp) and AVX-VNNI (one
// vpdpwssd, qs8_nhwc_avxvnni.cpp). Pointwise: int8 rows are widened to int16 on the stack (K in
// chunks, no heap) against the int16-pair packed weights (two k per lane). Depthwise: x
// sign-extended to int32 lanes, w zero-extended, so the pair product (x, sign(x)) . (w, 0) is
// x * w. The float epilogue performs the reference's operations in the same order (mul, add,
// clamp, residual mul-add, round half even), and the including files are built with
// -ffp-contract=off, so results are bit-identical. Include only from those files: the
// templates live in an anonymous namespace, so copies built with different flags stay apart.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/qs8_nhwc.h"

namespace fas {
namespace {

inline __m256i load8_i8_as_i32(const int8_t* p, int64_t valid) {
  if (valid >= 8) return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  int8_t tmp[8] = {0};
  std::memcpy(tmp, p, valid);
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tmp)));
}

// Requantise 8 int32 sums and store `valid` int8 outputs.
inline void epilogue8(__m256i acc, const float* scale, const float* bias, __m256 lo, __m256 hi, const int8_t* res,
                      __m256 res_scale, int8_t* y, int64_t valid) {
  __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale)), _mm256_loadu_ps(bias));
  v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
  if (res) v = _mm256_add_ps(v, _mm256_mul_ps(res_scale, _mm256_cvtepi32_ps(load8_i8_as_i32(res, valid))));
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.f)), _mm256_set1_ps(127.f));
  const __m256i q = _mm256_cvtps_epi32(v);  // round half to even (default MXCSR)
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i p8 = _mm_packs_epi16(p16, p16);
  if (valid >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y), p8);
  } else {
    int8_t tmp[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tmp), p8);
    std::memcpy(y, tmp, valid);
  }
}

constexpr int64_t kChunk = 256;  // k per stack chunk (even)

// Widen rows [k0, k0+kc) of MR pixels to int16 (kc rounded up to even, zero beyond K).
template <int MR>
inline void widen(const int8_t* x, int64_t ldx, int64_t K, int64_t k0, int64_t kc, int16_t (*xs)[kChunk]) {
  for (int i = 0; i < MR; ++i) {
    const int8_t* r = x + i * ldx + k0;
    int64_t k = 0;
    for (; k + 16 <= kc; k += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(xs[i] + k),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + k))));
    for (; k < kc; ++k) xs[i][k] = r[k];
    if (kc % 2) xs[i][kc] = 0;
  }
}

template <class D, int MR, int NV>
void pw_tile(int64_t K, int64_t N, int64_t n0, const int8_t* x, int64_t ldx, const int16_t* w, const float* scale,
             const float* bias, const int8_t* res, float rs, int8_t* y, __m256 lo, __m256 hi) {
  const int64_t Np = nhwc_pad_ch(N);
  alignas(32) int16_t xs[MR][kChunk];
  __m256i acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_setzero_si256();
  for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, K - k0);
    widen<MR>(x, ldx, K, k0, kc, xs);
    for (int64_t p = 0; p < (kc + 1) / 2; ++p) {
      const int16_t* wp = w + (k0 / 2 + p) * Np * 2 + n0 * 2;
      __m256i wv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16 * j));
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        int32_t pair;
        std::memcpy(&pair, xs[i] + 2 * p, 4);
        const __m256i xb = _mm256_set1_epi32(pair);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = D::dot2(acc[i][j], xb, wv[j]);
      }
    }
  }
  const __m256 vrs = _mm256_set1_ps(rs);
  // Fully unrolled, as every loop over acc, so that acc stays in registers.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      const int64_t n = n0 + 8 * j, valid = std::min<int64_t>(8, N - n);
      epilogue8(acc[i][j], scale + n, bias + n, lo, hi, res ? res + i * N + n : nullptr, vrs, y + i * N + n, valid);
    }
}

template <class D, int MR, int NV>
void pw_columns(int64_t M, int64_t K, int64_t N, int64_t n0, const int8_t* x, int64_t ldx, const int16_t* w,
                const float* scale, const float* bias, const int8_t* res, float rs, int8_t* y, __m256 lo, __m256 hi) {
  nhwc_pw_pixel_tiles<MR>(M, [&](int64_t m, auto S) {
    pw_tile<D, decltype(S)::value, NV>(K, N, n0, x + m * ldx, ldx, w, scale, bias, res ? res + m * N : nullptr, rs,
                                    y + m * N, lo, hi);
  });
}

// One channel vector [c0, c0+8) of an int8 depthwise output row from NR present rows (as in
// the float kernel): interior pixels four at a time without bounds checks, the stride a
// compile-time constant, the 3*NR weight vectors in registers.
template <class D, int NR>
void qs8_dw_channel_vector(const int8_t* const* r, const int16_t* const* wrow, int64_t W, int64_t C, int stride,
                           int pad_left, int64_t Wo, const float* scale, const float* bias, int8_t* y, int64_t c0,
                           __m256 vlo, __m256 vhi) {
  const int64_t valid = std::min<int64_t>(8, C - c0), Cp = nhwc_pad_ch(C);
  const __m256 zero = _mm256_setzero_ps();
  __m256i wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx)
      wk[i][kx] = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wrow[i] + kx * Cp + c0)));
  auto edge = [&](int64_t ox) {
    __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix >= 0 && ix < W)
          acc = D::dot2(acc, load8_i8_as_i32(r[i] + ix * C + c0, valid), wk[i][kx]);
      }
    epilogue8(acc, scale + c0, bias + c0, vlo, vhi, nullptr, zero, y + ox * C + c0, valid);
  };
  nhwc_row_walk_3<4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S, auto) {
    constexpr int kS = decltype(S)::value;
    __m256i a[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    const int64_t off = (ox * kS - pad_left) * C + c0;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          a[u] = D::dot2(a[u], load8_i8_as_i32(r[i] + off + (u * kS + kx) * C, valid), wk[i][kx]);
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u)
      epilogue8(a[u], scale + c0, bias + c0, vlo, vhi, nullptr, zero, y + (ox + u) * C + c0, valid);
  });
}

template <class D>
void qs8_pwconv_nhwc_impl(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                          const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                          float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const int64_t nv = nhwc_pad_ch(N) / 8;
  if (nv == 1) return pw_columns<D, 8, 1>(M, K, N, 0, x, ldx, w, scale, bias, res, res_scale, y, vlo, vhi);
  if (nv == 2) return pw_columns<D, 6, 2>(M, K, N, 0, x, ldx, w, scale, bias, res, res_scale, y, vlo, vhi);
  int64_t v = 0;
  for (; v + 3 <= nv; v += 3) pw_columns<D, 4, 3>(M, K, N, v * 8, x, ldx, w, scale, bias, res, res_scale, y, vlo, vhi);
  if (nv - v == 2) pw_columns<D, 4, 2>(M, K, N, v * 8, x, ldx, w, scale, bias, res, res_scale, y, vlo, vhi);
  if (nv - v == 1) pw_columns<D, 4, 1>(M, K, N, v * 8, x, ldx, w, scale, bias, res, res_scale, y, vlo, vhi);
}


template <class D>
void qs8_dwconv3x3_nhwc_row_impl(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                 int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                 float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const int64_t Cp = nhwc_pad_ch(C);
  const int8_t* r[3];
  const int16_t* wrow[3];
  const int nr = nhwc_present_rows(rows, w, Cp, r, wrow);
  for (int64_t c0 = 0; c0 < C; c0 += 8)
    nhwc_const_0to3(nr, [&](auto NR) {
      qs8_dw_channel_vector<D, decltype(NR)::value>(r, wrow, W, C, stride, pad_left, Wo, scale, bias, y, c0, vlo, vhi);
    });
}

}  // namespace
}  // namespace fas

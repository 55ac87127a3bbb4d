// AVX2 int8 kernels: the 8-lane templates of qs8_nhwc_avx2_impl.h with vpmaddwd + vpaddd.
#include "kernels/qs8_nhwc_avx2_impl.h"

namespace fas {

namespace {
struct MaddAdd {
  static __m256i dot2(__m256i acc, __m256i a, __m256i b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
};
}  // namespace

void qs8_quantize__avx2(int64_t n, const float* x, float inv_scale, int8_t* y) {
  const __m256 s = _mm256_set1_ps(inv_scale), lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), lo), hi);
    const __m256i q = _mm256_cvtps_epi32(v);
    const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), _mm_packs_epi16(p16, p16));
  }
  for (; i < n; ++i) y[i] = qs8_round_sat(x[i] * inv_scale);
}

void qs8_pwconv_nhwc__avx2(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                           const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                           float lo, float hi) {
  qs8_pwconv_nhwc_impl<MaddAdd>(M, K, N, x, ldx, w, scale, bias, res, res_scale, y, lo, hi);
}

void qs8_dwconv3x3_nhwc_row__avx2(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                  int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                  float lo, float hi) {
  qs8_dwconv3x3_nhwc_row_impl<MaddAdd>(rows, W, C, stride, pad_left, Wo, w, scale, bias, y, lo, hi);
}

}  // namespace fas

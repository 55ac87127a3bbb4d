// AVX2 2x2 max pooling and 2x nearest upsampling, forward and backward (kernels/pool.h). Vectors
// of 8 outputs (16 inputs along a row, split into even and odd columns); the ragged end of each
// row runs the scalar reference on the remaining columns, so results equal the references
// exactly: the same comparisons (strict >, first maximum in row-major scan order wins), the same
// argmax, the same order of additions.
#include <immintrin.h>

#include "kernels/pool.h"
#include "kernels/pool_impl.h"
#include "kernels/simd/vec_avx2.h"

namespace fas {

void f32_maxpool2x2__avx2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  const int64_t oh = h / 2, ow = w / 2;
  const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i one = _mm256_set1_epi32(1), wv = _mm256_set1_epi32((int)w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* r0 = xp + 2 * i * w;
      const float* r1 = r0 + w;
      float* yr = y + (p * oh + i) * ow;
      int32_t* ar = argmax ? argmax + (p * oh + i) * ow : nullptr;
      int64_t j = 0;
      for (; j + 8 <= ow; j += 8) {
        __m256 e0, o0, e1, o1;
        VecAvx2::deinterleave(_mm256_loadu_ps(r0 + 2 * j), _mm256_loadu_ps(r0 + 2 * j + 8), e0, o0);
        VecAvx2::deinterleave(_mm256_loadu_ps(r1 + 2 * j), _mm256_loadu_ps(r1 + 2 * j + 8), e1, o1);
        // Scan order (r0, even), (r0, odd), (r1, even), (r1, odd); a later one wins only if greater.
        __m256 m = e0;
        const __m256 c1 = _mm256_cmp_ps(o0, m, _CMP_GT_OQ);
        m = _mm256_blendv_ps(m, o0, c1);
        const __m256 c2 = _mm256_cmp_ps(e1, m, _CMP_GT_OQ);
        m = _mm256_blendv_ps(m, e1, c2);
        const __m256 c3 = _mm256_cmp_ps(o1, m, _CMP_GT_OQ);
        m = _mm256_blendv_ps(m, o1, c3);
        _mm256_storeu_ps(yr + j, m);
        if (ar) {
          const __m256i i00 = _mm256_add_epi32(_mm256_set1_epi32((int)(2 * i * w + 2 * j)), lane2);
          const __m256i i10 = _mm256_add_epi32(i00, wv);
          __m256i idx = i00;
          idx = _mm256_blendv_epi8(idx, _mm256_add_epi32(i00, one), _mm256_castps_si256(c1));
          idx = _mm256_blendv_epi8(idx, i10, _mm256_castps_si256(c2));
          idx = _mm256_blendv_epi8(idx, _mm256_add_epi32(i10, one), _mm256_castps_si256(c3));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + j), idx);
        }
      }
      f32_maxpool2x2_row_tail(xp, w, i, j, ow, yr, ar);
    }
  }
}

void f32_maxpool2x2_bwd__avx2(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                              float* gx) {
  const int64_t oh = h / 2, ow = w / 2;
  const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i one = _mm256_set1_epi32(1), wv = _mm256_set1_epi32((int)w), w1 = _mm256_set1_epi32((int)w + 1);
  for (int64_t p = 0; p < planes; ++p) {
    float* gp = gx + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* gr = gy + (p * oh + i) * ow;
      const int32_t* ar = argmax + (p * oh + i) * ow;
      float* r0 = gp + 2 * i * w;
      float* r1 = r0 + w;
      int64_t j = 0;
      for (; j + 8 <= ow; j += 8) {
        // Offset of each argmax within its window: 0, 1, w or w + 1.
        const __m256i base = _mm256_add_epi32(_mm256_set1_epi32((int)(2 * i * w + 2 * j)), lane2);
        const __m256i d = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + j)), base);
        const __m256 g = _mm256_loadu_ps(gr + j);
        auto pick = [&](__m256i v) { return _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, v))); };
        __m256 lo, hi;
        VecAvx2::interleave(pick(_mm256_setzero_si256()), pick(one), lo, hi);
        _mm256_storeu_ps(r0 + 2 * j, _mm256_add_ps(_mm256_loadu_ps(r0 + 2 * j), lo));
        _mm256_storeu_ps(r0 + 2 * j + 8, _mm256_add_ps(_mm256_loadu_ps(r0 + 2 * j + 8), hi));
        VecAvx2::interleave(pick(wv), pick(w1), lo, hi);
        _mm256_storeu_ps(r1 + 2 * j, _mm256_add_ps(_mm256_loadu_ps(r1 + 2 * j), lo));
        _mm256_storeu_ps(r1 + 2 * j + 8, _mm256_add_ps(_mm256_loadu_ps(r1 + 2 * j + 8), hi));
      }
      for (; j < ow; ++j) gp[ar[j]] += gr[j];
    }
  }
}

void f32_upsample2x__avx2(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  e_upsample2x<VecAvx2>(x, planes, h, w, y);
}

void f32_upsample2x_bwd__avx2(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  e_upsample2x_bwd<VecAvx2>(gy, planes, h, w, gx);
}

}  // namespace fas

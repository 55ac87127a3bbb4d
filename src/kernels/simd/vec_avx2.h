// AVX2+FMA traits (8 lanes). Include only from *_avx2.cpp files.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace fas {
namespace {  // internal linkage: code built with different ISA flags must never be merged

struct VecAvx2 {
  static constexpr int V = 8;
  using vec = __m256;
  using ivec = __m256i;
  static ivec izero() { return _mm256_setzero_si256(); }
  static ivec or_bit_ge(ivec acc, vec a, vec b, uint32_t bit) {
    const ivec m = _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GE_OQ));
    return _mm256_or_si256(acc, _mm256_and_si256(m, _mm256_set1_epi32((int)bit)));
  }
  static void istore(uint32_t* p, ivec v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  // The first n lanes (n >= 1, clamped to 8) of partial vectors at the ends of rows.
  using mask = __m256i;
  static mask first(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)std::min<int64_t>(n, 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static vec load_first(const float* p, mask m) { return _mm256_maskload_ps(p, m); }
  static void store_first(float* p, vec v, mask m) { _mm256_maskstore_ps(p, m, v); }
  static vec bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static vec zero() { return _mm256_setzero_ps(); }
  static vec set1(float a) { return _mm256_set1_ps(a); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
  static vec div(vec a, vec b) { return _mm256_div_ps(a, b); }
  static vec sub(vec a, vec b) { return _mm256_sub_ps(a, b); }
  static vec sqrt(vec a) { return _mm256_sqrt_ps(a); }
  static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec max(vec a, vec b) { return _mm256_max_ps(a, b); }
  static vec min(vec a, vec b) { return _mm256_min_ps(a, b); }
  static vec keep_open(vec x, vec lo, vec hi, vec g) {
    vec m = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GT_OQ), _mm256_cmp_ps(x, hi, _CMP_LT_OQ));
    return _mm256_and_ps(m, g);
  }
  static void deinterleave(vec a, vec b, vec& e, vec& o) {
    // shuffle works per 128-bit half; the 64-bit permute puts the halves in order.
    vec t0 = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
    vec t1 = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t0), _MM_SHUFFLE(3, 1, 2, 0)));
    o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t1), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // 2x2 max-pool forward over windows k given as their (row 0, row 1) x (even, odd) columns: the
  // maximum in scan order e0, o0, e1, o1 (a later one wins only if greater, so NaN never does),
  // and, when ar is given, its flat index b0 + 2k + {0, 1, w, w + 1} into ar[k].
  static vec window_max(vec e0, vec o0, vec e1, vec o1, int32_t b0, int32_t w, int32_t* ar) {
    vec m = e0;
    const vec c1 = _mm256_cmp_ps(o0, m, _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, o0, c1);
    const vec c2 = _mm256_cmp_ps(e1, m, _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, e1, c2);
    const vec c3 = _mm256_cmp_ps(o1, m, _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, o1, c3);
    if (ar) {
      const __m256i one = _mm256_set1_epi32(1);
      const __m256i i00 = _mm256_add_epi32(_mm256_set1_epi32(b0), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
      const __m256i i10 = _mm256_add_epi32(i00, _mm256_set1_epi32(w));
      __m256i idx = i00;
      idx = _mm256_blendv_epi8(idx, _mm256_add_epi32(i00, one), _mm256_castps_si256(c1));
      idx = _mm256_blendv_epi8(idx, i10, _mm256_castps_si256(c2));
      idx = _mm256_blendv_epi8(idx, _mm256_add_epi32(i10, one), _mm256_castps_si256(c3));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar), idx);
    }
    return m;
  }
  // 2x2 max-pool backward: the lanes of g whose argmax ar[k] lies at offset 0, 1, w or w + 1
  // from b0 + 2k (the top-left of window k), zero elsewhere.
  static void window_picks(const int32_t* ar, int32_t b0, int32_t w, vec g, vec& p00, vec& p01, vec& p10,
                           vec& p11) {
    const __m256i base = _mm256_add_epi32(_mm256_set1_epi32(b0), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
    const __m256i d = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar)), base);
    auto pick = [&](int32_t v) { return _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, _mm256_set1_epi32(v)))); };
    p00 = pick(0), p01 = pick(1), p10 = pick(w), p11 = pick(w + 1);
  }
  static void interleave(vec e, vec o, vec& lo, vec& hi) {
    vec u0 = _mm256_unpacklo_ps(e, o);  // e0 o0 e1 o1 | e4 o4 e5 o5
    vec u1 = _mm256_unpackhi_ps(e, o);  // e2 o2 e3 o3 | e6 o6 e7 o7
    lo = _mm256_permute2f128_ps(u0, u1, 0x20);
    hi = _mm256_permute2f128_ps(u0, u1, 0x31);
  }
  struct dacc {
    __m256d lo, hi;
  };
  static dacc dzero() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static dacc dadd(dacc a, vec v) {
    return {_mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v))),
            _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)))};
  }
  static double dsum(dacc a) {
    alignas(32) double t[4];
    _mm256_store_pd(t, _mm256_add_pd(a.lo, a.hi));
    return (t[0] + t[1]) + (t[2] + t[3]);
  }
  static float hsum(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace fas

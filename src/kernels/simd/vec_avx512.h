// AVX-512F traits (16 lanes). Include only from *_avx512.cpp files.
#pragma once
#if defined(FAS_AVX512_EMULATE)
// Testing on CPUs without AVX-512: the same code over SIMDe's portable implementation of the
// intrinsics (CMake option FAS_AVX512_EMULATE, tools/avx512_emulated.sh).
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
// Intrinsics SIMDe 0.7.4 lacks, written out with the same results as GCC's: the reductions
// add halves in GCC's order (high + low, 512 -> 256 -> 128 -> 64 -> 32 bits), the conversion
// float -> double is exact.
namespace fas::avx512_emulated {
inline float reduce_add_ps(__m512 v) {
  alignas(64) float a[16];
  _mm512_storeu_ps(a, v);
  float t[8];
  for (int i = 0; i < 8; ++i) t[i] = a[8 + i] + a[i];
  for (int i = 0; i < 4; ++i) t[i] = t[4 + i] + t[i];
  return (t[0] + t[2]) + (t[1] + t[3]);
}
inline double reduce_add_pd(__m512d v) {
  alignas(64) double a[8];
  _mm512_storeu_pd(a, v);
  double t[4];
  for (int i = 0; i < 4; ++i) t[i] = a[4 + i] + a[i];
  return (t[2] + t[0]) + (t[3] + t[1]);
}
inline __m256 extractf32x8_ps(__m512 v, int hi) {
  const __m512d d = _mm512_castps_pd(v);
  return _mm256_castpd_ps(hi ? _mm512_extractf64x4_pd(d, 1) : _mm512_extractf64x4_pd(d, 0));
}
inline __m512d cvtps_pd(__m256 v) {
  alignas(32) float f[8];
  alignas(64) double d[8];
  _mm256_storeu_ps(f, v);
  for (int i = 0; i < 8; ++i) d[i] = f[i];
  return _mm512_loadu_pd(d);
}
inline __m512 maskz_loadu_ps(__mmask16 m, const void* p) {  // masked-off lanes are not read
  alignas(64) float a[16] = {0};
  for (int i = 0; i < 16; ++i)
    if (m >> i & 1) a[i] = static_cast<const float*>(p)[i];
  return _mm512_loadu_ps(a);
}
inline void mask_storeu_ps(void* p, __mmask16 m, __m512 v) {
  alignas(64) float a[16];
  _mm512_storeu_ps(a, v);
  for (int i = 0; i < 16; ++i)
    if (m >> i & 1) static_cast<float*>(p)[i] = a[i];
}
}  // namespace fas::avx512_emulated
#define _mm512_reduce_add_ps fas::avx512_emulated::reduce_add_ps
#define _mm512_reduce_add_pd fas::avx512_emulated::reduce_add_pd
#define _mm512_extractf32x8_ps fas::avx512_emulated::extractf32x8_ps
#define _mm512_cvtps_pd fas::avx512_emulated::cvtps_pd
#define _mm512_maskz_loadu_ps fas::avx512_emulated::maskz_loadu_ps
#define _mm512_mask_storeu_ps fas::avx512_emulated::mask_storeu_ps
#else
#include <immintrin.h>
#endif

// GCC 12 warns inside its own avx512fintrin.h (_mm256_undefined_pd is self-initialised): a false
// positive, silenced for the AVX-512 translation units only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // a GCC-only warning group (clang builds the sanitizer, fuzz and TSan trees)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace fas {
namespace {  // internal linkage: code built with different ISA flags must never be merged

struct VecAvx512 {
  static constexpr int V = 16;
  using vec = __m512;
  using ivec = __m512i;
  static ivec izero() { return _mm512_setzero_si512(); }
  static ivec or_bit_ge(ivec acc, vec a, vec b, uint32_t bit) {
    return _mm512_mask_or_epi32(acc, _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), acc, _mm512_set1_epi32((int)bit));
  }
  static void istore(uint32_t* p, ivec v) { _mm512_storeu_si512(p, v); }
  // The first n lanes (n >= 1, clamped to 16); masked loads do not touch the other lanes' memory.
  using mask = __mmask16;
  static mask first(int64_t n) { return n >= 16 ? (mask)0xFFFF : (mask)((1u << n) - 1u); }
  static vec load_first(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store_first(float* p, vec v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static vec bcast(const float* p) { return _mm512_set1_ps(*p); }
  static vec zero() { return _mm512_setzero_ps(); }
  static vec set1(float a) { return _mm512_set1_ps(a); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
  static vec div(vec a, vec b) { return _mm512_div_ps(a, b); }
  static vec sub(vec a, vec b) { return _mm512_sub_ps(a, b); }
  static vec sqrt(vec a) { return _mm512_sqrt_ps(a); }
  static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec max(vec a, vec b) { return _mm512_max_ps(a, b); }
  static vec min(vec a, vec b) { return _mm512_min_ps(a, b); }
  static vec keep_open(vec x, vec lo, vec hi, vec g) {
    __mmask16 m = _mm512_cmp_ps_mask(x, lo, _CMP_GT_OQ) & _mm512_cmp_ps_mask(x, hi, _CMP_LT_OQ);
    return _mm512_maskz_mov_ps(m, g);
  }
  static void deinterleave(vec a, vec b, vec& e, vec& o) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    e = _mm512_permutex2var_ps(a, ie, b);
    o = _mm512_permutex2var_ps(a, io, b);
  }
  static void interleave(vec e, vec o, vec& lo, vec& hi) {
    const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    lo = _mm512_permutex2var_ps(e, il, o);
    hi = _mm512_permutex2var_ps(e, ih, o);
  }
  static float hsum(vec v) { return _mm512_reduce_add_ps(v); }
  struct dacc {
    __m512d lo, hi;
  };
  static dacc dzero() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static dacc dadd(dacc a, vec v) {
    return {_mm512_add_pd(a.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v))),
            _mm512_add_pd(a.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)))};
  }
  static double dsum(dacc a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }
};

}  // namespace
}  // namespace fas

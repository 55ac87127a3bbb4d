// AArch64 NEON traits (4 lanes). Include only from *_neon.cpp files.
#pragma once
#include <arm_neon.h>

namespace fas {
namespace {  // internal linkage: code built with different ISA flags must never be merged

struct VecNeon {
  static constexpr int V = 4;
  using vec = float32x4_t;
  using ivec = uint32x4_t;
  static ivec izero() { return vdupq_n_u32(0u); }
  static ivec or_bit_ge(ivec acc, vec a, vec b, uint32_t bit) { return vorrq_u32(acc, vandq_u32(vcgeq_f32(a, b), vdupq_n_u32(bit))); }
  static void istore(uint32_t* p, ivec v) { vst1q_u32(p, v); }
  static vec zero() { return vdupq_n_f32(0.f); }
  static vec set1(float a) { return vdupq_n_f32(a); }
  static vec load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, vec v) { vst1q_f32(p, v); }
  static vec add(vec a, vec b) { return vaddq_f32(a, b); }
  static vec mul(vec a, vec b) { return vmulq_f32(a, b); }
  static vec div(vec a, vec b) { return vdivq_f32(a, b); }
  static vec sub(vec a, vec b) { return vsubq_f32(a, b); }
  static vec sqrt(vec a) { return vsqrtq_f32(a); }
  static vec fma(vec a, vec b, vec c) { return vfmaq_f32(c, a, b); }
  static vec max(vec a, vec b) { return vmaxq_f32(a, b); }
  static vec min(vec a, vec b) { return vminq_f32(a, b); }
  static vec keep_open(vec x, vec lo, vec hi, vec g) {
    uint32x4_t m = vandq_u32(vcgtq_f32(x, lo), vcltq_f32(x, hi));
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(g)));
  }
  static void deinterleave(vec a, vec b, vec& e, vec& o) { e = vuzp1q_f32(a, b), o = vuzp2q_f32(a, b); }
  static void interleave(vec e, vec o, vec& lo, vec& hi) { lo = vzip1q_f32(e, o), hi = vzip2q_f32(e, o); }
  // 2x2 max-pool forward over windows k given as their (row 0, row 1) x (even, odd) columns: the
  // maximum in scan order e0, o0, e1, o1 (a later one wins only if greater, so NaN never does),
  // and, when ar is given, its flat index b0 + 2k + {0, 1, w, w + 1} into ar[k].
  static vec window_max(vec e0, vec o0, vec e1, vec o1, int32_t b0, int32_t w, int32_t* ar) {
    vec m = e0;
    const uint32x4_t c1 = vcgtq_f32(o0, m);
    m = vbslq_f32(c1, o0, m);
    const uint32x4_t c2 = vcgtq_f32(e1, m);
    m = vbslq_f32(c2, e1, m);
    const uint32x4_t c3 = vcgtq_f32(o1, m);
    m = vbslq_f32(c3, o1, m);
    if (ar) {
      const int32_t lane2[4] = {0, 2, 4, 6};
      const int32x4_t one = vdupq_n_s32(1);
      const int32x4_t i00 = vaddq_s32(vdupq_n_s32(b0), vld1q_s32(lane2)), i10 = vaddq_s32(i00, vdupq_n_s32(w));
      int32x4_t idx = i00;
      idx = vbslq_s32(c1, vaddq_s32(i00, one), idx);
      idx = vbslq_s32(c2, i10, idx);
      idx = vbslq_s32(c3, vaddq_s32(i10, one), idx);
      vst1q_s32(ar, idx);
    }
    return m;
  }
  // 2x2 max-pool backward: the lanes of g whose argmax ar[k] lies at offset 0, 1, w or w + 1
  // from b0 + 2k (the top-left of window k), zero elsewhere.
  static void window_picks(const int32_t* ar, int32_t b0, int32_t w, vec g, vec& p00, vec& p01, vec& p10,
                           vec& p11) {
    const int32_t lane2[4] = {0, 2, 4, 6};
    const int32x4_t d = vsubq_s32(vld1q_s32(ar), vaddq_s32(vdupq_n_s32(b0), vld1q_s32(lane2)));
    const uint32x4_t gu = vreinterpretq_u32_f32(g);
    auto pick = [&](int32_t v) { return vreinterpretq_f32_u32(vandq_u32(gu, vceqq_s32(d, vdupq_n_s32(v)))); };
    p00 = pick(0), p01 = pick(1), p10 = pick(w), p11 = pick(w + 1);
  }
  static float hsum(vec v) { return vaddvq_f32(v); }
  struct dacc {
    float64x2_t lo, hi;
  };
  static dacc dzero() { return {vdupq_n_f64(0.0), vdupq_n_f64(0.0)}; }
  static dacc dadd(dacc a, vec v) {
    return {vaddq_f64(a.lo, vcvt_f64_f32(vget_low_f32(v))), vaddq_f64(a.hi, vcvt_high_f64_f32(v))};
  }
  static double dsum(dacc a) { return vaddvq_f64(vaddq_f64(a.lo, a.hi)); }
};

}  // namespace
}  // namespace fas

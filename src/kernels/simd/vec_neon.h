// AArch64 NEON traits (4 lanes). Include only from *_neon.cpp files.
#pragma once
#include <arm_neon.h>

namespace fas {
namespace {  // internal linkage: code built with different ISA flags must never be merged

struct VecNeon {
  static constexpr int V = 4;
  using vec = float32x4_t;
  static vec zero() { return vdupq_n_f32(0.f); }
  static vec set1(float a) { return vdupq_n_f32(a); }
  static vec load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, vec v) { vst1q_f32(p, v); }
  static vec add(vec a, vec b) { return vaddq_f32(a, b); }
  static vec mul(vec a, vec b) { return vmulq_f32(a, b); }
  static vec div(vec a, vec b) { return vdivq_f32(a, b); }
  static vec fma(vec a, vec b, vec c) { return vfmaq_f32(c, a, b); }
  static vec max(vec a, vec b) { return vmaxq_f32(a, b); }
  static vec min(vec a, vec b) { return vminq_f32(a, b); }
  static vec keep_open(vec x, vec lo, vec hi, vec g) {
    uint32x4_t m = vandq_u32(vcgtq_f32(x, lo), vcltq_f32(x, hi));
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(g)));
  }
  static void deinterleave(vec a, vec b, vec& e, vec& o) { e = vuzp1q_f32(a, b), o = vuzp2q_f32(a, b); }
  static void interleave(vec e, vec o, vec& lo, vec& hi) { lo = vzip1q_f32(e, o), hi = vzip2q_f32(e, o); }
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

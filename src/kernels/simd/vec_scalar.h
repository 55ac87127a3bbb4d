// One-lane "vector" with the same interface as the SIMD traits, so every kernel template also
// builds as a portable scalar path (used when the CPU has no SIMD ISA we compiled, and tested
// like the others). Internal linkage (anonymous namespace): each ISA's translation unit gets its own copy.
#pragma once
#include <cmath>
#include <cstdint>

namespace fas {
namespace {  // internal linkage: code built with different ISA flags must never be merged

struct VecScalar {
  static constexpr int V = 1;
  using vec = float;
  // Unsigned 32-bit lanes for bit codes (LBP): acc | bit where a >= b (false on NaN).
  using ivec = uint32_t;
  static ivec izero() { return 0u; }
  static ivec or_bit_ge(ivec acc, vec a, vec b, uint32_t bit) { return a >= b ? acc | bit : acc; }
  static void istore(uint32_t* p, ivec v) { *p = v; }
  static vec zero() { return 0.f; }
  static vec set1(float a) { return a; }
  static vec load(const float* p) { return *p; }
  static void store(float* p, vec v) { *p = v; }
  static vec add(vec a, vec b) { return a + b; }
  static vec mul(vec a, vec b) { return a * b; }
  static vec div(vec a, vec b) { return a / b; }
  static vec sub(vec a, vec b) { return a - b; }
  static vec sqrt(vec a) { return std::sqrt(a); }
  static vec fma(vec a, vec b, vec c) { return a * b + c; }
  static vec max(vec a, vec b) { return a > b ? a : b; }  // NaN-agnostic: returns b on NaN/ties
  static vec min(vec a, vec b) { return a < b ? a : b; }
  // g where lo < x < hi, else 0 (derivative of clamp, PyTorch's convention at the kinks).
  static vec keep_open(vec x, vec lo, vec hi, vec g) { return (x > lo && x < hi) ? g : 0.f; }
  // (a, b) = p[0..2V): e = even elements, o = odd elements.
  static void deinterleave(vec a, vec b, vec& e, vec& o) { e = a, o = b; }
  // Inverse of deinterleave.
  static void interleave(vec e, vec o, vec& lo, vec& hi) { lo = e, hi = o; }
  static float hsum(vec v) { return v; }
  // Double-precision accumulation of float vectors (long reductions such as batch-norm sums).
  using dacc = double;
  static dacc dzero() { return 0.0; }
  static dacc dadd(dacc a, vec v) { return a + (double)v; }
  static double dsum(dacc a) { return a; }
};

}  // namespace
}  // namespace fas

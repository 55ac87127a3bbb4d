// The packed-GEMM microkernel, written once over a Vec traits type (simd/vec_*.h) and stamped
// out per ISA by FAS_DEFINE_GEMM_UKERNEL in that ISA's translation unit.
//
// Contract (f32_gemm_ukernel_<MR>x<NR>__<isa>): one full MR x NR tile of C,
//   C = alpha * sum_k a[k*MR + i] * b[k*NR + j] + beta * C,   C row-major with stride ldc,
// from an A panel packed k-major (MR values per k, zero-padded by the driver, gemm.cpp) and a B
// panel of NR columns whose rows are ldb floats apart: packed (ldb = NR) or, when op(B) is
// row-major with a full panel, read in place (an im2col buffer already is that layout). The
// kernel has no edge cases. beta == 0 does
// not read C (it may hold NaN). Pure: no allocation, no state.
// An edge kernel (f32_gemm_ukernel_<R>x<NR>_a<MR>__<isa>) computes only the first R rows of a
// panel packed for MR rows: the last panel of M = 128 at MR 12 has 8 real rows, which the full
// kernel would compute as 12 into a scratch tile.
#pragma once
#include <cstdint>

#include "kernels/gemm.h"

namespace fas {
namespace {  // internal linkage: each ISA's copy stays in its own translation unit

template <class V, int MR, int NV, int AS = MR>  // AS: floats per k in the packed A panel
inline void gemm_ukernel(int64_t K, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                         float alpha, float beta) {
  using vec = typename V::vec;
  // MR x NV accumulators live in registers for the whole K loop: MR broadcasts of A and NV loads
  // of B feed MR * NV FMAs per k (12 x 2 on AVX-512: 24 of its 32 registers).
  vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  for (int64_t k = 0; k < K; ++k, a += AS, b += ldb) {
    vec bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * V::V);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const vec av = V::set1(a[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
    }
  }
  const vec va = V::set1(alpha), vb = V::set1(beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      float* p = c + i * ldc + j * V::V;
      V::store(p, beta == 0.f ? V::mul(va, acc[i][j]) : V::fma(vb, V::load(p), V::mul(va, acc[i][j])));
    }
}

}  // namespace
}  // namespace fas

// f32_gemm_ukernel_<MR>x<NR>__<isa>, NR = NV vectors of Vec.
#define FAS_DEFINE_GEMM_UKERNEL(isa, Vec, MR, NV, NR)                                                        \
  namespace fas {                                                                                           \
  static_assert(NR == NV * Vec::V, "NR must be NV vectors");                                                \
  void f32_gemm_ukernel_##MR##x##NR##__##isa(int64_t K, const float* a, const float* b, int64_t ldb, float* c, \
                                             int64_t ldc, float alpha, float beta) {                        \
    gemm_ukernel<Vec, MR, NV>(K, a, b, ldb, c, ldc, alpha, beta);                                           \
  }                                                                                                         \
  }

// f32_gemm_ukernel_<R>x<NR>_a<MR>__<isa>: the first R rows of an MR-row packed A panel.
#define FAS_DEFINE_GEMM_UKERNEL_EDGE(isa, Vec, R, MR, NV, NR)                                                 \
  namespace fas {                                                                                           \
  static_assert(NR == NV * Vec::V && R < MR, "NR must be NV vectors, R fewer rows than MR");                \
  void f32_gemm_ukernel_##R##x##NR##_a##MR##__##isa(int64_t K, const float* a, const float* b, int64_t ldb,   \
                                                    float* c, int64_t ldc, float alpha, float beta) {       \
    gemm_ukernel<Vec, R, NV, MR>(K, a, b, ldb, c, ldc, alpha, beta);                                        \
  }                                                                                                         \
  }

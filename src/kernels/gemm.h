// Row-major single-precision GEMM: C = alpha * op(A) op(B) + beta * C, op = transpose or not.
// On AVX-512 CPUs fas's own packed GEMM runs (an AVX-512 12x32 microkernel: Debian's OpenBLAS
// runs its AVX2 "Haswell" kernels on Zen 4/5, half of what 512-bit FMA units can do); elsewhere
// OpenBLAS, or everywhere with FAS_GEMM=openblas (side-by-side timing). Both run single-threaded:
// fas's own OpenMP loops own the cores (a threaded BLAS nested inside them oversubscribes them).
#pragma once
#include <cstdint>
#include <string>

#include "kernels/cpu.h"

namespace fas {

// a_packed: op(A) packed by sgemm_pack_a (below), or null.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
           const float* a_packed = nullptr);

// Whose code sgemm runs at the active ISA, for benchmark labels: "fas gemm/avx512" or
// "OpenBLAS sgemm (<core>)", the kernel set OpenBLAS picked for this CPU ("Haswell", "SkylakeX").
std::string gemm_name();
std::string gemm_name(int64_t M, int64_t N, int64_t K);  // for one shape (small ones go to OpenBLAS)
const char* blas_core_name();

// Plain triple loop with the same contract: the reference both paths are tested against.
void sgemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// fas's packed GEMM (BLIS loop order: B blocks of KC x NC, A blocks of MC x KC, MR x NR tiles by
// a microkernel, gemm_impl.h). Packing buffers are per thread, allocated once at their full size
// on a thread's first call. ukernel.fn == nullptr means this ISA has none (sgemm uses OpenBLAS).
using GemmUkernelFn = void (*)(int64_t K, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                               float alpha, float beta);
// Packs rows of src transposed into a panel: dst[k * width + r] = src[r * ld + k] for r < rows,
// zero for rows <= r < width (the other packing move is a plain copy).
using GemmPackTFn = void (*)(const float* src, int64_t ld, int64_t rows, int64_t kc, float* dst, int64_t width);
struct GemmUkernel {
  GemmUkernelFn fn = nullptr;
  GemmPackTFn pack_t = nullptr;
  int mr = 0, nr = 0;
  GemmUkernelFn edge = nullptr;  // the first edge_mr rows of a panel (an edge panel of <= edge_mr rows)
  int edge_mr = 0;
};
GemmUkernel gemm_ukernel(Isa isa);
// The microkernel sgemm uses for this shape at the active ISA (fn == nullptr: OpenBLAS).
GemmUkernel gemm_ukernel_for(int64_t M, int64_t N, int64_t K);
// a_packed: op(A) already packed by f32_gemm_pack_a for this microkernel (A is then not read).
void f32_gemm_packed(const GemmUkernel& uk, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                     float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                     int64_t ldc, const float* a_packed = nullptr);
// The whole of op(A) (M x K) in the driver's block order, for GEMMs that share A (a conv's
// weights over its row bands and images): f32_gemm_packed_a_floats(uk, M, K) floats at dst.
size_t f32_gemm_packed_a_floats(const GemmUkernel& uk, int64_t M, int64_t K);
void f32_gemm_pack_a(const GemmUkernel& uk, bool trans_a, int64_t M, int64_t K, const float* A, int64_t lda,
                     float* dst);

// sgemm with A packed once for several calls: sgemm_packed_a_floats(M, N, K) floats for calls
// of at most N columns (0: such a call would not use fas's microkernel; pass a_packed = nullptr
// then), filled by sgemm_pack_a. A is still passed: OpenBLAS reads it when a narrower call's N
// sends it there.
size_t sgemm_packed_a_floats(int64_t M, int64_t N, int64_t K);
void sgemm_pack_a(bool trans_a, int64_t M, int64_t K, const float* A, int64_t lda, float* dst);

#define FAS_DECLARE_GEMM_UKERNEL(name)                                                                   \
  void name(int64_t K, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, float alpha, float beta);
FAS_DECLARE_GEMM_UKERNEL(f32_gemm_ukernel_4x8__scalar)
FAS_DECLARE_GEMM_UKERNEL(f32_gemm_ukernel_12x32__avx512)
FAS_DECLARE_GEMM_UKERNEL(f32_gemm_ukernel_2x8_a4__scalar)
FAS_DECLARE_GEMM_UKERNEL(f32_gemm_ukernel_8x32_a12__avx512)
void f32_gemm_pack_t__scalar(const float* src, int64_t ld, int64_t rows, int64_t kc, float* dst, int64_t width);
void f32_gemm_pack_t__avx512(const float* src, int64_t ld, int64_t rows, int64_t kc, float* dst, int64_t width);

}  // namespace fas

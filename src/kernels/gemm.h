// Row-major single-precision GEMM: C = alpha * op(A) op(B) + beta * C, op = transpose or not.
// Backed by OpenBLAS, which fas keeps single-threaded: our own OpenMP loops own the cores
// (nesting a threaded BLAS inside OpenMP oversubscribes them).
#pragma once
#include <cstdint>

namespace fas {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The kernel set OpenBLAS picked for this CPU ("Haswell", "SkylakeX", "Zen", ...): which ISA its
// sgemm runs, for benchmark labels.
const char* blas_core_name();

// Plain triple loop with the same contract: the reference the BLAS path is tested against.
void sgemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace fas

#include "kernels/gemm.h"

#include <cblas.h>

namespace fas {

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

namespace {
struct BlasSingleThread {
  BlasSingleThread() { openblas_set_num_threads(1); }
} g_blas_single_thread;
}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
              (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

const char* blas_core_name() { return openblas_get_corename(); }

void sgemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
      C[m * ldc + n] = alpha * (float)s + (beta == 0.f ? 0.f : beta * C[m * ldc + n]);
    }
}

}  // namespace fas

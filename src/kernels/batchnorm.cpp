#include "kernels/batchnorm.h"

namespace fas {

void f32_batchnorm_stats(const float* x, int64_t N, int64_t C, int64_t S, float* mean, float* var) {
  const double M = (double)(N * S);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) s += x[(n * C + c) * S + i];
    const double m = s / M;
    double q = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const double v = x[(n * C + c) * S + i] - m;
        q += v * v;
      }
    mean[c] = (float)m;
    var[c] = (float)(q / M);
  }
}

void f32_batchnorm_apply(const float* x, int64_t N, int64_t C, int64_t S, const float* scale,
                         const float* shift, float* y) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const float* xp = x + (n * C + c) * S;
      float* yp = y + (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] * scale[c] + shift[c];
    }
}

void f32_batchnorm_grad_sums(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S,
                             float* sum_g, float* sum_gxc) {
  for (int64_t c = 0; c < C; ++c) {
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t k = (n * C + c) * S + i;
        sg += gy[k];
        sgx += (double)gy[k] * (x[k] - mean[c]);
      }
    sum_g[c] = (float)sg;
    sum_gxc[c] = (float)sgx;
  }
}

void f32_batchnorm_backward_input(const float* gy, const float* x, int64_t N, int64_t C, int64_t S, const float* a,
                                  const float* b, const float* d, float* gx) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t o = (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) gx[o + i] += a[c] * gy[o + i] + b[c] * x[o + i] + d[c];
    }
}

}  // namespace fas

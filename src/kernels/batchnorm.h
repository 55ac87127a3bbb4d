// Batch-norm kernels on x viewed as [N, C, S] (S = H*W for feature maps, 1 for [N, C]).
// Pure scalar references; per-channel sums accumulate in double for stability on big maps.
#pragma once
#include <cstdint>

namespace fas {

// Per-channel batch mean and biased variance over N*S values (two passes).
void f32_batchnorm_stats(const float* x, int64_t N, int64_t C, int64_t S, float* mean, float* var);

// y = x * scale[c] + shift[c]. Normalisation with folded statistics and affine parameters
// (scale = gamma / sqrt(var + eps), shift = beta - mean * scale), also BN folding's form.
void f32_batchnorm_apply(const float* x, int64_t N, int64_t C, int64_t S, const float* scale,
                         const float* shift, float* y);

// sum_g[c] = sum of gy, sum_gxc[c] = sum of gy * (x - mean[c]) over the channel's N*S values.
void f32_batchnorm_grad_sums(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S,
                             float* sum_g, float* sum_gxc);

// gx += a[c] * gy + b[c] * x + d[c]: the input gradient of both the training form
// (a = gamma*istd, b = -a*istd^2*sum_gxc/M, d = -a*sum_g/M - b*mean) and the eval form (b = d = 0).
void f32_batchnorm_backward_input(const float* gy, const float* x, int64_t N, int64_t C, int64_t S, const float* a,
                                  const float* b, const float* d, float* gx);

}  // namespace fas

// Plain reference elementwise kernels (also the Scalar ISA's path), the dispatch table, and the
// batch-norm folding helper.
#include "kernels/elementwise.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "base/error.h"

namespace fas {

namespace {
inline float clampf(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }
}  // namespace

void f32_vclamp__ref(const float* x, float* y, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = clampf(x[i], lo, hi);
}

void f32_vclamp_grad__ref(const float* x, const float* gy, float* gx, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i)
    if (x[i] > lo && x[i] < hi) gx[i] += gy[i];
}

void f32_vclamp_mask__ref(const float* x, const float* gy, float* gm, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) gm[i] = x[i] > lo && x[i] < hi ? gy[i] : 0.f;
}

void f32_vbias_clamp__ref(const float* x, const float* bias, float* y, int64_t batch, int64_t channels,
                          int64_t plane, float lo, float hi) {
  for (int64_t p = 0; p < batch * channels; ++p)
    for (int64_t i = 0; i < plane; ++i) y[p * plane + i] = clampf(x[p * plane + i] + bias[p % channels], lo, hi);
}

void f32_vscaleshift_clamp__ref(const float* x, const float* scale, const float* shift, float* y, int64_t batch,
                                int64_t channels, int64_t plane, float lo, float hi) {
  for (int64_t p = 0; p < batch * channels; ++p) {
    const int64_t c = p % channels;
    for (int64_t i = 0; i < plane; ++i) y[p * plane + i] = clampf(x[p * plane + i] * scale[c] + shift[c], lo, hi);
  }
}

void f32_vadd__ref(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void f32_vtanh__ref(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void f32_vtanh_grad__ref(const float* y, const float* gy, float* gx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gx[i] += gy[i] * (1.f - y[i] * y[i]);
}

// The batch-norm references: the plain kernels of kernels/batchnorm.h on a channel/plane range.
void f32_bn_stats__ref(const float* x, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, float* mean,
                       float* var) {
  for (int64_t c = c0; c < c1; ++c) {
    double s = 0, q = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) s += x[(n * C + c) * S + i];
    const double m = s / (double)(N * S);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) q += (x[(n * C + c) * S + i] - m) * (x[(n * C + c) * S + i] - m);
    mean[c] = (float)m, var[c] = (float)(q / (double)(N * S));
  }
}

void f32_bn_grad_sums__ref(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S,
                           int64_t c0, int64_t c1, float* sum_g, float* sum_gxc) {
  for (int64_t c = c0; c < c1; ++c) {
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t k = (n * C + c) * S + i;
        sg += gy[k], sgx += (double)gy[k] * (x[k] - mean[c]);
      }
    sum_g[c] = (float)sg, sum_gxc[c] = (float)sgx;
  }
}

void f32_bn_backward_input__ref(const float* gy, const float* x, int64_t C, int64_t S, int64_t p0, int64_t p1,
                                const float* a, const float* b, const float* d, float* gx, bool accumulate) {
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t i = 0; i < S; ++i) {
      const float v = a[p % C] * gy[p * S + i] + b[p % C] * x[p * S + i] + d[p % C];
      gx[p * S + i] = accumulate ? gx[p * S + i] + v : v;
    }
}

void f32_vadam__ref(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s) {
  const float b1 = s.beta1, b2 = s.beta2, wd = s.wd, lr = s.lr;
  const float keras_lr = lr * std::sqrt(s.bc2) / s.bc1;
  for (int64_t k = 0; k < n; ++k) {
    float gk = g[k];
    if (wd != 0.f && !s.decoupled) gk += wd * w[k];
    if (wd != 0.f && s.decoupled) w[k] -= lr * wd * w[k];
    m[k] = b1 * m[k] + (1.f - b1) * gk;
    v[k] = b2 * v[k] + (1.f - b2) * gk * gk;
    if (s.keras)
      w[k] -= keras_lr * m[k] / (std::sqrt(v[k]) + s.eps);
    else
      w[k] -= lr * (m[k] / s.bc1) / (std::sqrt(v[k] / s.bc2) + s.eps);
  }
}

#define FAS_ELEMENTWISE_TABLE(isa)                                                                              \
  ElementwiseKernels {                                                                                          \
    f32_vclamp__##isa, f32_vclamp_grad__##isa, f32_vclamp_mask__##isa, f32_vbias_clamp__##isa, f32_vscaleshift_clamp__##isa,           \
        f32_vadd__##isa, f32_vtanh__##isa, f32_vtanh_grad__##isa, f32_bn_stats__##isa, f32_bn_grad_sums__##isa, \
        f32_bn_backward_input__##isa, f32_vadam__##isa                                                          \
  }

const ElementwiseKernels& elementwise_kernels(Isa isa) {
  static const ElementwiseKernels ref = FAS_ELEMENTWISE_TABLE(ref);
#if defined(__x86_64__)
  static const ElementwiseKernels avx2 = FAS_ELEMENTWISE_TABLE(avx2);
  static const ElementwiseKernels avx512 = FAS_ELEMENTWISE_TABLE(avx512);
  if (isa == Isa::Avx2 && isa_supported(isa)) return avx2;
  if (isa == Isa::Avx512 && isa_supported(isa)) return avx512;
#elif defined(__aarch64__)
  static const ElementwiseKernels neon = FAS_ELEMENTWISE_TABLE(neon);
  if (isa == Isa::Neon && isa_supported(isa)) return neon;
#endif
  if (isa == Isa::Scalar) return ref;
  fail(std::string("elementwise: ISA ") + isa_name(isa) + " is not available on this CPU or build");
}

const ElementwiseKernels& elementwise_kernels() { return elementwise_kernels(active_isa()); }

void adam_step(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s) {
  const VAdamFn f = elementwise_kernels().vadam;
  if (n < (int64_t(1) << 16)) return f(w, g, m, v, n, s);
  // Elementwise: each thread takes a slice (whole 64-byte lines), the result does not depend on the split.
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t b = (n * t / nt) & ~int64_t(15), e = t + 1 == nt ? n : (n * (t + 1) / nt) & ~int64_t(15);
    f(w + b, g + b, m + b, v + b, e - b, s);
  }
}

void bn_stats(const float* x, int64_t N, int64_t C, int64_t S, float* mean, float* var, int threads) {
  const BnStatsFn f = elementwise_kernels().bn_stats;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < C; ++c) f(x, N, C, S, c, c + 1, mean, var);
}

void bn_grad_sums(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S, float* sum_g,
                  float* sum_gxc, int threads) {
  const BnGradSumsFn f = elementwise_kernels().bn_grad_sums;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < C; ++c) f(gy, x, mean, N, C, S, c, c + 1, sum_g, sum_gxc);
}

void bn_backward_input(const float* gy, const float* x, int64_t N, int64_t C, int64_t S, const float* a,
                       const float* b, const float* d, float* gx, int threads, bool accumulate) {
  const BnBackwardInputFn f = elementwise_kernels().bn_backward_input;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < N * C; ++p) f(gy, x, C, S, p, p + 1, a, b, d, gx, accumulate);
}

void fold_batch_norm(float* w, float* b, int64_t out_channels, int64_t per_out, const float* gamma,
                     const float* beta, const float* mean, const float* var, float eps) {
  for (int64_t o = 0; o < out_channels; ++o) {
    const float s = (gamma ? gamma[o] : 1.f) / std::sqrt(var[o] + eps);
    for (int64_t k = 0; k < per_out; ++k) w[o * per_out + k] *= s;
    b[o] = (b[o] - mean[o]) * s + (beta ? beta[o] : 0.f);
  }
}

}  // namespace fas

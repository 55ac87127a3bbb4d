// SIMD elementwise kernels behind the run-time ISA dispatcher: activations (clamp covers ReLU
// and ReLU6) and their backward, the conv epilogue (bias + activation), batch-norm apply
// (per-channel scale/shift + activation) and add. Pure functions; x may alias y.
// Names: f32_v<op>__<isa>; the plain references are f32_v<op>__ref.
#pragma once
#include <cstdint>

#include "kernels/cpu.h"

namespace fas {

// y = min(max(x, lo), hi). ReLU: (0, +inf); ReLU6: (0, 6); identity: (-inf, +inf).
using VClampFn = void (*)(const float* x, float* y, int64_t n, float lo, float hi);
// gx += gy where lo < x < hi, else += 0: the clamp derivative, 0 at the kinks (PyTorch's choice).
using VClampGradFn = void (*)(const float* x, const float* gy, float* gx, int64_t n, float lo, float hi);
// gm = gy where lo < x < hi, else 0 (the same derivative, written not added: a fused
// activation's backward masks the incoming gradient before the op's own backward).
using VClampMaskFn = void (*)(const float* x, const float* gy, float* gm, int64_t n, float lo, float hi);
// Over [batch, channels, plane]: y = clamp(x + bias[c], lo, hi) (conv bias + activation epilogue).
using VBiasClampFn = void (*)(const float* x, const float* bias, float* y, int64_t batch, int64_t channels,
                              int64_t plane, float lo, float hi);
// Over [batch, channels, plane]: y = clamp(x * scale[c] + shift[c], lo, hi) (batch-norm apply).
using VScaleShiftClampFn = void (*)(const float* x, const float* scale, const float* shift, float* y, int64_t batch,
                                    int64_t channels, int64_t plane, float lo, float hi);
// y = tanh(x) by a 13/6-degree rational minimax approximation on [-7.905, 7.905] (constant +-1
// outside; the coefficients are those published in Eigen's fast tanh): within 2e-6 of std::tanh.
using VTanhFn = void (*)(const float* x, float* y, int64_t n);
// gx += gy * (1 - y^2), y = tanh(x) (the backward from the output).
using VTanhGradFn = void (*)(const float* y, const float* gy, float* gx, int64_t n);
// y = a + b
using VAddFn = void (*)(const float* a, const float* b, float* y, int64_t n);
// Batch-norm training kernels on x viewed as [N, C, S], for channels [c0, c1) (callers split
// channels over threads). Sums: float vector lanes within a plane, double across planes.
//   stats: mean[c] and biased var[c] over the channel's N*S values (two passes)
using BnStatsFn = void (*)(const float* x, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, float* mean,
                           float* var);
//   grad sums: sum_g[c] = sum gy, sum_gxc[c] = sum gy * (x - mean[c])
using BnGradSumsFn = void (*)(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S,
                              int64_t c0, int64_t c1, float* sum_g, float* sum_gxc);
//   input grad: gx (+)= a[c] * gy + b[c] * x + d[c] over planes [p0, p1) of the N*C planes;
//   += when accumulate, else = (gx is then write-only: Tensor::grad_for_write's fresh buffer)
using BnBackwardInputFn = void (*)(const float* gy, const float* x, int64_t C, int64_t S, int64_t p0, int64_t p1,
                                   const float* a, const float* b, const float* d, float* gx, bool accumulate);

// One Adam/AdamW step over n parameters (optim/optim.h's Adam::update): m, v the moments, t >= 1
// the step. PyTorch form: w -= lr (m / bc1) / (sqrt(v / bc2) + eps); Keras form (keras):
// w -= lr sqrt(bc2) / bc1 * m / (sqrt(v) + eps); bc_i = 1 - beta_i^t. Weight decay wd: added to
// the gradient (Adam), or w -= lr wd w first (AdamW, decoupled).
struct AdamStep {
  float lr, beta1, beta2, eps, wd, bc1, bc2;
  bool decoupled, keras;
};
using VAdamFn = void (*)(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s);

struct ElementwiseKernels {
  VClampFn vclamp;
  VClampGradFn vclamp_grad;
  VClampMaskFn vclamp_mask;
  VBiasClampFn vbias_clamp;
  VScaleShiftClampFn vscaleshift_clamp;
  VAddFn vadd;
  VTanhFn vtanh;
  VTanhGradFn vtanh_grad;
  BnStatsFn bn_stats;
  BnGradSumsFn bn_grad_sums;
  BnBackwardInputFn bn_backward_input;
  VAdamFn vadam;
};
const ElementwiseKernels& elementwise_kernels(Isa isa);  // must be available
const ElementwiseKernels& elementwise_kernels();         // active_isa()

#define FAS_DECLARE_ELEMENTWISE(isa)                                                                        \
  void f32_vclamp__##isa(const float* x, float* y, int64_t n, float lo, float hi);                          \
  void f32_vclamp_grad__##isa(const float* x, const float* gy, float* gx, int64_t n, float lo, float hi);   \
  void f32_vclamp_mask__##isa(const float* x, const float* gy, float* gm, int64_t n, float lo, float hi);   \
  void f32_vbias_clamp__##isa(const float* x, const float* bias, float* y, int64_t batch, int64_t channels, \
                              int64_t plane, float lo, float hi);                                          \
  void f32_vscaleshift_clamp__##isa(const float* x, const float* scale, const float* shift, float* y,       \
                                    int64_t batch, int64_t channels, int64_t plane, float lo, float hi);   \
  void f32_vadd__##isa(const float* a, const float* b, float* y, int64_t n);                                  \
  void f32_vtanh__##isa(const float* x, float* y, int64_t n);                                                \
  void f32_vtanh_grad__##isa(const float* y, const float* gy, float* gx, int64_t n);                         \
  void f32_bn_stats__##isa(const float* x, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, float* mean, \
                           float* var);                                                                    \
  void f32_bn_grad_sums__##isa(const float* gy, const float* x, const float* mean, int64_t N, int64_t C,      \
                               int64_t S, int64_t c0, int64_t c1, float* sum_g, float* sum_gxc);           \
  void f32_bn_backward_input__##isa(const float* gy, const float* x, int64_t C, int64_t S, int64_t p0,       \
                                    int64_t p1, const float* a, const float* b, const float* d, float* gx,    \
                                    bool accumulate);                                                        \
  void f32_vadam__##isa(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s);
FAS_DECLARE_ELEMENTWISE(ref)
FAS_DECLARE_ELEMENTWISE(avx2)
FAS_DECLARE_ELEMENTWISE(avx512)
FAS_DECLARE_ELEMENTWISE(neon)

// Threaded drivers of the batch-norm kernels (active ISA; channels or planes split over threads).
void bn_stats(const float* x, int64_t N, int64_t C, int64_t S, float* mean, float* var, int threads);
void bn_grad_sums(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t S, float* sum_g,
                  float* sum_gxc, int threads);
void bn_backward_input(const float* gy, const float* x, int64_t N, int64_t C, int64_t S, const float* a,
                       const float* b, const float* d, float* gx, int threads, bool accumulate = true);

// The Adam step over threads (active ISA; the OpenMP default team when n is large).
void adam_step(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s);

// Inference: folds a batch norm that follows a conv (or dense) layer into its weights, in place.
// w is [out_channels, per_out] (conv [OC, IC/g, KH, KW], dense [out, in]); b [out_channels] must
// exist (zeros when the layer had no bias). gamma/beta may be null (BN without affine).
//   s = gamma / sqrt(var + eps);  w[o, :] *= s[o];  b[o] = (b[o] - mean[o]) * s[o] + beta[o]
void fold_batch_norm(float* w, float* b, int64_t out_channels, int64_t per_out, const float* gamma,
                     const float* beta, const float* mean, const float* var, float eps);

}  // namespace fas

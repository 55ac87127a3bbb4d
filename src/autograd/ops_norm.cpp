// Batch normalisation over [N, C] or [N, C, H, W] (loops in kernels/batchnorm.h), and MixStyle,
// which reuses its per-plane statistics and scale/shift kernels.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/mutation.h"
#include "autograd/ops.h"
#include "dist/grad_sync.h"
#include "kernels/batchnorm.h"
#include "kernels/cpu.h"
#include "kernels/elementwise.h"

namespace fas {

namespace {

void check_channel_vec(const char* what, const Tensor& t, const Tensor& x, int64_t C) {
  if (t.defined() && (t.dim() != 1 || t.size(0) != C))
    fail(std::string("batch_norm: ") + what + " " + shape_str(t.shape()) + " does not match the " +
         std::to_string(C) + " channels of input " + shape_str(x.shape()));
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, const BatchNormArgs& args) {
  if (!x.defined() || (x.dim() != 2 && x.dim() != 4))
    fail("batch_norm: expected input [N, C] or [N, C, H, W], got " +
         (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
  if (gamma.defined() != beta.defined()) fail("batch_norm: gamma and beta must both be given or both be undefined");
  const int64_t N = x.size(0), C = x.size(1), S = x.dim() == 4 ? x.size(2) * x.size(3) : 1, M = N * S;
  check_channel_vec("gamma", gamma, x, C);
  check_channel_vec("beta", beta, x, C);
  check_channel_vec("running_mean", running_mean, x, C);
  check_channel_vec("running_var", running_var, x, C);
  if (running_mean.defined() != running_var.defined())
    fail("batch_norm: running_mean and running_var must both be given or both be undefined");
  if (!(args.eps > 0.f)) fail("batch_norm: eps must be positive");
  const float lo = args.clamp_lo, hi = args.clamp_hi;
  const bool clamped = lo > -INFINITY || hi < INFINITY;
  if (!(lo < hi)) fail("batch_norm: fused clamp needs lo < hi");

  // The per-channel loops run the dispatched SIMD kernels (kernels/elementwise.h; the plain ones in
  // kernels/batchnorm.h are their references), threaded over channels when there is enough work.
  const int T = N * C * S >= (int64_t(1) << 15) ? num_threads() : 1;
  // mean/istd: the statistics that normalise this call (batch or running).
  std::vector<float> mean(C), var(C), istd(C), scale(C), shift(C);
  const bool synced = args.training && dist::sync_bn_active();
  int64_t Mt = M;  // the values per channel the statistics are over
  if (args.training) {
    if (M < 2)
      fail("batch_norm: training needs more than one value per channel, got input " + shape_str(x.shape()));
    bn_stats(x.data(), N, C, S, mean.data(), var.data(), T);
    // SyncBN (--sync-bn in a parallel run): the statistics, and below the backward's sums, over
    // the global batch of all ranks; the count M becomes the global one.
    if (synced) Mt = dist::sync_bn_stats(M, mean.data(), var.data(), C);
    if (running_mean.defined()) {
      // Keras momentum m is PyTorch momentum 1 - m; both store the unbiased variance.
      const float m = args.convention == MomentumConvention::Torch ? args.momentum : 1.f - args.momentum;
      const float unbias = (float)Mt / (float)(Mt - 1);
      float* rm = running_mean.data();
      float* rv = running_var.data();
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = (1.f - m) * rm[c] + m * mean[c];
        rv[c] = (1.f - m) * rv[c] + m * var[c] * unbias;
      }
    }
  } else {
    if (!running_mean.defined()) fail("batch_norm: inference mode needs running_mean and running_var");
    for (int64_t c = 0; c < C; ++c) mean[c] = running_mean.data()[c], var[c] = running_var.data()[c];
  }
  for (int64_t c = 0; c < C; ++c) {
    istd[c] = 1.f / std::sqrt(var[c] + args.eps);
    const float g = gamma.defined() ? gamma.data()[c] : 1.f;
    scale[c] = g * istd[c];
    shift[c] = (beta.defined() ? beta.data()[c] : 0.f) - mean[c] * scale[c];
  }
  Tensor y = Tensor::uninit(x.shape());
  if (S >= 8) {  // feature maps: the dispatched SIMD kernel (same formula, fused multiply-add); images
                 // split over the threads
    const VScaleShiftClampFn f = elementwise_kernels().vscaleshift_clamp;
    const int TB = (int)std::min<int64_t>(T, N);
#pragma omp parallel for num_threads(TB) schedule(static)
    for (int t = 0; t < TB; ++t) {
      const int64_t n0 = N * t / TB, n1 = N * (t + 1) / TB;
      f(x.data() + n0 * C * S, scale.data(), shift.data(), y.data() + n0 * C * S, n1 - n0, C, S, lo, hi);
    }
  } else {
    f32_batchnorm_apply(x.data(), N, C, S, scale.data(), shift.data(), y.data());
    if (clamped) elementwise_kernels().vclamp(y.data(), y.data(), y.numel(), lo, hi);
  }

  std::vector<Tensor> ins = {x};
  if (gamma.defined()) ins.push_back(gamma), ins.push_back(beta);
  Tensor cx = x, cg = gamma, cb = beta;
  Tensor cy = clamped ? y.detach() : Tensor();  // the clamp's derivative reads the output
  const bool training = args.training;
  record(y, clamped ? "batch_norm_clamp" : "batch_norm", ins, [=](const Tensor& gy_in) mutable {
    Tensor gy = gy_in;
    if (clamped) {  // the clamp's backward, written into a fresh buffer (no zeroing, no accumulation)
      gy = Tensor::uninit(gy_in.shape());
      const VClampMaskFn mask = elementwise_kernels().vclamp_mask;
      const int64_t per = C * S;
#pragma omp parallel for num_threads(T) schedule(static)
      for (int64_t n = 0; n < N; ++n)
        mask(cy.data() + n * per, gy_in.data() + n * per, gy.data() + n * per, per, lo, hi);
    }
    std::vector<float> sum_g(C), sum_gxc(C);
    bn_grad_sums(gy.data(), cx.data(), mean.data(), N, C, S, sum_g.data(), sum_gxc.data(), T);
    if (cx.requires_grad()) {
      // With SyncBN the input gradient needs the sums over every rank (the statistics depend on
      // all of them); gamma and beta keep this rank's sums, averaged with the other gradients.
      std::vector<float> all_g(sum_g), all_gxc(sum_gxc);
      if (synced) dist::sync_bn_grad_sums(all_g.data(), all_gxc.data(), C);
      std::vector<float> a(scale), b(C, 0.f), d(C, 0.f);  // a = gamma * istd
      if (training)  // the batch statistics depend on x too
        for (int64_t c = 0; c < C; ++c) {
          b[c] = -a[c] * istd[c] * istd[c] * all_gxc[c] / (float)Mt;
          d[c] = -a[c] * all_g[c] / (float)Mt - b[c] * mean[c];
        }
      bool fresh;
      float* gx = cx.grad_for_write(&fresh);
      bn_backward_input(gy.data(), cx.data(), N, C, S, a.data(), b.data(), d.data(), gx, T, !fresh);
    }
    if (cg.defined() && cg.requires_grad()) {
      float* gg = cg.grad_data();
      for (int64_t c = 0; c < C; ++c) gg[c] += sum_gxc[c] * istd[c] * kMutant;  // d/dgamma = sum(gy * xhat)
    }
    if (cb.defined() && cb.requires_grad()) {
      float* gb = cb.grad_data();
      for (int64_t c = 0; c < C; ++c) gb[c] += sum_g[c];
    }
  });
  return y;
}

Tensor mix_style(const Tensor& x, const std::vector<int64_t>& partner, const std::vector<float>& lambda, float eps) {
  if (!x.defined() || x.dim() != 4 || x.size(2) * x.size(3) < 2)
    fail("mix_style: expected input [N, C, H, W] with H*W >= 2, got " +
         (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2) * x.size(3), P = N * C;
  if ((int64_t)partner.size() != N || (int64_t)lambda.size() != N)
    fail("mix_style: " + std::to_string(partner.size()) + " partners and " + std::to_string(lambda.size()) +
         " lambdas for a batch of " + std::to_string(N));
  for (int64_t n = 0; n < N; ++n) {
    if (partner[n] < 0 || partner[n] >= N) fail("mix_style: partner " + std::to_string(partner[n]) + " out of range");
    if (!(lambda[n] >= 0.f && lambda[n] <= 1.f)) fail("mix_style: lambda must be in [0, 1]");
  }
  if (!(eps > 0.f)) fail("mix_style: eps must be positive");
  // The N*C planes as the channels of one image: the batch-norm statistics kernel gives each
  // plane's mean and (biased) variance, the scale/shift kernel applies y = a x + b per plane.
  std::vector<float> mean(P), var(P), sd(P), a(P), b(P);
  const int T = P * S >= (int64_t(1) << 15) ? num_threads() : 1;
  bn_stats(x.data(), 1, P, S, mean.data(), var.data(), T);
  for (int64_t i = 0; i < P; ++i) sd[i] = std::sqrt(var[i] * (float)S / (float)(S - 1) + eps);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = n * C + c, j = partner[n] * C + c;
      const float l = lambda[n];
      a[i] = (l * sd[i] + (1.f - l) * sd[j]) / sd[i];
      b[i] = l * mean[i] + (1.f - l) * mean[j] - a[i] * mean[i];
    }
  Tensor y = Tensor::uninit(x.shape());
  elementwise_kernels().vscaleshift_clamp(x.data(), a.data(), b.data(), y.data(), 1, P, S, -INFINITY, INFINITY);
  Tensor cx = x;
  record(y, "mix_style", {x}, [cx, a, P, S, T](const Tensor& gy) mutable {
    const std::vector<float> zero(P, 0.f);  // gx = a gy: the plane-affine backward with no x terms
    bool fresh;
    float* gx = cx.grad_for_write(&fresh);
    bn_backward_input(gy.data(), cx.data(), 1, P, S, a.data(), zero.data(), zero.data(), gx, T, !fresh);
  });
  return y;
}

}  // namespace fas

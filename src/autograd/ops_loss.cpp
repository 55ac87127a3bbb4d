// softmax / log_softmax and the losses. Every loss returns a one-element tensor of shape {}.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/mutation.h"
#include "autograd/ops.h"
#include "kernels/softmax.h"

namespace fas {

namespace {

Tensor softmax_impl(const char* op, const Tensor& a, int64_t dim, bool log_out) {
  if (!a.defined() || a.dim() == 0) fail(std::string(op) + ": needs a tensor with at least one dimension");
  const int64_t nd = a.dim(), d = dim < 0 ? dim + nd : dim;
  if (d < 0 || d >= nd) fail(std::string(op) + ": dim " + std::to_string(dim) + " out of range for " + shape_str(a.shape()));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= a.size(i);
  for (int64_t i = d + 1; i < nd; ++i) inner *= a.size(i);
  const int64_t n = a.size(d);
  Tensor y = Tensor::zeros(a.shape());
  if (n > 0) f32_softmax(a.data(), outer, n, inner, log_out, y.data());
  Tensor ca = a, cy = y.detach();
  record(y, op, {a}, [ca, cy, outer, n, inner, log_out](const Tensor& gy) mutable {
    f32_softmax_backward(cy.data(), gy.data(), outer, n, inner, log_out, ca.grad_data());
  });
  return y;
}

void check_same(const char* op, const Tensor& a, const Tensor& b, const char* an, const char* bn) {
  if (!a.defined() || !b.defined()) fail(std::string(op) + ": undefined " + (a.defined() ? bn : an));
  if (a.shape() != b.shape())
    fail(std::string(op) + ": " + an + " " + shape_str(a.shape()) + " and " + bn + " " + shape_str(b.shape()) +
         " must have the same shape");
  if (a.numel() == 0) fail(std::string(op) + ": empty input " + shape_str(a.shape()));
}

// The factor on the sum of `count` terms of a tensor of shape `shape` (ops.h Reduction).
float reduction_scale(Reduction r, int64_t count, const Shape& shape) {
  switch (r) {
    case Reduction::Mean: return 1.f / (float)count;
    case Reduction::BatchMean: return 1.f / (float)(shape.empty() ? 1 : shape[0]);  // a 0-d input is one sample
    case Reduction::Sum: break;
  }
  return 1.f;
}

// Loss = reduce_i loss(p_i, t_i); grad(p, t, &dp, &dt) gives the element's partial derivatives.
template <class L, class G>
Tensor pointwise_loss(const char* op, const Tensor& p, const Tensor& t, Reduction r, L loss, G grad) {
  check_same(op, p, t, "input", "target");
  const int64_t n = p.numel();
  const float* pp = p.data();
  const float* pt = t.data();
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += loss(pp[i], pt[i]);
  const float scale = reduction_scale(r, n, p.shape());
  Tensor y = Tensor::scalar((float)(s * scale));
  Tensor cp = p, ct = t;
  record(y, op, {p, t}, [cp, ct, n, scale, grad](const Tensor& gy) mutable {
    const float g = gy.data()[0] * scale;
    const float* pp = cp.data();
    const float* pt = ct.data();
    float* gp = cp.requires_grad() ? cp.grad_data() : nullptr;
    float* gt = ct.requires_grad() ? ct.grad_data() : nullptr;
    for (int64_t i = 0; i < n; ++i) {
      float dp, dt;
      grad(pp[i], pt[i], &dp, &dt);
      if (gp) gp[i] += g * dp;
      if (gt) gt[i] += g * dt;
    }
  });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& a, int64_t dim) { return softmax_impl("softmax", a, dim, false); }
Tensor log_softmax(const Tensor& a, int64_t dim) { return softmax_impl("log_softmax", a, dim, true); }

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction r) {
  return pointwise_loss("mse_loss", pred, target, r, [](float p, float t) { return (double)(p - t) * (p - t); },
                        [](float p, float t, float* dp, float* dt) { *dp = 2.f * kMutant * (p - t), *dt = -*dp; });
}

Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction r) {
  // At p == t the derivative is taken as 0 (PyTorch's sign(0)).
  return pointwise_loss("l1_loss", pred, target, r, [](float p, float t) { return (double)std::fabs(p - t); },
                        [](float p, float t, float* dp, float* dt) { *dp = (float)((p > t) - (p < t)), *dt = -*dp; });
}

Tensor bce_loss(const Tensor& prob, const Tensor& target, Reduction r) {
  check_same("bce_loss", prob, target, "input", "target");
  for (int64_t i = 0; i < prob.numel(); ++i) {
    const float p = prob.data()[i];
    if (!(p >= 0.f && p <= 1.f))
      fail("bce_loss: probabilities must lie in [0, 1], element " + std::to_string(i) + " of input " +
           shape_str(prob.shape()) + " is " + std::to_string(p));
  }
  // PyTorch: each log clamped at -100 so p = 0 or 1 gives a finite loss (at most 100 per
  // element); its backward divides by max(p(1-p), 1e-12), which we reproduce.
  auto clog = [](float v) { return std::max(std::log(v), -100.f); };
  return pointwise_loss(
      "bce_loss", prob, target, r, [clog](float p, float t) { return -(double)(t * clog(p) + (1.f - t) * clog(1.f - p)); },
      [clog](float p, float t, float* dp, float* dt) {
        *dp = (p - t) / std::max(p * (1.f - p), 1e-12f);
        *dt = clog(1.f - p) - clog(p);
      });
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r) {
  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x.
  return pointwise_loss(
      "bce_with_logits", logits, target, r,
      [](float x, float t) { return (double)std::max(x, 0.f) - (double)x * t + std::log1p(std::exp(-std::fabs((double)x))); },
      [](float x, float t, float* dx, float* dt) {
        const float s = x >= 0 ? 1.f / (1.f + std::exp(-x)) : std::exp(x) / (1.f + std::exp(x));
        *dx = s - t, *dt = -x;
      });
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, Reduction r) {
  if (!logits.defined() || logits.dim() != 2 || logits.size(0) == 0)
    fail("cross_entropy: expected logits [N, C] with N > 0, got " +
         (logits.defined() ? shape_str(logits.shape()) : std::string("undefined")));
  const int64_t N = logits.size(0), C = logits.size(1);
  if ((int64_t)labels.size() != N)
    fail("cross_entropy: " + std::to_string(labels.size()) + " labels for logits " + shape_str(logits.shape()));
  for (int64_t i = 0; i < N; ++i)
    if (labels[i] < 0 || labels[i] >= C)
      fail("cross_entropy: label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
           " is out of range [0, " + std::to_string(C) + ") for logits " + shape_str(logits.shape()));
  Tensor lsm = Tensor::zeros(logits.shape());
  f32_softmax(logits.data(), N, C, 1, true, lsm.data());
  double s = 0;
  for (int64_t i = 0; i < N; ++i) s -= lsm.data()[i * C + labels[i]];
  const float scale = reduction_scale(r, N, {N});
  Tensor y = Tensor::scalar((float)(s * scale));
  Tensor cx = logits;
  record(y, "cross_entropy", {logits}, [cx, lsm, labels, N, C, scale](const Tensor& gy) mutable {
    const float g = gy.data()[0] * scale;
    float* gx = cx.grad_data();
    for (int64_t i = 0; i < N; ++i)
      for (int64_t c = 0; c < C; ++c)
        gx[i * C + c] += g * (std::exp(lsm.data()[i * C + c]) - (c == labels[i] ? 1.f : 0.f));
    if (kMutantOneElement != 1.f) gx[0] *= kMutantOneElement;
  });
  return y;
}

Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, Reduction r) {
  check_same("gaussian_kl", mu, logvar, "mu", "logvar");
  if (mu.dim() == 0) fail("gaussian_kl: mu must have a batch dimension, got " + shape_str(mu.shape()));
  const int64_t n = mu.numel();
  const float* m = mu.data();
  const float* lv = logvar.data();
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += 1.0 + lv[i] - (double)m[i] * m[i] - std::exp((double)lv[i]);
  const float scale = reduction_scale(r, n, mu.shape());
  Tensor y = Tensor::scalar((float)(-0.5 * s * scale));
  Tensor cm = mu, cl = logvar;
  record(y, "gaussian_kl", {mu, logvar}, [cm, cl, n, scale](const Tensor& gy) mutable {
    const float g = gy.data()[0] * scale;
    const float* m = cm.data();
    const float* lv = cl.data();
    if (cm.requires_grad()) {
      float* gm = cm.grad_data();
      for (int64_t i = 0; i < n; ++i) gm[i] += g * m[i];
    }
    if (cl.requires_grad()) {
      float* gl = cl.grad_data();
      for (int64_t i = 0; i < n; ++i) gl[i] += g * 0.5f * (std::exp(lv[i]) - 1.f);
    }
  });
  return y;
}

}  // namespace fas

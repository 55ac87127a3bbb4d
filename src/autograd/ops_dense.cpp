// matmul, linear, embedding, dropout. GEMMs go to sgemm (kernels/gemm.h).
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "kernels/gemm.h"

namespace fas {

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0))
    fail("matmul: cannot multiply " + shape_str(a.shape()) + " by " + shape_str(b.shape()));
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  Tensor y = Tensor::zeros({M, N});
  sgemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, y.data(), N);
  Tensor ca = a, cb = b;
  record(y, "matmul", {a, b}, [ca, cb, M, K, N](const Tensor& gy) mutable {
    bool fresh;  // a fresh gradient buffer (Tensor::grad_for_write) is written with beta = 0
    if (ca.requires_grad()) {  // dA += dY B^T
      float* ga = ca.grad_for_write(&fresh);
      sgemm(false, true, M, K, N, 1.f, gy.data(), N, cb.data(), N, fresh ? 0.f : 1.f, ga, K);
    }
    if (cb.requires_grad()) {  // dB += A^T dY (after dA: a matmul(a, a) then accumulates onto it)
      float* gb = cb.grad_for_write(&fresh);
      sgemm(true, false, K, N, M, 1.f, ca.data(), K, gy.data(), N, fresh ? 0.f : 1.f, gb, N);
    }
  });
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1))
    fail("linear: input " + shape_str(x.shape()) + " does not fit weight " + shape_str(w.shape()) +
         " (expected input [N, " + std::to_string(w.dim() == 2 ? w.size(1) : -1) + "])");
  if (b.defined() && (b.dim() != 1 || b.size(0) != w.size(0)))
    fail("linear: bias " + shape_str(b.shape()) + " does not fit weight " + shape_str(w.shape()));
  const int64_t N = x.size(0), I = x.size(1), O = w.size(0);
  Tensor y = Tensor::zeros({N, O});
  if (b.defined())
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) y.data()[n * O + o] = b.data()[o];
  sgemm(false, true, N, O, I, 1.f, x.data(), I, w.data(), I, b.defined() ? 1.f : 0.f, y.data(), O);
  Tensor cx = x, cw = w, cb = b;
  std::vector<Tensor> ins = {x, w};
  if (b.defined()) ins.push_back(b);
  record(y, "linear", ins, [cx, cw, cb, N, I, O](const Tensor& gy) mutable {
    const float* g = gy.data();
    if (cx.requires_grad()) {  // fresh buffer (Tensor::grad_for_write): beta = 0 writes it whole
      bool fresh;
      float* gx = cx.grad_for_write(&fresh);
      sgemm(false, false, N, I, O, 1.f, g, O, cw.data(), I, fresh ? 0.f : 1.f, gx, I);
    }
    if (cw.requires_grad()) sgemm(true, false, O, I, N, 1.f, g, O, cx.data(), I, 1.f, cw.grad_data(), I);
    if (cb.defined() && cb.requires_grad()) {
      float* gb = cb.grad_data();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o) gb[o] += g[n * O + o];
    }
  });
  return y;
}

Tensor embedding(const std::vector<int64_t>& ids, const Tensor& weight) {
  if (weight.dim() != 2) fail("embedding: weight must be [V, D], got " + shape_str(weight.shape()));
  const int64_t V = weight.size(0), D = weight.size(1), L = (int64_t)ids.size();
  for (auto id : ids)
    if (id < 0 || id >= V)
      fail("embedding: index " + std::to_string(id) + " out of range for " + std::to_string(V) + " rows");
  Tensor y = Tensor::zeros({L, D});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t d = 0; d < D; ++d) y.data()[i * D + d] = weight.data()[ids[i] * D + d];
  Tensor cw = weight;
  record(y, "embedding", {weight}, [cw, ids, L, D](const Tensor& gy) mutable {
    float* gw = cw.grad_data();
    for (int64_t i = 0; i < L; ++i)
      for (int64_t d = 0; d < D; ++d) gw[ids[i] * D + d] += gy.data()[i * D + d];
  });
  return y;
}

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
  if (p < 0.f || p >= 1.f) fail("dropout: p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.f) return x;
  Tensor keep = Tensor::zeros(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) keep.data()[i] = rng.uniform() >= p ? 1.f : 0.f;
  return dropout_masked(x, keep, p);
}

Tensor dropout_masked(const Tensor& x, const Tensor& keep, float p) {
  if (p < 0.f || p >= 1.f) fail("dropout: p must be in [0, 1), got " + std::to_string(p));
  if (keep.shape() != x.shape())
    fail("dropout: mask " + shape_str(keep.shape()) + " and input " + shape_str(x.shape()) + " must have the same shape");
  Tensor mask = Tensor::zeros(x.shape());
  const float scale = 1.f / (1.f - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float k = keep.data()[i];
    if (k != 0.f && k != 1.f) fail("dropout: mask values must be 0 or 1, got " + std::to_string(k));
    mask.data()[i] = k != 0.f ? scale : 0.f;
  }
  return mul(x, mask);
}

}  // namespace fas

// Float64 reference forwards of the ops whose outputs sum over many inputs (losses, reductions,
// softmax, batch norm, convolutions, matmul, average pooling): plain loops in double, written
// from the definitions in src/autograd/ops.h, for gradcheck64 (testutil.h). A float32 finite
// difference of such an op carries the rounding of a whole sum, which hides a 0.1 % error in
// one element of its backward; these give a derivative to ~1e-10 instead, as PyTorch's
// gradcheck does by running its ops in double. Arrays are flat, row-major (NCHW).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "autograd/ops.h"

namespace fas::test::ref64 {

using Vec = std::vector<double>;

// The factor of each Reduction (ops.h) on a sum of `count` terms over a batch of `batch`.
inline Vec reduced(double s, Reduction r, int64_t count, int64_t batch) {
  return {r == Reduction::Mean ? s / (double)count : r == Reduction::BatchMean ? s / (double)batch : s};
}

template <class T>
Vec pointwise_loss(const Vec& p, const Vec& t, Reduction r, int64_t batch, T term) {
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) s += term(p[i], t[i]);
  return reduced(s, r, (int64_t)p.size(), batch);
}
inline Vec mse(const Vec& p, const Vec& t, Reduction r, int64_t batch) {
  return pointwise_loss(p, t, r, batch, [](double a, double b) { return (a - b) * (a - b); });
}
inline Vec l1(const Vec& p, const Vec& t, Reduction r, int64_t batch) {
  return pointwise_loss(p, t, r, batch, [](double a, double b) { return std::fabs(a - b); });
}
inline Vec bce(const Vec& p, const Vec& t, Reduction r, int64_t batch) {
  return pointwise_loss(p, t, r, batch, [](double a, double b) { return -(b * std::log(a) + (1 - b) * std::log(1 - a)); });
}
inline Vec bce_with_logits(const Vec& x, const Vec& t, Reduction r, int64_t batch) {
  return pointwise_loss(x, t, r, batch, [](double a, double b) { return std::log1p(std::exp(a)) - a * b; });
}
inline Vec gaussian_kl(const Vec& mu, const Vec& lv, Reduction r, int64_t batch) {
  return pointwise_loss(mu, lv, r, batch, [](double m, double l) { return -0.5 * (1 + l - m * m - std::exp(l)); });
}

// x viewed as [outer, n, inner], softmax (or log_softmax) along n.
inline Vec softmax(const Vec& x, int64_t outer, int64_t n, int64_t inner, bool log_out) {
  Vec y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + i; };
      double m = x[at(0)], z = 0;
      for (int64_t k = 1; k < n; ++k) m = std::max(m, x[at(k)]);
      for (int64_t k = 0; k < n; ++k) z += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < n; ++k) y[at(k)] = log_out ? x[at(k)] - m - std::log(z) : std::exp(x[at(k)] - m) / z;
    }
  return y;
}

inline Vec cross_entropy(const Vec& x, int64_t N, int64_t C, const std::vector<int64_t>& labels, Reduction r) {
  const Vec lsm = softmax(x, N, C, 1, true);
  double s = 0;
  for (int64_t i = 0; i < N; ++i) s -= lsm[i * C + labels[i]];
  return reduced(s, r, N, N);
}

// x viewed as [outer, n, inner], summed (or averaged) along n.
inline Vec sum_dim(const Vec& x, int64_t outer, int64_t n, int64_t inner, bool mean) {
  Vec y(outer * inner, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) y[o * inner + i] += x[(o * n + k) * inner + i] / (mean ? (double)n : 1.0);
  return y;
}

// Training-mode batch norm of x [N, C, HW]: batch mean and biased variance per channel.
inline Vec batch_norm_train(const Vec& x, const Vec& g, const Vec& b, int64_t N, int64_t C, int64_t HW, double eps) {
  Vec y(x.size());
  for (int64_t c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) m += x[(n * C + c) * HW + i];
    m /= (double)(N * HW);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) v += (x[(n * C + c) * HW + i] - m) * (x[(n * C + c) * HW + i] - m);
    const double istd = 1.0 / std::sqrt(v / (double)(N * HW) + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) y[(n * C + c) * HW + i] = g[c] * (x[(n * C + c) * HW + i] - m) * istd + b[c];
  }
  return y;
}

// [M, K] x [K, N] (+ bias [N] when given): matmul, and linear with a transposed weight below.
inline Vec matmul(const Vec& a, const Vec& b, int64_t M, int64_t K, int64_t N) {
  Vec y(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) y[i * N + j] += a[i * K + k] * b[k * N + j];
  return y;
}
// linear: y = x w^T + b, x [M, K], w [N, K].
inline Vec linear(const Vec& x, const Vec& w, const Vec& b, int64_t M, int64_t K, int64_t N) {
  Vec y(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = b[j];
      for (int64_t k = 0; k < K; ++k) s += x[i * K + k] * w[j * K + k];
      y[i * N + j] = s;
    }
  return y;
}

struct Geom {  // x [N, C, H, W], weight [., ., KH, KW]
  int64_t N, C, H, W, OC, KH, KW;
};

// conv2d: y[n, oc, oh, ow] = b[oc] + sum over the group's channels and taps of
// x[n, c, oh s - pad_top + kh dil, ...] w[oc, c, kh, kw]; w [OC, C/groups, KH, KW].
inline Vec conv2d(const Vec& x, const Vec& w, const Vec& b, const Geom& d, const Conv2dArgs& a) {
  const int64_t OH = conv_out_size(d.H, (int)d.KH, a.stride_h, a.pad_top, a.pad_bottom, a.dil_h);
  const int64_t OW = conv_out_size(d.W, (int)d.KW, a.stride_w, a.pad_left, a.pad_right, a.dil_w);
  const int64_t Cg = d.C / a.groups, OCg = d.OC / a.groups;
  Vec y(d.N * d.OC * OH * OW);
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t oc = 0; oc < d.OC; ++oc)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double s = b.empty() ? 0.0 : b[oc];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                const int64_t ih = oh * a.stride_h - a.pad_top + kh * a.dil_h, iw = ow * a.stride_w - a.pad_left + kw * a.dil_w;
                if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) continue;
                s += x[((n * d.C + (oc / OCg) * Cg + c) * d.H + ih) * d.W + iw] * w[((oc * Cg + c) * d.KH + kh) * d.KW + kw];
              }
          y[((n * d.OC + oc) * OH + oh) * OW + ow] = s;
        }
  return y;
}

// conv_transpose2d: every input pixel (ih, iw) adds x w[c, oc, kh, kw] at output
// (ih s - pad_top + kh dil, iw s - pad_left + kw dil); w [C, OC/groups, KH, KW] (PyTorch).
inline Vec conv_transpose2d(const Vec& x, const Vec& w, const Vec& b, const Geom& d, const ConvT2dArgs& a) {
  const int64_t OH = (d.H - 1) * a.stride_h + a.dil_h * (d.KH - 1) + 1 - a.pad_top - a.pad_bottom + a.out_pad_h;
  const int64_t OW = (d.W - 1) * a.stride_w + a.dil_w * (d.KW - 1) + 1 - a.pad_left - a.pad_right + a.out_pad_w;
  const int64_t Cg = d.C / a.groups, OCg = d.OC / a.groups;
  Vec y(d.N * d.OC * OH * OW, 0.0);
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t oc = 0; oc < d.OC; ++oc)
      for (int64_t i = 0; i < OH * OW; ++i) y[(n * d.OC + oc) * OH * OW + i] = b.empty() ? 0.0 : b[oc];
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t c = 0; c < d.C; ++c)
      for (int64_t ih = 0; ih < d.H; ++ih)
        for (int64_t iw = 0; iw < d.W; ++iw)
          for (int64_t o = 0; o < OCg; ++o)
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                const int64_t oh = ih * a.stride_h - a.pad_top + kh * a.dil_h, ow = iw * a.stride_w - a.pad_left + kw * a.dil_w;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const int64_t oc = (c / Cg) * OCg + o;
                y[((n * d.OC + oc) * OH + oh) * OW + ow] +=
                    x[((n * d.C + c) * d.H + ih) * d.W + iw] * w[((c * OCg + o) * d.KH + kh) * d.KW + kw];
              }
  return y;
}

// avg_pool2d over x [N, C, H, W]: the window's in-bounds sum over its in-bounds count
// (count_include_pad false) or over KH KW.
inline Vec avg_pool2d(const Vec& x, int64_t N, int64_t C, int64_t H, int64_t W, const Pool2dArgs& a) {
  const int64_t OH = conv_out_size(H, a.kh, a.stride_h, a.pad_top, a.pad_bottom);
  const int64_t OW = conv_out_size(W, a.kw, a.stride_w, a.pad_left, a.pad_right);
  Vec y(N * C * OH * OW);
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double s = 0;
        int64_t count = 0;
        for (int64_t kh = 0; kh < a.kh; ++kh)
          for (int64_t kw = 0; kw < a.kw; ++kw) {
            const int64_t ih = oh * a.stride_h - a.pad_top + kh, iw = ow * a.stride_w - a.pad_left + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            s += x[(p * H + ih) * W + iw], ++count;
          }
        y[(p * OH + oh) * OW + ow] = s / (double)(a.count_include_pad ? a.kh * a.kw : count);
      }
  return y;
}

}  // namespace fas::test::ref64

// Pooling, upsampling, batch norm, softmax, losses, layers and the summary table.
// Gradient checks use testutil's central differences (float32, eps 1e-2, atol 2e-3, rtol 2e-2).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/graph.h"
#include "layers/layers.h"
#include "layers/summary.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// Values i * step for a random permutation of i: every pair differs by at least `step`, so a
// finite-difference step eps < step / 2 can never reorder a max-pool window (no ties, no kinks).
Tensor distinct(const Shape& s, Rng& rng, float step = 0.05f) {
  Tensor t = Tensor::zeros(s);
  std::vector<int64_t> idx(t.numel());
  std::iota(idx.begin(), idx.end(), 0);
  for (int64_t i = (int64_t)idx.size() - 1; i > 0; --i) std::swap(idx[i], idx[rng.below(i + 1)]);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = (float)(idx[i] - t.numel() / 2) * step;
  t.set_requires_grad(true);
  return t;
}

Pool2dArgs explicit_args(int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr, bool inc = true) {
  Pool2dArgs a;
  a.kh = kh, a.kw = kw, a.stride_h = sh, a.stride_w = sw;
  a.pad_top = pt, a.pad_bottom = pb, a.pad_left = pl, a.pad_right = pr;
  a.count_include_pad = inc;
  return a;
}

// Independent direct definition of pooling (max over valid pixels / mean with either divisor).
Tensor naive_pool(const Tensor& x, const Pool2dArgs& a, bool is_max) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = (H + a.pad_top + a.pad_bottom - a.kh) / a.stride_h + 1;
  const int64_t OW = (W + a.pad_left + a.pad_right - a.kw) / a.stride_w + 1;
  Tensor y = Tensor::zeros({N, C, OH, OW});
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        float m = -INFINITY, s = 0;
        int cnt = 0;
        for (int r = 0; r < a.kh; ++r)
          for (int c = 0; c < a.kw; ++c) {
            const int64_t h = i * a.stride_h - a.pad_top + r, w = j * a.stride_w - a.pad_left + c;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const float v = x.data()[(p * H + h) * W + w];
            m = std::max(m, v), s += v, ++cnt;
          }
        y.data()[(p * OH + i) * OW + j] = is_max ? m : s / (a.count_include_pad ? a.kh * a.kw : cnt);
      }
  return y;
}

}  // namespace

// ------------------------------------------------------------------------- pooling

TEST(Pool, KerasSameArgs) {
  struct Case { int64_t in; int k, s, before, after; };
  // out = ceil(in/s); total = (out-1)*s + k - in, the odd pixel at the bottom/right.
  for (auto c : {Case{7, 2, 2, 0, 1}, Case{8, 2, 2, 0, 0}, Case{5, 3, 1, 1, 1}, Case{6, 3, 2, 0, 1},
                 Case{1, 2, 2, 0, 1}, Case{13, 3, 2, 1, 1}, Case{4, 3, 3, 1, 1}}) {
    Pool2dArgs a = pool_args_same(c.in, c.in, c.k, c.k, c.s, c.s);
    EXPECT_EQ(a.pad_top, c.before) << c.in << " k" << c.k << " s" << c.s;
    EXPECT_EQ(a.pad_bottom, c.after) << c.in << " k" << c.k << " s" << c.s;
    EXPECT_EQ(a.pad_left, c.before);
    EXPECT_EQ(a.pad_right, c.after);
    EXPECT_FALSE(a.count_include_pad);
    Tensor y = max_pool2d(Tensor::zeros({1, 1, c.in, c.in}), a);
    EXPECT_EQ(y.size(2), (c.in + c.s - 1) / c.s);
  }
  // 128 halves seven times down to 1 (spec 000's CNN8 on the NUAA crops).
  int64_t s = 128;
  for (int i = 0; i < 8; ++i) s = max_pool2d(Tensor::zeros({1, 1, s, s}), pool_args_same(s, s, 2, 2, 2, 2)).size(2);
  EXPECT_EQ(s, 1);
}

TEST(Pool, PaddingNeverWinsMax) {
  // All-negative input, same padding on a 3x3 map: a zero pad must not appear in the output.
  Tensor x = Tensor::from({1, 1, 3, 3}, {-9, -8, -7, -6, -5, -4, -3, -2, -1});
  Tensor y = max_pool2d(x, pool_args_same(3, 3, 2, 2, 2, 2));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{-5, -4, -2, -1}));
}

TEST(Pool, AvgPadCounting) {
  Tensor x = Tensor::from({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  // Keras same excludes padding: the bottom-right window holds only 9.
  Tensor y = avg_pool2d(x, pool_args_same(3, 3, 2, 2, 2, 2));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3.f, 4.5f, 7.5f, 9.f}));
  // PyTorch count_include_pad: pad 1, 2x2 windows stride 2, corner window = 1/4.
  Tensor z = avg_pool2d(x, explicit_args(2, 2, 2, 2, 1, 1, 1, 1, true));
  EXPECT_EQ(z.to_vector(), (std::vector<float>{0.25f, 1.25f, 2.75f, 7.f}));
}

TEST(Pool, MatchNaiveDefinition) {
  Rng rng(3);
  struct Case { Shape s; Pool2dArgs a; };
  for (auto& c : std::vector<Case>{{{2, 3, 7, 5}, pool_args_same(7, 5, 2, 2, 2, 2)},
                                   {{2, 3, 11, 13}, pool_args_same(11, 13, 3, 3, 2, 2)},
                                   {{1, 5, 7, 13}, explicit_args(3, 2, 2, 1, 1, 1, 0, 1)},
                                   {{3, 2, 5, 5}, explicit_args(3, 3, 1, 1, 0, 0, 0, 0)},
                                   {{2, 3, 7, 13}, explicit_args(2, 3, 3, 2, 1, 0, 2, 2, false)}}) {
    Tensor x = randn(c.s, rng);
    EXPECT_TRUE(allclose(max_pool2d(x, c.a), naive_pool(x, c.a, true), 0, 0)) << shape_str(c.s);
    EXPECT_TRUE(allclose(avg_pool2d(x, c.a), naive_pool(x, c.a, false), 1e-6f, 1e-6f)) << shape_str(c.s);
  }
}

TEST(Pool, MaxTieGradientGoesToFirstMax) {
  // One 2x2 window of equal values, and one window where the max appears twice.
  Tensor x = Tensor::from({1, 1, 2, 4}, {5, 5, 1, 3, 5, 5, 3, 2}).set_requires_grad(true);
  Tensor y = max_pool2d(x, explicit_args(2, 2, 2, 2, 0, 0, 0, 0));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{5, 3}));
  sum(mul(y, Tensor::from({1, 1, 1, 2}, {1.f, 2.f}))).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 0, 0, 2, 0, 0, 0, 0}));
}

TEST(Pool, MaxGradcheck) {
  Rng rng(11);
  struct Case { Shape s; Pool2dArgs a; };
  std::vector<Case> cases = {
      {{2, 3, 7, 5}, pool_args_same(7, 5, 2, 2, 2, 2)},         // Keras same, odd sizes: pad bottom/right
      {{2, 2, 11, 13}, pool_args_same(11, 13, 3, 3, 2, 2)},     // overlapping windows, stride != kernel
      {{3, 2, 5, 7}, explicit_args(3, 3, 1, 1, 1, 1, 1, 1)},    // stride 1, symmetric pad
      {{1, 3, 13, 11}, explicit_args(3, 2, 2, 3, 0, 2, 1, 0)},  // asymmetric everything, prime sizes
  };
  for (auto& c : cases) {
    Tensor x = distinct(c.s, rng);
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return max_pool2d(in[0], c.a); }, {x}, 1e-2f))
        << shape_str(c.s);
  }
}

TEST(Pool, AvgGradcheck) {
  Rng rng(12);
  struct Case { Shape s; Pool2dArgs a; };
  std::vector<Case> cases = {
      {{2, 3, 7, 5}, pool_args_same(7, 5, 2, 2, 2, 2)},
      {{2, 2, 11, 13}, pool_args_same(11, 13, 3, 3, 2, 2)},
      {{3, 2, 5, 7}, explicit_args(3, 3, 1, 1, 1, 1, 1, 1, true)},
      {{1, 3, 13, 11}, explicit_args(3, 2, 2, 3, 0, 2, 1, 0, false)},
  };
  for (auto& c : cases) {
    Tensor x = randn(c.s, rng, 1.f, true);
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return avg_pool2d(in[0], c.a); }, {x}, 1e-1f)) << shape_str(c.s);
  }
}

TEST(Pool, GlobalAvgAndUpsample) {
  Tensor x = Tensor::from({1, 2, 1, 3}, {1, 2, 6, -1, -2, 0});
  EXPECT_EQ(global_avg_pool2d(x).to_vector(), (std::vector<float>{3.f, -1.f}));
  Tensor u = upsample_nearest2d(Tensor::from({1, 1, 2, 2}, {1, 2, 3, 4}), 2, 3);
  EXPECT_EQ(u.shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(u.to_vector(), (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  Rng rng(13);
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{3, 1, 1, 13}}) {
    EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return global_avg_pool2d(in[0]); }, {randn(s, rng, 1.f, true)}));
    for (auto [sh, sw] : {std::pair{2, 2}, std::pair{3, 1}})
      EXPECT_TRUE(gradcheck([sh = sh, sw = sw](const std::vector<Tensor>& in) { return upsample_nearest2d(in[0], sh, sw); },
                            {randn(s, rng, 1.f, true)}));
  }
}

TEST(Pool, BadInputThrowsNamingOpAndShape) {
  Tensor x = Tensor::zeros({2, 3, 4});
  try {
    max_pool2d(x, Pool2dArgs{});
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_pool2d"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[2, 3, 4]"), std::string::npos);
  }
  EXPECT_THROW(avg_pool2d(Tensor::zeros({1, 1, 4, 4}), explicit_args(2, 2, 2, 2, 2, 0, 0, 0)), Error);  // pad >= k
  EXPECT_THROW(max_pool2d(Tensor::zeros({1, 1, 2, 2}), explicit_args(3, 3, 1, 1, 0, 0, 0, 0)), Error);  // k > input
  EXPECT_THROW(upsample_nearest2d(Tensor::zeros({1, 1, 2, 2}), 0, 2), Error);
  EXPECT_THROW(global_avg_pool2d(Tensor::zeros({2, 3})), Error);
}

// ------------------------------------------------------------------------- batch norm

namespace {
struct BnCase { Shape s; bool affine, training; };
}

TEST(BatchNorm, Gradcheck) {
  Rng rng(21);
  for (auto c : {BnCase{{5, 3}, true, true}, BnCase{{2, 3, 5, 7}, true, true}, BnCase{{3, 2, 3, 1}, false, true},
                 BnCase{{7, 4}, false, true}, BnCase{{2, 3, 5, 7}, true, false}, BnCase{{5, 3}, true, false}}) {
    const int64_t C = c.s[1];
    Tensor x = randn(c.s, rng, 2.f, true);
    Tensor g = randu({C}, rng, 0.5f, 1.5f, true), b = randn({C}, rng, 1.f, true);
    Tensor rm = randn({C}, rng), rv = randu({C}, rng, 0.5f, 2.f);
    BatchNormArgs args;
    args.training = c.training;
    std::vector<Tensor> ins = c.affine ? std::vector<Tensor>{x, g, b} : std::vector<Tensor>{x};
    auto f = [&](const std::vector<Tensor>& in) {
      return c.affine ? batch_norm(in[0], in[1], in[2], rm, rv, args) : batch_norm(in[0], Tensor(), Tensor(), rm, rv, args);
    };
    // Step 0.05 (smooth, x of scale 2): the longer step keeps L's rounding below 3e-4 of the
    // directional derivative.
    EXPECT_TRUE(gradcheck(f, ins, 5e-2f, 3e-3f, 2e-2f)) << shape_str(c.s) << " affine " << c.affine << " training " << c.training;
  }
}

// The fused clamp (batch_norm + ReLU6 in one op) equals the two ops: values, running statistics
// and every gradient bit for bit, on maps (SIMD path) and [N, C] / 1-pixel maps (scalar path);
// and it passes a finite-difference check of its own.
TEST(BatchNorm, FusedClampEqualsBatchNormThenRelu6) {
  Rng rng(22);
  for (Shape s : {Shape{4, 3, 5, 7}, Shape{3, 2, 1, 1}, Shape{6, 5}})
    for (bool training : {true, false}) {
      const int64_t C = s[1];
      Tensor x0 = randn(s, rng, 4.f), g0 = randu({C}, rng, 2.f, 4.f), b0 = randn({C}, rng, 2.f);
      Tensor rm0 = randn({C}, rng), rv0 = randu({C}, rng, 0.5f, 2.f), w = randn(s, rng);
      BatchNormArgs args;
      args.training = training;
      Tensor out[2], grads[2][3], rms[2];
      for (int fused = 0; fused < 2; ++fused) {
        Tensor x = x0.clone().set_requires_grad(true), g = g0.clone().set_requires_grad(true),
               b = b0.clone().set_requires_grad(true), rm = rm0.clone(), rv = rv0.clone();
        BatchNormArgs a = args;
        if (fused) a.clamp_lo = 0.f, a.clamp_hi = 6.f;
        Tensor y = batch_norm(x, g, b, rm, rv, a);
        if (!fused) y = relu6(y);
        sum(mul(y, w)).backward();
        out[fused] = y, rms[fused] = rm;
        grads[fused][0] = x.grad(), grads[fused][1] = g.grad(), grads[fused][2] = b.grad();
      }
      const std::string where = shape_str(s) + (training ? " training" : " eval");
      EXPECT_EQ(out[0].to_vector(), out[1].to_vector()) << where;
      EXPECT_EQ(rms[0].to_vector(), rms[1].to_vector()) << where;
      for (int k = 0; k < 3; ++k) EXPECT_EQ(grads[0][k].to_vector(), grads[1][k].to_vector()) << where << " grad " << k;
      float lo = 1e9f, hi = -1e9f;  // both clamped regions are exercised
      for (float v : out[1].to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
      if (s[0] * (s.size() == 4 ? s[2] * s[3] : 1) > 10) {
        EXPECT_TRUE(lo == 0.f && hi == 6.f) << where;
      }
    }
  // Finite differences away from the kinks (gradcheck's inputs are drawn so few values sit near 0 or 6).
  // The step must stay 1e-3 for the kinks, which puts L's rounding near 5e-4 of the directional
  // derivative: 2e-3 here; the fused op equals batch_norm + relu6 bit for bit (above), and both
  // pass the tight check on their own.
  Tensor x = randn({2, 3, 4, 5}, rng, 1.f, true), g = randu({3}, rng, 0.5f, 1.5f, true), b = randn({3}, rng, 1.f, true);
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  BatchNormArgs a;
  a.clamp_lo = 0.f, a.clamp_hi = 1.5f;
  auto f = [&](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], rm, rv, a); };
  EXPECT_TRUE(gradcheck(f, {x, g, b}, 1e-3f, 3e-3f, 2e-2f, 2e-3));
  a.clamp_lo = 2.f, a.clamp_hi = 1.f;
  EXPECT_THROW(batch_norm(x, g, b, rm, rv, a), Error);
}

TEST(BatchNorm, TrainingNormalisesWithBiasedBatchVariance) {
  // channel 0: {1, 2, 3, 6}, mean 3, biased var 3.5; channel 1: {0, 0, 4, -4}, mean 0, var 8.
  Tensor x = Tensor::from({4, 2}, {1, 0, 2, 0, 3, 4, 6, -4});
  Tensor g = Tensor::from({2}, {2.f, 1.f}), b = Tensor::from({2}, {0.5f, -1.f});
  Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
  BatchNormArgs args;
  args.eps = 1e-5f;
  Tensor y = batch_norm(x, g, b, rm, rv, args);
  const float s0 = 2.f / std::sqrt(3.5f + 1e-5f), s1 = 1.f / std::sqrt(8.f + 1e-5f);
  std::vector<float> want = {-2 * s0 + 0.5f, -1.f, -1 * s0 + 0.5f, -1.f, 0.5f, 4 * s1 - 1, 3 * s0 + 0.5f, -4 * s1 - 1};
  EXPECT_TRUE(allclose(y, Tensor::from({4, 2}, want), 1e-6f, 1e-5f));
}

TEST(BatchNorm, RunningStatsBothConventions) {
  Tensor x = Tensor::from({4, 2}, {1, 0, 2, 0, 3, 4, 6, -4});
  // Unbiased variances: 14/3 and 32/3. Hand-computed from running mean 0, var 1:
  //   Torch m = 0.1:  mean (0.3, 0), var (0.9 + 0.1 * 14/3, 0.9 + 0.1 * 32/3)
  //   Keras m = 0.99: mean (0.03, 0), var (0.99 + 0.01 * 14/3, 0.99 + 0.01 * 32/3)
  struct Case { MomentumConvention conv; float m; std::vector<float> mean, var; };
  for (auto c : {Case{MomentumConvention::Torch, 0.1f, {0.3f, 0.f}, {1.3666667f, 1.9666667f}},
                 Case{MomentumConvention::Keras, 0.99f, {0.03f, 0.f}, {1.0366667f, 1.0966667f}}}) {
    Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
    BatchNormArgs args;
    args.convention = c.conv, args.momentum = c.m;
    batch_norm(x, Tensor(), Tensor(), rm, rv, args);
    EXPECT_TRUE(allclose(rm, Tensor::from({2}, c.mean), 1e-6f, 1e-6f));
    EXPECT_TRUE(allclose(rv, Tensor::from({2}, c.var), 1e-6f, 1e-6f));
    // A second step compounds from the updated values.
    batch_norm(x, Tensor(), Tensor(), rm, rv, args);
    const float k = c.conv == MomentumConvention::Torch ? c.m : 1 - c.m;
    EXPECT_NEAR(rm.data()[0], (1 - k) * c.mean[0] + k * 3.f, 1e-6f);
    EXPECT_NEAR(rv.data()[1], (1 - k) * c.var[1] + k * 32.f / 3.f, 1e-5f);
  }
  // Keras momentum 0.999 is PyTorch momentum 0.001 (spec 003 §4.5), and 4-D inputs count N*H*W.
  Rng rng(22);
  Tensor x4 = randn({2, 3, 5, 7}, rng);
  Tensor rm1 = Tensor::zeros({3}), rv1 = Tensor::ones({3}), rm2 = Tensor::zeros({3}), rv2 = Tensor::ones({3});
  BatchNormArgs keras{true, 0.999f, MomentumConvention::Keras, 1e-3f}, torch{true, 0.001f, MomentumConvention::Torch, 1e-3f};
  batch_norm(x4, Tensor(), Tensor(), rm1, rv1, keras);
  batch_norm(x4, Tensor(), Tensor(), rm2, rv2, torch);
  EXPECT_TRUE(allclose(rm1, rm2, 1e-7f, 1e-6f));
  EXPECT_TRUE(allclose(rv1, rv2, 1e-7f, 1e-6f));
  double s = 0, q = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 35; ++i) s += x4.data()[(n * 3 + 1) * 35 + i];
  const double mean1 = s / 70;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 35; ++i) q += std::pow(x4.data()[(n * 3 + 1) * 35 + i] - mean1, 2);
  EXPECT_NEAR(rm1.data()[1], 0.001 * mean1, 1e-7);
  EXPECT_NEAR(rv1.data()[1], 0.999 + 0.001 * q / 69, 1e-6);
}

TEST(BatchNorm, EvalUsesRunningStats) {
  Tensor x = Tensor::from({2, 2, 1, 1}, {1, 2, 3, 4});
  Tensor rm = Tensor::from({2}, {1.f, -1.f}), rv = Tensor::from({2}, {4.f, 0.25f});
  Tensor g = Tensor::from({2}, {2.f, 1.f}), b = Tensor::from({2}, {0.f, 1.f});
  BatchNormArgs args;
  args.training = false, args.eps = 0.f + 1e-12f;
  Tensor y = batch_norm(x, g, b, rm, rv, args);
  EXPECT_TRUE(allclose(y, Tensor::from({2, 2, 1, 1}, {0.f, 7.f, 2.f, 11.f}), 1e-5f, 1e-5f));
  EXPECT_EQ(rm.to_vector(), (std::vector<float>{1.f, -1.f}));  // untouched
}

TEST(BatchNorm, BadInput) {
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  EXPECT_THROW(batch_norm(Tensor::zeros({2, 4}), Tensor(), Tensor(), rm, rv, {}), Error);       // channels
  EXPECT_THROW(batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), rm, rv, {}), Error);       // one value
  EXPECT_THROW(batch_norm(Tensor::zeros({2, 3, 4}), Tensor(), Tensor(), rm, rv, {}), Error);    // 3-D
  Tensor none;
  BatchNormArgs ev;
  ev.training = false;
  EXPECT_THROW(batch_norm(Tensor::zeros({2, 3}), Tensor(), Tensor(), none, none, ev), Error);  // no stats
}

// ------------------------------------------------------------------------- softmax and losses

TEST(Softmax, ValuesStableAndGradcheck) {
  Tensor x = Tensor::from({2, 3}, {1000.f, 1001.f, 1002.f, -5.f, 0.f, 5.f});
  Tensor p = softmax(x, 1), lp = log_softmax(x, -1);
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(p.data()[0], 1 / z, 1e-6);
  EXPECT_NEAR(p.data()[2], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(lp.data()[0], -std::log(z), 1e-5);
  for (float v : lp.to_vector()) EXPECT_TRUE(std::isfinite(v));
  Rng rng(31);
  for (Shape s : {Shape{3, 4, 5}, Shape{2, 7}, Shape{2, 3, 2, 5}})
    for (int64_t d : {1, -1}) {
      EXPECT_TRUE(gradcheck([d](const std::vector<Tensor>& in) { return softmax(in[0], d); }, {randn(s, rng, 1.f, true)}, 5e-2f));
      EXPECT_TRUE(
          gradcheck([d](const std::vector<Tensor>& in) { return log_softmax(in[0], d); }, {randn(s, rng, 1.f, true)}, 5e-2f));
    }
  Tensor q = softmax(randn({3, 4, 5}, rng), 1);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k = 0; k < 5; ++k) {
      float s = 0;
      for (int64_t c = 0; c < 4; ++c) s += q.data()[(i * 4 + c) * 5 + k];
      EXPECT_NEAR(s, 1.f, 1e-6f);
    }
}

TEST(Loss, Values) {
  Tensor p = Tensor::from({2, 2}, {0.5f, 0.2f, 0.9f, 1.f}), t = Tensor::from({2, 2}, {1.f, 0.f, 0.5f, 1.f});
  EXPECT_NEAR(mse_loss(p, t).item(), (0.25f + 0.04f + 0.16f + 0.f) / 4, 1e-6f);
  EXPECT_NEAR(l1_loss(p, t, Reduction::Sum).item(), 0.5f + 0.2f + 0.4f, 1e-6f);
  const double bce = -std::log(0.5) - std::log(0.8) - (0.5 * std::log(0.9) + 0.5 * std::log(0.1)) - 0.0;
  EXPECT_NEAR(bce_loss(p, t, Reduction::Sum).item(), bce, 1e-5);
  // bce_with_logits equals bce on sigmoid, and is finite for huge logits.
  Tensor z = Tensor::from({3}, {0.3f, -2.f, 4.f}), tz = Tensor::from({3}, {1.f, 0.25f, 0.f});
  EXPECT_NEAR(bce_with_logits(z, tz).item(), bce_loss(sigmoid(z), tz).item(), 1e-5f);
  EXPECT_NEAR(bce_with_logits(Tensor::from({2}, {100.f, -100.f}), Tensor::from({2}, {0.f, 1.f}), Reduction::Sum).item(),
              200.f, 1e-3f);
  // cross entropy: row 0 logits (0, ln 3) label 1 -> -ln(3/4); row 1 (2, 2) label 0 -> ln 2.
  Tensor lg = Tensor::from({2, 2}, {0.f, std::log(3.f), 2.f, 2.f});
  EXPECT_NEAR(cross_entropy(lg, {1, 0}).item(), (-std::log(0.75) + std::log(2.0)) / 2, 1e-6);
  // KL: per sample -0.5 * sum(1 + lv - mu^2 - e^lv); sample 0: mu (1, 0), lv (0, ln 2) -> 0.5 + 0.5(1 - ln 2).
  Tensor mu = Tensor::from({2, 2}, {1.f, 0.f, 0.f, 0.f}), lv = Tensor::from({2, 2}, {0.f, std::log(2.f), 0.f, 0.f});
  const double kl0 = 0.5 + 0.5 * (1 - std::log(2.0));
  EXPECT_NEAR(gaussian_kl(mu, lv, Reduction::Sum).item(), kl0, 1e-6);
  EXPECT_NEAR(gaussian_kl(mu, lv).item(), kl0 / 2, 1e-6);  // default BatchMean: over the batch of 2
  EXPECT_NEAR(gaussian_kl(mu, lv, Reduction::BatchMean).item(), kl0 / 2, 1e-6);
  EXPECT_NEAR(gaussian_kl(mu, lv, Reduction::Mean).item(), kl0 / 4, 1e-6);  // Mean: over all 4 elements, as every loss
  // One meaning per name across the losses: Mean = sum / elements, BatchMean = sum / dim 0.
  const float se = 0.25f + 0.04f + 0.16f;
  EXPECT_NEAR(mse_loss(p, t, Reduction::BatchMean).item(), se / 2, 1e-6f);
  EXPECT_NEAR(mse_loss(p.reshape({4}), t.reshape({4}), Reduction::BatchMean).item(), se / 4, 1e-6f);
  EXPECT_NEAR(l1_loss(p, t, Reduction::BatchMean).item(), (0.5f + 0.2f + 0.4f) / 2, 1e-6f);
  EXPECT_NEAR(bce_loss(p, t, Reduction::BatchMean).item(), bce / 2, 1e-5);
  EXPECT_NEAR(cross_entropy(lg, {1, 0}, Reduction::BatchMean).item(), cross_entropy(lg, {1, 0}).item(), 1e-7f);
  EXPECT_NEAR(gaussian_kl(Tensor::zeros({3, 5}), Tensor::zeros({3, 5})).item(), 0.f, 1e-7f);
}

TEST(Loss, BceClampAtZeroAndOne) {
  // PyTorch clamps each log at -100: confident wrong answers cost exactly 100, right ones 0.
  Tensor p = Tensor::from({4}, {0.f, 1.f, 0.f, 1.f}).set_requires_grad(true);
  Tensor t = Tensor::from({4}, {1.f, 0.f, 0.f, 1.f});
  Tensor l = bce_loss(p, t, Reduction::Sum);
  EXPECT_FLOAT_EQ(l.item(), 200.f);
  EXPECT_FLOAT_EQ(bce_loss(p, t).item(), 50.f);
  l.backward();
  // Backward is (p - t) / max(p (1 - p), 1e-12): finite, +-1e12 where wrong, 0 where right.
  std::vector<float> g = p.grad().to_vector();
  for (float v : g) EXPECT_TRUE(std::isfinite(v));
  EXPECT_FLOAT_EQ(g[0], -1e12f);
  EXPECT_FLOAT_EQ(g[1], 1e12f);
  EXPECT_EQ(g[2], 0.f);
  EXPECT_EQ(g[3], 0.f);
  EXPECT_THROW(bce_loss(Tensor::from({1}, {1.5f}), Tensor::from({1}, {1.f})), Error);
}

TEST(Loss, Gradcheck) {
  Rng rng(41);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::BatchMean}) {
    for (Shape s : {Shape{3, 5}, Shape{2, 3, 2, 3}}) {
      // mse / l1 wrt both sides; l1's kink avoided by targets at least 0.1 away from preds.
      Tensor a = randn(s, rng, 1.f, true), b = randn(s, rng, 1.f, true);
      // Steps as long as each loss allows (a long step lifts the directional derivative above L's
      // float32 rounding): quadratic mse any, l1 under half its 0.1 kink margin, smooth ones 0.05.
      EXPECT_TRUE(gradcheck([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); }, {a, b}, 1e-1f));
      Tensor c = a.clone();
      for (int64_t i = 0; i < c.numel(); ++i) c.data()[i] += (i % 2 ? 0.1f : -0.1f) + 0.3f * (i % 2 ? 1 : -1) * rng.uniform();
      c.set_requires_grad(true);
      EXPECT_TRUE(gradcheck([r](const std::vector<Tensor>& in) { return l1_loss(in[0], in[1], r); }, {a, c}, 4e-2f));
      // bce on probabilities away from 0 and 1, soft targets; with logits on any values. Step
      // 0.02: log's high derivatives at 0.1 keep the extrapolation error below 1e-4 relative,
      // and L's rounding stays below the directional tolerance.
      Tensor pr = randu(s, rng, 0.1f, 0.9f, true), tg = randu(s, rng, 0.f, 1.f, true);
      EXPECT_TRUE(gradcheck([r](const std::vector<Tensor>& in) { return bce_loss(in[0], in[1], r); }, {pr, tg}, 2e-2f));
      Tensor lo = randn(s, rng, 2.f, true), tl = randu(s, rng, 0.f, 1.f, true);
      EXPECT_TRUE(gradcheck([r](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1], r); }, {lo, tl}, 5e-2f));
      Tensor mu = randn(s, rng, 1.f, true), lv = randn(s, rng, 0.5f, true);
      EXPECT_TRUE(gradcheck([r](const std::vector<Tensor>& in) { return gaussian_kl(in[0], in[1], r); }, {mu, lv}, 5e-2f));
    }
    std::vector<int64_t> labels = {2, 0, 4, 4, 1};
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels, r); },
                          {randn({5, 5}, rng, 2.f, true)}, 5e-2f));  // smooth: a long step, little rounding
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1, 0}, r); },
                          {randn({2, 2}, rng, 2.f, true)}, 5e-2f));
  }
}

TEST(Loss, BadInputNamesTheProblem) {
  try {
    cross_entropy(Tensor::zeros({3, 4}), {0, 7, 1});
    FAIL() << "no throw";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("cross_entropy"), std::string::npos);
    EXPECT_NE(m.find("label 7"), std::string::npos);
    EXPECT_NE(m.find("index 1"), std::string::npos);
  }
  EXPECT_THROW(cross_entropy(Tensor::zeros({3, 4}), {0, -1, 1}), Error);
  EXPECT_THROW(cross_entropy(Tensor::zeros({3, 4}), {0, 1}), Error);
  try {
    mse_loss(Tensor::zeros({2, 3}), Tensor::zeros({3, 2}));
    FAIL() << "no throw";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("mse_loss"), std::string::npos);
    EXPECT_NE(m.find("[2, 3]"), std::string::npos);
    EXPECT_NE(m.find("[3, 2]"), std::string::npos);
  }
  EXPECT_THROW(gaussian_kl(Tensor::zeros({2, 3}), Tensor::zeros({2, 4})), Error);
  EXPECT_THROW(softmax(Tensor::zeros({2, 3}), 2), Error);
}

// ------------------------------------------------------------------------- modules

namespace {
std::shared_ptr<Sequential> small_mlp(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_shared<Sequential>();
  m->add("fc1", std::make_shared<Linear>(4, 8, rng));
  m->add("bn", std::make_shared<BatchNorm>(8));
  m->add("act", std::make_shared<Activation>(Act::ReLU));
  m->add("drop", std::make_shared<Dropout>(0.5f, seed));
  m->add("fc2", std::make_shared<Linear>(8, 3, rng, true, Init::Torch));
  return m;
}
}  // namespace

TEST(Layers, NamedParametersFreezeAndCounts) {
  auto m = small_mlp(1);
  std::vector<std::string> names;
  for (auto& [n, t] : m->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"}));
  std::vector<std::string> bufs;
  for (auto& [n, t] : m->named_buffers()) bufs.push_back(n);
  EXPECT_EQ(bufs, (std::vector<std::string>{"bn.running_mean", "bn.running_var"}));
  // 4*8+8 + 8+8 + 8*3+3 trainable; 16 running stats.
  EXPECT_EQ(m->count_params(true), 83);
  EXPECT_EQ(m->count_params(false), 16);
  m->named_children()[0].second->freeze();
  EXPECT_EQ(m->count_params(true), 43);
  EXPECT_EQ(m->count_params(false), 56);
  EXPECT_EQ(m->trainable_parameters().size(), 4u);
  // A frozen layer gets no gradient; the rest do.
  Rng rng(5);
  m->eval();
  Tensor y = (*m)(randn({3, 4}, rng));
  sum(y).backward();
  auto fc1 = std::static_pointer_cast<Linear>(m->named_children()[0].second);
  auto fc2 = std::static_pointer_cast<Linear>(m->named_children()[4].second);
  EXPECT_FALSE(fc1->weight.grad().defined());
  EXPECT_TRUE(fc2->weight.grad().defined());
}

TEST(Layers, StateDictRoundTrip) {
  auto a = small_mlp(1), b = small_mlp(2);
  Rng rng(6);
  Tensor x = randn({5, 4}, rng);
  a->train();
  (*a)(x);  // moves a's running stats away from their initial values
  a->eval(), b->eval();
  EXPECT_GT(max_abs_diff((*a)(x), (*b)(x)), 1e-3f);
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(max_abs_diff((*a)(x), (*b)(x)), 0.f);
  auto sd = a->state_dict();
  sd.erase("bn.running_var");
  EXPECT_THROW(b->load_state_dict(sd), Error);
}

TEST(Layers, ModesInitAndTypeNames) {
  Rng rng(7);
  Linear k(10, 20, rng), t(10, 20, rng, true, Init::Torch);
  const float glorot = std::sqrt(6.f / 30.f), torch = 1.f / std::sqrt(10.f);
  for (float v : k.weight.to_vector()) EXPECT_LE(std::fabs(v), glorot);
  for (float v : k.bias.to_vector()) EXPECT_EQ(v, 0.f);
  for (float v : t.bias.to_vector()) EXPECT_LE(std::fabs(v), torch);
  EXPECT_FALSE(Linear(3, 2, rng, false).bias.defined());
  // Dropout: identity in eval, inverted scaling in training.
  Dropout d(0.5f, 3);
  Tensor x = Tensor::ones({1000});
  d.eval();
  EXPECT_EQ(d(x).to_vector(), x.to_vector());
  d.train();
  int zeros = 0;
  for (float v : d(x).to_vector()) {
    EXPECT_TRUE(v == 0.f || v == 2.f);
    zeros += v == 0.f;
  }
  EXPECT_GT(zeros, 400);
  EXPECT_LT(zeros, 600);
  // BatchNorm follows the module mode.
  BatchNorm bn(2);
  Tensor xb = Tensor::from({2, 2}, {1, 2, 3, 4});
  bn.eval();
  bn(xb);
  EXPECT_EQ(bn.running_mean.to_vector(), (std::vector<float>{0, 0}));
  bn.train();
  bn(xb);
  EXPECT_NEAR(bn.running_mean.data()[0], 0.2f, 1e-6f);
  // Embedding gathers rows and scatter-adds gradients.
  Embedding e(5, 3, rng);
  Tensor ids = Tensor::from({2, 2}, {4, 1, 1, 0});
  Tensor ye = e(ids);
  EXPECT_EQ(ye.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(ye.data()[0], e.weight.data()[12]);
  sum(ye).backward();
  EXPECT_EQ(e.weight.grad().data()[3], 2.f);
  EXPECT_THROW(e(Tensor::from({1}, {5.f})), Error);
  EXPECT_EQ(k.type_name(), "Dense");
  EXPECT_EQ(bn.type_name(), "BatchNormalization");
  EXPECT_EQ(Activation(Act::ReLU6).type_name(), "ReLU");
  EXPECT_EQ(Activation(Act::Tanh).type_name(), "Activation");
  EXPECT_EQ(MaxPool2d().type_name(), "MaxPooling2D");
  EXPECT_EQ(GlobalAvgPool2d().type_name(), "GlobalAveragePooling2D");
  EXPECT_EQ(UpsampleNearest2d().type_name(), "UpSampling2D");
  EXPECT_EQ(Flatten().type_name(), "Flatten");
  EXPECT_EQ(e.type_name(), "Embedding");
  // Activation layer maths: leaky slope, softmax over dim 1.
  Tensor a = Activation(Act::LeakyReLU, 0.1f)(Tensor::from({2}, {-2.f, 3.f}));
  EXPECT_EQ(a.to_vector(), (std::vector<float>{-0.2f, 3.f}));
  Tensor sm = Activation(Act::Softmax)(Tensor::from({1, 2}, {0.f, 0.f}));
  EXPECT_EQ(sm.to_vector(), (std::vector<float>{0.5f, 0.5f}));
}

// Pool and upsampling modules take what their ops take: per-axis windows, strides and scales,
// four pads apart, count_include_pad; the module equals its op with the same arguments.
TEST(Layers, PoolAndUpsampleModulesTakePerAxisAndAsymmetricWindows) {
  Rng rng(12);
  Tensor x = randn({2, 3, 7, 9}, rng);
  Pool2dArgs a;
  a.kh = 3, a.kw = 2, a.stride_h = 2, a.stride_w = 3, a.pad_top = 1, a.pad_bottom = 0, a.pad_left = 0, a.pad_right = 1;
  a.count_include_pad = false;
  MaxPool2d mp{PoolWindow(a)};
  AvgPool2d ap{PoolWindow(a)};
  EXPECT_EQ(mp(x).to_vector(), max_pool2d(x, a).to_vector());
  EXPECT_EQ(mp(x).shape(), (Shape{2, 3, 3, 3}));  // H: (7 + 1 - 3) / 2 + 1, W: (9 + 1 - 2) / 3 + 1
  EXPECT_EQ(ap(x).to_vector(), avg_pool2d(x, a).to_vector());
  a.count_include_pad = true;
  EXPECT_NE(AvgPool2d(PoolWindow(a))(x).to_vector(), ap(x).to_vector());  // the flag reaches the op
  // Per-axis Same / Valid windows.
  MaxPool2d ms{PoolWindow(2, 3, 1, -1, Padding::Same)};
  EXPECT_EQ(ms(x).to_vector(), max_pool2d(x, pool_args_same(7, 9, 2, 3, 1, 3)).to_vector());
  Pool2dArgs v;
  v.kh = 2, v.kw = 3, v.stride_h = 2, v.stride_w = 3;
  EXPECT_EQ(AvgPool2d(PoolWindow(2, 3, -1, -1, Padding::Valid))(x).to_vector(), avg_pool2d(x, v).to_vector());
  // The square form is unchanged.
  Pool2dArgs sq;
  sq.kh = sq.kw = 3, sq.stride_h = sq.stride_w = 2, sq.pad_top = sq.pad_bottom = sq.pad_left = sq.pad_right = 1;
  EXPECT_EQ(MaxPool2d(3, 2, Padding::Explicit, 1)(x).to_vector(), max_pool2d(x, sq).to_vector());
  Pool2dArgs neg = a;
  neg.pad_left = -1;
  // Upsampling per axis, as upsample_nearest2d.
  EXPECT_EQ(UpsampleNearest2d(2, 3)(x).to_vector(), upsample_nearest2d(x, 2, 3).to_vector());
  EXPECT_EQ(UpsampleNearest2d(2, 3)(x).shape(), (Shape{2, 3, 14, 27}));
  expect_error([&] { UpsampleNearest2d u(1, 0); }, {"UpsampleNearest2d", "1x0"});
  expect_error([&] { PoolWindow w(neg); }, {"pooling layer", "pads"});
  expect_error([&] { PoolWindow w(2, 0, 1, 1, Padding::Valid); }, {"pooling layer", "window 2x0"});
}

// Integer ids: lookup takes int64 ids directly, the same rows and gradients as forward's float
// ids (the Keras-style input of models whose forward takes a tensor).
TEST(Layers, EmbeddingLookupTakesIntegerIds) {
  Rng rng(13);
  Embedding e(6, 3, rng);
  Tensor yl = e.lookup({5, 0, 5});
  Tensor yf = e(Tensor::from({3}, {5.f, 0.f, 5.f}));
  EXPECT_EQ(yl.shape(), (Shape{3, 3}));
  EXPECT_EQ(yl.to_vector(), yf.to_vector());
  sum(yl).backward();
  EXPECT_EQ(e.weight.grad().data()[15], 2.f);  // id 5 twice
  EXPECT_EQ(e.weight.grad().data()[3], 0.f);   // id 1 unused
  expect_error([&] { e.lookup({6}); }, {"embedding", "6"});
  expect_error([&] { e.lookup({-1}); }, {"embedding", "-1"});
}

// SkipInit: the random initialisers draw nothing and leave zeros (a model whose weights a
// checkpoint replaces), nest, and stop with their scope.
TEST(Layers, SkipInitLeavesWeightsZeroAndTheRngUntouched) {
  Rng rng(14), ref(14);
  {
    SkipInit skip;
    {
      SkipInit inner;
    }
    EXPECT_TRUE(SkipInit::active());  // the inner guard restored "on", not "off"
    Linear l(4, 3, rng, true, Init::Torch);
    Embedding e(5, 2, rng);
    BatchNorm bn(3);
    for (float v : l.weight.to_vector()) EXPECT_EQ(v, 0.f);
    for (float v : l.bias.to_vector()) EXPECT_EQ(v, 0.f);
    for (float v : e.weight.to_vector()) EXPECT_EQ(v, 0.f);
    EXPECT_EQ(bn.weight.to_vector(), (std::vector<float>{1, 1, 1}));  // constants still set
  }
  EXPECT_FALSE(SkipInit::active());
  EXPECT_EQ(rng.next_u64(), ref.next_u64());  // nothing was drawn
  Linear l(4, 3, rng);
  float n = 0;
  for (float v : l.weight.to_vector()) n += std::fabs(v);
  EXPECT_GT(n, 0.f);
}

TEST(Summary, ThousandsSeparators) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1000), "1,000");
  EXPECT_EQ(with_thousands(87289), "87,289");
  EXPECT_EQ(with_thousands(18877603), "18,877,603");
  EXPECT_EQ(with_thousands(-1234567), "-1,234,567");
}

TEST(Summary, TableShapesTotalsAndModeRestored) {
  Rng rng(8);
  auto m = std::make_shared<Sequential>();
  auto bn = m->add("bn", std::make_shared<BatchNorm>(3));
  m->add("pool", std::make_shared<MaxPool2d>(2, -1, Padding::Same));  // 7 -> 4
  m->add("up", std::make_shared<UpsampleNearest2d>(2));               // 4 -> 8
  m->add("avg", std::make_shared<AvgPool2d>(2));                      // 8 -> 4
  m->add("flat", std::make_shared<Flatten>());                        // 3*4*4 = 48
  auto fc = m->add("dense", std::make_shared<Linear>(48, 25, rng));   // 48*25 + 25 = 1225
  m->add("softmax", std::make_shared<Activation>(Act::Softmax));
  m->train();
  bn->eval();  // a mixed-mode tree must come back exactly as it was
  const std::string s = summary_table(*m, {1, 3, 7, 7});
  // Hand count: BN 3 gamma + 3 beta trainable, 3 + 3 running stats; dense 1,225.
  EXPECT_NE(s.find("Total params: 1,237\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Trainable params: 1,231\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 6\n"), std::string::npos) << s;
  for (const char* row : {"bn (BatchNormalization)", "(None, 3, 7, 7)", "pool (MaxPooling2D)", "(None, 3, 4, 4)",
                          "up (UpSampling2D)", "(None, 3, 8, 8)", "avg (AveragePooling2D)", "flat (Flatten)",
                          "(None, 48)", "dense (Dense)", "(None, 25)", "1,225", "softmax (Softmax)"})
    EXPECT_NE(s.find(row), std::string::npos) << row << "\n" << s;
  EXPECT_TRUE(m->is_training());
  EXPECT_FALSE(bn->is_training());
  EXPECT_TRUE(fc->is_training());
  EXPECT_EQ(bn->running_mean.to_vector(), (std::vector<float>{0, 0, 0}));  // eval forward: no update
  fc->freeze();
  const std::string f = summary_table(*m, {2, 3, 7, 7});
  EXPECT_NE(f.find("Trainable params: 6\n"), std::string::npos) << f;
  EXPECT_NE(f.find("Non-trainable params: 1,231\n"), std::string::npos) << f;
  EXPECT_THROW(summary_table(*m, {1, 3, 7}), Error);  // bad input: error, and modes still restored
  EXPECT_TRUE(m->is_training());
  EXPECT_FALSE(bn->is_training());
}

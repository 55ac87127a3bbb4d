// MixStyle: the op against a double-precision reference (forward, the detached backward, its
// accumulation), the layer's partner groups, Beta sampling, and MobileNetV2-lite's mixstyle key.
#include <cmath>

#include "autograd/graph.h"
#include "layers/layers.h"
#include "models/mobilenetv2_lite.h"
#include "models/registry.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// Per-plane mean and std (unbiased variance + eps) in double, as torch.var / the paper.
void plane_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& sd, double eps = 1e-6) {
  const int64_t P = x.size(0) * x.size(1), S = x.size(2) * x.size(3);
  mean.assign(P, 0), sd.assign(P, 0);
  for (int64_t i = 0; i < P; ++i) {
    double m = 0, v = 0;
    for (int64_t s = 0; s < S; ++s) m += x.data()[i * S + s];
    m /= (double)S;
    for (int64_t s = 0; s < S; ++s) v += (x.data()[i * S + s] - m) * (x.data()[i * S + s] - m);
    mean[i] = m, sd[i] = std::sqrt(v / (double)(S - 1) + eps);
  }
}

}  // namespace

TEST(MixStyleOp, MatchesDoubleReferenceForwardAndDetachedBackward) {
  Rng rng(11);
  // Ragged: 5 channels (not a SIMD width), 3x7 planes.
  Tensor x = randn({3, 5, 3, 7}, rng, 2.f, true);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] += (float)(i / 21 % 4);  // per-plane offsets
  const std::vector<int64_t> partner = {2, 0, 0};
  const std::vector<float> lambda = {0.3f, 1.f, 0.f};
  std::vector<double> mean, sd;
  plane_stats(x, mean, sd);
  const int64_t C = 5, S = 21;
  std::vector<double> a(15);
  Tensor want = Tensor::zeros(x.shape());
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = n * C + c, j = partner[n] * C + c;
      const double l = lambda[n], mu = l * mean[i] + (1 - l) * mean[j], s = l * sd[i] + (1 - l) * sd[j];
      a[i] = s / sd[i];
      for (int64_t k = 0; k < S; ++k) want.data()[i * S + k] = (float)(a[i] * (x.data()[i * S + k] - mean[i]) + mu);
    }
  Tensor y = mix_style(x, partner, lambda);
  EXPECT_TRUE(allclose(y, want, 1e-5f, 1e-5f));
  // lambda = 1 keeps instance 1; lambda = 0 gives instance 2 exactly instance 0's statistics.
  for (int64_t k = 0; k < C * S; ++k) EXPECT_NEAR(y.data()[C * S + k], x.data()[C * S + k], 1e-5f);
  std::vector<double> ym, ys;
  plane_stats(y.detach(), ym, ys);
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_NEAR(ym[2 * C + c], mean[c], 1e-5);
    EXPECT_NEAR(ys[2 * C + c], sd[c], 1e-4);
  }

  // Backward: the statistics are constants, so dL/dx = a * dL/dy per plane; x used twice checks
  // that the op accumulates into an existing gradient.
  Tensor r = randn(x.shape(), rng);
  Tensor loss = add(sum(mul(mix_style(x, partner, lambda), r)), sum(x));
  loss.backward();
  for (int64_t i = 0; i < 15; ++i)
    for (int64_t k = 0; k < S; ++k)
      ASSERT_NEAR(x.grad().data()[i * S + k], a[i] * r.data()[i * S + k] + 1.0, 1e-5) << "plane " << i;
}

TEST(MixStyleOp, BadArgumentsAreOneClearError) {
  Rng rng(1);
  Tensor x = randn({2, 3, 4, 4}, rng);
  EXPECT_THROW(mix_style(x, {0}, {0.5f, 0.5f}), Error);
  EXPECT_THROW(mix_style(x, {0, 2}, {0.5f, 0.5f}), Error);
  EXPECT_THROW(mix_style(x, {0, 1}, {0.5f, 1.5f}), Error);
  EXPECT_THROW(mix_style(x, {0, 1}, {0.5f, NAN}), Error);
  EXPECT_THROW(mix_style(randn({2, 3}, rng), {0, 1}, {0.5f, 0.5f}), Error);
  EXPECT_THROW(mix_style(randn({2, 3, 1, 1}, rng), {0, 1}, {0.5f, 0.5f}), Error);
  EXPECT_THROW(MixStyle(1.5f, 0.1f, 1), Error);
  EXPECT_THROW(MixStyle(0.5f, 0.f, 1), Error);
}

TEST(Rng, GammaAndBetaMoments) {
  Rng rng(5);
  const int n = 40000;
  auto moments = [&](auto draw, double& m, double& v) {
    m = v = 0;
    std::vector<double> s(n);
    for (auto& e : s) e = draw();
    for (double e : s) m += e;
    m /= n;
    for (double e : s) v += (e - m) * (e - m);
    v /= n - 1;
  };
  double m, v;
  // Beta(0.1, 0.1): mean 1/2, variance ab / ((a+b)^2 (a+b+1)) = 0.2083; all draws in [0, 1].
  bool in_range = true;
  moments([&] { float b = rng.beta(0.1f, 0.1f); in_range &= b >= 0.f && b <= 1.f; return (double)b; }, m, v);
  EXPECT_TRUE(in_range);
  EXPECT_NEAR(m, 0.5, 0.01);
  EXPECT_NEAR(v, 0.01 / (0.04 * 1.2), 0.005);
  moments([&] { return (double)rng.beta(2.f, 5.f); }, m, v);  // mean 2/7, variance 10/392
  EXPECT_NEAR(m, 2.0 / 7, 0.005);
  EXPECT_NEAR(v, 10.0 / 392, 0.001);
  moments([&] { return (double)rng.gamma(0.5f); }, m, v);  // Gamma(k): mean = variance = k
  EXPECT_NEAR(m, 0.5, 0.02);
  EXPECT_NEAR(v, 0.5, 0.03);
  moments([&] { return (double)rng.gamma(3.f); }, m, v);
  EXPECT_NEAR(m, 3.0, 0.05);
  EXPECT_NEAR(v, 3.0, 0.1);
  EXPECT_THROW(rng.gamma(0.f), Error);
  EXPECT_THROW(rng.beta(1.f, -1.f), Error);
}

TEST(MixStyleLayer, PartnersStayInTheirGroupAndEvaluationIsTheIdentity) {
  // Live instances (label 1) have channel mean 4 and std 2, spoofs mean -4 and std 0.5: mixing
  // within the label keeps every instance's statistics, mixing across the batch does not.
  Rng rng(2);
  const std::vector<float> labels = {1, 0, 1, 0, 0, 1};
  Tensor x = randn({6, 3, 5, 5}, rng);
  for (int64_t n = 0; n < 6; ++n)
    for (int64_t c = 0; c < 3; ++c) {
      float* p = x.data() + (n * 3 + c) * 25;
      double m = 0, v = 0;
      for (int k = 0; k < 25; ++k) m += p[k];
      m /= 25;
      for (int k = 0; k < 25; ++k) v += (p[k] - m) * (p[k] - m);
      const double sd = std::sqrt(v / 24), want_m = labels[n] ? 4 : -4, want_s = labels[n] ? 2 : 0.5;
      for (int k = 0; k < 25; ++k) p[k] = (float)((p[k] - m) / sd * want_s + want_m);
    }
  MixStyle by_label(1.f, 0.1f, 9), any(1.f, 0.1f, 9);
  bool crossed = false;
  for (int call = 0; call < 8; ++call) {
    std::vector<double> m1, s1, m2, s2;
    plane_stats(by_label.forward(x, &labels), m1, s1);
    plane_stats(any.forward(x), m2, s2);
    for (int64_t n = 0; n < 6; ++n)
      for (int64_t c = 0; c < 3; ++c) {
        EXPECT_NEAR(m1[n * 3 + c], labels[n] ? 4 : -4, 1e-4);
        EXPECT_NEAR(s1[n * 3 + c], labels[n] ? 2 : 0.5, 1e-4);
        crossed |= std::abs(m2[n * 3 + c] - (labels[n] ? 4 : -4)) > 0.5;
      }
  }
  EXPECT_TRUE(crossed);  // the unrestricted layer does mix live with spoof
  const std::vector<float> two = {1, 0};
  EXPECT_THROW(by_label.forward(x, &two), Error);
  by_label.eval();
  EXPECT_EQ(max_abs_diff(by_label.forward(x, &labels), x), 0.f);
  MixStyle off(0.f, 0.1f, 9);
  EXPECT_EQ(max_abs_diff(off.forward(x), x), 0.f);
}

TEST(MixStyleLayer, MobileNetV2LiteKeyAddsNoParametersAndOnlyActsInTraining) {
  const ModelInfo& info = find_model("mobilenetv2-lite");
  const std::vector<std::string> small = {"height=32", "width=32"};
  auto build = [&](std::vector<std::string> sets) {
    sets.insert(sets.end(), small.begin(), small.end());
    Rng rng(3);
    return info.build(make_config(info, sets), rng);
  };
  auto plain = build({});
  auto mixed = build({"mixstyle=1"});
  EXPECT_EQ(plain->count_params(true), mixed->count_params(true));
  EXPECT_EQ(plain->count_params(false), mixed->count_params(false));
  int count = 0;
  for (auto& [name, child] : mixed->named_children()) count += child->type_name() == "MixStyle";
  EXPECT_EQ(count, 3);
  Rng rng(4);
  Tensor x = randu({4, 3, 32, 32}, rng, 0.f, 1.f);
  Tensor y = Tensor::from({4}, {1, 0, 1, 0});
  plain->eval(), mixed->eval();
  EXPECT_EQ(max_abs_diff(plain->forward(x), mixed->forward(x)), 0.f);
  plain->train(), mixed->train();
  EXPECT_GT(max_abs_diff(model_loss(info, *plain, x, y), model_loss(info, *mixed, x, y)), 0.f);
  EXPECT_THROW(build({"mixstyle=2"}), Error);
  EXPECT_THROW(build({"mixstyle=\"a\""}), Error);
  EXPECT_THROW(build({"mixstyle_partner=batch"}), Error);
}

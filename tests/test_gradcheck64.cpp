// Per-element gradient checks against float64 reference forwards (gradcheck64, tests/ref64.h)
// for every op whose outputs sum over many inputs: the losses, the reductions, softmax, batch
// norm, the convolutions, matmul/linear, average pooling, bias, embedding; and the ops without
// such sums at the tight per-element float32 tolerances (with GradCheck.ElementwiseTight in
// test_core). docs/reliability.md gives the figures.
#include "autograd/zero_pad.h"
#include "mutation_cases.h"
#include "ref64.h"
#include "testutil.h"

namespace fas::test {
namespace {

using V = const std::vector<Tensor>&;
using X = const std::vector<ref64::Vec>&;

// Moves every |a - b| below `gap` to `gap` away, so a kink (|p - t| in l1) is never within the
// finite difference's step.
void keep_apart(Tensor& a, const Tensor& b, float gap) {
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::fabs(a.data()[i] - b.data()[i]) < gap) a.data()[i] = b.data()[i] + gap;
}

TEST(GradCheck64, PointwiseLossesEveryReduction) {
  Rng rng(11);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::BatchMean}) {
    SCOPED_TRACE((int)r);
    Tensor p = randn({3, 4, 2}, rng, 1.f, true), t = randn({3, 4, 2}, rng, 1.f, true);
    keep_apart(p, t, 0.01f);
    EXPECT_TRUE(gradcheck64([r](V in) { return mse_loss(in[0], in[1], r); }, [r](X x) { return ref64::mse(x[0], x[1], r, 3); }, {p, t}));
    EXPECT_TRUE(gradcheck64([r](V in) { return l1_loss(in[0], in[1], r); }, [r](X x) { return ref64::l1(x[0], x[1], r, 3); }, {p, t}));
    EXPECT_TRUE(gradcheck64([r](V in) { return bce_with_logits(in[0], in[1], r); },
                            [r](X x) { return ref64::bce_with_logits(x[0], x[1], r, 3); }, {p, randu({3, 4, 2}, rng, 0.f, 1.f, true)}));
    EXPECT_TRUE(gradcheck64([r](V in) { return bce_loss(in[0], in[1], r); }, [r](X x) { return ref64::bce(x[0], x[1], r, 3); },
                            {randu({3, 4, 2}, rng, 0.05f, 0.95f, true), randu({3, 4, 2}, rng, 0.f, 1.f, true)}));
    EXPECT_TRUE(gradcheck64([r](V in) { return gaussian_kl(in[0], in[1], r); },
                            [r](X x) { return ref64::gaussian_kl(x[0], x[1], r, 3); }, {p, randn({3, 4, 2}, rng, 0.5f, true)}));
    const std::vector<int64_t> labels = {2, 0, 4};
    EXPECT_TRUE(gradcheck64([r, labels](V in) { return cross_entropy(in[0], labels, r); },
                            [r, labels](X x) { return ref64::cross_entropy(x[0], 3, 5, labels, r); }, {randn({3, 5}, rng, 2.f, true)}));
  }
}

TEST(GradCheck64, SoftmaxAndLogSoftmaxAlongEveryDim) {
  Rng rng(12);
  Tensor a = randn({2, 5, 3}, rng, 2.f, true);
  const int64_t sizes[3] = {2, 5, 3};
  for (int64_t d = 0; d < 3; ++d)
    for (bool lg : {false, true}) {
      SCOPED_TRACE(std::to_string(d) + (lg ? " log" : ""));
      int64_t outer = 1, inner = 1;
      for (int64_t i = 0; i < d; ++i) outer *= sizes[i];
      for (int64_t i = d + 1; i < 3; ++i) inner *= sizes[i];
      EXPECT_TRUE(gradcheck64([d, lg](V in) { return lg ? log_softmax(in[0], d) : softmax(in[0], d); },
                              [=](X x) { return ref64::softmax(x[0], outer, sizes[d], inner, lg); }, {a}));
    }
}

TEST(GradCheck64, Reductions) {
  Rng rng(13);
  Tensor a = randn({3, 4, 5}, rng, 1.f, true);
  EXPECT_TRUE(gradcheck64([](V in) { return sum(in[0]); }, [](X x) { return ref64::sum_dim(x[0], 1, 60, 1, false); }, {a}));
  EXPECT_TRUE(gradcheck64([](V in) { return mean(in[0]); }, [](X x) { return ref64::sum_dim(x[0], 1, 60, 1, true); }, {a}));
  EXPECT_TRUE(gradcheck64([](V in) { return sum_dim(in[0], 1); }, [](X x) { return ref64::sum_dim(x[0], 3, 4, 5, false); }, {a}));
  EXPECT_TRUE(gradcheck64([](V in) { return mean_dim(in[0], 2, true); }, [](X x) { return ref64::sum_dim(x[0], 12, 5, 1, true); }, {a}));
  EXPECT_TRUE(gradcheck64([](V in) { return global_avg_pool2d(reshape(in[0], {3, 2, 2, 5})); },
                          [](X x) { return ref64::sum_dim(x[0], 6, 10, 1, true); }, {a}));
}

TEST(GradCheck64, BatchNormTrainingFourAndTwoDims) {
  Rng rng(14);
  for (const Shape& s : {Shape{2, 3, 4, 5}, Shape{6, 3}}) {
    SCOPED_TRACE(shape_str(s));
    const int64_t N = s[0], HW = s.size() == 4 ? s[2] * s[3] : 1;
    Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    EXPECT_TRUE(gradcheck64([rm, rv](V in) mutable { return batch_norm(in[0], in[1], in[2], rm, rv, {}); },
                            [=](X x) { return ref64::batch_norm_train(x[0], x[1], x[2], N, 3, HW, 1e-5f); },
                            {randn(s, rng, 2.f, true), randu({3}, rng, 0.5f, 1.5f, true), randn({3}, rng, 1.f, true)}));
  }
}

TEST(GradCheck64, Conv2dStridePaddingDilationGroups) {
  Rng rng(15);
  Conv2dArgs a;
  a.stride_h = 2, a.pad_top = 1, a.pad_bottom = 2, a.pad_left = 2, a.pad_right = 0, a.dil_w = 2, a.groups = 2;
  const ref64::Geom g{2, 4, 7, 6, 6, 3, 3};
  EXPECT_TRUE(gradcheck64([a](V in) { return conv2d(in[0], in[1], in[2], a); },
                          [a, g](X x) { return ref64::conv2d(x[0], x[1], x[2], g, a); },
                          {randn({2, 4, 7, 6}, rng, 1.f, true), randn({6, 2, 3, 3}, rng, 0.3f, true), randn({6}, rng, 1.f, true)}));
  // 1x1 and a plain 3x3 "same" take other kernels (fas' own and im2col + OpenBLAS).
  const Conv2dArgs same = conv_args_same(6, 5, 3, 3, 1, 1);
  const ref64::Geom g3{1, 5, 6, 5, 7, 3, 3}, g1{1, 5, 6, 5, 7, 1, 1};
  EXPECT_TRUE(gradcheck64([same](V in) { return conv2d(in[0], in[1], in[2], same); },
                          [same, g3](X x) { return ref64::conv2d(x[0], x[1], x[2], g3, same); },
                          {randn({1, 5, 6, 5}, rng, 1.f, true), randn({7, 5, 3, 3}, rng, 0.3f, true), randn({7}, rng, 1.f, true)}));
  EXPECT_TRUE(gradcheck64([](V in) { return conv2d(in[0], in[1], Tensor(), {}); },
                          [g1](X x) { return ref64::conv2d(x[0], x[1], {}, g1, {}); },
                          {randn({1, 5, 6, 5}, rng, 1.f, true), randn({7, 5, 1, 1}, rng, 0.5f, true)}));
}

TEST(GradCheck64, ConvTranspose2dStridePaddingOutputPaddingGroups) {
  Rng rng(16);
  ConvT2dArgs a;
  a.stride_h = a.stride_w = 2, a.pad_top = 1, a.pad_right = 1, a.out_pad_h = 1, a.dil_h = 2, a.groups = 2;
  const ref64::Geom g{2, 4, 4, 5, 6, 3, 2};
  EXPECT_TRUE(gradcheck64([a](V in) { return conv_transpose2d(in[0], in[1], in[2], a); },
                          [a, g](X x) { return ref64::conv_transpose2d(x[0], x[1], x[2], g, a); },
                          {randn({2, 4, 4, 5}, rng, 1.f, true), randn({4, 3, 3, 2}, rng, 0.3f, true), randn({6}, rng, 1.f, true)}));
}

TEST(GradCheck64, MatmulAndLinear) {
  Rng rng(17);
  EXPECT_TRUE(gradcheck64([](V in) { return matmul(in[0], in[1]); }, [](X x) { return ref64::matmul(x[0], x[1], 5, 7, 3); },
                          {randn({5, 7}, rng, 1.f, true), randn({7, 3}, rng, 1.f, true)}));
  EXPECT_TRUE(gradcheck64([](V in) { return linear(in[0], in[1], in[2]); },
                          [](X x) { return ref64::linear(x[0], x[1], x[2], 4, 9, 6); },
                          {randn({4, 9}, rng, 1.f, true), randn({6, 9}, rng, 0.5f, true), randn({6}, rng, 1.f, true)}));
}

TEST(GradCheck64, AvgPoolWithAndWithoutPadding) {
  Rng rng(18);
  const Pool2dArgs same = pool_args_same(7, 6, 3, 3, 2, 2);  // asymmetric, padding not counted
  Pool2dArgs inc;
  inc.kh = 3, inc.kw = 2, inc.stride_h = 2, inc.stride_w = 1, inc.pad_top = inc.pad_bottom = 1;
  for (const Pool2dArgs& a : {same, inc})
    EXPECT_TRUE(gradcheck64([a](V in) { return avg_pool2d(in[0], a); },
                            [a](X x) { return ref64::avg_pool2d(x[0], 2, 3, 7, 6, a); }, {randn({2, 3, 7, 6}, rng, 1.f, true)}));
}

// The summing ops outside the losses and convolutions: the bias gradient of add_channel_bias,
// embedding's scatter-add over repeated ids, and batch norm in eval mode (its gamma and beta
// gradients sum over the batch).
TEST(GradCheck64, BiasEmbeddingAndEvalBatchNorm) {
  Rng rng(20);
  EXPECT_TRUE(gradcheck64([](V in) { return add_channel_bias(in[0], in[1]); },
                          [](X x) {
                            ref64::Vec y(x[0]);
                            for (size_t i = 0; i < y.size(); ++i) y[i] += x[1][i / 12 % 3];
                            return y;
                          },
                          {randn({2, 3, 4, 3}, rng, 1.f, true), randn({3}, rng, 1.f, true)}));
  const std::vector<int64_t> ids = {2, 0, 2, 4, 2, 1};
  EXPECT_TRUE(gradcheck64([ids](V in) { return embedding(ids, in[0]); },
                          [ids](X x) {
                            ref64::Vec y;
                            for (int64_t id : ids) y.insert(y.end(), x[0].begin() + id * 3, x[0].begin() + id * 3 + 3);
                            return y;
                          },
                          {randn({5, 3}, rng, 1.f, true)}));
  Tensor rm = randn({3}, rng, 0.5f), rv = randu({3}, rng, 0.5f, 2.f);
  BatchNormArgs eval;
  eval.training = false;
  EXPECT_TRUE(gradcheck64([rm, rv, eval](V in) mutable { return batch_norm(in[0], in[1], in[2], rm, rv, eval); },
                          [rm, rv](X x) {
                            ref64::Vec y(x[0].size());
                            for (size_t i = 0; i < y.size(); ++i) {
                              const size_t c = i / 20 % 3;
                              y[i] = x[1][c] * (x[0][i] - rm.data()[c]) / std::sqrt((double)rv.data()[c] + 1e-5f) + x[2][c];
                            }
                            return y;
                          },
                          {randn({2, 3, 4, 5}, rng, 2.f, true), randu({3}, rng, 0.5f, 1.5f, true), randn({3}, rng, 1.f, true)}));
}

// The ops whose outputs are single inputs, copies or one elementwise function meet the tight
// float32 per-element tolerances (each output is one rounding, so the finite difference of one
// element is clean): a 0.1 % error in any element of their backward fails this.
TEST(GradCheck64, OpsWithoutSumsAreTightPerElementInFloat32) {
  Rng rng(21);
  Tensor a = randn({2, 3, 4, 5}, rng, 1.f, true), b = randn({2, 3, 4, 5}, rng, 1.f, true);
  for (int64_t i = 0; i < a.numel(); ++i) {  // 0.05 from the kinks at 0 and 6 (step 0.01)
    float& v = a.data()[i];
    if (std::fabs(v) < 0.05f) v = 0.1f;
  }
  Tensor big = randu({2, 3, 4, 5}, rng, 4.f, 8.f, true);
  for (int64_t i = 0; i < big.numel(); ++i)
    if (std::fabs(big.data()[i] - 6.f) < 0.05f) big.data()[i] = 6.2f;
  Tensor keep = Tensor::zeros({2, 3, 4, 5});
  for (int64_t i = 0; i < keep.numel(); ++i) keep.data()[i] = (float)(i % 3 != 0);
  const float e = 1e-2f, at = kTightAtol, rt = kTightRtol;
  auto tight = [&](const std::function<Tensor(V)>& f, std::vector<Tensor> in) { return gradcheck(f, in, e, at, rt); };
  EXPECT_TRUE(tight([](V in) { return add(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(tight([](V in) { return sub(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(tight([](V in) { return neg(add_scalar(mul_scalar(in[0], 1.7f), -0.3f)); }, {a}));
  EXPECT_TRUE(tight([](V in) { return relu(in[0]); }, {a}));
  EXPECT_TRUE(tight([](V in) { return leaky_relu(in[0], 0.2f); }, {a}));
  EXPECT_TRUE(tight([](V in) { return abs(in[0]); }, {a}));
  EXPECT_TRUE(tight([](V in) { return relu6(in[0]); }, {big}));
  EXPECT_TRUE(tight([](V in) { return reshape(flatten(in[0]), {6, 20}); }, {a}));
  EXPECT_TRUE(tight([](V in) { return concat({in[0], in[1]}, 2); }, {a, b}));
  EXPECT_TRUE(tight([](V in) { return chunk(in[0], 3, 1)[2]; }, {a}));
  EXPECT_TRUE(tight([](V in) { return zero_pad2d(in[0], 1, 0, 2, 1); }, {a}));
  EXPECT_TRUE(tight([](V in) { return upsample_nearest2d(in[0], 2, 3); }, {a}));
  // Distinct values 0.05 apart, so no window's maximum changes within the step.
  Tensor sep = Tensor::zeros({2, 3, 4, 5});
  for (int64_t i = 0; i < sep.numel(); ++i) sep.data()[i] = 0.05f * (float)(i * 37 % 120) - 3.f;
  sep.set_requires_grad(true);
  EXPECT_TRUE(tight([](V in) { return max_pool2d(in[0], Pool2dArgs{}); }, {sep}));
  EXPECT_TRUE(tight([keep](V in) { return dropout_masked(in[0], keep, 0.25f); }, {a}));
}

// The localized mutants' cases pass on the library: what fails them in tests/mutation_grad.cpp
// is the mutation alone.
TEST(GradCheck64, LocalizedMutationCasesPass) {
  for (auto& c : localized_mutation_cases()) EXPECT_TRUE(gradcheck64(c.f, c.ref, c.inputs)) << c.name;
}

// The check can fail: a reference that differs from the op in one output is reported.
TEST(GradCheck64, ForwardDisagreementIsReported) {
  Rng rng(19);
  auto r = gradcheck64([](V in) { return softmax(in[0], 1); },
                       [](X x) {
                         ref64::Vec y = ref64::softmax(x[0], 2, 4, 1, false);
                         y[3] *= 1.0001;
                         return y;
                       },
                       {randn({2, 4}, rng, 1.f, true)});
  EXPECT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("forward element 3"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace fas::test

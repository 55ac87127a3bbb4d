// layers/recalibrate.h: batch-norm statistics recomputed as the plain average of the batch
// statistics (torch.optim.swa_utils.update_bn), the rest of the model in eval mode.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "layers/layers.h"
#include "layers/recalibrate.h"
#include "testutil.h"

using namespace fas;
using fas::test::randn;

namespace {

// Per-channel mean and unbiased variance of one [N, C, H, W] batch, in double.
void batch_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3), n = N * HW;
  mean.assign(C, 0), var.assign(C, 0);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, q = 0;
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < HW; ++j) {
        const double v = x.data()[(i * C + c) * HW + j];
        s += v, q += v * v;
      }
    mean[c] = s / n;
    var[c] = (q - s * s / n) / (n - 1);
  }
}

}  // namespace

TEST(Recalibrate, RunningStatsBecomeTheAverageOfTheBatchStatistics) {
  Rng rng(31);
  for (auto conv : {MomentumConvention::Torch, MomentumConvention::Keras}) {
    Sequential m;
    m.add("drop", std::make_shared<Dropout>(0.5f, 7));  // must stay off: the stats see x itself
    BatchNormArgs args;
    args.convention = conv, args.momentum = conv == MomentumConvention::Keras ? 0.999f : 0.1f;
    auto bn = m.add("bn", std::make_shared<BatchNorm>(3, args));
    // Stale statistics and trained affine parameters: the first go, the second stay.
    bn->running_mean.data()[0] = 5.f, bn->running_var.data()[1] = 9.f;
    bn->weight.data()[2] = 1.7f, bn->bias.data()[0] = -0.3f;
    std::vector<Tensor> batches;
    for (int64_t n : {4, 3, 5}) {  // the last batch differs in size: still weighed like the others
      Tensor x = randn({n, 3, 2, 3}, rng);
      for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 2.f * x.data()[i] + 1.f;
      batches.push_back(x);
    }
    std::vector<double> want_mean(3, 0), want_var(3, 0), mu, var;
    for (const Tensor& x : batches) {
      batch_stats(x, mu, var);
      for (int c = 0; c < 3; ++c) want_mean[c] += mu[c] / 3, want_var[c] += var[c] / 3;
    }
    size_t next = 0;
    m.train();
    const int64_t k = recalibrate_batch_norm(m, [&](Tensor& x) {
      if (next == batches.size()) return false;
      x = batches[next++];
      return true;
    });
    EXPECT_EQ(k, 3);
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(bn->running_mean.data()[c], want_mean[c], 1e-5) << c;
      EXPECT_NEAR(bn->running_var.data()[c], want_var[c], 1e-4) << c;
    }
    EXPECT_EQ(bn->weight.data()[2], 1.7f);
    EXPECT_EQ(bn->bias.data()[0], -0.3f);
    // Left in eval mode with its own momentum rule back.
    EXPECT_FALSE(m.is_training());
    EXPECT_FALSE(bn->is_training());
    EXPECT_EQ(bn->args.convention, conv);
    EXPECT_EQ(bn->args.momentum, args.momentum);
  }
}

TEST(Recalibrate, NeedsBatchNormAndData) {
  Rng rng(1);
  Sequential plain;
  plain.add("fc", std::make_shared<Linear>(4, 2, rng));
  auto none = [](Tensor&) { return false; };
  EXPECT_THROW(recalibrate_batch_norm(plain, none), Error);
  Sequential m;
  m.add("bn", std::make_shared<BatchNorm>(2));
  try {
    recalibrate_batch_norm(m, none);
    FAIL() << "no batch must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no batch"), std::string::npos) << e.what();
  }
  // A failing batch (wrong channel count) is the op's error, and the BN is left usable.
  EXPECT_THROW(recalibrate_batch_norm(m, [&](Tensor& x) { x = randn({2, 3, 2, 2}, rng); return true; }), Error);
  EXPECT_FALSE(m.is_training());
  EXPECT_EQ(std::static_pointer_cast<BatchNorm>(m.named_children()[0].second)->args.momentum, BatchNormArgs{}.momentum);
}

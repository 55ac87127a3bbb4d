// "Overwrite on first write" (Tensor::grad_for_write): the backward closures that assign into a
// fresh gradient buffer instead of adding into a zeroed one must still sum the contributions of
// every consumer, whichever consumer's backward runs first.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "autograd/zero_pad.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

TEST(Tensor, GradForWriteFreshOnlyOnce) {
  Tensor x = Tensor::zeros({3, 5}).set_requires_grad(true);
  bool fresh = false;
  float* g = x.grad_for_write(&fresh);
  EXPECT_TRUE(fresh);
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().shape(), x.shape());
  for (int i = 0; i < 15; ++i) g[i] = (float)i;  // the caller's duty: write every element
  float* g2 = x.grad_for_write(&fresh);
  EXPECT_FALSE(fresh);
  EXPECT_EQ(g2, g);
  EXPECT_EQ(x.grad_data(), g);
  EXPECT_FLOAT_EQ(x.grad().data()[7], 7.f);
  // After zero_grad the buffer exists (zeros), so callers accumulate into it.
  x.zero_grad();
  EXPECT_EQ(x.grad_for_write(&fresh), g);
  EXPECT_FALSE(fresh);
  EXPECT_EQ(x.grad().data()[7], 0.f);
  // A buffer made by grad_data (zeroed) is not fresh either.
  Tensor y = Tensor::zeros({4}).set_requires_grad(true);
  y.grad_data();
  y.grad_for_write(&fresh);
  EXPECT_FALSE(fresh);
}

namespace {

using Op = std::function<Tensor(const Tensor&)>;
struct NamedOp {
  std::string name;
  Op f;
};

// Consumers of a [2, 6, 9, 8] activation, one per backward path that takes the fresh/accumulate
// switch: each conv input-gradient path (GEMM pointwise, GEMM im2col/col2im, direct narrow,
// depthwise 3x3 s1/s2, generic depthwise), conv_transpose2d, batch norm (plain and fused clamp),
// residual add (also x + x), binary mul, zero_pad2d, and linear / matmul on a flattened view.
std::vector<NamedOp> consumers(Rng& rng) {
  const int64_t C = 6;
  auto conv = [&rng](int64_t oc, int64_t cin, int k, int s, int pad, int groups) -> Op {
    Tensor w = randn({oc, cin / groups, k, k}, rng, 0.3f), b = randn({oc}, rng, 0.1f);
    Conv2dArgs a;
    a.stride_h = a.stride_w = s, a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = pad, a.groups = groups;
    return [w, b, a](const Tensor& x) { return conv2d(x, w, b, a); };
  };
  std::vector<NamedOp> ops;
  ops.push_back({"conv1x1 gemm", conv(40, C, 1, 1, 0, 1)});
  ops.push_back({"conv3x3 s2 gemm", conv(5, C, 3, 2, 1, 1)});
  ops.push_back({"conv3x3 s1 direct", conv(4, C, 3, 1, 1, 1)});
  ops.push_back({"dwconv3x3 s1", conv(C, C, 3, 1, 1, C)});
  ops.push_back({"dwconv3x3 s2", conv(C, C, 3, 2, 0, C)});
  ops.push_back({"dwconv5x5", conv(C, C, 5, 1, 2, C)});
  {
    Tensor w = randn({C, 3, 3, 3}, rng, 0.3f);
    ConvT2dArgs a;
    a.stride_h = a.stride_w = 2, a.pad_top = a.pad_left = 1;
    ops.push_back({"conv_transpose2d", [w, a](const Tensor& x) { return conv_transpose2d(x, w, Tensor(), a); }});
  }
  for (bool clamp : {false, true}) {
    Tensor g = randn({C}, rng, 0.5f), b = randn({C}, rng, 0.5f);
    ops.push_back({clamp ? "batch_norm relu6" : "batch_norm", [g, b, clamp](const Tensor& x) {
                     Tensor rm, rv;  // no running statistics: training mode only
                     BatchNormArgs a;
                     if (clamp) a.clamp_lo = 0.f, a.clamp_hi = 0.5f;
                     return batch_norm(x, g, b, rm, rv, a);
                   }});
  }
  {
    Tensor other = randn({2, C, 9, 8}, rng);
    ops.push_back({"add", [other](const Tensor& x) { return add(other, x); }});
    ops.push_back({"add x+x", [](const Tensor& x) { return add(x, x); }});
    ops.push_back({"mul", [other](const Tensor& x) { return mul(x, other); }});
    ops.push_back({"zero_pad2d", [](const Tensor& x) { return zero_pad2d(x, 1, 0, 2, 1); }});
    ops.push_back({"relu", [](const Tensor& x) { return relu(x); }});
    ops.push_back({"relu6", [](const Tensor& x) { return relu6(x); }});
  }
  {
    Tensor w = randn({3, C * 72}, rng, 0.1f), b = randn({3}, rng), m = randn({C * 72, 4}, rng, 0.1f);
    ops.push_back({"linear", [w, b](const Tensor& x) { return linear(reshape(x, {2, 6 * 72}), w, b); }});
    ops.push_back({"matmul", [m](const Tensor& x) { return matmul(reshape(x, {2, 6 * 72}), m); }});
  }
  return ops;
}

// A scalar loss from one consumer's output: a random weighting, so every element matters.
Tensor weighted(const Tensor& y, uint64_t seed) {
  Rng r(seed);
  return sum(mul(y, randn(y.shape(), r)));
}

}  // namespace

// For every ordered pair of consumers (p, q) of one intermediate h = x * s: the gradient of
// loss_p + loss_q equals the sum of the gradients of each loss alone. Both orders of every
// pair run, so each consumer's backward is sometimes the first (fresh buffer, assign) and
// sometimes a later one (accumulate) on h's gradient.
TEST(Autograd, FanOutSumsGradientsWhicheverBackwardRunsFirst) {
  Rng rng(77);
  const std::vector<NamedOp> ops = consumers(rng);
  Tensor x0 = randn({2, 6, 9, 8}, rng), s = randu({2, 6, 9, 8}, rng, 0.5f, 1.5f);
  auto grad_of = [&](const std::vector<size_t>& which) {
    Tensor x = x0.clone().set_requires_grad(true);
    Tensor h = mul(x, s);  // a non-leaf activation, as in a network
    Tensor loss;
    for (size_t i : which) {
      Tensor l = weighted(ops[i].f(h), 100 + i);
      loss = loss.defined() ? add(loss, l) : l;
    }
    loss.backward();
    return x.grad().clone();
  };
  std::vector<Tensor> alone;
  for (size_t i = 0; i < ops.size(); ++i) alone.push_back(grad_of({i}));
  for (size_t p = 0; p < ops.size(); ++p)
    for (size_t q = 0; q < ops.size(); ++q) {
      Tensor both = grad_of({p, q}), expect = alone[p].clone();
      for (int64_t i = 0; i < expect.numel(); ++i) expect.data()[i] += alone[q].data()[i];
      EXPECT_TRUE(allclose(both, expect, 1e-4f, 1e-4f)) << ops[p].name << " then " << ops[q].name;
    }
}

// A leaf's gradient keeps accumulating across backward calls: the second call finds the buffer
// and must add, not overwrite.
TEST(Autograd, LeafGradientAccumulatesAcrossBackwardCalls) {
  Rng rng(78);
  for (const NamedOp& op : consumers(rng)) {
    Tensor x = randn({2, 6, 9, 8}, rng, 1.f, true);
    weighted(op.f(x), 5).backward();
    Tensor once = x.grad().clone();
    weighted(op.f(x), 5).backward();
    Tensor twice = once.clone();
    for (int64_t i = 0; i < twice.numel(); ++i) twice.data()[i] *= 2.f;
    EXPECT_TRUE(allclose(x.grad(), twice, 1e-5f, 1e-5f)) << op.name;
  }
}

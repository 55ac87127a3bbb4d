// Pooling, batch norm, softmax and losses against PyTorch 1.13 (fixtures from
// tools/make_golden_layers.py). Each case compares the output and the gradient of sum(y * R)
// w.r.t. every input. Tolerance: atol 1e-5, rtol 1e-4 (float32 summation-order differences;
// the ops accumulate reductions in double, PyTorch in float).
#include <functional>

#include "layers/layers.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

constexpr float kAtol = 1e-5f, kRtol = 1e-4f;

void check_case(const std::string& c, const std::vector<std::string>& names,
                const std::function<Tensor(const std::vector<Tensor>&)>& f) {
  SCOPED_TRACE(c);
  std::vector<Tensor> ins;
  for (auto& n : names) ins.push_back(load_golden(c, n).set_requires_grad(true));
  Tensor y = f(ins);
  ASSERT_EQ(y.numel(), load_golden(c, "y").numel());
  EXPECT_TRUE(allclose(y, load_golden(c, "y"), kAtol, kRtol)) << "output";
  Tensor R = load_golden(c, "R").reshape(y.shape());
  sum(mul(y, R)).backward();
  for (size_t i = 0; i < names.size(); ++i) {
    if (!has_golden(c, "g_" + names[i])) continue;
    ASSERT_TRUE(ins[i].grad().defined()) << names[i];
    EXPECT_TRUE(allclose(ins[i].grad(), load_golden(c, "g_" + names[i]), kAtol, kRtol)) << "grad of " << names[i];
  }
}

Pool2dArgs args(int k, int s, int pad, bool include_pad = true) {
  Pool2dArgs a;
  a.kh = a.kw = k, a.stride_h = a.stride_w = s;
  a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = pad;
  a.count_include_pad = include_pad;
  return a;
}

}  // namespace

TEST(Golden, Pooling) {
  check_case("maxpool_same", {"x"}, [](auto& in) { return max_pool2d(in[0], pool_args_same(7, 5, 2, 2, 2, 2)); });
  check_case("maxpool_k3s2p1", {"x"}, [](auto& in) { return max_pool2d(in[0], args(3, 2, 1)); });
  check_case("avgpool_same_k3s2", {"x"}, [](auto& in) { return avg_pool2d(in[0], pool_args_same(11, 13, 3, 3, 2, 2)); });
  check_case("avgpool_k3s2p1", {"x"}, [](auto& in) { return avg_pool2d(in[0], args(3, 2, 1)); });
  check_case("upsample_2x3", {"x"}, [](auto& in) { return upsample_nearest2d(in[0], 2, 3); });
  check_case("global_avg", {"x"}, [](auto& in) { return global_avg_pool2d(in[0]); });
}

TEST(Golden, BatchNorm) {
  for (const char* c : {"bn_train4d", "bn_train2d"}) {
    Tensor rm = load_golden(c, "rm_in"), rv = load_golden(c, "rv_in");
    check_case(c, {"x", "g", "b"}, [&](auto& in) { return batch_norm(in[0], in[1], in[2], rm, rv, BatchNormArgs{}); });
    EXPECT_TRUE(allclose(rm, load_golden(c, "rm_out"), kAtol, kRtol)) << c;
    EXPECT_TRUE(allclose(rv, load_golden(c, "rv_out"), kAtol, kRtol)) << c;
  }
  Tensor rm = load_golden("bn_eval4d", "rm_in"), rv = load_golden("bn_eval4d", "rv_in");
  BatchNormArgs ev{false, 0.1f, MomentumConvention::Torch, 1e-3f};
  check_case("bn_eval4d", {"x", "g", "b"}, [&](auto& in) { return batch_norm(in[0], in[1], in[2], rm, rv, ev); });
}

TEST(Golden, SoftmaxAndLosses) {
  check_case("softmax_dim1", {"x"}, [](auto& in) { return softmax(in[0], 1); });
  check_case("log_softmax_dim1", {"x"}, [](auto& in) { return log_softmax(in[0], 1); });
  for (auto [suffix, r] : {std::pair{"mean", Reduction::Mean}, std::pair{"sum", Reduction::Sum}}) {
    const std::string s = suffix;
    const Reduction red = r;
    check_case("mse_" + s, {"p", "t"}, [red](auto& in) { return mse_loss(in[0], in[1], red); });
    check_case("l1_" + s, {"p", "t"}, [red](auto& in) { return l1_loss(in[0], in[1], red); });
    check_case("bce_" + s, {"p", "t"}, [red](auto& in) { return bce_loss(in[0], in[1], red); });
    check_case("bce_logits_" + s, {"z", "t"}, [red](auto& in) { return bce_with_logits(in[0], in[1], red); });
    std::vector<int64_t> labels;
    for (float v : load_golden("ce_" + s, "labels").to_vector()) labels.push_back((int64_t)v);
    check_case("ce_" + s, {"z"}, [&](auto& in) { return cross_entropy(in[0], labels, red); });
    check_case("kl_" + s, {"mu", "lv"}, [red](auto& in) { return gaussian_kl(in[0], in[1], red); });
  }
}

// Tensor, autograd engine, elementwise / shape / dense ops, optimizers.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "kernels/gemm.h"
#include "autograd/graph.h"
#include "dist/grad_sync.h"
#include "layers/layers.h"
#include "optim/ema.h"
#include "optim/optim.h"
#include "mutation_cases.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

TEST(Tensor, AlignedZeroedAndViews) {
  Tensor t = Tensor::zeros({3, 5, 7});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  for (float v : t.to_vector()) EXPECT_EQ(v, 0.f);
  Tensor v = t.reshape({-1, 7});
  EXPECT_EQ(v.shape(), (Shape{15, 7}));
  v.data()[3] = 2.f;
  EXPECT_EQ(t.data()[3], 2.f);  // a view shares storage
  EXPECT_THROW(t.reshape({4, -1}), Error);
  EXPECT_THROW(Tensor::zeros({1, 1, 1, 1, 1, 1}), Error);
}

// Large blocks are recycled through the storage cache: a recycled block must still come back
// zeroed from zeros() (and aligned), while uninit() skips the fill; grads stay zeroed.
TEST(Tensor, RecycledLargeBlocksAreZeroedByZeros) {
  const Shape big = {3, 512, 700};  // 4.1 MB: cached size class
  const float* first = nullptr;
  {
    Tensor a = Tensor::full(big, 7.f);
    first = a.data();
  }
  Tensor b = Tensor::zeros(big);  // most likely the same block as `a`
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  const char* how = b.data() == first ? " (recycled block)" : " (fresh block)";
  for (int64_t i = 0; i < b.numel(); ++i) ASSERT_EQ(b.data()[i], 0.f) << "element " << i << how;
  { Tensor c = Tensor::full(big, 3.f); }
  Tensor d = Tensor::uninit(big);
  EXPECT_EQ(d.numel(), b.numel());
  d.set_requires_grad(true);
  { Tensor e = Tensor::full(big, 5.f); }
  const float* g = d.grad_data();
  for (int64_t i = 0; i < d.numel(); ++i) ASSERT_EQ(g[i], 0.f) << "grad element " << i;
  // empty(), zeros()' old (deprecated) name, still compiles and zero-fills a recycled block.
  { Tensor h = Tensor::full(big, 9.f); }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  Tensor old = Tensor::empty(big);
#pragma GCC diagnostic pop
  for (int64_t i = 0; i < old.numel(); ++i) ASSERT_EQ(old.data()[i], 0.f) << "empty() element " << i;
}

// The layering the headers promise: fas::Error lives in base/error.h, kernels include neither the
// tensor nor anything above it (they take raw pointers), and the tensor does not include the
// autograd graph (it only holds a pointer to a node). Read from the sources, so a new include
// that breaks it fails here.
TEST(Layering, KernelsAndTensorIncludeOnlyLowerLayers) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(FAS_SOURCE_DIR) / "src";
  auto includes = [](const fs::path& f) {
    std::ifstream in(f);
    std::vector<std::string> v;
    for (std::string line; std::getline(in, line);)
      if (line.rfind("#include \"", 0) == 0) v.push_back(line.substr(10, line.find('"', 10) - 10));
    return v;
  };
  int files = 0;
  for (auto& e : fs::recursive_directory_iterator(src / "kernels")) {
    if (!e.is_regular_file()) continue;
    ++files;
    for (const auto& inc : includes(e.path()))
      for (const char* above : {"tensor/", "autograd/", "layers/", "models/", "io/", "cli/"})
        EXPECT_NE(inc.rfind(above, 0), 0u) << e.path() << " includes " << inc;
  }
  EXPECT_GT(files, 10);
  std::vector<std::string> t = includes(src / "tensor" / "tensor.h");
  EXPECT_EQ(t, (std::vector<std::string>{"base/error.h"}));
  std::ifstream err(src / "base" / "error.h");
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("class Error : public std::runtime_error"), std::string::npos);
}

TEST(Tensor, ShapeErrorsNameOpAndShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  try {
    add(a, b);
    FAIL() << "no throw";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos);
    EXPECT_NE(m.find("[2, 3]"), std::string::npos);
    EXPECT_NE(m.find("[3, 2]"), std::string::npos);
  }
  EXPECT_THROW(matmul(a, a), Error);
  EXPECT_THROW(linear(a, b, Tensor()), Error);
}

TEST(Rng, SeededAndDistributed) {
  Rng a(7), b(7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  Rng r(1);
  double s = 0, s2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = r.normal();
    s += x, s2 += x * x;
  }
  EXPECT_NEAR(s / n, 0.0, 0.03);
  EXPECT_NEAR(s2 / n, 1.0, 0.05);
  Tensor w = Tensor::zeros({64, 32});
  init_glorot_uniform(w, r);
  float lim = std::sqrt(6.f / 96.f), mx = 0;
  for (float v : w.to_vector()) mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, lim);
  EXPECT_GT(mx, 0.9f * lim);
}

TEST(Autograd, TensorUsedTwiceAccumulates) {
  Tensor x = Tensor::from({2}, {1.5f, -2.f}).set_requires_grad(true);
  Tensor y = sum(add(mul(x, x), x));  // d/dx = 2x + 1
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().data()[0], 4.f);
  EXPECT_FLOAT_EQ(x.grad().data()[1], -3.f);
  // Gradients accumulate across backward calls until zero_grad.
  sum(x).backward();
  EXPECT_FLOAT_EQ(x.grad().data()[0], 5.f);
  x.zero_grad();
  EXPECT_FLOAT_EQ(x.grad().data()[0], 0.f);
}

TEST(Autograd, TwoHeadsFromOneGraph) {
  Rng rng(3);
  Tensor x = randn({4, 6}, rng, 1.f, true);
  Tensor w = randn({5, 6}, rng, 1.f, true);
  Tensor h = tanh(linear(x, w, Tensor()));
  auto parts = split(h, {2, 3}, 1);  // a VAE's mu / logvar heads
  Tensor loss = add(sum(square(parts[0])), sum(exp(parts[1])));
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) {
    auto p = split(tanh(linear(in[0], in[1], Tensor())), {2, 3}, 1);
    return concat({square(p[0]), exp(p[1])}, 1);
  }, {x, w}));
}

TEST(Autograd, NoGradAndDetachAndFrozen) {
  Tensor x = Tensor::from({1}, {2.f}).set_requires_grad(true);
  {
    NoGradGuard ng;
    Tensor y = mul(x, x);
    EXPECT_FALSE(y.requires_grad());
  }
  Tensor d = mul(x, x).detach();
  EXPECT_FALSE(d.requires_grad());
  Tensor frozen = Tensor::from({1}, {3.f});  // requires_grad false: no grad accumulates
  Tensor y = mul(x, frozen);
  y.backward();
  EXPECT_FALSE(frozen.grad().defined());
  EXPECT_FLOAT_EQ(x.grad().item(), 3.f);
}

// The hook data-parallel training uses to start reducing gradients during the backward pass:
// every leaf once, when its gradient is final, the output's layer before the input's.
TEST(Autograd, LeafGradReadyFiresOnceWithTheFinalGradient) {
  Rng rng(5);
  Tensor x = randn({3, 4}, rng, 1.f, false);
  Tensor w1 = randn({4, 4}, rng, 1.f, true);  // first layer, used twice (two paths)
  Tensor w2 = randn({2, 4}, rng, 1.f, true);  // output layer
  std::vector<std::pair<TensorImpl*, std::vector<float>>> fired;
  {
    LeafGradHook hook([&](TensorImpl* t) { fired.push_back({t, Tensor(t == w1.impl() ? w1 : w2).grad().to_vector()}); });
    Tensor h = add(tanh(linear(x, w1, Tensor())), sigmoid(linear(x, w1, Tensor())));
    sum(square(linear(h, w2, Tensor()))).backward();
  }
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].first, w2.impl());
  EXPECT_EQ(fired[1].first, w1.impl());
  EXPECT_EQ(fired[0].second, w2.grad().to_vector());
  EXPECT_EQ(fired[1].second, w1.grad().to_vector());  // both paths' contributions were in
  // Outside the hook's scope nothing is called.
  w1.zero_grad();
  sum(linear(x, w1, Tensor())).backward();
  EXPECT_EQ(fired.size(), 2u);
}

TEST(Autograd, Deterministic) {
  auto run = []() {
    Rng rng(11);
    Tensor x = randn({8, 16}, rng, 1.f, true);
    Tensor w = randn({4, 16}, rng, 1.f, true);
    sum(sigmoid(linear(x, w, Tensor()))).backward();
    return w.grad().to_vector();
  };
  EXPECT_EQ(run(), run());
}

TEST(GradCheck, Elementwise) {
  Rng rng(5);
  Tensor a = randn({3, 5}, rng, 1.f, true), b = randu({3, 5}, rng, 0.5f, 2.f, true);
  Tensor s = randu({1}, rng, 0.5f, 2.f, true);
  using V = const std::vector<Tensor>&;
  EXPECT_TRUE(gradcheck([](V in) { return add(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](V in) { return sub(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](V in) { return mul(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](V in) { return div(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](V in) { return mul(in[0], in[1]); }, {a, s}));  // scalar broadcast
  EXPECT_TRUE(gradcheck([](V in) { return add_scalar(mul_scalar(in[0], 3.f), 1.f); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return neg(exp(in[0])); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return log(in[0]); }, {b}));
  EXPECT_TRUE(gradcheck([](V in) { return sqrt(in[0]); }, {b}));
  EXPECT_TRUE(gradcheck([](V in) { return square(in[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return tanh(in[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return sigmoid(in[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return mean(in[0]); }, {a}));
}

// The same elementwise ops at the tight per-element tolerances that catch a 0.1 % backward error
// (tests/mutation_grad.cpp: sigmoid with a 0.2 % error fails them).
TEST(GradCheck, ElementwiseTight) {
  Rng rng(5);
  Tensor a = randn({3, 5}, rng, 1.f, true), b = randu({3, 5}, rng, 0.5f, 2.f, true);
  using V = const std::vector<Tensor>&;
  const float e = 1e-2f, at = kTightAtol, rt = kTightRtol;
  EXPECT_TRUE(gradcheck([](V in) { return mul(in[0], in[1]); }, {a, b}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return div(in[0], in[1]); }, {a, b}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return neg(exp(in[0])); }, {a}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return log(in[0]); }, {b}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return sqrt(in[0]); }, {b}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return square(in[0]); }, {a}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return tanh(in[0]); }, {a}, e, at, rt));
  EXPECT_TRUE(gradcheck([](V in) { return sigmoid(in[0]); }, {a}, e, at, rt));
}

// The mutation test's cases pass on the library: what fails them in tests/mutation_grad.cpp is
// the mutation alone.
TEST(GradCheck, MutationCasesPassOnTheLibrary) {
  for (auto& c : mutation_cases()) EXPECT_TRUE(gradcheck(c.f, c.inputs, c.eps)) << c.name;
}

// Kinked activations: inputs kept at least 0.05 away from each kink so the central difference
// (step 0.01) never straddles one; the kink itself is checked against PyTorch's convention.
TEST(GradCheck, KinkedActivations) {
  Rng rng(6);
  Tensor x = randu({4, 7}, rng, -8.f, 8.f, true);
  for (int64_t i = 0; i < x.numel(); ++i) {
    float& v = x.data()[i];
    for (float k : {0.f, 6.f})
      if (std::fabs(v - k) < 0.05f) v = k + 0.1f;
  }
  using V = const std::vector<Tensor>&;
  EXPECT_TRUE(gradcheck([](V in) { return relu(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](V in) { return relu6(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](V in) { return leaky_relu(in[0], 0.2f); }, {x}));
  EXPECT_TRUE(gradcheck([](V in) { return abs(in[0]); }, {x}));
  Tensor k = Tensor::from({3}, {0.f, 6.f, -0.f}).set_requires_grad(true);
  sum(add(relu(k), relu6(k))).backward();
  EXPECT_EQ(k.grad().to_vector(), (std::vector<float>{0.f, 1.f, 0.f}));  // relu'(0)=0, relu'(6)=1, relu6'(6)=0
}

TEST(GradCheck, ShapeOps) {
  Rng rng(7);
  Tensor a = randn({2, 3, 5}, rng, 1.f, true), b = randn({2, 4, 5}, rng, 1.f, true);
  using V = const std::vector<Tensor>&;
  EXPECT_TRUE(gradcheck([](V in) { return concat({in[0], in[1]}, 1); }, {a, b}));
  EXPECT_TRUE(gradcheck([](V in) { return chunk(in[0], 2, 1)[1]; }, {b}));
  EXPECT_TRUE(gradcheck([](V in) { return flatten(in[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return sum_dim(in[0], 1); }, {a}));
  EXPECT_TRUE(gradcheck([](V in) { return mean_dim(in[0], -1, true); }, {a}));
  Tensor bias = randn({3}, rng, 1.f, true);
  EXPECT_TRUE(gradcheck([](V in) { return add_channel_bias(in[0], in[1]); }, {a, bias}));
  EXPECT_THROW(concat({a, randn({3, 4, 5}, rng)}, 1), Error);
  EXPECT_THROW(split(a, {1, 1}, 1), Error);
}

TEST(GradCheck, Dense) {
  Rng rng(8);
  Tensor x = randn({5, 7}, rng, 1.f, true), w = randn({3, 7}, rng, 1.f, true), b = randn({3}, rng, 1.f, true);
  Tensor m = randn({7, 4}, rng, 1.f, true);
  using V = const std::vector<Tensor>&;
  // Step 0.05: linear in each input, so a long step costs nothing, and the bias's 3 elements need
  // it to lift their projection above the rounding of L (the directional check's noise).
  EXPECT_TRUE(gradcheck([](V in) { return linear(in[0], in[1], in[2]); }, {x, w, b}, 5e-2f));
  EXPECT_TRUE(gradcheck([](V in) { return matmul(in[0], in[1]); }, {x, m}));
  Tensor e = randn({6, 3}, rng, 1.f, true);
  std::vector<int64_t> ids = {2, 0, 2, 5};  // repeated id: scatter-add must accumulate
  EXPECT_TRUE(gradcheck([ids](V in) { return embedding(ids, in[0]); }, {e}));
  EXPECT_THROW(embedding({6}, e), Error);
}

TEST(Dropout, InvertedTrainOnly) {
  Rng rng(9);
  Tensor x = Tensor::ones({10000});
  Tensor y = dropout(x, 0.25f, true, rng);
  double s = 0;
  int zeros = 0;
  for (float v : y.to_vector()) {
    s += v;
    zeros += v == 0.f;
    if (v != 0.f) {
      EXPECT_FLOAT_EQ(v, 1.f / 0.75f);
    }
  }
  EXPECT_NEAR(zeros / 10000.0, 0.25, 0.02);
  EXPECT_NEAR(s / 10000.0, 1.0, 0.03);
  EXPECT_TRUE(dropout(x, 0.25f, false, rng).same(x));
  EXPECT_THROW(dropout(x, 1.0f, true, rng), Error);
  expect_error([&] { dropout_masked(x, Tensor::ones({3}), 0.5f); }, {"dropout", "mask [3]", "[10000]"});
  expect_error([&] { dropout_masked(x, Tensor::full({10000}, 0.5f), 0.5f); }, {"dropout", "0 or 1"});
  Tensor a = randn({3, 5}, rng, 1.f, true), keep = randu({3, 5}, rng, 0.f, 1.f);
  for (int64_t i = 0; i < keep.numel(); ++i) keep.data()[i] = keep.data()[i] < 0.3f ? 0.f : 1.f;
  EXPECT_TRUE(gradcheck([keep](const std::vector<Tensor>& in) { return dropout_masked(in[0], keep, 0.3f); }, {a}));
}

TEST(Gemm, BlasEqualsReferenceOnRaggedShapes) {
  Rng rng(10);
  for (auto [M, N, K] : {std::tuple{1, 1, 1}, {7, 13, 5}, {33, 17, 65}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor A = randn({M * K}, rng), B = randn({K * N}, rng), C = randn({M * N}, rng);
        Tensor C2 = C.clone();
        sgemm(ta, tb, M, N, K, 0.7f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.3f, C.data(), N);
        sgemm_ref(ta, tb, M, N, K, 0.7f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.3f, C2.data(), N);
        EXPECT_TRUE(allclose(C, C2, 1e-4f, 1e-4f));
      }
  }
}

TEST(Optim, AdamMatchesHandComputation) {
  Tensor w = Tensor::from({2}, {1.f, -1.f});
  Adam opt({{"w", w.set_requires_grad(true)}}, AdamConfig{0.1f});
  float m = 0, v = 0, ww = 1.f;
  for (int t = 1; t <= 3; ++t) {
    opt.zero_grad();
    sum(square(w)).backward();  // g = 2w
    float g = 2 * ww;
    m = 0.9f * m + 0.1f * g;
    v = 0.999f * v + 0.001f * g * g;
    ww -= 0.1f * (m / (1 - std::pow(0.9f, t))) / (std::sqrt(v / (1 - std::pow(0.999f, t))) + 1e-8f);
    opt.step();
    EXPECT_NEAR(w.data()[0], ww, 1e-5);  // float rounding of pow and sqrt
  }
  auto sd = opt.state_dict();
  EXPECT_EQ(sd.at("step").item(), 3.f);
  EXPECT_TRUE(sd.count("w.exp_avg"));
}

TEST(Optim, SgdMomentumNesterovAndSchedules) {
  Tensor w = Tensor::from({1}, {1.f}).set_requires_grad(true);
  Sgd opt({{"w", w}}, SgdConfig{0.1f, 0.9f, 0.f, 0.f, true});
  float buf = 0, ww = 1.f;
  for (int t = 1; t <= 3; ++t) {
    opt.zero_grad();
    sum(square(w)).backward();
    float g = 2 * ww;
    buf = t == 1 ? g : 0.9f * buf + g;
    ww -= 0.1f * (g + 0.9f * buf);
    opt.step();
    EXPECT_NEAR(w.item(), ww, 1e-6);
  }
  LrSchedule s;
  s.kind = LrSchedule::HalfThenLinear, s.base = 1.f, s.total = 10;
  EXPECT_EQ(s.at(0), 1.f);
  EXPECT_EQ(s.at(4), 1.f);
  EXPECT_NEAR(s.at(9), 0.2f, 1e-6);
  EXPECT_GT(s.at(9), 0.f);
  s.kind = LrSchedule::Step, s.step_size = 3, s.gamma = 0.5f;
  EXPECT_EQ(s.at(6), 0.25f);
  EXPECT_EQ(s.at(5), 0.5f);
}

TEST(Optim, CosineAndPlateauSchedules) {
  LrSchedule c = parse_lr_schedule("cosine:0.1", 2.f, 5);
  EXPECT_FLOAT_EQ(c.at(0), 2.f);
  EXPECT_FLOAT_EQ(c.at(2), 2.f * (0.1f + 0.9f * 0.5f));  // half way: the mean of the ends
  EXPECT_FLOAT_EQ(c.at(4), 0.2f);
  EXPECT_EQ(c.str(), "cosine:0.1");
  // Keras ReduceLROnPlateau, patience 2, factor 0.5 (0-based epochs): 2 and 3 do not improve on
  // 1's 0.5 -> the lr halves from epoch 4; 4 improves; 5 (within min_delta) and 6 do not -> 7.
  LrSchedule p = parse_lr_schedule("plateau:2:0.5", 1.f, 10);
  std::vector<double> m = {1.0, 0.5, 0.5, 0.6, 0.4, 0.40005, 0.41};
  std::vector<float> want = {1, 1, 1, 1, 0.5f, 0.5f, 0.5f, 0.25f};
  for (int e = 0; e <= 7; ++e) EXPECT_EQ(p.at(e, m), want[e]) << "epoch " << e;
  EXPECT_EQ(parse_lr_schedule("step:4", 1.f, 10).at(4), 0.1f);
  for (const char* bad : {"", "cos", "step", "step:x", "step:2:3", "plateau:1:0.5:9", "cosine:-1"})
    EXPECT_THROW(parse_lr_schedule(bad, 1.f, 10), Error) << bad;
}

// Weight averaging: TF's num_updates warm-up, parameters and buffers, swap and reload.
TEST(Optim, WeightEmaAveragesParametersAndBuffers) {
  Rng rng(3);
  Sequential net;
  auto lin = net.add("fc", std::make_shared<Linear>(3, 2, rng));
  auto bn = net.add("bn", std::make_shared<BatchNorm>(2));
  const std::vector<float> w0 = lin->weight.to_vector();
  WeightEma ema(net, 0.9f);
  EXPECT_FLOAT_EQ(ema.current_decay(), 0.1f);  // (1 + 0) / (10 + 0)
  // Two updates with known targets: avg = d*avg + (1-d)*w with d = 0.1, then 2/11.
  auto fill = [](Tensor& t, float v) { std::fill(t.data(), t.data() + t.numel(), v); };
  fill(lin->weight, 1.f);
  fill(bn->running_mean, 2.f);
  ema.update();
  fill(lin->weight, -1.f);
  ema.update();
  EXPECT_EQ(ema.updates(), 2);
  const float d2 = 2.f / 11.f;
  auto sd = ema.state_dict();
  for (size_t i = 0; i < w0.size(); ++i)
    EXPECT_NEAR(sd.at("fc.weight").data()[i], d2 * (0.1f * w0[i] + 0.9f * 1.f) + (1 - d2) * -1.f, 1e-6);
  EXPECT_NEAR(sd.at("bn.running_mean").data()[0], d2 * (0.1f * 0.f + 0.9f * 2.f) + (1 - d2) * 2.f, 1e-6);
  // Late updates use the configured decay.
  ema.set_updates(1000);
  EXPECT_FLOAT_EQ(ema.current_decay(), 0.9f);
  // swap twice restores both sides.
  const std::vector<float> avg = sd.at("fc.weight").to_vector();
  ema.swap();
  EXPECT_EQ(lin->weight.to_vector(), avg);
  EXPECT_EQ(ema.state_dict().at("fc.weight").to_vector(), std::vector<float>(6, -1.f));
  ema.swap();
  EXPECT_EQ(lin->weight.to_vector(), std::vector<float>(6, -1.f));
  // Reload: equal values; a wrong shape or a missing tensor is an error naming it.
  WeightEma other(net, 0.9f);
  other.load_state_dict(ema.state_dict());
  EXPECT_EQ(other.state_dict().at("fc.weight").to_vector(), avg);
  auto bad = ema.state_dict();
  bad["fc.weight"] = Tensor::zeros({2, 2});
  EXPECT_THROW(other.load_state_dict(bad), Error);
  bad.erase("fc.weight");
  EXPECT_THROW(other.load_state_dict(bad), Error);
  EXPECT_THROW(WeightEma(net, 1.f), Error);
}

// GANomaly-style alternation: a generator G and a discriminator D with their own optimizers.
// D's step sees G's output detached (no gradient reaches G); G's step goes through D, whose
// gradients are then dropped by D's own zero_grad. Each step must touch only its own network.
TEST(Autograd, AlternatingOptimizersWithDetachedInputs) {
  Rng rng(21);
  Tensor gw = randn({4, 3}, rng, 0.5f, true), dw = randn({1, 4}, rng, 0.5f, true);
  Adam opt_g({{"g.w", gw}}, AdamConfig{0.01f}), opt_d({{"d.w", dw}}, AdamConfig{0.01f});
  Tensor z = randn({5, 3}, rng), real = randn({5, 4}, rng);
  for (int step = 0; step < 3; ++step) {
    Tensor fake = tanh(linear(z, gw, Tensor()));
    // Discriminator step on detached fakes.
    opt_d.zero_grad();
    Tensor d_loss = add(bce_with_logits(linear(real, dw, Tensor()), Tensor::ones({5, 1})),
                        bce_with_logits(linear(fake.detach(), dw, Tensor()), Tensor::zeros({5, 1})));
    std::vector<float> g_before = gw.to_vector();
    std::vector<float> g_grad_before = gw.grad().defined() ? gw.grad().to_vector() : std::vector<float>();
    d_loss.backward();
    std::vector<float> g_grad_after = gw.grad().defined() ? gw.grad().to_vector() : std::vector<float>();
    EXPECT_EQ(g_grad_after, g_grad_before) << "D's loss leaked into G";
    ASSERT_TRUE(dw.grad().defined());
    opt_d.step();
    EXPECT_EQ(gw.to_vector(), g_before);
    // Generator step through the (updated) discriminator.
    opt_g.zero_grad();
    opt_d.zero_grad();
    std::vector<float> d_before = dw.to_vector();
    bce_with_logits(linear(fake, dw, Tensor()), Tensor::ones({5, 1})).backward();
    ASSERT_TRUE(gw.grad().defined());
    EXPECT_GT(sum(abs(gw.grad())).item(), 0.f);
    opt_g.step();
    EXPECT_EQ(dw.to_vector(), d_before);  // D's gradient exists but only opt_d may apply it
    EXPECT_NE(gw.to_vector(), g_before);
  }
}

// FAS_GRAD_BUCKET_KB: a whole number of KB or one error naming the variable (it used to fall back
// to the default silently on "abc", "0" or "-3").
TEST(GradSync, BucketSizeFromTheEnvironmentOrOneError) {
  EXPECT_EQ(dist::bucket_floats_from(nullptr), size_t(1) << 20);
  EXPECT_EQ(dist::bucket_floats_from("16"), size_t(16 * 256));
  EXPECT_EQ(dist::bucket_floats_from("1048576"), size_t(1) << 28);
  for (const char* bad : {"", "abc", "0", "-3", "16k", "1048577", "99999999999999999999"}) {
    try {
      dist::bucket_floats_from(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("FAS_GRAD_BUCKET_KB"), std::string::npos) << e.what();
    }
  }
}

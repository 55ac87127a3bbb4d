// MobileNetV2-lite (spec 003 §4): channel arithmetic, Keras padding, parameter counts and
// per-block shapes of both thesis configurations, the summary table, bad input, and PyTorch
// golden parity (forward, every gradient, three Adam steps) on the eye configuration 2x48x48.
#include <cmath>
#include <map>

#include "autograd/graph.h"
#include "autograd/zero_pad.h"
#include "layers/summary.h"
#include "models/mobilenetv2_lite.h"
#include "models/registry.h"
#include "optim/optim.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

MobileNetV2LiteConfig config(int64_t c, int64_t h, int64_t w) {
  MobileNetV2LiteConfig cfg;
  cfg.in_channels = c, cfg.height = h, cfg.width = w;
  return cfg;
}

// Output shape of every named layer in one forward pass of a batch-1 input.
std::map<std::string, Shape> layer_shapes(MobileNetV2Lite& m) {
  std::map<const Module*, std::string> names;
  for (auto& [n, c] : m.named_children()) names[c.get()] = n;
  const auto& cfg = m.config();
  SummaryTrace trace;
  NoGradGuard ng;
  m.eval();
  m(Tensor::zeros({1, cfg.in_channels, cfg.height, cfg.width}));
  std::map<std::string, Shape> out;
  for (auto& e : trace.entries) out[names.at(e.module)] = e.out_shape;
  return out;
}

}  // namespace

TEST(MobileNetV2Lite, KerasChannelArithmetic) {
  EXPECT_EQ(make_divisible(32 * 0.1, 8), 8);
  EXPECT_EQ(make_divisible(9, 8), 16);  // 96 * 0.1 -> int 9 -> 8 < 0.9 * 9, so 16 (§4.2)
  EXPECT_EQ(make_divisible(16, 8), 16);
  EXPECT_EQ(make_divisible(32, 8), 32);
  EXPECT_EQ(make_divisible(1, 8), 8);
  auto b = mobilenetv2_blocks(0.1);
  ASSERT_EQ(b.size(), 17u);
  const int64_t out[17] = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 32};
  const bool res[17] = {1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0};
  for (int i = 0; i < 17; ++i) {
    EXPECT_EQ(b[i].out_ch, out[i]) << "block " << i;
    EXPECT_EQ(b[i].residual, res[i]) << "block " << i;
    EXPECT_EQ(b[i].stride, (i == 1 || i == 3 || i == 6 || i == 13) ? 2 : 1) << "block " << i;
    EXPECT_EQ(b[i].expanded, b[i].in_ch * (i == 0 ? 1 : 6)) << "block " << i;
  }
  // The standard alpha = 1 network for contrast: 32 -> 16 in block 0, no residual there.
  auto full = mobilenetv2_blocks(1.0);
  EXPECT_EQ(full[0].in_ch, 32);
  EXPECT_EQ(full[0].out_ch, 16);
  EXPECT_FALSE(full[0].residual);
  EXPECT_EQ(full[16].out_ch, 320);
}

// Keras pads stride-2 convs with correct_pad; for odd kernels TF "same" gives the same pads on
// every size (3x3: even n (0, 1), odd n (1, 1)), so Conv2d's Padding::Same is an exact stand-in.
// With stride 1 they differ on even sizes (Keras never uses correct_pad there).
TEST(MobileNetV2Lite, CorrectPadEqualsSameForStride2) {
  for (int k : {3, 5, 7})
    for (int64_t n = 1; n <= 400; ++n) {
      auto p = keras_correct_pad(n, n + 1, k, k);
      Conv2dArgs a = conv_args_same(n, n + 1, k, k, 2, 2);
      EXPECT_EQ(p[0], a.pad_top) << k << " " << n;
      EXPECT_EQ(p[1], a.pad_bottom) << k << " " << n;
      EXPECT_EQ(p[2], a.pad_left) << k << " " << n;
      EXPECT_EQ(p[3], a.pad_right) << k << " " << n;
    }
  Conv2dArgs s1 = conv_args_same(24, 24, 3, 3, 1, 1);
  EXPECT_EQ(s1.pad_top, 1);
  EXPECT_EQ(keras_correct_pad(24, 24, 3, 3)[0], 0);
  EXPECT_THROW(keras_correct_pad(24, 24, 1, 1), Error);
  // Spec 003 §4.4 table: (250, 200) -> H (0,1), W (0,1); (125, 100) -> H (1,1), W (0,1).
  EXPECT_EQ(keras_correct_pad(250, 200, 3, 3), (std::array<int, 4>{0, 1, 0, 1}));
  EXPECT_EQ(keras_correct_pad(125, 100, 3, 3), (std::array<int, 4>{1, 1, 0, 1}));
  EXPECT_EQ(keras_correct_pad(3, 3, 3, 3), (std::array<int, 4>{1, 1, 1, 1}));
  EXPECT_THROW(keras_correct_pad(0, 4, 3, 3), Error);
}

TEST(ZeroPad2d, ForwardBackwardAndErrors) {
  Rng rng(5);
  Tensor x = randn({2, 3, 5, 4}, rng, 1.f, true);
  Tensor y = zero_pad2d(x, 1, 2, 0, 3);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 8, 7}));
  // Interior equals x, border is zero.
  for (int64_t p = 0; p < 6; ++p)
    for (int64_t r = 0; r < 8; ++r)
      for (int64_t c = 0; c < 7; ++c) {
        float v = y.data()[(p * 8 + r) * 7 + c];
        bool inside = r >= 1 && r < 6 && c < 4;
        EXPECT_EQ(v, inside ? x.data()[(p * 5 + r - 1) * 4 + c] : 0.f);
      }
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return zero_pad2d(in[0], 1, 2, 0, 3); }, {x}));
  Tensor odd = randn({1, 2, 7, 3}, rng, 1.f, true);
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return zero_pad2d(in[0], 0, 1, 1, 1); }, {odd}));
  EXPECT_THROW(zero_pad2d(x, -1, 0, 0, 0), Error);
  EXPECT_THROW(zero_pad2d(Tensor::zeros({3, 4}), 1, 1, 1, 1), Error);
}

// Spec 003 §4.1/§4.6: 87,289 trainable and 7,232 non-trainable (BN moving stats) parameters for
// the face and the eye model alike (global pooling makes the count size independent).
TEST(MobileNetV2Lite, ParameterCountsOfBothThesisConfigs) {
  for (auto cfg : {config(2, 250, 200), config(2, 48, 48)}) {
    Rng rng(1);
    MobileNetV2Lite m(cfg, rng);
    EXPECT_EQ(m.count_params(true), 87289);
    EXPECT_EQ(m.count_params(false), 7232);
    EXPECT_EQ(m.named_buffers().size(), 104u);  // 52 BN layers x (mean, var)
  }
  Rng rng(1);
  MobileNetV2Lite rgb(config(3, 128, 128), rng);
  EXPECT_EQ(rgb.count_params(true), 87289 + 9 * 8);  // one more input channel in Conv1
}

// Spec 003 §4.3 (output shapes, NCHW here) and §4.4 (padded sizes) for both thesis configs.
TEST(MobileNetV2Lite, PerBlockShapesOfSpecTable) {
  struct Row {
    const char* layer;
    int64_t c, face_h, face_w, eye_h, eye_w;
  };
  const Row rows[] = {
      {"Conv1_pad", 2, 251, 201, 49, 49},          {"Conv1_relu", 8, 125, 100, 24, 24},
      {"expanded_conv_add", 8, 125, 100, 24, 24},  {"block_1_expand_relu", 48, 125, 100, 24, 24},
      {"block_1_pad", 48, 127, 101, 25, 25},       {"block_1_project_BN", 8, 63, 50, 12, 12},
      {"block_2_add", 8, 63, 50, 12, 12},          {"block_3_pad", 48, 65, 51, 13, 13},
      {"block_3_project_BN", 8, 32, 25, 6, 6},     {"block_4_add", 8, 32, 25, 6, 6},
      {"block_5_add", 8, 32, 25, 6, 6},            {"block_6_pad", 48, 33, 27, 7, 7},
      {"block_6_project_BN", 8, 16, 13, 3, 3},     {"block_7_add", 8, 16, 13, 3, 3},
      {"block_8_add", 8, 16, 13, 3, 3},            {"block_9_add", 8, 16, 13, 3, 3},
      {"block_10_project_BN", 16, 16, 13, 3, 3},   {"block_11_add", 16, 16, 13, 3, 3},
      {"block_12_add", 16, 16, 13, 3, 3},          {"block_13_pad", 96, 17, 15, 5, 5},
      {"block_13_project_BN", 16, 8, 7, 2, 2},     {"block_14_add", 16, 8, 7, 2, 2},
      {"block_15_add", 16, 8, 7, 2, 2},            {"block_16_project_BN", 32, 8, 7, 2, 2},
      {"out_relu", 1280, 8, 7, 2, 2},
  };
  Rng rng(2);
  MobileNetV2Lite face(config(2, 250, 200), rng), eye(config(2, 48, 48), rng);
  auto fs = layer_shapes(face), es = layer_shapes(eye);
  for (const Row& r : rows) {
    ASSERT_TRUE(fs.count(r.layer)) << r.layer;
    EXPECT_EQ(fs[r.layer], (Shape{1, r.c, r.face_h, r.face_w})) << "face " << r.layer;
    EXPECT_EQ(es[r.layer], (Shape{1, r.c, r.eye_h, r.eye_w})) << "eye " << r.layer;
  }
  // Keras layer inventory: 52 BN, 35 ReLU6, 11 Add, 5 ZeroPadding2D, GAP and Logits.
  int bn = 0, relu = 0, add = 0, pad = 0;
  for (auto& [n, s] : fs) {
    bn += n.find("BN") != std::string::npos || n.find("bn") != std::string::npos;
    relu += n.find("relu") != std::string::npos;
    add += n.size() > 4 && n.compare(n.size() - 4, 4, "_add") == 0;
    pad += n.size() > 4 && n.compare(n.size() - 4, 4, "_pad") == 0;
  }
  EXPECT_EQ(bn, 52);
  EXPECT_EQ(relu, 35);
  EXPECT_EQ(add, 11);
  EXPECT_EQ(pad, 5);
  EXPECT_EQ(fs["global_average_pooling2d"], (Shape{1, 1280}));
  EXPECT_EQ(fs["Logits"], (Shape{1, 1}));
  EXPECT_EQ(es["Logits"], (Shape{1, 1}));
}

TEST(MobileNetV2Lite, SummaryTableTotals) {
  for (auto cfg : {config(2, 250, 200), config(2, 48, 48)}) {
    Rng rng(3);
    MobileNetV2Lite m(cfg, rng);
    std::string s = summary_table(m, {1, cfg.in_channels, cfg.height, cfg.width});
    EXPECT_NE(s.find("87,289"), std::string::npos) << s;
    EXPECT_NE(s.find("7,232"), std::string::npos) << s;
    EXPECT_NE(s.find("94,521"), std::string::npos) << s;
    EXPECT_NE(s.find("block_16_project_BN"), std::string::npos);
    EXPECT_NE(s.find("expanded_conv_add"), std::string::npos);
  }
}

// pad_layers = false runs Conv2d's own "same" padding instead of ZeroPadding2D + valid conv; with
// the same weights the outputs must agree (odd and even sizes, both modes).
TEST(MobileNetV2Lite, PadLayersEqualSamePadding) {
  for (auto cfg : {config(3, 37, 50), config(1, 64, 63)}) {
    Rng rng(4);
    MobileNetV2Lite a(cfg, rng);
    cfg.pad_layers = false;
    MobileNetV2Lite b(cfg, rng);
    b.load_state_dict(a.state_dict());
    EXPECT_EQ(b.count_params(true), a.count_params(true));
    Tensor x = randn({2, cfg.in_channels, cfg.height, cfg.width}, rng);
    EXPECT_TRUE(allclose(a(x), b(x), 1e-6f, 1e-5f));  // training mode: batch statistics
    a.eval(), b.eval();
    EXPECT_TRUE(allclose(a(x), b(x), 1e-6f, 1e-5f));
  }
}

TEST(MobileNetV2Lite, OutputIsProbabilityAndBadInputIsNamed) {
  Rng rng(6);
  MobileNetV2Lite m(config(3, 32, 32), rng);
  Tensor p = m(randn({4, 3, 32, 32}, rng));
  ASSERT_EQ(p.shape(), (Shape{4, 1}));
  for (float v : p.to_vector()) {
    EXPECT_GT(v, 0.f);
    EXPECT_LT(v, 1.f);
  }
  Tensor l = m.forward_logits(randn({2, 3, 32, 32}, rng));
  EXPECT_EQ(l.shape(), (Shape{2, 1}));
  for (Shape bad : {Shape{2, 1, 32, 32}, Shape{2, 3, 32, 31}, Shape{3, 32, 32}}) {
    try {
      m(Tensor::zeros(bad));
      FAIL() << "no throw for " << shape_str(bad);
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("MobileNetV2Lite"), std::string::npos) << msg;
      EXPECT_NE(msg.find("[N, 3, 32, 32]"), std::string::npos) << msg;
      EXPECT_NE(msg.find(shape_str(bad)), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(MobileNetV2Lite(config(0, 32, 32), rng), Error);
  // Patch training: P x P inputs in training mode only; evaluation keeps the full size.
  MobileNetV2LiteConfig pc = config(3, 64, 64);
  pc.train_patch = 32;
  MobileNetV2Lite pm(pc, rng);
  EXPECT_EQ(pm.forward_logits(randn({2, 3, 32, 32}, rng)).shape(), (Shape{2, 1}));
  EXPECT_THROW(pm.forward_logits(randn({2, 3, 64, 64}, rng)), Error);
  pm.eval();
  EXPECT_EQ(pm.forward_logits(randn({2, 3, 64, 64}, rng)).shape(), (Shape{2, 1}));
  try {
    pm.forward_logits(randn({2, 3, 32, 32}, rng));
    FAIL() << "eval mode took a patch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[N, 3, 64, 64]"), std::string::npos) << e.what();
  }
}

TEST(MobileNetV2Lite, TiledEvaluationIsTheMeanLogitOfTheTiles) {
  // eval_tiles: a 2 x 3 grid of 32 x 32 tiles of a 70 x 100 image (margins dropped), each scored
  // like a training patch, logits averaged per image; equal to cutting the tiles by hand.
  Rng rng(11);
  MobileNetV2LiteConfig c = config(3, 70, 100);
  c.train_patch = 32;
  c.pad_layers = false;
  c.eval_tiles = true;
  MobileNetV2Lite tiled(c, rng);
  tiled.eval();
  Tensor x = randn({2, 3, 70, 100}, rng);
  Tensor got = tiled.forward_logits(x);
  ASSERT_EQ(got.shape(), (Shape{2, 1}));
  c.eval_tiles = false;
  c.height = c.width = 32;
  c.train_patch = 0;
  Rng same(11);
  MobileNetV2Lite plain(c, same);  // the same weights (same seed and layer order)
  plain.eval();
  for (int64_t n = 0; n < 2; ++n) {
    double sum = 0;
    for (int64_t ty = 0; ty < 2; ++ty)
      for (int64_t tx = 0; tx < 3; ++tx) {
        Tensor t = Tensor::uninit({1, 3, 32, 32});
        for (int64_t ch = 0; ch < 3; ++ch)
          for (int64_t r = 0; r < 32; ++r)
            for (int64_t q = 0; q < 32; ++q)
              t.data()[(ch * 32 + r) * 32 + q] = x.data()[((n * 3 + ch) * 70 + ty * 32 + r) * 100 + tx * 32 + q];
        sum += plain.forward_logits(t).item();
      }
    EXPECT_NEAR(got.data()[n], sum / 6, 1e-5) << n;
  }
  tiled.train();  // training still takes patches
  EXPECT_EQ(tiled.forward_logits(randn({2, 3, 32, 32}, rng)).shape(), (Shape{2, 1}));
}

// ------------------------------------------------------------------ PyTorch golden parity
namespace {

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// Mirror of tools/golden_mobilenet.py init_value: FNV-1a of the name seeds splitmix64; each
// draw u = k / 2^23 - 1 is exact. All arithmetic in double, rounded once to float like numpy.
void golden_init(const std::string& name, Tensor& t, bool kink_free) {
  uint64_t state = 0xCBF29CE484222325ull;
  for (unsigned char c : name) state = (state ^ c) * 0x100000001B3ull;
  const std::string layer = name.substr(0, name.find('.')), leaf = name.substr(name.find('.') + 1);
  const bool relu_bn = ends_with(layer, "expand_BN") || ends_with(layer, "depthwise_BN") || layer == "bn_Conv1" ||
                       layer == "Conv_1_bn";
  const Shape& s = t.shape();
  double limit = 0;
  if (s.size() > 1) {
    int64_t rf = 1;
    for (size_t i = 2; i < s.size(); ++i) rf *= s[i];
    limit = std::sqrt(6.0 / static_cast<double>(kink_free ? s[1] * rf : s[1] * rf + s[0] * rf));
  }
  float* d = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 40) / static_cast<double>(1 << 23) - 1.0;
    double v;
    if (kink_free && relu_bn && leaf == "weight") v = 0.3 + 0.1 * u;
    else if (kink_free && relu_bn && leaf == "bias") v = (u < -0.7 ? -3.0 : u >= 0.7 ? 9.0 : 3.0) + 0.1 * u;
    else if (leaf == "running_var" || (leaf == "weight" && s.size() == 1)) v = 1.0 + 0.25 * u;
    else if (s.size() == 1) v = 0.1 * u;
    else v = u * limit;
    d[i] = static_cast<float>(v);
  }
}

const char* kCase = "mobilenet";

std::shared_ptr<MobileNetV2Lite> golden_model(bool kink_free) {
  Rng rng(0);
  auto m = std::make_shared<MobileNetV2Lite>(config(2, 48, 48), rng);
  for (auto& [n, t] : m->state_dict()) {
    Tensor d = t;
    golden_init(n, d, kink_free);
  }
  return m;
}

// |ours - golden| <= atol + rtol * max|golden| elementwise; reports the worst element.
::testing::AssertionResult close_to_golden(const std::string& what, const Tensor& ours, const Tensor& gold,
                                           float atol, float rtol) {
  if (ours.shape() != gold.shape())
    return ::testing::AssertionFailure() << what << ": shape " << shape_str(ours.shape()) << " vs golden "
                                         << shape_str(gold.shape());
  float gmax = 0, worst = 0;
  for (float v : gold.to_vector()) gmax = std::max(gmax, std::fabs(v));
  const float tol = atol + rtol * gmax;
  int64_t at = 0;
  for (int64_t i = 0; i < gold.numel(); ++i) {
    float d = std::fabs(ours.data()[i] - gold.data()[i]);
    if (!(d <= worst)) worst = d, at = i;  // also catches NaN
  }
  if (worst <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": |diff| " << worst << " at " << at << " (ours "
                                       << ours.data()[at] << ", golden " << gold.data()[at] << ") > tol " << tol;
}

}  // namespace

// Part A (tools/golden_mobilenet.py): Keras-like init, every ReLU6 input >= 1e-5 from a kink.
// Tolerances, float32 here against float64: outputs and loss 2e-5 absolute; gradients 2e-4 of
// the tensor's largest |grad| (torch's own float32 run is within 8.4e-5). The 17 project-BN
// biases have an exact gradient of 0 (their shift reaches only 1x1 convs followed by
// training-mode BN, which removes it): ours is float32 noise, held to 2e-6 absolute.
TEST(MobileNetV2Lite, GoldenForwardAndGradientsEye2x48x48) {
  auto m = golden_model(false);
  Tensor x = load_golden(kCase, "x"), y = load_golden(kCase, "y");
  m->eval();
  {
    NoGradGuard ng;
    EXPECT_TRUE(close_to_golden("out_eval0", (*m)(x), load_golden(kCase, "out_eval0"), 2e-5f, 0));
  }
  m->train();
  Tensor p = (*m)(x);
  EXPECT_TRUE(close_to_golden("out", p, load_golden(kCase, "out"), 2e-5f, 0));
  Tensor loss = bce_loss(p, y);
  EXPECT_NEAR(loss.item(), load_golden(kCase, "loss0").item(), 2e-5f);
  loss.backward();
  int checked = 0, zero = 0;
  for (auto& [n, t] : m->named_parameters()) {
    ASSERT_TRUE(t.grad().defined()) << n;
    const bool structural_zero = n.find("project_BN.bias") != std::string::npos;
    zero += structural_zero;
    EXPECT_TRUE(close_to_golden("grad." + n, t.grad(), load_golden(kCase, "grad." + n),
                                structural_zero ? 2e-6f : 0.f, structural_zero ? 0.f : 2e-4f));
    ++checked;
  }
  EXPECT_EQ(checked, 52 * 2 + 53 + 1);  // 52 BN gamma+beta, 53 weight tensors, Dense bias
  EXPECT_EQ(zero, 17);
}

// Part B: three Adam steps (PyTorch form, lr 1e-3, eps 1e-3) from the well-conditioned init
// (every ReLU6 input >= 0.5 from a kink; see the generator for why). Tolerances: losses and
// outputs 2e-5 absolute; every parameter and running statistic 1e-5 absolute after the steps
// (1 % of one lr step; torch's own float32 run is within 1e-6).
TEST(MobileNetV2Lite, GoldenThreeAdamStepsEye2x48x48) {
  auto m = golden_model(true);
  Tensor x = load_golden(kCase, "xb"), y = load_golden(kCase, "yb"), gl = load_golden(kCase, "loss_adam");
  AdamConfig ac;
  ac.lr = 1e-3f;
  ac.eps = 1e-3f;
  Adam opt(m->named_parameters(), ac);
  m->train();
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor loss = bce_loss((*m)(x), y);
    EXPECT_NEAR(loss.item(), gl.data()[step], 2e-5f) << "step " << step;
    loss.backward();
    opt.step();
  }
  int checked = 0;
  for (auto& [n, t] : m->state_dict()) {
    EXPECT_TRUE(close_to_golden("step3." + n, t, load_golden(kCase, "step3." + n), 1e-5f, 0));
    ++checked;
  }
  EXPECT_EQ(checked, 52 * 4 + 53 + 1);
  m->eval();
  NoGradGuard ng;
  EXPECT_TRUE(close_to_golden("out_eval3", (*m)(x), load_golden(kCase, "out_eval3"), 2e-5f, 0));
}

// The registry entry (src/models/mobilenetv2_lite_register.cpp) behind fas train/eval/summary.

TEST(MobileNetV2Lite, RegistryEntryBuildsTrainsAndScores) {
  const ModelInfo& info = find_model("mobilenetv2-lite");
  EXPECT_EQ(info.score, ScoreKind::LiveProbability);
  Json cfg = make_config(info, {"height=40", "width=36"});
  Rng rng(7);
  auto m = info.build(cfg, rng);
  EXPECT_EQ(m->count_params(true), 87289 + 9 * 8);
  EXPECT_EQ(m->count_params(false), 7232);
  Tensor x = randu({4, 3, 40, 36}, rng, 0.f, 1.f), y = Tensor::from({4}, {1, 0, 1, 0});
  Tensor loss = model_loss(info, *m, x, y);
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  for (auto& [n, t] : m->named_parameters()) EXPECT_TRUE(t.grad().defined()) << n;
  m->eval();
  std::vector<float> s = model_scores(info, *m, x);
  ASSERT_EQ(s.size(), 4u);
  auto& net = dynamic_cast<MobileNetV2Lite&>(*m);
  NoGradGuard ng;
  std::vector<float> p = net(x).to_vector();
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(s[i], p[i]);  // score = P(live)
  EXPECT_THROW(make_config(info, {"nonsense=1"}), Error);
}

// LBP histograms (kernels/lbp.h, layers/lbp.h) and the lbp-lr model (models/lbp_lr.cpp):
// the kernel against a plain per-pixel reference on ragged sizes, its invariances, the Python
// reference's features of two bundled crops (tools/golden_lbp.py), and the model's objective.
#include <cmath>
#include <numeric>

#include "autograd/graph.h"
#include "io/image.h"
#include "kernels/lbp.h"
#include "layers/lbp.h"
#include "models/registry.h"
#include "optim/optim.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// The code of pixel (y, x) spelled out neighbour by neighbour, and a per-cell bincount.
std::vector<float> reference_hist(const std::vector<float>& p, int64_t H, int64_t W, int r, int grid) {
  const int dy[8] = {-r, -r, -r, 0, r, r, r, 0}, dx[8] = {-r, 0, r, r, r, 0, -r, -r};
  const int64_t h = H - 2 * r, w = W - 2 * r;
  std::vector<float> out((size_t)grid * grid * kLbpBins, 0.f);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      int code = 0;
      for (int b = 0; b < 8; ++b) code += (p[(y + r + dy[b]) * W + x + r + dx[b]] >= p[(y + r) * W + x + r]) << b;
      int gy = 0, gx = 0;
      while ((gy + 1) * h / grid <= y) ++gy;
      while ((gx + 1) * w / grid <= x) ++gx;
      out[(size_t)(gy * grid + gx) * kLbpBins + lbp_u2_bins()[code]] += 1.f;
    }
  for (int gy = 0; gy < grid; ++gy)
    for (int gx = 0; gx < grid; ++gx) {
      const float n = (float)(((gy + 1) * h / grid - gy * h / grid) * ((gx + 1) * w / grid - gx * w / grid));
      for (int k = 0; k < kLbpBins; ++k) out[(size_t)(gy * grid + gx) * kLbpBins + k] /= n;
    }
  return out;
}

std::vector<float> kernel_hist(const std::vector<float>& p, int64_t H, int64_t W, int r, int grid, float scale = 1.f) {
  std::vector<float> out((size_t)grid * grid * kLbpBins, -1.f);
  f32_lbp8_u2_hist(p.data(), H, W, r, grid, scale, out.data());
  return out;
}

// Values k/64 (exact in float, many ties as in 8-bit images).
std::vector<float> dyadic_plane(int64_t n, Rng& rng) {
  std::vector<float> p((size_t)n);
  for (auto& v : p) v = (float)rng.below(64) / 64.f;
  return p;
}

}  // namespace

TEST(Lbp, UniformBins) {
  const uint8_t* bins = lbp_u2_bins();
  int uniform = 0;
  std::vector<int> seen(kLbpBins, 0);
  for (int v = 0; v < 256; ++v) {
    ++seen[bins[v]];
    uniform += bins[v] < kLbpBins - 1;
  }
  EXPECT_EQ(uniform, 58);  // 2 constant codes + 8 positions x 7 run lengths
  for (int k = 0; k < kLbpBins - 1; ++k) EXPECT_EQ(seen[k], 1) << k;
  EXPECT_EQ(seen[kLbpBins - 1], 256 - 58);
  EXPECT_EQ(bins[0], 0);
  EXPECT_LT(bins[0xFF], kLbpBins - 1);
  EXPECT_LT(bins[0x0F], kLbpBins - 1);                 // one run of four ones
  EXPECT_EQ(bins[0x55], kLbpBins - 1);                 // 01010101: eight transitions
  EXPECT_EQ(bins[0x81], bins[0x81]);                   // wraps around: ones at bits 7 and 0
  EXPECT_LT(bins[0x81], kLbpBins - 1);
}

TEST(Lbp, HandComputedCode) {
  // Centre 5; neighbours clockwise from the top-left: 9 1 9 / . 9 / 1 1 1 ... as laid out below.
  const std::vector<float> p = {9, 1, 9,   //
                                1, 5, 9,   //
                                1, 1, 9};
  // bit0 (-1,-1)=9 set, bit1 (-1,0)=1, bit2 (-1,1)=9 set, bit3 (0,1)=9 set, bit4 (1,1)=9 set,
  // bit5 (1,0)=1, bit6 (1,-1)=1, bit7 (0,-1)=1: code 0b00011101 = 29 (non-uniform: 4 transitions).
  auto h = kernel_hist(p, 3, 3, 1, 1);
  EXPECT_EQ(h[lbp_u2_bins()[29]], 1.f);
  EXPECT_EQ(lbp_u2_bins()[29], kLbpBins - 1);
  EXPECT_FLOAT_EQ(std::accumulate(h.begin(), h.end(), 0.f), 1.f);
  // 0b00011100 = 28: one run of ones, a uniform code with a bin of its own.
  const std::vector<float> q = {1, 1, 9, 1, 5, 9, 1, 1, 9};
  auto g = kernel_hist(q, 3, 3, 1, 1);
  EXPECT_EQ(g[lbp_u2_bins()[28]], 1.f);
  EXPECT_LT(lbp_u2_bins()[28], kLbpBins - 1);
}

TEST(Lbp, KernelEqualsReferenceOnRaggedShapes) {
  Rng rng(7);
  for (int64_t H : {7, 13, 32, 41})
    for (int64_t W : {9, 16, 37})
      for (int r : {1, 2, 3})
        for (int grid : {1, 2, 3, 4}) {
          if (std::min(H, W) - 2 * r < grid) continue;
          auto p = dyadic_plane(H * W, rng);
          auto want = reference_hist(p, H, W, r, grid);
          auto got = kernel_hist(p, H, W, r, grid, 59.f);
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], 59.f * want[i], 1e-4f) << H << "x" << W << " r" << r << " grid" << grid << " i" << i;
          for (int c = 0; c < grid * grid; ++c)  // each cell sums to the scale
            EXPECT_NEAR(std::accumulate(got.begin() + c * kLbpBins, got.begin() + (c + 1) * kLbpBins, 0.f), 59.f, 1e-3f);
        }
}

// Every ISA's variant against the reference, bit for bit: widths around the vector widths and
// past the 64-pixel chunk, cells that split chunks, ties, NaN (compares false) and signed zeros.
TEST(Lbp, IsaVariantsEqualReferenceExactly) {
  Rng rng(11);
  for (Isa isa : available_isas()) {  // Scalar: the one-lane template, not the reference
    const Lbp8U2HistFn fn = lbp8_u2_hist_kernel(isa);
    for (int64_t H : {5, 19, 40})
      for (int64_t W : {5, 11, 18, 23, 35, 70, 137, 150})
        for (int r : {1, 2, 3})
          for (int grid : {1, 2, 3, 5}) {
            if (std::min(H, W) - 2 * r < grid) continue;
            auto p = dyadic_plane(H * W, rng);
            for (int k = 0; k < 3; ++k) p[rng.below((uint64_t)(H * W))] = std::nanf("");
            p[rng.below((uint64_t)(H * W))] = -0.f;
            p[rng.below((uint64_t)(H * W))] = 0.f;
            std::vector<float> want((size_t)grid * grid * kLbpBins, -1.f), got(want.size(), -2.f);
            f32_lbp8_u2_hist__ref(p.data(), H, W, r, grid, 59.f, want.data());
            fn(p.data(), H, W, r, grid, 59.f, got.data());
            for (size_t i = 0; i < want.size(); ++i)
              ASSERT_EQ(got[i], want[i]) << isa_name(isa) << " " << H << "x" << W << " r" << r << " grid" << grid
                                         << " i" << i;
          }
  }
}

TEST(Lbp, InvariantToMonotonicGreyLevelChanges) {
  Rng rng(3);
  const int64_t H = 29, W = 31;
  auto p = dyadic_plane(H * W, rng);
  auto base = kernel_hist(p, H, W, 2, 3);
  std::vector<float> q(p.size());
  for (size_t i = 0; i < p.size(); ++i) q[i] = 0.25f + 0.5f * p[i] * p[i];  // increasing on [0, 1], exact
  EXPECT_EQ(kernel_hist(q, H, W, 2, 3), base);
  for (size_t i = 0; i < p.size(); ++i) q[i] = 1.f - p[i];  // a decreasing map is not invariant
  EXPECT_NE(kernel_hist(q, H, W, 2, 3), base);
}

TEST(Lbp, LayerMatchesPythonReferenceOnSampleCrops) {
  // Two bundled crops as PIL decoded them (stb_image's JPEG decoder differs by a grey level here
  // and there, and LBP bits follow such changes).
  for (int i = 0; i < 2; ++i)
    for (const char* space : {"ycc", "grey"}) {
      Tensor img = load_golden("lbp", "img" + std::to_string(i) + "_rgb");
      LbpConfig c;
      c.space = parse_lbp_space(space);
      c.scale = 1.f;
      Tensor f = LbpHistogram(c).forward(img.reshape({1, 3, img.size(1), img.size(2)}));
      Tensor want = load_golden("lbp", "img" + std::to_string(i) + "_" + space);
      ASSERT_EQ(f.numel(), want.numel());
      // Integer luma/chroma on 8-bit levels on both sides: the same codes, so the same counts;
      // only the division by the cell size may round differently.
      EXPECT_LT(max_abs_diff(f.reshape({f.numel()}), want.reshape({want.numel()})), 1e-6f) << "image " << i << " " << space;
    }
}

TEST(Lbp, LayerShapesAndErrors) {
  Rng rng(1);
  LbpConfig c;
  LbpHistogram ycc(c);
  EXPECT_EQ(ycc.features(), 3 * 3 * 9 * 59);
  Tensor x = randu({2, 3, 20, 24}, rng, 0.f, 1.f);
  EXPECT_EQ(ycc.forward(x).shape(), (Shape{2, ycc.features()}));
  EXPECT_TRUE(has(error_of([&] { ycc.forward(randu({2, 1, 20, 20}, rng, 0.f, 1.f)); }), "[N, 3, H, W]"));
  EXPECT_TRUE(has(error_of([&] { ycc.forward(randu({1, 3, 8, 8}, rng, 0.f, 1.f)); }), "too small"));
  c.space = LbpSpace::Grey;
  LbpHistogram grey(c);
  // Grey from 3 channels is the luma channel of ycc (the first third of its features).
  Tensor a = grey.forward(x), full = ycc.forward(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < grey.features(); ++k)
      ASSERT_EQ(a.data()[n * grey.features() + k], full.data()[n * ycc.features() + k]) << k;
  // One channel: the plane's 8-bit levels as they are.
  std::vector<float> lv = dyadic_plane(20 * 24, rng);
  Tensor one = Tensor::from({1, 1, 20, 24}, lv);
  Tensor b = grey.forward(one);
  for (size_t k = 0; k < c.radii.size(); ++k) {
    auto want = kernel_hist(std::vector<float>(lv.begin(), lv.end()), 20, 24, c.radii[k], 3, 59.f);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(b.data()[k * want.size() + i], want[i]);
  }
  EXPECT_TRUE(has(error_of([] { parse_lbp_space("hsv"); }), "'hsv'"));
  // Piecewise constant in the input: no gradient path, even from an input that asks for one.
  Tensor xg = randu({1, 3, 20, 24}, rng, 0.f, 1.f, true);
  EXPECT_FALSE(ycc.forward(xg).requires_grad());
  LbpConfig bad;
  bad.radii = {0};
  EXPECT_TRUE(has(error_of([&] { LbpHistogram{bad}; }), "radius"));
}

TEST(LbpLr, ParametersAndObjective) {
  const ModelInfo& info = find_model("lbp-lr");
  Rng rng(5);
  Json cfg = info.defaults;
  cfg["height"] = 32;
  cfg["width"] = 32;
  auto m = info.build(cfg, rng);
  EXPECT_EQ(m->count_params(true), 4779 + 1);
  // Zero weights: every logit is the intercept 0, so the loss is log 2 and the penalty 0.
  Tensor x = randu({4, 3, 32, 32}, rng, 0.f, 1.f), y = Tensor::from({4}, {1, 0, 1, 0});
  EXPECT_NEAR(info.loss(*m, x, y).item(), std::log(2.f), 1e-6f);
  // With weights w the loss adds ||w||^2 / (2 C n) (default C = 1, n = 3488), not for the bias.
  auto sd = m->state_dict();
  for (int64_t k = 0; k < sd["logits.weight"].numel(); ++k) sd["logits.weight"].data()[k] = 0.f;
  sd["logits.weight"].data()[0] = 3.f;
  sd["logits.bias"].data()[0] = 100.f;  // all predicted live, never penalised
  m->load_state_dict(sd);
  NoGradGuard ng;
  Tensor feats = m->named_children()[0].second->forward(x);
  double bce = 0;
  for (int i = 0; i < 4; ++i) {
    const double z = 100.0 + 3.0 * (feats.data()[i * feats.size(1)] - 1.0);
    const double t = y.data()[i];
    bce += std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
  }
  EXPECT_NEAR(info.loss(*m, x, y).item(), bce / 4 + 9.0 / (2 * 3488.0), 1e-3);
  cfg["C"] = 0;
  EXPECT_TRUE(has(error_of([&] { info.build(cfg, rng); }), "C > 0"));
  cfg["C"] = 1;
  cfg["channels"] = 1;
  EXPECT_TRUE(has(error_of([&] { info.build(cfg, rng); }), "3 input channels"));
}

TEST(LbpLr, GoldenThreeAdamStepsOnTwoCrops) {
  // PyTorch reference (tools/golden_lbp.py, float64): the same features, loss and Adam (lr 0.01)
  // from zero weights and bias 0.1 on the two bundled crops (live, spoof). Tolerances: losses
  // 1e-6 (the penalty alone is 7e-5 after one step); weights and bias 2e-6 absolute after three
  // steps (0.02 % of one lr step; measured 3e-7). Adam's first steps are lr * sign(gradient), so
  // a gradient sign flipped by rounding would show as a whole step.
  const ModelInfo& info = find_model("lbp-lr");
  Rng rng(5);
  auto m = info.build(info.defaults, rng);
  auto sd = m->state_dict();
  sd["logits.bias"].data()[0] = 0.1f;
  m->load_state_dict(sd);
  Tensor a = load_golden("lbp", "img0_rgb"), b = load_golden("lbp", "img1_rgb");
  Tensor x = Tensor::zeros({2, 3, a.size(1), a.size(2)});
  std::copy(a.data(), a.data() + a.numel(), x.data());
  std::copy(b.data(), b.data() + b.numel(), x.data() + a.numel());
  Tensor y = Tensor::from({2}, {1, 0}), gl = load_golden("lbp", "adam_loss");
  AdamConfig ac;
  ac.lr = 0.01f;
  Adam opt(m->named_parameters(), ac);
  m->train();
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor loss = model_loss(info, *m, x, y);
    EXPECT_NEAR(loss.item(), gl.data()[step], 1e-6f) << "step " << step;
    loss.backward();
    opt.step();
  }
  sd = m->state_dict();
  Tensor w = sd["logits.weight"], gw = load_golden("lbp", "adam_weight3");
  ASSERT_EQ(w.numel(), gw.numel());
  EXPECT_LT(max_abs_diff(w.reshape({w.numel()}), gw.reshape({gw.numel()})), 2e-6f);
  EXPECT_NEAR(sd["logits.bias"].data()[0], load_golden("lbp", "adam_bias3").data()[0], 2e-6f);
  EXPECT_GT(max_abs_diff(w.reshape({w.numel()}), Tensor::zeros({w.numel()})), 0.01f);  // the weights did move
}

// conv2d / conv_transpose2d: padding rules, gradient checks, fast kernels == reference, errors,
// layers. Convolution is linear in each argument, so the finite differences are exact up to
// float32 rounding: the checks take long steps (0.1), which keeps that rounding small.
#include <cmath>
#include <functional>
#include <string>

#include "autograd/graph.h"
#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "kernels/cpu.h"
#include "kernels/dwconv.h"
#include "kernels/gemm.h"
#include "layers/conv.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

Conv2dArgs pads(int t, int b, int l, int r, int s = 1, int dil = 1, int groups = 1) {
  Conv2dArgs a;
  a.pad_top = t, a.pad_bottom = b, a.pad_left = l, a.pad_right = r;
  a.stride_h = a.stride_w = s, a.dil_h = a.dil_w = dil, a.groups = groups;
  return a;
}

void expect_pads(const Conv2dArgs& a, int t, int b, int l, int r) {
  EXPECT_EQ(a.pad_top, t);
  EXPECT_EQ(a.pad_bottom, b);
  EXPECT_EQ(a.pad_left, l);
  EXPECT_EQ(a.pad_right, r);
}

}  // namespace

// ---------------------------------------------------------------- output-size rules

TEST(ConvRules, SameMatchesKeras) {
  // Keras Conv2D(3, strides=2, padding="same") on 224: 112, TF pads (0 top, 1 bottom).
  Conv2dArgs a = conv_args_same(224, 224, 3, 3, 2, 2);
  expect_pads(a, 0, 1, 0, 1);
  EXPECT_EQ(conv_out_size(224, 3, 2, a.pad_top, a.pad_bottom), 112);
  // Odd input: 225 -> 113 with symmetric (1, 1) (= MobileNetV2's correct_pad on odd sizes).
  a = conv_args_same(225, 7, 3, 3, 2, 2);
  expect_pads(a, 1, 1, 1, 1);
  EXPECT_EQ(conv_out_size(225, 3, 2, 1, 1), 113);
  EXPECT_EQ(conv_out_size(7, 3, 2, 1, 1), 4);
  // Stride 1: pads k-1 split, odd one at the bottom: k4 -> (1, 2); k5 -> (2, 2).
  a = conv_args_same(10, 9, 4, 5, 1, 1);
  expect_pads(a, 1, 2, 2, 2);
  // 1x1 stride 2 on 7: out 4, no padding needed.
  a = conv_args_same(7, 7, 1, 1, 2, 2);
  expect_pads(a, 0, 0, 0, 0);
  EXPECT_EQ(conv_out_size(7, 1, 2, 0, 0), 4);
  // Dilation 2, k3 -> effective 5: pads (2, 2), size kept.
  a = conv_args_same(9, 9, 3, 3, 1, 1, 2, 2);
  expect_pads(a, 2, 2, 2, 2);
  EXPECT_EQ(conv_out_size(9, 3, 1, 2, 2, 2), 9);
  // k5 s2 on 15: out 8, total pad 14 + 5 - 15 = 4 -> (2, 2); on 16: total 3 -> (1, 2).
  expect_pads(conv_args_same(15, 16, 5, 5, 2, 2), 2, 2, 1, 2);
  // Valid-style sizes and the kernel-too-big case.
  EXPECT_EQ(conv_out_size(7, 3, 1, 0, 0), 5);
  EXPECT_EQ(conv_out_size(2, 3, 1, 0, 0), 0);
  EXPECT_THROW(conv_args_same(0, 5, 3, 3, 1, 1), Error);
  EXPECT_THROW(conv_out_size(5, 3, 0, 0, 0), Error);
}

TEST(ConvRules, TransposeMatchesKeras) {
  // Keras Conv2DTranspose(k3, s2): "same" 7 -> 14 (crop bottom/right only), "valid" 7 -> 15.
  ConvT2dArgs a = convt_args_keras(Padding::Same, 7, 7, 3, 3, 2, 2);
  EXPECT_EQ(a.pad_top, 0);
  EXPECT_EQ(a.pad_bottom, 1);
  EXPECT_EQ(a.out_pad_h, 0);
  a = convt_args_keras(Padding::Valid, 7, 5, 3, 3, 2, 2);
  EXPECT_EQ(a.pad_top + a.pad_bottom + a.pad_left + a.pad_right + a.out_pad_h + a.out_pad_w, 0);
  // k4 s2 same: total crop 2 -> (1, 1); k5 s2 same: crop 3 -> (1, 2); k2 s2: none.
  a = convt_args_keras(Padding::Same, 4, 4, 4, 5, 2, 2);
  EXPECT_EQ(a.pad_top, 1);
  EXPECT_EQ(a.pad_bottom, 1);
  EXPECT_EQ(a.pad_left, 1);
  EXPECT_EQ(a.pad_right, 2);
  // k1 s2: the full output (in-1)*2+1 is one short of Keras' length -> output_padding 1.
  a = convt_args_keras(Padding::Same, 5, 5, 1, 1, 2, 2);
  EXPECT_EQ(a.out_pad_h, 1);
  EXPECT_EQ(a.pad_top + a.pad_bottom, 0);
  a = convt_args_keras(Padding::Valid, 5, 5, 1, 1, 3, 3);
  EXPECT_EQ(a.out_pad_h, 2);
  EXPECT_THROW(convt_args_keras(Padding::Explicit, 5, 5, 3, 3, 2, 2), Error);

  // Output shapes through the op: same -> in*s, valid -> in*s + max(k-s, 0).
  Rng rng(1);
  struct C { Padding p; int64_t h, w; int k, s; int64_t oh, ow; };
  for (C c : {C{Padding::Same, 7, 6, 3, 2, 14, 12}, C{Padding::Valid, 7, 6, 3, 2, 15, 13},
              C{Padding::Same, 5, 4, 1, 2, 10, 8}, C{Padding::Valid, 5, 4, 1, 2, 10, 8},
              C{Padding::Same, 3, 3, 4, 1, 3, 3}, C{Padding::Valid, 3, 3, 4, 1, 6, 6}}) {
    Tensor x = randn({1, 2, c.h, c.w}, rng), w = randn({2, 3, c.k, c.k}, rng);
    Tensor y = conv_transpose2d(x, w, Tensor(), convt_args_keras(c.p, c.h, c.w, c.k, c.k, c.s, c.s));
    EXPECT_EQ(y.shape(), (Shape{1, 3, c.oh, c.ow})) << "k" << c.k << " s" << c.s;
  }
}

// TF defines conv2d_transpose as the gradient of conv2d: for the conv with input length L (the
// transposed output) and TF's padding mode, <conv_transpose(x), y> == <x, conv2d(y)> for all x, y.
// Checking that identity verifies convt_args_keras's crop/pad split against TF's own rule.
TEST(ConvRules, KerasTransposeIsAdjointOfTfConv) {
  Rng rng(2);
  struct C { int64_t h, w; int k, s; };
  for (Padding mode : {Padding::Same, Padding::Valid})
    for (C c : {C{7, 6, 3, 2}, C{5, 5, 4, 2}, C{4, 3, 5, 2}, C{5, 4, 1, 2}, C{3, 4, 2, 3}, C{6, 5, 3, 1}}) {
      Tensor x = randn({2, 3, c.h, c.w}, rng), w = randn({3, 2, c.k, c.k}, rng);
      Tensor yt = conv_transpose2d(x, w, Tensor(), convt_args_keras(mode, c.h, c.w, c.k, c.k, c.s, c.s));
      const int64_t L_h = yt.size(2), L_w = yt.size(3);
      Conv2dArgs ca = mode == Padding::Same ? conv_args_same(L_h, L_w, c.k, c.k, c.s, c.s) : pads(0, 0, 0, 0, c.s);
      ca.stride_h = ca.stride_w = c.s;
      Tensor y = randn(yt.shape(), rng);
      Tensor cy = conv2d(y, w, Tensor(), ca);  // conv with the transposed output's size as input
      ASSERT_EQ(cy.shape(), x.shape()) << "k" << c.k << " s" << c.s;
      double lhs = 0, rhs = 0;
      for (int64_t i = 0; i < y.numel(); ++i) lhs += (double)yt.data()[i] * y.data()[i];
      for (int64_t i = 0; i < x.numel(); ++i) rhs += (double)x.data()[i] * cy.data()[i];
      EXPECT_NEAR(lhs, rhs, 1e-3 * (1 + std::fabs(lhs))) << "k" << c.k << " s" << c.s;
    }
}

// ---------------------------------------------------------------- gradient checks

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dArgs a;
  bool bias;
};

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

class ConvGrad : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGrad, InputWeightBias) {
  const ConvCase& c = GetParam();
  Rng rng(11);
  Tensor x = randn(c.x, rng, 1.f, true), w = randn(c.w, rng, 0.5f, true);
  std::vector<Tensor> in = {x, w};
  if (c.bias) in.push_back(randn({c.w[0]}, rng, 1.f, true));
  Conv2dArgs a = c.a;
  // Linear in each input: a long step is exact and lifts the signal above L's rounding.
  EXPECT_TRUE(gradcheck([a](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), a); },
                        in, 1e-1f));
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ConvGrad,
    ::testing::Values(ConvCase{"s1_same_odd", {2, 3, 7, 5}, {4, 3, 3, 3}, conv_args_same(7, 5, 3, 3, 1, 1), true},
                      ConvCase{"s2_same_even_asym", {2, 3, 8, 6}, {4, 3, 3, 3}, conv_args_same(8, 6, 3, 3, 2, 2), true},
                      ConvCase{"s2_same_odd", {1, 2, 7, 9}, {3, 2, 3, 3}, conv_args_same(7, 9, 3, 3, 2, 2), true},
                      ConvCase{"explicit_asym", {2, 2, 5, 6}, {3, 2, 3, 2}, pads(1, 2, 0, 3), true},
                      ConvCase{"dilation2", {1, 2, 9, 7}, {3, 2, 3, 3}, pads(2, 2, 2, 2, 1, 2), true},
                      ConvCase{"dil2_s2_same", {1, 2, 8, 9}, {2, 2, 3, 3}, conv_args_same(8, 9, 3, 3, 2, 2, 2, 2), false},
                      ConvCase{"groups2", {2, 4, 6, 5}, {6, 2, 3, 3}, pads(1, 1, 1, 1, 1, 1, 2), true},
                      ConvCase{"groups3_s2", {1, 6, 7, 7}, {3, 2, 3, 3}, pads(1, 0, 0, 1, 2, 1, 3), true},
                      ConvCase{"depthwise_s2", {2, 5, 8, 7}, {5, 1, 3, 3}, pads(0, 1, 1, 1, 2, 1, 5), true},
                      ConvCase{"depthwise_k5_dil2", {1, 3, 9, 8}, {3, 1, 5, 5}, pads(4, 4, 3, 4, 1, 2, 3), false},
                      ConvCase{"depthwise_mult2", {1, 3, 6, 5}, {6, 1, 3, 3}, pads(1, 1, 1, 1, 1, 1, 3), true},
                      ConvCase{"pointwise", {2, 6, 5, 7}, {3, 6, 1, 1}, pads(0, 0, 0, 0), true},
                      ConvCase{"pointwise_s2", {1, 5, 7, 6}, {4, 5, 1, 1}, pads(0, 0, 0, 0, 2), true},
                      ConvCase{"prime_k5x3_s3", {2, 3, 11, 13}, {2, 3, 5, 3}, pads(2, 1, 1, 2, 3), true},
                      ConvCase{"no_bias_1x1_input", {3, 2, 1, 1}, {5, 2, 1, 1}, pads(0, 0, 0, 0), false}),
    [](const ::testing::TestParamInfo<ConvCase>& i) { return std::string(i.param.name); });

struct ConvTCase {
  const char* name;
  Shape x, w;
  ConvT2dArgs a;
  bool bias;
};

ConvT2dArgs tpads(int p, int op, int s, int groups = 1, int dil = 1) {
  ConvT2dArgs a;
  a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = p;
  a.out_pad_h = a.out_pad_w = op;
  a.stride_h = a.stride_w = s, a.groups = groups, a.dil_h = a.dil_w = dil;
  return a;
}

ConvT2dArgs keras(Padding p, int64_t h, int64_t w, int k, int s, int groups = 1) {
  ConvT2dArgs a = convt_args_keras(p, h, w, k, k, s, s);
  a.groups = groups;
  return a;
}

void PrintTo(const ConvTCase& c, std::ostream* os) { *os << c.name; }

class ConvTGrad : public ::testing::TestWithParam<ConvTCase> {};

TEST_P(ConvTGrad, InputWeightBias) {
  const ConvTCase& c = GetParam();
  Rng rng(12);
  Tensor x = randn(c.x, rng, 1.f, true), w = randn(c.w, rng, 0.5f, true);
  std::vector<Tensor> in = {x, w};
  if (c.bias) in.push_back(randn({c.w[1] * c.a.groups}, rng, 1.f, true));
  ConvT2dArgs a = c.a;
  EXPECT_TRUE(gradcheck(
      [a](const std::vector<Tensor>& v) { return conv_transpose2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), a); },
      in, 1e-1f));  // linear in each input, as conv2d
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ConvTGrad,
    ::testing::Values(ConvTCase{"s2_pad1_outpad1", {2, 3, 4, 5}, {3, 2, 3, 3}, tpads(1, 1, 2), true},
                      ConvTCase{"keras_same_k3s2", {2, 2, 4, 3}, {2, 3, 3, 3}, keras(Padding::Same, 4, 3, 3, 2), true},
                      ConvTCase{"keras_valid_k3s2", {1, 3, 3, 4}, {3, 2, 3, 3}, keras(Padding::Valid, 3, 4, 3, 2), true},
                      ConvTCase{"keras_same_k4s2", {1, 2, 3, 3}, {2, 2, 4, 4}, keras(Padding::Same, 3, 3, 4, 2), true},
                      ConvTCase{"keras_valid_k1s2", {2, 2, 3, 2}, {2, 3, 1, 1}, keras(Padding::Valid, 3, 2, 1, 2), true},
                      ConvTCase{"groups2", {1, 4, 3, 4}, {4, 3, 3, 3}, tpads(1, 0, 2, 2), true},
                      ConvTCase{"depthwise", {2, 3, 4, 3}, {3, 1, 3, 3}, keras(Padding::Same, 4, 3, 3, 2, 3), true},
                      ConvTCase{"dilation2", {1, 2, 4, 4}, {2, 2, 3, 3}, tpads(1, 1, 2, 1, 2), false},
                      ConvTCase{"s1_prime", {2, 3, 5, 7}, {3, 2, 3, 3}, tpads(1, 0, 1), true},
                      ConvTCase{"s3_k5", {1, 2, 3, 2}, {2, 3, 5, 5}, tpads(2, 2, 3), true}),
    [](const ::testing::TestParamInfo<ConvTCase>& i) { return std::string(i.param.name); });

// ---------------------------------------------------------------- fast kernels == reference

namespace {

std::vector<float> rand_vec(int64_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& e : v) e = rng.uniform(-1.f, 1.f);
  return v;
}

::testing::AssertionResult close(const std::vector<float>& a, const std::vector<float>& b, const std::string& what,
                                 float tol = 1e-4f) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol + tol * std::fabs(b[i])))
      return ::testing::AssertionFailure() << what << " element " << i << ": " << a[i] << " vs ref " << b[i];
  return ::testing::AssertionSuccess();
}

std::string dims_str(const ConvDims& d) {
  auto s = [](int64_t v) { return std::to_string(v); };
  return "N" + s(d.N) + " C" + s(d.C) + " " + s(d.H) + "x" + s(d.W) + " OC" + s(d.OC) + " k" + s(d.KH) + "x" +
         s(d.KW) + " s" + s(d.sh) + "," + s(d.sw) + " p" + s(d.pt) + "," + s(d.pl) + " d" + s(d.dh) + "," + s(d.dw) +
         " g" + s(d.groups) + " out " + s(d.OH) + "x" + s(d.OW);
}

// Random ragged geometry; groups/channels picked by the caller. Returns false if empty output.
bool random_geometry(ConvDims& d, Rng& rng) {
  d.N = 1 + rng.below(3), d.H = 1 + rng.below(13), d.W = 1 + rng.below(13);
  d.KH = 1 + (int)rng.below(5), d.KW = 1 + (int)rng.below(5);
  d.sh = 1 + (int)rng.below(3), d.sw = 1 + (int)rng.below(3);
  d.dh = 1 + (int)rng.below(2), d.dw = 1 + (int)rng.below(2);
  d.pt = (int)rng.below(4), d.pl = (int)rng.below(4);
  const int pb = (int)rng.below(4), pr = (int)rng.below(4);
  d.OH = conv_out_size(d.H, d.KH, d.sh, d.pt, pb, d.dh);
  d.OW = conv_out_size(d.W, d.KW, d.sw, d.pl, pr, d.dw);
  return d.OH > 0 && d.OW > 0;
}

struct Buffers {
  std::vector<float> x, w, b, gy;
  Buffers(const ConvDims& d, Rng& rng)
      : x(rand_vec(d.N * d.C * d.HW(), rng)),
        w(rand_vec(d.OC * d.Cg() * d.KH * d.KW, rng)),
        b(rand_vec(d.OC, rng)),
        gy(rand_vec(d.N * d.OC * d.OHW(), rng)) {}
};

// Runs the three passes on the reference and returns {y, y accumulated, gx, gw}; outputs start
// from a nonzero prior value so the accumulate (+=) contract is checked too.
std::vector<std::vector<float>> ref_passes(const ConvDims& d, const Buffers& B, const std::vector<float>& prior_y,
                                           const std::vector<float>& prior_x, const std::vector<float>& prior_w) {
  std::vector<float> y(prior_y.size()), ya = prior_y, gx = prior_x, gw = prior_w;
  f32_conv2d_fwd__ref(d, B.x.data(), B.w.data(), B.b.data(), y.data(), false);
  f32_conv2d_fwd__ref(d, B.x.data(), B.w.data(), nullptr, ya.data(), true);
  f32_conv2d_bwd_input__ref(d, B.gy.data(), B.w.data(), gx.data());
  f32_conv2d_bwd_weight__ref(d, B.x.data(), B.gy.data(), gw.data());
  return {y, ya, gx, gw};
}

// A fast conv backend: the four pass drivers of kernels/conv.h's contract and its workspace size.
struct ConvBackend {
  size_t (*workspace)(const ConvDims&, ConvPass, int);
  void (*fwd)(const ConvDims&, const float*, const float*, const float*, float*, bool, float*, int);
  void (*bwd_input)(const ConvDims&, const float*, const float*, float*, float*, int, bool);
  void (*bwd_weight)(const ConvDims&, const float*, const float*, float*, float*, int);
};
const ConvBackend kGemm{f32_conv2d_gemm_workspace, f32_conv2d_fwd__gemm, f32_conv2d_bwd_input__gemm,
                        f32_conv2d_bwd_weight__gemm};
const ConvBackend kDirect{f32_conv2d_direct_workspace, f32_conv2d_fwd__direct, f32_conv2d_bwd_input__direct,
                          f32_conv2d_bwd_weight__direct};

// Runs the four passes of `be` on `threads` threads from the same priors as ref_passes and
// expects them equal to `ref`; the workspace starts as NaN, so reading what a kernel did not
// write shows. Returns the weight gradient.
std::vector<float> expect_passes(const ConvBackend& be, const ConvDims& d, const Buffers& B,
                                 const std::vector<std::vector<float>>& ref, const std::vector<float>& py,
                                 const std::vector<float>& px, const std::vector<float>& pw, int threads,
                                 const std::string& tag, float wtol = 1e-4f) {
  std::vector<float> ws(std::max<size_t>({be.workspace(d, ConvPass::Fwd, threads),
                                          be.workspace(d, ConvPass::BwdInput, threads),
                                          be.workspace(d, ConvPass::BwdWeight, threads), size_t(1)}),
                        NAN);
  std::vector<float> y(py.size(), NAN), ya = py, gx = px, gw = pw;
  be.fwd(d, B.x.data(), B.w.data(), B.b.data(), y.data(), false, ws.data(), threads);
  be.fwd(d, B.x.data(), B.w.data(), nullptr, ya.data(), true, ws.data(), threads);
  be.bwd_input(d, B.gy.data(), B.w.data(), gx.data(), ws.data(), threads, true);
  be.bwd_weight(d, B.x.data(), B.gy.data(), gw.data(), ws.data(), threads);
  // Assign form (a fresh gradient buffer): starts as NaN, so an element not written shows.
  std::vector<float> gxw(px.size(), NAN), gxz(px.size(), 0.f);
  be.bwd_input(d, B.gy.data(), B.w.data(), gxw.data(), ws.data(), threads, false);
  f32_conv2d_bwd_input__ref(d, B.gy.data(), B.w.data(), gxz.data());
  EXPECT_TRUE(close(y, ref[0], "fwd " + tag));
  EXPECT_TRUE(close(ya, ref[1], "fwd accumulate " + tag));
  EXPECT_TRUE(close(gx, ref[2], "bwd_input " + tag));
  EXPECT_TRUE(close(gxw, gxz, "bwd_input assign " + tag));
  EXPECT_TRUE(close(gw, ref[3], "bwd_weight " + tag, wtol));
  return gw;
}

}  // namespace

TEST(ConvKernels, GemmEqualsReferenceOnRaggedShapes) {
  Rng rng(21);
  int tested = 0, pointwise = 0;
  for (int it = 0; it < 80; ++it) {
    ConvDims d;
    if (!random_geometry(d, rng)) continue;
    d.groups = 1 + (int)rng.below(3);
    d.C = d.groups * (1 + (int64_t)rng.below(5)), d.OC = d.groups * (1 + (int64_t)rng.below(5));
    if (it % 5 == 0) {  // force the pointwise (no im2col) path regularly
      d.KH = d.KW = 1, d.sh = d.sw = 1, d.pt = d.pl = 0, d.OH = d.H, d.OW = d.W;
      EXPECT_TRUE(conv2d_is_pointwise(d));
      ++pointwise;
    }
    Buffers B(d, rng);
    auto py = rand_vec(d.N * d.OC * d.OHW(), rng), px = rand_vec(B.x.size(), rng), pw = rand_vec(B.w.size(), rng);
    auto ref = ref_passes(d, B, py, px, pw);
    for (int threads : test_thread_counts({1, 2}))  // N up to 3: 2 threads also covers uneven batch shares
      expect_passes(kGemm, d, B, ref, py, px, pw, threads, dims_str(d) + " threads " + std::to_string(threads));
    ++tested;
  }
  EXPECT_GE(tested, 40);
  EXPECT_GE(pointwise, 10);
}

// Wide layers: the GEMM path builds im2col for bands of output rows (conv_gemm.cpp); with
// K*OW this large a band holds a few rows, so these run several bands and a ragged last one.
TEST(ConvKernels, GemmRowBandsEqualReference) {
  Rng rng(26);
  for (int it = 0; it < 6; ++it) {
    ConvDims d;
    d.N = 1 + it % 2, d.groups = it % 3 == 2 ? 2 : 1;
    d.C = d.groups * (36 + it), d.OC = d.groups * (3 + it);
    d.KH = 3, d.KW = 3 + it % 2, d.sh = d.sw = 1 + it % 2;
    d.H = (13 + it) * d.sh, d.W = (61 + 3 * it) * d.sw, d.pt = d.pl = 1;
    d.OH = conv_out_size(d.H, d.KH, d.sh, 1, 1), d.OW = conv_out_size(d.W, d.KW, d.sw, 1, 1);
    const int64_t band = std::max(96 * 1024 / (d.K() * d.OW), (256 + d.OW - 1) / d.OW);  // conv_gemm.cpp
    ASSERT_LT(band, d.OH) << "expected several row bands";
    Buffers B(d, rng);
    auto py = rand_vec(d.N * d.OC * d.OHW(), rng), px = rand_vec(B.x.size(), rng), pw = rand_vec(B.w.size(), rng);
    auto ref = ref_passes(d, B, py, px, pw);
    for (int threads : test_thread_counts({1, 2}))
      expect_passes(kGemm, d, B, ref, py, px, pw, threads, dims_str(d) + " threads " + std::to_string(threads));
  }
}

TEST(ConvKernels, DepthwiseEqualsReferenceOnRaggedShapes) {
  Rng rng(22);
  int tested = 0;
  for (int it = 0; it < 80; ++it) {
    ConvDims d;
    if (!random_geometry(d, rng)) continue;
    d.C = d.OC = d.groups = 1 + (int)rng.below(19);  // not a multiple of any vector width
    ASSERT_TRUE(conv2d_is_depthwise(d));
    Buffers B(d, rng);
    auto py = rand_vec(d.N * d.OC * d.OHW(), rng), px = rand_vec(B.x.size(), rng), pw = rand_vec(B.w.size(), rng);
    auto ref = ref_passes(d, B, py, px, pw);
    for (int threads : test_thread_counts({1, 2})) {
      std::vector<float> y(py.size()), ya = py, gx = px, gw = pw;
      f32_dwconv2d_fwd__scalar(d, B.x.data(), B.w.data(), B.b.data(), y.data(), false, threads);
      f32_dwconv2d_fwd__scalar(d, B.x.data(), B.w.data(), nullptr, ya.data(), true, threads);
      f32_dwconv2d_bwd_input__scalar(d, B.gy.data(), B.w.data(), gx.data(), threads);
      f32_dwconv2d_bwd_weight__scalar(d, B.x.data(), B.gy.data(), gw.data(), threads);
      const std::string tag = dims_str(d) + " threads " + std::to_string(threads);
      EXPECT_TRUE(close(y, ref[0], "fwd " + tag));
      EXPECT_TRUE(close(ya, ref[1], "fwd accumulate " + tag));
      EXPECT_TRUE(close(gx, ref[2], "bwd_input " + tag));
      EXPECT_TRUE(close(gw, ref[3], "bwd_weight " + tag));
    }
    ++tested;
  }
  EXPECT_GE(tested, 40);
}

// The direct stride-1 kernels (every ISA the CPU has) equal the reference: ragged channel counts
// (not multiples of the 4-channel tile or any vector width), rows from 1 to beyond three vectors
// of 16, kernels 1..5 with paddings up to 4 (larger than the kernel: the input-gradient conv
// then crops), 1-3 threads over 1-3 images (both the batch split and the row-band split).
TEST(ConvKernels, DirectEqualsReferenceOnRaggedShapesEveryIsa) {
  const Isa saved = active_isa();
  Rng rng(25);
  auto run = [&](const ConvDims& d, float wtol) {
    Buffers B(d, rng);
    auto py = rand_vec(d.N * d.OC * d.OHW(), rng), px = rand_vec(B.x.size(), rng), pw = rand_vec(B.w.size(), rng);
    auto ref = ref_passes(d, B, py, px, pw);
    for (Isa isa : available_isas()) {
      set_active_isa(isa);
      for (int threads : test_thread_counts({1, 2, 3})) {
        const std::string tag = dims_str(d) + " " + isa_name(isa) + " threads " + std::to_string(threads);
        const std::vector<float> gw = expect_passes(kDirect, d, B, ref, py, px, pw, threads, tag, wtol);
        std::vector<float> gw2 = pw, ws(f32_conv2d_direct_workspace(d, ConvPass::BwdWeight, threads) + 1);
        f32_conv2d_bwd_weight__direct(d, B.x.data(), B.gy.data(), gw2.data(), ws.data(), threads);
        EXPECT_EQ(gw, gw2) << "same thread count: bit-identical weight gradient; " << tag;
      }
    }
  };
  int tested = 0;
  for (int it = 0; it < 60; ++it) {
    ConvDims d;
    d.N = 1 + rng.below(3), d.C = 1 + rng.below(19), d.OC = 1 + rng.below(19);
    d.H = 1 + rng.below(12), d.W = 1 + rng.below(70);
    d.KH = 1 + (int)rng.below(5), d.KW = 1 + (int)rng.below(5);
    d.pt = (int)rng.below(5), d.pl = (int)rng.below(5);
    d.OH = conv_out_size(d.H, d.KH, 1, d.pt, (int)rng.below(5));
    d.OW = conv_out_size(d.W, d.KW, 1, d.pl, (int)rng.below(5));
    if (d.OH < 1 || d.OW < 1 || !conv2d_direct_suits(d)) continue;
    run(d, 1e-4f);
    ++tested;
  }
  EXPECT_GE(tested, 30);
  // Tall, wide images: the batch-split passes pad and run several row bands per image (about
  // 256 KB of padded rows each, conv_direct.cpp), the last one ragged.
  for (int64_t C : {16, 5}) {
    ConvDims d;
    d.N = 2, d.C = C, d.OC = 21 - C, d.H = 45, d.W = 301, d.KH = 3, d.KW = 2, d.pt = 1, d.pl = 0;
    d.OH = conv_out_size(d.H, 3, 1, 1, 2), d.OW = conv_out_size(d.W, 2, 1, 0, 1);
    const int64_t band = 64 * 1024 / (std::min(d.C, d.OC) * direct_conv_padded_width(d.OW, d.KW)) - 2;
    ASSERT_LT(band, d.OH) << "expected several row bands in every pass";
    ASSERT_TRUE(conv2d_direct_suits(d));
    // Each weight gradient sums 27,692 products; the reference's own sequential float rounding
    // is about 3e-4 there, so the weight gradient gets a tolerance of 2e-3.
    run(d, 2e-3f);
  }
  set_active_isa(saved);
}

// The bias gradient (eight running sums per channel, channels over threads) equals a plain
// double-precision sum on ragged plane sizes, for 1 and 2 threads.
TEST(ConvKernels, BiasGradEqualsPlainSum) {
  Rng rng(27);
  for (int64_t P : {1, 7, 8, 9, 63, 4099}) {
    const int64_t N = 3, C = 5;
    auto g = rand_vec(N * C * P, rng), prior = rand_vec(C, rng);
    for (int threads : test_thread_counts({1, 2})) {
      std::vector<float> gb = prior;
      f32_conv2d_bwd_bias(N, C, P, g.data(), gb.data(), threads);
      for (int64_t c = 0; c < C; ++c) {
        double s = prior[c];
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < P; ++i) s += g[(n * C + c) * P + i];
        EXPECT_NEAR(gb[c], s, 1e-5 * (1 + std::sqrt((double)N * P))) << "P " << P << " threads " << threads;
      }
    }
  }
}

// Ops large enough to run multithreaded (the op sizes the workspace and picks the kernel) equal
// the reference kernels: GEMM conv, depthwise conv and the transposed conv built on them.
TEST(ConvKernels, ThreadedOpsEqualReference) {
  Rng rng(23);
  for (int groups : {1, 2, 12}) {
    const int s = groups == 12 ? 1 : 2;  // depthwise has few MACs: stride 1 keeps it threaded
    Tensor x = randn({6, 12, 23, 21}, rng, 1.f, true), w = randn({12, 12 / groups, 3, 3}, rng, 1.f, true);
    Tensor b = randn({12}, rng, 1.f, true);
    Conv2dArgs a = conv_args_same(23, 21, 3, 3, s, s);
    a.groups = groups;
    Tensor y = conv2d(x, w, b, a);
    Tensor r = randn(y.shape(), rng);
    sum(mul(y, r)).backward();
    ConvDims d;
    d.N = 6, d.C = 12, d.H = 23, d.W = 21, d.OC = 12, d.OH = y.size(2), d.OW = y.size(3), d.KH = d.KW = 3;
    d.sh = d.sw = s, d.pt = a.pad_top, d.pl = a.pad_left, d.groups = groups;
    ASSERT_GE(d.N * d.OC * d.OHW() * d.K(), 1 << 18) << "too small to be threaded";
    Tensor yr = Tensor::zeros(y.shape()), gx = Tensor::zeros(x.shape()), gw = Tensor::zeros(w.shape());
    f32_conv2d_fwd__ref(d, x.data(), w.data(), b.data(), yr.data(), false);
    f32_conv2d_bwd_input__ref(d, r.data(), w.data(), gx.data());
    f32_conv2d_bwd_weight__ref(d, x.data(), r.data(), gw.data());
    EXPECT_TRUE(allclose(y, yr, 1e-4f, 1e-4f)) << "groups " << groups;
    EXPECT_TRUE(allclose(x.grad(), gx, 1e-4f, 1e-4f)) << "groups " << groups;
    EXPECT_TRUE(allclose(w.grad(), gw, 1e-3f, 1e-4f)) << "groups " << groups;
    // The transposed conv of r with the same weight is exactly the input gradient above.
    ConvT2dArgs t;
    t.stride_h = t.stride_w = s, t.pad_top = a.pad_top, t.pad_bottom = a.pad_bottom, t.pad_left = a.pad_left;
    t.pad_right = a.pad_right, t.groups = groups;
    t.out_pad_h = (int)(23 - ((y.size(2) - 1) * s - a.pad_top - a.pad_bottom + 3));
    t.out_pad_w = (int)(21 - ((y.size(3) - 1) * s - a.pad_left - a.pad_right + 3));
    EXPECT_TRUE(allclose(conv_transpose2d(r, w.detach(), Tensor(), t), gx, 1e-4f, 1e-4f)) << "groups " << groups;
  }
}

// Same inputs, same thread count: bit-identical weight gradients (the per-thread partials are
// summed in a fixed order).
TEST(ConvKernels, ThreadedWeightGradIsDeterministic) {
  Rng rng(24);
  Tensor x = randn({7, 6, 19, 17}, rng), gy = randn({7, 10, 19, 17}, rng);
  ConvDims d;
  d.N = 7, d.C = 6, d.H = 19, d.W = 17, d.OC = 10, d.OH = 19, d.OW = 17, d.KH = d.KW = 3, d.pt = d.pl = 1;
  const int threads = test_thread_counts({2}).back();
  std::vector<float> ws(f32_conv2d_gemm_workspace(d, ConvPass::BwdWeight, threads));
  std::vector<float> g1(10 * 6 * 9, 0.f), g2 = g1;
  f32_conv2d_bwd_weight__gemm(d, x.data(), gy.data(), g1.data(), ws.data(), threads);
  f32_conv2d_bwd_weight__gemm(d, x.data(), gy.data(), g2.data(), ws.data(), threads);
  EXPECT_EQ(g1, g2);
}

// The reference itself against a hand-computed case: 1 channel 3x3 input, 2x2 kernel of ones,
// stride 1, pad (top 1, others 0): row 0 of the output sees only input row 0.
TEST(ConvKernels, ReferenceHandComputed) {
  Tensor x = Tensor::from({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = Tensor::ones({1, 1, 2, 2});
  Tensor y = conv2d(x, w, Tensor::from({1}, {0.5f}), pads(1, 0, 0, 0));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3.5f, 5.5f, 12.5f, 16.5f, 24.5f, 28.5f}));
  // Transposed: a single 1 at (0,0) with stride 2 stamps the kernel; Keras "same" k3 s2 keeps
  // the top-left 2x2 of the 3x3 stamp (crop only at the bottom/right).
  Tensor xt = Tensor::from({1, 1, 1, 1}, {1.f});
  Tensor wt = Tensor::from({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor yt = conv_transpose2d(xt, wt, Tensor(), convt_args_keras(Padding::Same, 1, 1, 3, 3, 2, 2));
  EXPECT_EQ(yt.to_vector(), (std::vector<float>{1, 2, 4, 5}));
}

// ---------------------------------------------------------------- errors

TEST(ConvErrors, NameOpAndShapes) {
  Tensor x = Tensor::zeros({1, 3, 5, 5});
  // Channel mismatch.
  expect_error([&] { conv2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), {}); },
               {"conv2d", "[1, 3, 5, 5]", "[4, 2, 3, 3]"});
  // Groups not dividing the channels.
  Conv2dArgs g2;
  g2.groups = 2;
  expect_error([&] { conv2d(Tensor::zeros({1, 4, 5, 5}), Tensor::zeros({3, 2, 3, 3}), Tensor(), g2); },
               {"conv2d", "groups 2", "[1, 4, 5, 5]", "[3, 2, 3, 3]"});
  expect_error([&] { conv2d(x, Tensor::zeros({4, 1, 3, 3}), Tensor(), g2); }, {"conv2d", "groups"});
  // Kernel larger than the padded input, bad bias, wrong rank, bad stride.
  expect_error([&] { conv2d(x, Tensor::zeros({2, 3, 7, 7}), Tensor(), {}); }, {"conv2d", "[2, 3, 7, 7]"});
  expect_error([&] { conv2d(x, Tensor::zeros({2, 3, 3, 3}), Tensor::zeros({3}), {}); }, {"conv2d", "bias", "[3]"});
  expect_error([&] { conv2d(Tensor::zeros({3, 5, 5}), Tensor::zeros({2, 3, 3, 3}), Tensor(), {}); },
               {"conv2d", "[3, 5, 5]"});
  Conv2dArgs s0;
  s0.stride_h = 0;
  expect_error([&] { conv2d(x, Tensor::zeros({2, 3, 3, 3}), Tensor(), s0); }, {"conv2d", "stride"});
  // Transposed conv.
  expect_error([&] { conv_transpose2d(x, Tensor::zeros({2, 4, 3, 3}), Tensor(), {}); },
               {"conv_transpose2d", "[1, 3, 5, 5]", "[2, 4, 3, 3]"});
  ConvT2dArgs t;
  t.groups = 2;
  expect_error([&] { conv_transpose2d(x, Tensor::zeros({3, 2, 3, 3}), Tensor(), t); },
               {"conv_transpose2d", "groups 2"});
  expect_error([&] { conv_transpose2d(x, Tensor::zeros({3, 2, 3, 3}), Tensor::zeros({3}), {}); },
               {"conv_transpose2d", "bias"});
  // Layer constructors.
  Rng rng(0);
  Conv2dOptions o;
  o.groups = 2;
  EXPECT_THROW(Conv2d(3, 4, o, rng), Error);
  ConvT2dOptions to;
  to.output_padding = 1;  // needs Explicit padding
  EXPECT_THROW(ConvTranspose2d(3, 4, to, rng), Error);
}

// ---------------------------------------------------------------- layers

TEST(ConvLayers, SamePaddingFromActualInputAndNames) {
  Rng rng(5);
  Conv2dOptions o;
  o.stride = 2;
  Conv2d conv(3, 8, o, rng);
  EXPECT_EQ(conv.type_name(), "Conv2D");
  EXPECT_EQ(conv.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(conv.count_params(true), 8 * 27 + 8);
  Conv2dArgs a = conv.args_for(224, 225);
  expect_pads(a, 0, 1, 1, 1);
  EXPECT_EQ(conv(Tensor::zeros({1, 3, 8, 7})).shape(), (Shape{1, 8, 4, 4}));
  EXPECT_EQ(conv(Tensor::zeros({2, 3, 5, 6})).shape(), (Shape{2, 8, 3, 3}));
  // Keras init: zero bias, glorot-bounded weights.
  for (float v : conv.bias.to_vector()) EXPECT_EQ(v, 0.f);
  const float lim = std::sqrt(6.f / (27 + 72));
  for (float v : conv.weight.to_vector()) EXPECT_LE(std::fabs(v), lim);
  auto sd = conv.state_dict();
  EXPECT_EQ(sd.count("weight"), 1u);
  EXPECT_EQ(sd.count("bias"), 1u);

  Conv2dOptions dw;
  dw.groups = 6, dw.bias = false, dw.padding = Padding::Valid, dw.init = Init::Torch;
  Conv2d d(6, 6, dw, rng);
  EXPECT_EQ(d.type_name(), "DepthwiseConv2D");
  EXPECT_FALSE(d.bias.defined());
  EXPECT_EQ(d.count_params(true), 54);
  EXPECT_EQ(d(Tensor::zeros({1, 6, 7, 7})).shape(), (Shape{1, 6, 5, 5}));
  for (float v : d.weight.to_vector()) EXPECT_LE(std::fabs(v), 1.f / 3.f);  // torch: 1/sqrt(fan_in = 9)

  Conv2dOptions ex;
  ex.padding = Padding::Explicit, ex.pad = 2, ex.dilation = 2;
  EXPECT_EQ(Conv2d(2, 3, ex, rng)(Tensor::zeros({1, 2, 6, 5})).shape(), (Shape{1, 3, 6, 5}));
  EXPECT_THROW(conv(Tensor::zeros({3, 8, 8})), Error);
}

TEST(ConvLayers, TransposeShapesAndGradientFlow) {
  Rng rng(6);
  ConvT2dOptions o;
  o.stride = 2;
  ConvTranspose2d up(4, 2, o, rng);
  EXPECT_EQ(up.type_name(), "Conv2DTranspose");
  EXPECT_EQ(up.weight.shape(), (Shape{4, 2, 3, 3}));
  EXPECT_EQ(up.count_params(true), 4 * 2 * 9 + 2);
  Tensor x = randn({2, 4, 5, 3}, rng, 1.f, true);
  Tensor y = up(x);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 10, 6}));
  sum(square(y)).backward();
  ASSERT_TRUE(up.weight.grad().defined());
  ASSERT_TRUE(up.bias.grad().defined());
  ASSERT_TRUE(x.grad().defined());

  ConvT2dOptions v;
  v.padding = Padding::Valid, v.stride = 2, v.kh = v.kw = 4, v.init = Init::Torch;
  EXPECT_EQ(ConvTranspose2d(3, 5, v, rng)(Tensor::zeros({1, 3, 4, 4})).shape(), (Shape{1, 5, 10, 10}));
  ConvT2dOptions e;
  e.padding = Padding::Explicit, e.pad = 1, e.output_padding = 1, e.stride = 2, e.groups = 2;
  ConvTranspose2d g(4, 6, e, rng);
  EXPECT_EQ(g.weight.shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(g(Tensor::zeros({1, 4, 4, 5})).shape(), (Shape{1, 6, 8, 10}));
}

// The modules take everything the ops take: per-axis strides and dilations, the four pads
// apart (asymmetric), per-axis output padding; each module equals its op called with the same
// arguments (values and gradients), so the ops' gradient checks and goldens carry over.
TEST(ConvLayers, PerAxisAndAsymmetricOptionsReachTheOp) {
  Rng rng(8);
  Tensor x = randn({2, 4, 9, 8}, rng, 1.f, true);
  auto same_as_op = [&](Module& m, const Tensor& w, const Tensor& b, const std::function<Tensor(const Tensor&)>& op) {
    Tensor y = m(x);
    Tensor r = randn(y.shape(), rng);
    sum(mul(y, r)).backward();
    const std::vector<float> gx = x.grad().to_vector(), gw = w.grad().to_vector(), gb = b.grad().to_vector();
    x.zero_grad(), m.zero_grad();
    Tensor yo = op(x);
    sum(mul(yo, r)).backward();
    EXPECT_EQ(y.shape(), yo.shape());
    EXPECT_EQ(y.to_vector(), yo.to_vector());
    EXPECT_EQ(gx, x.grad().to_vector());
    EXPECT_EQ(gw, w.grad().to_vector());
    EXPECT_EQ(gb, b.grad().to_vector());
    x.zero_grad(), m.zero_grad();
    return y.shape();
  };
  Conv2dOptions o;
  o.kh = 3, o.kw = 2, o.padding = Padding::Explicit, o.stride = 1, o.stride_h = 2, o.dil_w = 2;
  o.pad_top = 0, o.pad_bottom = 2, o.pad_left = 1;  // pad_right from `pad` (0)
  Conv2d c(4, 6, o, rng);
  Conv2dArgs a;
  a.stride_h = 2, a.stride_w = 1, a.dil_h = 1, a.dil_w = 2, a.pad_top = 0, a.pad_bottom = 2, a.pad_left = 1, a.pad_right = 0;
  // H: (9 + 2 - 3) / 2 + 1 = 5; W: 8 + 1 - 2 - 1 + 1 = 7.
  EXPECT_EQ(same_as_op(c, c.weight, c.bias, [&](const Tensor& in) { return conv2d(in, c.weight, c.bias, a); }),
            (Shape{2, 6, 5, 7}));
  // Same padding with per-axis strides: the TF rule on each axis.
  Conv2dOptions s;
  s.stride_h = 1, s.stride_w = 2, s.dil_h = 2;
  Conv2d cs(4, 3, s, rng);
  EXPECT_EQ(same_as_op(cs, cs.weight, cs.bias,
                       [&](const Tensor& in) { return conv2d(in, cs.weight, cs.bias, conv_args_same(9, 8, 3, 3, 1, 2, 2, 1)); }),
            (Shape{2, 3, 9, 4}));
  // Transposed: per-axis stride, four pads, per-axis output padding, dilation.
  ConvT2dOptions t;
  t.padding = Padding::Explicit, t.stride_h = 2, t.stride_w = 3, t.pad = 1, t.pad_right = 0, t.out_pad_h = 1,
  t.dilation = 2;
  ConvTranspose2d ct(4, 2, t, rng);
  ConvT2dArgs ta;
  ta.stride_h = 2, ta.stride_w = 3, ta.pad_top = ta.pad_bottom = ta.pad_left = 1, ta.pad_right = 0;
  ta.out_pad_h = 1, ta.out_pad_w = 0, ta.dil_h = ta.dil_w = 2;
  // H: (9-1)*2 + 2*2 + 1 - 2 + 1 = 20; W: (8-1)*3 + 5 - 1 = 25.
  EXPECT_EQ(same_as_op(ct, ct.weight, ct.bias, [&](const Tensor& in) { return conv_transpose2d(in, ct.weight, ct.bias, ta); }),
            (Shape{2, 2, 20, 25}));
  ConvT2dOptions tk;  // Keras Same with per-axis strides: out = in * stride per axis
  tk.stride_h = 2, tk.stride_w = 1;
  EXPECT_EQ(ConvTranspose2d(4, 2, tk, rng)(x).shape(), (Shape{2, 2, 18, 8}));
  // Bad values are one error naming the layer.
  auto bad = [&](std::function<void(Conv2dOptions&)> set, const char* what) {
    Conv2dOptions b;
    set(b);
    expect_error([&] { Conv2d(4, 4, b, rng); }, {"Conv2d", what});
  };
  bad([](Conv2dOptions& b) { b.stride_w = -2; }, "stride");
  bad([](Conv2dOptions& b) { b.pad_left = -3; }, "padding");
  bad([](Conv2dOptions& b) { b.dil_h = -1; }, "dilation");
  ConvT2dOptions td;
  td.dilation = 2;  // Keras Same: no dilation
  expect_error([&] { ConvTranspose2d(4, 4, td, rng); }, {"ConvTranspose2d", "dilation needs Padding::Explicit"});
  ConvT2dOptions tp;
  tp.out_pad_w = 1;
  expect_error([&] { ConvTranspose2d(4, 4, tp, rng); }, {"ConvTranspose2d", "output_padding"});
}

// ---------------------------------------------------------------- PyTorch golden values

namespace {
// Runs op on the fixture's x, w, b, backprops L = sum(y * r) and compares y and all three
// gradients with PyTorch (tools/golden_conv.py). Tolerance: atol 1e-4 + rtol 1e-4 (float32
// sums in a different order; values are O(1) to O(10)).
void check_golden(const std::string& c, const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& op) {
  SCOPED_TRACE(c);
  Tensor x = load_golden(c, "x").set_requires_grad(true);
  Tensor w = load_golden(c, "w").set_requires_grad(true);
  Tensor b = load_golden(c, "b").set_requires_grad(true);
  Tensor y = op(x, w, b);
  EXPECT_EQ(y.shape(), load_golden(c, "y").shape());
  EXPECT_TRUE(allclose(y, load_golden(c, "y"), 1e-4f, 1e-4f));
  sum(mul(y, load_golden(c, "r"))).backward();
  EXPECT_TRUE(allclose(x.grad(), load_golden(c, "gx"), 1e-4f, 1e-4f));
  EXPECT_TRUE(allclose(w.grad(), load_golden(c, "gw"), 1e-4f, 1e-4f));
  EXPECT_TRUE(allclose(b.grad(), load_golden(c, "gb"), 1e-4f, 1e-4f));
}
auto conv_op(Conv2dArgs a) {
  return [a](const Tensor& x, const Tensor& w, const Tensor& b) { return conv2d(x, w, b, a); };
}
auto convt_op(ConvT2dArgs a) {
  return [a](const Tensor& x, const Tensor& w, const Tensor& b) { return conv_transpose2d(x, w, b, a); };
}
}  // namespace

TEST(ConvGolden, Conv2dMatchesPyTorch) {
  check_golden("conv_s2_same", conv_op(conv_args_same(8, 7, 3, 3, 2, 2)));
  check_golden("conv_groups_dil", conv_op(pads(2, 1, 1, 2, 1, 2, 2)));
  check_golden("conv_depthwise", conv_op(pads(1, 1, 0, 1, 2, 1, 5)));
  check_golden("conv_pointwise", conv_op(pads(0, 0, 0, 0)));
}

TEST(ConvGolden, ConvTranspose2dMatchesPyTorch) {
  check_golden("convt_explicit", convt_op(tpads(1, 1, 2)));
  check_golden("convt_keras_same", convt_op(keras(Padding::Same, 5, 4, 3, 2)));
  check_golden("convt_groups_dil", convt_op(tpads(2, 1, 2, 2, 2)));
  check_golden("convt_depthwise", convt_op(tpads(1, 0, 1, 3)));
}

// The benchmark labels (conv2d_kernels) name the code each pass dispatches to: fas's kernels at
// the active ISA, OpenBLAS with the core it picked, one name per pass when they differ.
TEST(ConvKernels, ReportWhoseCodeRuns) {
  const std::string isa = isa_name(active_isa());
  auto t = [](Shape s) { return Tensor::zeros(s); };
  const Conv2dArgs same3 = conv_args_same(32, 32, 3, 3, 1, 1);
  EXPECT_EQ(conv2d_kernels(t({1, 16, 32, 32}), t({16, 16, 3, 3}), same3, true), "fas direct/" + isa);
  const std::string blas = conv2d_kernels(t({1, 64, 32, 32}), t({64, 64, 3, 3}), same3, false);
  EXPECT_EQ(blas, gemm_name());
  // A pointwise conv's gradients are GEMMs on the image: dx is [8 x 1024] from K = 48, dw [48 x 8]
  // from K = 1024; a GEMM with 8 rows or columns goes to OpenBLAS even where fas has one.
  EXPECT_EQ(conv2d_kernels(t({1, 8, 32, 32}), t({48, 8, 1, 1}), Conv2dArgs{}, true),
            "fwd fas conv1x1/" + isa + ", dx " + gemm_name(8, 1024, 48) + ", dw " + gemm_name(48, 8, 1024));
  EXPECT_EQ(gemm_name(8, 1024, 48).rfind("OpenBLAS sgemm (", 0), 0u);
  Conv2dArgs dw = same3;
  dw.groups = 8;
  EXPECT_EQ(conv2d_kernels(t({1, 8, 32, 32}), t({8, 1, 3, 3}), dw, true), "fas dwconv3x3/" + isa);
  EXPECT_EQ(conv_transpose2d_kernels(t({1, 128, 8, 8}), t({128, 64, 3, 3}),
                                     convt_args_keras(Padding::Same, 8, 8, 3, 3, 2, 2), false),
            blas);
  EXPECT_THROW(conv2d_kernels(t({1, 3, 8, 8}), t({4, 2, 3, 3}), same3, false), Error);  // channels mismatch
}

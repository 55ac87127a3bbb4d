// MobileNetV2-lite float inference engine (models/mobilenetv2_infer.h) and its NHWC kernels
// (kernels/nhwc.h):
//   - every optimised kernel equals its scalar reference on ragged shapes under every ISA;
//   - the engine equals the training model's eval-mode forward (random weights, random BN
//     statistics) for the face, eye, 128x128 and odd configurations, under every ISA;
//   - no heap allocation and stable buffers across calls after build; bad input shapes throw.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "autograd/graph.h"
#include "kernels/nhwc.h"
#include "mobilenet_infer_util.h"
#include "models/mobilenetv2_infer.h"

#include "count_alloc.h"  // the no-allocation test counts news inside a window

using namespace fas;
using namespace fas::test;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> rand_vec(size_t n, Rng& rng, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

// |a - b| <= atol + rtol*|b| elementwise, reporting the first offender.
::testing::AssertionResult close(const std::vector<float>& a, const std::vector<float>& b, float atol, float rtol) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

std::vector<Isa> simd_isas() {
  std::vector<Isa> v;
  for (Isa i : available_isas())
    if (i != Isa::Scalar) v.push_back(i);
  return v;
}

// Sums are reordered by the SIMD kernels (FMA, different association): tolerance 1e-5 abs +
// 1e-5 rel for sums of at most ~100 products of O(1) values.
constexpr float kAtol = 1e-5f, kRtol = 1e-5f;

}  // namespace

TEST(NhwcKernels, PointwiseEqualsReferenceOnRaggedShapes) {
  Rng rng(1);
  for (Isa isa : simd_isas()) {
    const auto k = nhwc_kernels(isa);
    for (int64_t M : {1, 3, 7, 10, 13, 15, 50})  // every mix of 8-, 6-, 4-, 2- and 1-row tiles
      for (int64_t K : {1, 3, 8, 13, 48})
        for (int64_t N : {1, 3, 8, 13, 16, 24, 29, 48, 57})
          for (int mode = 0; mode < 3; ++mode) {  // 0 relu6, 1 linear + residual, 2 in-place residual
            const int64_t ldx = K + (M % 2);      // also a strided input
            auto x = rand_vec(M * ldx, rng, -2, 2);
            auto w = rand_vec(K * nhwc_pad_ch(N), rng);
            auto b = rand_vec(nhwc_pad_ch(N), rng);
            auto res = rand_vec(M * N, rng);
            const float lo = mode == 0 ? 0.f : -kInf, hi = mode == 0 ? 6.f : kInf;
            std::vector<float> want(M * N), got(M * N, 42.f);
            f32_pwconv_nhwc__scalar(M, K, N, x.data(), ldx, w.data(), b.data(), mode ? res.data() : nullptr,
                                    want.data(), lo, hi);
            if (mode == 2) {
              got = res;
              k.pwconv(M, K, N, x.data(), ldx, w.data(), b.data(), got.data(), got.data(), lo, hi);
            } else {
              k.pwconv(M, K, N, x.data(), ldx, w.data(), b.data(), mode ? res.data() : nullptr, got.data(), lo, hi);
            }
            ASSERT_TRUE(close(got, want, kAtol, kRtol))
                << isa_name(isa) << " M " << M << " K " << K << " N " << N << " mode " << mode;
          }
  }
}

TEST(NhwcKernels, PointwiseSumEqualsReferenceOnRaggedShapes) {
  Rng rng(4);
  for (Isa isa : simd_isas()) {
    const auto k = nhwc_kernels(isa);
    for (int64_t M : {1, 5, 7, 15, 56})
      for (int64_t K : {1, 7, 32})
        for (int64_t N : {3, 8, 13, 16, 29, 1280}) {
          auto x = rand_vec(M * K, rng, -2, 2);
          auto w = rand_vec(K * nhwc_pad_ch(N), rng);
          auto b = rand_vec(nhwc_pad_ch(N), rng);
          std::vector<float> want = rand_vec(N, rng), got = want;  // sums accumulate
          f32_pwconv_sum_nhwc__scalar(M, K, N, x.data(), K, w.data(), b.data(), want.data(), 0.f, 6.f);
          k.pwconv_sum(M, K, N, x.data(), K, w.data(), b.data(), got.data(), 0.f, 6.f);
          ASSERT_TRUE(close(got, want, 1e-4f, 1e-5f)) << isa_name(isa) << " M " << M << " K " << K << " N " << N;
        }
  }
}

TEST(NhwcKernels, DepthwiseRowEqualsReferenceOnRaggedShapes) {
  Rng rng(2);
  for (Isa isa : simd_isas()) {
    const auto k = nhwc_kernels(isa);
    for (int64_t W : {1, 2, 3, 5, 8, 10, 13, 18, 21, 37, 53})  // C = 8, stride 1: 8-pixel blocks, pairs, singles
      for (int64_t C : {1, 3, 8, 13, 48})
        for (int stride : {1, 2})
          for (int pad_left : {0, 1})
            for (int nulls = 0; nulls < 4; ++nulls) {  // none, top, bottom, top+bottom padding rows
              const int64_t Wo = std::max<int64_t>(1, (W + pad_left + 1 - 3) / stride + 1);
              std::vector<float> r[3];
              const float* rows[3];
              for (int i = 0; i < 3; ++i) {
                r[i] = rand_vec(W * C, rng, -3, 3);
                rows[i] = r[i].data();
              }
              if (nulls & 1) rows[0] = nullptr;
              if (nulls & 2) rows[2] = nullptr;
              auto w = rand_vec(9 * nhwc_pad_ch(C), rng);
              auto b = rand_vec(nhwc_pad_ch(C), rng);
              const float lo = nulls % 2 ? 0.f : -kInf, hi = nulls % 2 ? 6.f : kInf;
              std::vector<float> want(Wo * C), got(Wo * C, 42.f);
              f32_dwconv3x3_nhwc_row__scalar(rows, W, C, stride, pad_left, Wo, w.data(), b.data(), want.data(), lo,
                                             hi);
              k.dwconv3x3(rows, W, C, stride, pad_left, Wo, w.data(), b.data(), got.data(), lo, hi);
              ASSERT_TRUE(close(got, want, kAtol, kRtol)) << isa_name(isa) << " W " << W << " C " << C << " stride "
                                                          << stride << " pad " << pad_left << " nulls " << nulls;
            }
  }
}

TEST(NhwcKernels, Conv3x3RowEqualsReferenceOnRaggedShapes) {
  Rng rng(3);
  for (Isa isa : simd_isas()) {
    const auto k = nhwc_kernels(isa);
    for (int64_t W : {1, 2, 5, 9, 17, 26, 37})
      for (int64_t Cin : {1, 2, 3, 5})
        for (int64_t Cout : {1, 8, 13, 16})
          for (int stride : {1, 2})
            for (int nchw = 0; nchw < 2; ++nchw) {
              const int pad_left = stride == 1 ? 1 : static_cast<int>(W % 2);  // TF "same" for 3x3
              const int64_t Wo = (W + stride - 1) / stride;
              const int64_t plane = W * 3;  // NCHW: a 3-row image; rows point into channel 0
              std::vector<float> img = rand_vec(Cin * plane, rng, -2, 2);
              const float* rows[3];
              for (int i = 0; i < 3; ++i) rows[i] = img.data() + (nchw ? i * W : i * W * Cin);
              rows[nchw ? 0 : 2] = nullptr;
              const int64_t xs = nchw ? 1 : Cin, cs = nchw ? plane : 1;
              auto w = rand_vec(9 * Cin * nhwc_pad_ch(Cout), rng);
              auto b = rand_vec(nhwc_pad_ch(Cout), rng);
              std::vector<float> want(Wo * Cout), got(Wo * Cout, 42.f);
              f32_conv3x3_row__scalar(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, w.data(), b.data(),
                                      want.data(), 0.f, 6.f);
              k.conv3x3(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, w.data(), b.data(), got.data(), 0.f, 6.f);
              ASSERT_TRUE(close(got, want, kAtol, kRtol)) << isa_name(isa) << " W " << W << " Cin " << Cin << " Cout "
                                                          << Cout << " stride " << stride << " nchw " << nchw;
            }
  }
}

namespace {

// Engine logits vs the training model's eval-mode logits for a batch of 2 random images,
// under every ISA. Tolerance: 1e-4 relative to max(1, |logit|): both compute in float32 but
// in different orders (folded BN, FMA, NHWC sums) through ~52 layers.
void expect_engine_matches_model(int64_t c, int64_t h, int64_t w, uint64_t seed, double alpha = 0.1) {
  auto model = random_mobilenet(c, h, w, seed, alpha);
  Rng rng(seed + 100);
  Tensor x = randu({2, c, h, w}, rng, -1.f, 1.f);
  Tensor want;
  {
    NoGradGuard ng;
    want = model->forward_logits(x);
  }
  // The two images must give clearly different logits, or equality would prove little.
  EXPECT_GT(std::fabs(want.data()[0] - want.data()[1]), 1e-2f) << want.data()[0] << " " << want.data()[1];
  MobileNetV2Infer engine(*model);
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    float got[2];
    engine.logits(x.data(), 2, got);
    for (int i = 0; i < 2; ++i) {
      const float ref = want.data()[i];
      EXPECT_NEAR(got[i], ref, 1e-4f * std::max(1.f, std::fabs(ref)))
          << isa_name(isa) << " " << c << "x" << h << "x" << w << " image " << i;
    }
  }
  set_active_isa(saved);
  // P(live) through the convenience wrapper equals the model's sigmoid output.
  NoGradGuard ng;
  EXPECT_TRUE(allclose(engine.forward(x), model->forward(x), 2e-5f, 1e-4f));
}

}  // namespace

TEST(MobileNetV2Infer, EqualsTrainingModelFace) { expect_engine_matches_model(2, 250, 200, 11); }
TEST(MobileNetV2Infer, EqualsTrainingModelEye) { expect_engine_matches_model(2, 48, 48, 12); }
TEST(MobileNetV2Infer, EqualsTrainingModel128) { expect_engine_matches_model(3, 128, 128, 13); }
TEST(MobileNetV2Infer, EqualsTrainingModelOddSizes) {
  expect_engine_matches_model(3, 37, 45, 14);
  expect_engine_matches_model(1, 29, 17, 15);
  expect_engine_matches_model(3, 5, 3, 16);  // collapses to 1x1 by block 6
}

TEST(MobileNetV2Infer, EqualsTrainingModelOtherWidths) {
  // Other width multipliers: wider ragged channel counts (alpha 0.35: 16/24/56/112 channels,
  // expanded 144/336/672) and the standard net (alpha 1: block 0 has no residual, 32 -> 16).
  expect_engine_matches_model(3, 33, 31, 17, 0.35);
  expect_engine_matches_model(3, 32, 29, 18, 1.0);
}

TEST(MobileNetV2Infer, LogitsAreNotTrivial) {
  // Guards the equality tests: different images give clearly different logits.
  auto model = random_mobilenet(2, 48, 48, 21);
  MobileNetV2Infer engine(*model);
  Rng rng(5);
  Tensor x = randu({4, 2, 48, 48}, rng, -1.f, 1.f);
  float out[4];
  engine.logits(x.data(), 4, out);
  float spread = 0;
  for (int i = 1; i < 4; ++i) spread = std::max(spread, std::fabs(out[i] - out[0]));
  EXPECT_GT(spread, 1e-3f);
}

TEST(MobileNetV2Infer, NoAllocationAfterBuildAndStableBuffers) {
  auto model = random_mobilenet(2, 250, 200, 31);
  MobileNetV2Infer engine(*model);
  Rng rng(6);
  Tensor x = randu({3, 2, 250, 200}, rng, -1.f, 1.f);
  const auto before = engine.buffer_addresses();
  const size_t bytes = engine.activation_bytes();
  float out[3], again[3];
  (void)active_isa();  // process-wide lazy ISA detection allocates once; not the engine's doing
  g_news = 0;
  g_count = true;
  engine.logits(x.data(), 3, out);
  engine.logits(x.data(), 3, again);
  g_count = false;
  EXPECT_EQ(g_news.load(), 0) << "heap allocations during inference";
  EXPECT_EQ(engine.buffer_addresses(), before);
  for (const float* b : before) {  // each buffer starts on a cache line (EXP-133)
    const uintptr_t offset = b ? reinterpret_cast<uintptr_t>(b) % 64 : 0;
    EXPECT_EQ(offset, 0u);
  }
  EXPECT_EQ(engine.activation_bytes(), bytes);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], again[i]);  // buffers carry no state between calls
  // The face plan: two ping-pong buffers (stem output 125x100x8 plus one row of slack for
  // block 0's shifted in-place run, and block 1's output 63x50x8: in-place blocks need no
  // third), a 3-row ring of 100x48, one depthwise row (50x48) and the pool sums (the head is
  // fused with the pooling). Far below the ~3.0 MB of one buffer per layer (spec 003 §4.7).
  const size_t floats = (100 + 125 * 100) * 8 + 63 * 50 * 8 + 3 * 100 * 48 + 50 * 48 + 1280;
  EXPECT_EQ(bytes, floats * sizeof(float));
}

// After the first call has started the team, a split image allocates nothing either.
TEST(MobileNetV2Infer, SplitImageAllocatesNothing) {
  auto model = random_mobilenet(2, 250, 200, 31);
  MobileNetV2Infer engine(*model);
  engine.set_threads(2);
  Rng rng(6);
  Tensor x = randu({1, 2, 250, 200}, rng, -1.f, 1.f);
  float out[1];
  engine.logits(x.data(), 1, out);
  const auto before = engine.buffer_addresses();
  g_news = 0;
  g_count = true;
  engine.logits(x.data(), 1, out);
  g_count = false;
  EXPECT_EQ(g_news.load(), 0) << "heap allocations during split inference";
  EXPECT_EQ(engine.buffer_addresses(), before);
}

TEST(MobileNetV2Infer, BadInputShapeThrows) {
  auto model = random_mobilenet(2, 48, 48, 41);
  MobileNetV2Infer engine(*model);
  try {
    engine.forward(Tensor::zeros({1, 3, 48, 48}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[N, 2, 48, 48]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[1, 3, 48, 48]"), std::string::npos) << e.what();
  }
}

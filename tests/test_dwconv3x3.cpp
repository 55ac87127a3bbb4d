// Every depthwise 3x3 kernel variant the CPU can run equals the plain reference, forward and
// both gradients, on random ragged geometries (odd sizes, widths not a multiple of the vector
// width, stride 2 on odd inputs, asymmetric and over-sized padding).
#include <cmath>
#include <iostream>

#include "kernels/cpu.h"
#include "kernels/dwconv3x3.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

struct Case {
  DwConv3x3Geom g;
  int stride;
};

std::vector<Case> cases() {
  Rng rng(42);
  std::vector<Case> v;
  // Fixed corner cases: 1-pixel planes, exactly one vector, one more than a vector.
  for (int s : {1, 2})
    for (int64_t w : {1, 2, 7, 8, 9, 16, 17, 33, 35, 67}) {
      const int64_t h = 3 + w % 5;
      v.push_back({{h, w, (h + 2 - 3) / s + 1, (w + 2 - 3) / s + 1, 1, 1}, s});
    }
  // Rows wider than the padded-row ring (kRingRowFloats): the per-chunk window path.
  for (int s : {1, 2}) v.push_back({{5, 3301, (5 + 3 - 3) / s + 1, (3301 + 1 - 3) / s + 1, 2, 1}, s});
  // Random: sizes 1..80, each pad 0..3 independently (bottom/right through oh/ow).
  while (v.size() < 120) {
    const int s = 1 + (int)rng.below(2);
    const int64_t h = 1 + (int64_t)rng.below(24), w = 1 + (int64_t)rng.below(80);
    const int pt = (int)rng.below(4), pb = (int)rng.below(4), pl = (int)rng.below(4), pr = (int)rng.below(4);
    if (h + pt + pb < 3 || w + pl + pr < 3) continue;
    v.push_back({{h, w, (h + pt + pb - 3) / s + 1, (w + pl + pr - 3) / s + 1, pt, pl}, s});
  }
  return v;
}

std::string describe(const Case& c, Isa isa) {
  const auto& g = c.g;
  return std::string(isa_name(isa)) + " s" + std::to_string(c.stride) + " in " + std::to_string(g.h) + "x" +
         std::to_string(g.w) + " out " + std::to_string(g.oh) + "x" + std::to_string(g.ow) + " pad t/l " +
         std::to_string(g.pad_top) + "/" + std::to_string(g.pad_left);
}

class DwConv3x3AllIsas : public ::testing::Test {
 protected:
  void TearDown() override { set_active_isa(saved_); }
  Isa saved_ = active_isa();
};

}  // namespace

TEST_F(DwConv3x3AllIsas, ForwardMatchesReference) {
  Rng rng(1);
  for (Isa isa : available_isas()) {
    const DwConv3x3Kernels& k = dwconv3x3_kernels(isa);
    for (const Case& c : cases()) {
      const auto& g = c.g;
      Tensor x = randn({g.h, g.w}, rng), w = randn({9}, rng), y0 = randn({g.oh, g.ow}, rng);
      const float bias = rng.normal();
      // Plain, accumulating, and with a ReLU6-style clamp epilogue.
      for (int mode = 0; mode < 3; ++mode) {
        const bool acc = mode == 1;
        const float lo = mode == 2 ? 0.f : -INFINITY, hi = mode == 2 ? 0.5f : INFINITY;
        Tensor ref = y0.clone(), got = y0.clone();
        f32_dwconv3x3__ref(x.data(), w.data(), bias, ref.data(), g, c.stride, lo, hi, acc);
        k.fwd[c.stride - 1](x.data(), w.data(), bias, got.data(), g, lo, hi, acc);
        ASSERT_TRUE(allclose(got, ref, 1e-5f, 1e-5f)) << describe(c, isa) << " mode " << mode;
      }
    }
  }
}

TEST_F(DwConv3x3AllIsas, InputGradMatchesReference) {
  Rng rng(2);
  for (Isa isa : available_isas()) {
    const DwConv3x3Kernels& k = dwconv3x3_kernels(isa);
    for (const Case& c : cases()) {
      const auto& g = c.g;
      Tensor dy = randn({g.oh, g.ow}, rng), w = randn({9}, rng), dx0 = randn({g.h, g.w}, rng);
      Tensor ref = dx0.clone(), got = dx0.clone();  // both accumulate into the same start
      f32_dwconv3x3_dx__ref(dy.data(), w.data(), ref.data(), g, c.stride);
      k.dx[c.stride - 1](dy.data(), w.data(), got.data(), g, true);
      ASSERT_TRUE(allclose(got, ref, 1e-5f, 1e-5f)) << describe(c, isa);
      // Assign form: NaN garbage in dx must be overwritten everywhere (also rows and columns
      // that no output reaches), equal to the reference accumulated into zeros.
      Tensor refz = Tensor::zeros({g.h, g.w}), gotw = Tensor::full({g.h, g.w}, NAN);
      f32_dwconv3x3_dx__ref(dy.data(), w.data(), refz.data(), g, c.stride);
      k.dx[c.stride - 1](dy.data(), w.data(), gotw.data(), g, false);
      ASSERT_TRUE(allclose(gotw, refz, 1e-5f, 1e-5f)) << describe(c, isa) << " assign";
    }
  }
}

TEST_F(DwConv3x3AllIsas, WeightGradMatchesReference) {
  Rng rng(3);
  for (Isa isa : available_isas()) {
    const DwConv3x3Kernels& k = dwconv3x3_kernels(isa);
    for (const Case& c : cases()) {
      const auto& g = c.g;
      Tensor x = randn({g.h, g.w}, rng), dy = randn({g.oh, g.ow}, rng), dw0 = randn({9}, rng);
      Tensor ref = dw0.clone(), got = dw0.clone();
      f32_dwconv3x3_dw__ref(x.data(), dy.data(), ref.data(), g, c.stride);
      k.dw[c.stride - 1](x.data(), dy.data(), got.data(), g);
      // A sum of oh*ow products of N(0,1) values, in float lanes vs the reference's double:
      // allow 1e-6 per term (float rounding grows with the term count).
      const float atol = std::max(1e-4f, 1e-6f * (float)(g.oh * g.ow));
      ASSERT_TRUE(allclose(got, ref, atol, 1e-5f)) << describe(c, isa);
    }
  }
}

// The threaded whole-tensor drivers agree with per-plane reference calls under every ISA.
TEST_F(DwConv3x3AllIsas, TensorDriversMatchReference) {
  Rng rng(4);
  const int64_t n = 3, ch = 5;
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    for (int s : {1, 2}) {
      const DwConv3x3Geom g{29, 37, (29 + 1 - 3) / s + 1, (37 + 2 - 3) / s + 1, 0, 1};  // TF "same" for s2
      Tensor x = randn({n, ch, g.h, g.w}, rng), w = randn({ch, 1, 3, 3}, rng), b = randn({ch}, rng);
      Tensor dy = randn({n, ch, g.oh, g.ow}, rng);
      Tensor y = Tensor::zeros(dy.shape()), yr = Tensor::zeros(dy.shape());
      Tensor dx = Tensor::zeros(x.shape()), dxr = Tensor::zeros(x.shape());
      Tensor dw = Tensor::zeros(w.shape()), dwr = Tensor::zeros(w.shape());
      // ctest runs with OMP_NUM_THREADS=2; results must not depend on it (one writer per output).
      const int threads = num_threads();
      dwconv3x3_forward(x.data(), w.data(), b.data(), y.data(), n, ch, g, s, 0.f, 6.f, false, threads);
      dwconv3x3_backward_input(dy.data(), w.data(), dx.data(), n, ch, g, s, threads);
      dwconv3x3_backward_weight(x.data(), dy.data(), dw.data(), n, ch, g, s, threads);
      const int64_t ip = g.h * g.w, op = g.oh * g.ow;
      for (int64_t p = 0; p < n * ch; ++p) {
        const int64_t c = p % ch;
        f32_dwconv3x3__ref(x.data() + p * ip, w.data() + c * 9, b.data()[c], yr.data() + p * op, g, s, 0.f, 6.f, false);
        f32_dwconv3x3_dx__ref(dy.data() + p * op, w.data() + c * 9, dxr.data() + p * ip, g, s);
        f32_dwconv3x3_dw__ref(x.data() + p * ip, dy.data() + p * op, dwr.data() + c * 9, g, s);
      }
      EXPECT_TRUE(allclose(y, yr, 1e-5f, 1e-5f)) << isa_name(isa) << " s" << s;
      EXPECT_TRUE(allclose(dx, dxr, 1e-5f, 1e-5f)) << isa_name(isa) << " s" << s;
      // Assign form (fresh gradient buffer): NaN garbage in dx must be overwritten everywhere,
      // including the input column the stride-2 taps never reach.
      Tensor dxw = Tensor::full(x.shape(), NAN);
      dwconv3x3_backward_input(dy.data(), w.data(), dxw.data(), n, ch, g, s, threads, false);
      EXPECT_TRUE(allclose(dxw, dxr, 1e-5f, 1e-5f)) << isa_name(isa) << " s" << s << " assign";
      EXPECT_TRUE(allclose(dw, dwr, 1e-3f, 1e-5f)) << isa_name(isa) << " s" << s;
    }
  }
}

// The kernel tests only mean something if the SIMD paths are among the ISAs they iterate.
TEST(DwConv3x3, SimdPathsAreTestedWhereTheCpuHasThem) {
  std::string tested;
  for (Isa i : available_isas()) tested += std::string(" ") + isa_name(i);
  std::cout << "ISAs tested:" << tested << "\n";
#if defined(__aarch64__)
  EXPECT_TRUE(isa_supported(Isa::Neon));  // NEON is baseline on aarch64
#endif
  EXPECT_EQ(available_isas().front(), Isa::Scalar);
}

TEST(DwConv3x3, BadArgumentsAndMissingIsaThrow) {
  DwConv3x3Geom g{4, 4, 4, 4, 1, 1};
  float x[16] = {}, w[9] = {}, y[16];
  EXPECT_THROW(dwconv3x3_forward(x, w, nullptr, y, 1, 1, g, 3, -INFINITY, INFINITY), Error);
  EXPECT_THROW(dwconv3x3_backward_input(y, w, x, 1, 1, g, 1, 0), Error);
  for (Isa i : {Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (!isa_supported(i)) {
      EXPECT_THROW(dwconv3x3_kernels(i), Error);
    }
}

// fas's packed GEMM (kernels/gemm.cpp) equals the plain triple loop: every microkernel (the
// portable one, and each ISA's this CPU or build carries), every transpose, alpha/beta, padded
// leading dimensions, and shapes that cross the MR/NR tiles and the KC/MC/NC blocks with ragged
// remainders.
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

std::vector<std::pair<std::string, GemmUkernel>> ukernels() {
  std::vector<std::pair<std::string, GemmUkernel>> v{
      {"scalar 4x8", {f32_gemm_ukernel_4x8__scalar, f32_gemm_pack_t__scalar, 4, 8}},
      {"scalar 4x8 + 2-row edge",
       {f32_gemm_ukernel_4x8__scalar, f32_gemm_pack_t__scalar, 4, 8, f32_gemm_ukernel_2x8_a4__scalar, 2}}};
  for (Isa isa : available_isas())
    if (const GemmUkernel uk = gemm_ukernel(isa); uk.fn) v.push_back({isa_name(isa), uk});
  return v;
}

// One case: C (M x N, stride ldc = N + 3) from A, B with leading dimensions padded by 5 and 2.
// With prepack, op(A) is packed once by f32_gemm_pack_a and the A given to the driver is NaN
// (it must not be read).
void check(const std::string& who, const GemmUkernel& uk, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
           float alpha, float beta, Rng& rng, bool prepack = false) {
  const int64_t lda = (ta ? M : K) + 5, ldb = (tb ? K : N) + 2, ldc = N + 3;
  Tensor A = randn({(ta ? K : M) * lda}, rng), B = randn({(tb ? N : K) * ldb}, rng), C = randn({M * ldc}, rng);
  if (beta == 0.f)  // beta 0 must not read C
    for (int64_t i = 0; i < C.numel(); i += 7) C.data()[i] = std::numeric_limits<float>::quiet_NaN();
  Tensor ref = C.clone();
  std::vector<float> ap(prepack ? f32_gemm_packed_a_floats(uk, M, K) : 0);
  Tensor Anan = Tensor::full(A.shape(), std::numeric_limits<float>::quiet_NaN());
  if (prepack) f32_gemm_pack_a(uk, ta, M, K, A.data(), lda, ap.data());
  f32_gemm_packed(uk, ta, tb, M, N, K, alpha, prepack ? Anan.data() : A.data(), lda, B.data(), ldb, beta, C.data(),
                  ldc, prepack ? ap.data() : nullptr);
  sgemm_ref(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < ldc; ++n) {
      const float g = C.data()[m * ldc + n], r = ref.data()[m * ldc + n];
      if (n >= N) {  // the padding between rows is left alone (NaN included)
        ASSERT_TRUE(g == r || (std::isnan(g) && std::isnan(r))) << who << " wrote past N at " << m << "," << n;
        continue;
      }
      ASSERT_NEAR(g, r, 2e-5f * (float)K + 1e-5f * std::fabs(r))
          << who << " M " << M << " N " << N << " K " << K << " ta " << ta << " tb " << tb << " alpha " << alpha
          << " beta " << beta << " prepack " << prepack << " at " << m << "," << n;
    }
}

}  // namespace

TEST(GemmPacked, EveryMicrokernelEqualsReferenceOnRaggedShapes) {
  Rng rng(31);
  for (const auto& [who, uk] : ukernels())
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 7}, {12, 32, 16}, {13, 33, 17},
                           {25, 70, 257}, {100, 40, 30}, {7, 1100, 9}, {64, 96, 576},
                           // edge panels of exactly the edge kernels' rows (8 of 12, 2 of 4), fewer
                           {8, 64, 20}, {20, 33, 40}, {22, 40, 33}, {10, 17, 9}, {128, 256, 576}})
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (auto [alpha, beta] : {std::pair{1.f, 0.f}, {0.7f, 0.3f}, {-1.f, 1.f}})
            for (bool prepack : {false, true}) check(who, uk, M, N, K, ta, tb, alpha, beta, rng, prepack);
}

// A long K (several KC blocks), many rows (several MC blocks) and columns (two NC blocks).
TEST(GemmPacked, CrossesEveryBlockBoundary) {
  Rng rng(32);
  for (const auto& [who, uk] : ukernels())
    for (bool prepack : {false, true})
      check(who, uk, 2 * 8 * uk.mr + 5, 1024 + 2 * uk.nr + 3, 600, false, true, 0.5f, 1.f, rng, prepack);
}

// Each ISA's transposed packing move equals the scalar one, padding rows included.
TEST(GemmPacked, TransposedPackingEqualsScalar) {
  Rng rng(34);
  for (const auto& [who, uk] : ukernels())
    for (auto [rows, kc, width] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 12}, {12, 16, 12}, {5, 17, 12},
                                   {32, 40, 32}, {20, 3, 32}, {9, 33, 16}}) {
      const int64_t ld = kc + 3;
      Tensor src = randn({rows * ld}, rng);
      std::vector<float> got(kc * width, NAN), want(kc * width, -1.f);
      uk.pack_t(src.data(), ld, rows, kc, got.data(), width);
      f32_gemm_pack_t__scalar(src.data(), ld, rows, kc, want.data(), width);
      EXPECT_EQ(got, want) << who << " rows " << rows << " kc " << kc << " width " << width;
    }
}

TEST(GemmPacked, EmptyKOrZeroAlphaOnlyScalesC) {
  for (const auto& [who, uk] : ukernels()) {
    std::vector<float> C{1.f, 2.f, 3.f, 4.f}, A{NAN, NAN}, B{NAN, NAN};
    f32_gemm_packed(uk, false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, C.data(), 2);
    EXPECT_EQ(C, (std::vector<float>{0.5f, 1.f, 1.5f, 2.f})) << who;
    f32_gemm_packed(uk, false, false, 2, 2, 1, 0.f, A.data(), 1, B.data(), 2, 0.f, C.data(), 2);
    EXPECT_EQ(C, (std::vector<float>{0.f, 0.f, 0.f, 0.f})) << who;
  }
}

// sgemm runs fas's GEMM where this ISA has a microkernel and says so in benchmark labels.
TEST(GemmPacked, SgemmDispatchAndLabel) {
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    const std::string name = gemm_name();
    if (gemm_ukernel(isa).fn)
      EXPECT_EQ(name, std::string("fas gemm/") + isa_name(isa));
    else
      EXPECT_EQ(name.rfind("OpenBLAS sgemm (", 0), 0u) << name;
    Rng rng(33);
    Tensor A = randn({40 * 50}, rng), B = randn({50 * 30}, rng), C = Tensor::zeros({40 * 30}), R = C.clone();
    sgemm(false, false, 40, 30, 50, 1.f, A.data(), 50, B.data(), 30, 0.f, C.data(), 30);
    sgemm_ref(false, false, 40, 30, 50, 1.f, A.data(), 50, B.data(), 30, 0.f, R.data(), 30);
    EXPECT_TRUE(allclose(C, R, 1e-4f, 1e-4f)) << name;
    // A packed once serves calls of any N: a wide one runs the microkernel on the packed copy, a
    // narrow one goes to OpenBLAS, which reads A.
    std::vector<float> ap(sgemm_packed_a_floats(40, 30, 50));
    EXPECT_EQ(ap.empty(), gemm_ukernel(isa).fn == nullptr) << name;
    EXPECT_EQ(sgemm_packed_a_floats(40, 5, 50), 0u) << name;  // a call this narrow goes to OpenBLAS
    if (!ap.empty()) sgemm_pack_a(false, 40, 50, A.data(), 50, ap.data());
    for (int64_t n : {30, 5}) {
      Tensor Cp = Tensor::zeros({40 * n}), Rp = Cp.clone();
      sgemm(false, false, 40, n, 50, 1.f, A.data(), 50, B.data(), 30, 0.f, Cp.data(), n, ap.empty() ? nullptr : ap.data());
      sgemm_ref(false, false, 40, n, 50, 1.f, A.data(), 50, B.data(), 30, 0.f, Rp.data(), n);
      EXPECT_TRUE(allclose(Cp, Rp, 1e-4f, 1e-4f)) << name << " prepacked A, N " << n;
    }
  }
  set_active_isa(saved);
}

// Shapes whose tiles would be mostly padding (fewer than 3/4 of a tile's rows or columns real)
// or with a short K go to OpenBLAS; the rest to the microkernel.
TEST(GemmPacked, SmallShapesGoToOpenBlas) {
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    const GemmUkernel uk = gemm_ukernel(isa);
    if (!uk.fn) {
      EXPECT_EQ(gemm_ukernel_for(128, 1024, 576).fn, nullptr);
      continue;
    }
    EXPECT_EQ(gemm_ukernel_for(128, 1024, 576).fn, uk.fn);
    EXPECT_EQ(gemm_ukernel_for(uk.mr * 3 / 4, 1024, 576).fn, uk.fn);
    EXPECT_EQ(gemm_ukernel_for(uk.mr * 2 / 3, 1024, 576).fn, nullptr);
    EXPECT_EQ(gemm_ukernel_for(128, uk.nr + uk.nr / 2, 576).fn, uk.fn);  // 48 of 64 columns: 0.75
    EXPECT_EQ(gemm_ukernel_for(128, uk.nr + uk.nr / 4, 576).fn, nullptr);
    EXPECT_EQ(gemm_ukernel_for(128, uk.nr / 2, 576).fn, nullptr);
    EXPECT_EQ(gemm_ukernel_for(128, 1024, 15).fn, nullptr);
    EXPECT_EQ(gemm_name(8, 1024, 576).rfind("OpenBLAS sgemm (", 0), 0u);
  }
  set_active_isa(saved);
}

// Mutation test of the finite-difference gradient check: this executable links its own copies of
// the op files compiled with FAS_MUTATION (src/autograd/mutation.h), so sigmoid's backward is
// y * (1.002 - y) and mse_loss's, batch_norm's (gamma's gradient) and conv2d's (the input
// gradient) are off by 1e-3 relative, as are one element of cross_entropy's and of
// conv_transpose2d's input gradients. gradcheck and gradcheck64, which pass every case on the
// library (GradCheck.MutationCasesPassOnTheLibrary, GradCheck64.LocalizedMutationCasesPass), must
// fail every one here.
#include <cstdio>

#include "mutation_cases.h"

namespace fas::test {

TEST(GradCheckMutation, SigmoidBackwardOffByPointTwoPercentIsCaught) {
  Rng rng(5);
  Tensor a = randn({3, 5}, rng, 1.f, true);
  // The mutant is really in this binary: the backward differs from y * (1 - y) by 0.002 * y.
  Tensor y = sigmoid(a);
  sum(y).backward();
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float s = y.data()[i];
    EXPECT_NEAR(a.grad().data()[i], s * (1.002f - s), 1e-7f);
  }
  // The per-element check at its tight tolerances catches it too.
  EXPECT_FALSE(gradcheck([](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, {a}, 1e-2f, kTightAtol, kTightRtol));
}

TEST(GradCheckMutation, PointOnePercentBackwardErrorsAreCaught) {
  for (auto& c : mutation_cases()) {
    const ::testing::AssertionResult r = gradcheck(c.f, c.inputs, c.eps);
    EXPECT_FALSE(r) << c.name;
    std::printf("%s: %s\n", c.name.c_str(), r.message());  // the figure in docs/reliability.md
    // Caught by the directional part, at the default (loose) per-element tolerances.
    EXPECT_NE(std::string(r.message()).find("direction"), std::string::npos) << c.name << ": " << r.message();
  }
}

// A 0.1 % error in one element only: the float32 check's directional part sees it diluted
// below its tolerance and its per-element part is too loose, so it may pass; gradcheck64 fails.
TEST(GradCheckMutation, OneElementPointOnePercentErrorsAreCaughtInFloat64) {
  for (auto& c : localized_mutation_cases()) {
    const ::testing::AssertionResult r64 = gradcheck64(c.f, c.ref, c.inputs), r32 = gradcheck(c.f, c.inputs, 5e-2f);
    EXPECT_FALSE(r64) << c.name;
    EXPECT_NE(std::string(r64.message()).find("element 0 "), std::string::npos) << c.name << ": " << r64.message();
    std::printf("%s: float64 check: %s\n  float32 check: %s\n", c.name.c_str(), r64.message(), r32 ? "passes" : r32.message());
  }
}

}  // namespace fas::test

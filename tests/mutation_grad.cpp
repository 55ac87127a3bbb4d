// Mutation test of the finite-difference gradient check: this executable links its own copies of
// the op files compiled with FAS_MUTATION (src/autograd/mutation.h), so sigmoid's backward is
// y * (1.002 - y) and mse_loss's, batch_norm's (gamma's gradient) and conv2d's (the input
// gradient) are off by 1e-3 relative. gradcheck, which passes every case on the library
// (GradCheck.MutationCasesPassOnTheLibrary in test_core), must fail every one here.
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

}  // namespace fas::test

// Mutation test of the finite-difference gradient check: this executable links its own copy of
// src/autograd/ops_elementwise.cpp compiled with FAS_MUTATE_SIGMOID_ONE=1.002f, so sigmoid's
// backward is y * (1.002 - y), a 0.2 % error. The check at the tolerances that the correct op
// passes (GradCheck.ElementwiseTight in test_core: kTightAtol, kTightRtol) must fail.
#include "testutil.h"

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
  EXPECT_FALSE(gradcheck([](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, {a}, 1e-2f, kTightAtol, kTightRtol));
}

}  // namespace fas::test

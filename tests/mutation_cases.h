// The gradient checks of the mutation test: one case per mutation point (src/autograd/mutation.h).
// GradCheck.MutationCasesPassOnTheLibrary (test_core) runs them on the library, where each must
// pass; tests/mutation_grad.cpp runs the same cases on the mutated ops, where each must fail.
#pragma once
#include <string>
#include <vector>

#include "testutil.h"

namespace fas::test {

struct GradCase {
  std::string name;
  std::function<Tensor(const std::vector<Tensor>&)> f;
  std::vector<Tensor> inputs;
  float eps;  // gradcheck's step: as long as the op allows (testutil.h)
};

inline std::vector<GradCase> mutation_cases() {
  Rng rng(5);
  std::vector<GradCase> cases;
  cases.push_back({"sigmoid", [](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, {randn({3, 5}, rng, 1.f, true)}, 1e-2f});
  cases.push_back({"mse_loss", [](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); },
                   {randn({4, 6}, rng, 1.f, true), randn({4, 6}, rng, 1.f, true)}, 1e-1f});
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});  // updated in place, never read in training
  cases.push_back({"batch_norm",
                   [rm, rv](const std::vector<Tensor>& in) mutable { return batch_norm(in[0], in[1], in[2], rm, rv, {}); },
                   {randn({2, 3, 5, 7}, rng, 2.f, true), randu({3}, rng, 0.5f, 1.5f, true), randn({3}, rng, 1.f, true)}, 5e-2f});
  Conv2dArgs ca;
  ca.pad_top = ca.pad_bottom = ca.pad_left = ca.pad_right = 1;
  cases.push_back({"conv2d", [ca](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], ca); },
                   {randn({2, 3, 7, 6}, rng, 1.f, true), randn({4, 3, 3, 3}, rng, 0.3f, true), randn({4}, rng, 1.f, true)}, 1e-1f});
  return cases;
}

}  // namespace fas::test

// The gradient checks of the mutation test: one case per mutation point (src/autograd/mutation.h).
// GradCheck.MutationCasesPassOnTheLibrary (test_core) runs them on the library, where each must
// pass; tests/mutation_grad.cpp runs the same cases on the mutated ops, where each must fail.
#pragma once
#include <string>
#include <vector>

#include "ref64.h"
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

// A 0.1 % error in one element of a backward (kMutantOneElement): in cross_entropy's gradient
// of logit [0, 0], and in conv_transpose2d's input gradient at a border pixel, [0, 0, 0, 0].
// At these sizes (640 and 1,600 elements), diluted in the whole gradient's projection, they pass
// gradcheck above; gradcheck64, per element against the float64 references, must fail both (GradCheck64.LocalizedMutationCasesPass in
// test_gradcheck64 passes them on the library).
struct GradCase64 {
  std::string name;
  std::function<Tensor(const std::vector<Tensor>&)> f;
  Ref64 ref;
  std::vector<Tensor> inputs;
};

inline std::vector<GradCase64> localized_mutation_cases() {
  Rng rng(7);
  std::vector<GradCase64> cases;
  std::vector<int64_t> labels(64);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = (int64_t)(i * 7 % 10);
  cases.push_back({"cross_entropy[0,0]", [labels](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels); },
                   [labels](const std::vector<ref64::Vec>& x) { return ref64::cross_entropy(x[0], 64, 10, labels, Reduction::Mean); },
                   {randn({64, 10}, rng, 1.f, true)}});
  ConvT2dArgs ta;
  ta.stride_h = ta.stride_w = 2;
  ta.pad_top = ta.pad_left = 1;
  const ref64::Geom g{2, 8, 10, 10, 4, 3, 3};
  cases.push_back({"conv_transpose2d dx[0,0,0,0]",
                   [ta](const std::vector<Tensor>& in) { return conv_transpose2d(in[0], in[1], in[2], ta); },
                   [ta, g](const std::vector<ref64::Vec>& x) { return ref64::conv_transpose2d(x[0], x[1], x[2], g, ta); },
                   {randn({2, 8, 10, 10}, rng, 1.f, true), randn({8, 4, 3, 3}, rng, 0.3f, true), randn({4}, rng, 1.f, true)}});
  return cases;
}

}  // namespace fas::test

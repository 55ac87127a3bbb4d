// Mutation points of the gradient checks. tests/mutation_grad.cpp links its own copies of the op
// files compiled with FAS_MUTATION defined, which puts a known small error into the backward at
// each point marked with these factors: a 1e-3 relative error (kMutant) in a loss, a
// normalisation and a convolution, and sigmoid's y (1.002 - y); and the same error in one element
// only (kMutantOneElement) of cross_entropy's and conv_transpose2d's input gradients, which only
// the per-element float64 check (gradcheck64) sees. The checks must fail on every one. The
// library is built without FAS_MUTATION: every factor is exactly 1 and folds away.
#pragma once

namespace fas {
#ifdef FAS_MUTATION
inline constexpr float kMutant = 1.001f, kMutantSigmoidOne = 1.002f, kMutantOneElement = 1.001f;
#else
inline constexpr float kMutant = 1.f, kMutantSigmoidOne = 1.f, kMutantOneElement = 1.f;
#endif
}  // namespace fas

// Shared test helpers: random tensors, finite-difference gradient checks, fixture loading.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "tensor/random.h"

namespace fas::test {

Tensor randn(const Shape& s, Rng& rng, float scale = 1.f, bool requires_grad = false);
Tensor randu(const Shape& s, Rng& rng, float lo, float hi, bool requires_grad = false);

// Finite-difference gradient check of L = sum(f(inputs) * R) for a fixed random R, with respect
// to every input that requires grad. L is accumulated in float64; each element's derivative is
// Richardson-extrapolated from central differences at steps eps and eps/2,
// (4 D(eps/2) - D(eps)) / 3, which cancels the eps^2 truncation term (every point stays within
// +-eps: ops with kinks must be fed inputs at least eps away from them, the caller's job).
// Two parts, both must pass:
// - directional (the tight one, every op): for kDirections random +-1 directions v per input,
//   the extrapolated finite difference along v is within kDirRtol of max(|<analytic, v>|,
//   kDirFloor |analytic|). The float32 rounding of one evaluation of L is set against the whole
//   gradient's projection, so it stays below 2e-4 relative for every op, losses and norms
//   included, when the caller takes the longest step the op allows (docs/reliability.md): a 1e-3
//   relative backward error fails it (tests/mutation_grad.cpp);
// - per element: |analytic - numeric| <= atol + rtol * |numeric| for every element, which finds
//   where a gross error is (a wrong index, a missed term). Its noise is the float32 rounding of
//   f's outputs over one element's small effect: about 1e-4 relative for elementwise ops (so
//   kTightAtol/kTightRtol catch a 0.1 % error there), near 1e-3 for ops that reduce to a scalar,
//   hence the loose defaults.
inline constexpr float kTightAtol = 1e-5f, kTightRtol = 4e-4f;
inline constexpr int kDirections = 3;
inline constexpr double kDirRtol = 3e-4, kDirFloor = 0.1;
::testing::AssertionResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                     std::vector<Tensor> inputs, float eps = 1e-2f, float atol = 2e-3f,
                                     float rtol = 2e-2f, double dir_rtol = kDirRtol);

// f throws a fas::Error whose message contains every one of parts (a test failure otherwise).
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts);

// Max |a - b| over equal-shaped tensors (fails the test on a shape mismatch).
float max_abs_diff(const Tensor& a, const Tensor& b);
::testing::AssertionResult allclose(const Tensor& a, const Tensor& b, float atol, float rtol);

// Golden fixtures written by tools/make_golden.py: a directory per case under
// tests/golden/<case>/ holding <name>.bin (little-endian float32) and <name>.shape (text dims).
Tensor load_golden(const std::string& case_name, const std::string& tensor_name);
bool has_golden(const std::string& case_name, const std::string& tensor_name);

// Thread counts for tests that pass an explicit count to a threaded kernel: `wanted` with each
// count capped at FAS_TEST_MAX_THREADS (when set; an integer >= 1) and repeats dropped, order
// kept. Native runs leave it unset and test every count; tools/cross_aarch64.sh sets it to 1
// because qemu-user's libgomp hangs once an OpenMP team has 2+ threads.
std::vector<int> test_thread_counts(std::initializer_list<int> wanted);

}  // namespace fas::test

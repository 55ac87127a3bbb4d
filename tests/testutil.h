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

// Per-element check against a float64 reference forward of the same op (tests/ref64.h), as
// PyTorch's gradcheck runs its ops in double: `ref` maps the inputs' values (as doubles, flat) to
// the outputs'. First the op's float32 forward must equal ref's to kRef64FwdRtol of the largest
// output (which ties the reference to the op); then, for L = sum(f(inputs) * R), every element of
// every input that requires grad has its analytic gradient (the op's float32 backward) compared
// with the Richardson-extrapolated central difference of ref's L in double (steps h, h/2; about
// 1e-10 relative): |analytic - numeric| <= rtol |numeric| + kRef64Atol max|numeric|. A 0.1 % error
// in one element of a backward fails it unless that element is under 0.1 % of the largest
// (tests/mutation_grad.cpp), which the float32 check above cannot promise for ops that sum.
using Ref64 = std::function<std::vector<double>(const std::vector<std::vector<double>>&)>;
inline constexpr double kRef64Rtol = 1e-5, kRef64Atol = 1e-6, kRef64FwdRtol = 1e-5;
::testing::AssertionResult gradcheck64(const std::function<Tensor(const std::vector<Tensor>&)>& f, const Ref64& ref,
                                       std::vector<Tensor> inputs, double h = 1e-3, double rtol = kRef64Rtol);

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

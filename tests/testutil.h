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

// Central-difference gradient check of L = sum(f(inputs) * R) for a fixed random R, with
// respect to every input that requires grad. Differences are taken in float32 with step eps;
// passes when |analytic - numeric| <= atol + rtol * |numeric| for every element.
// Ops with kinks must be fed inputs away from them (the caller's job, done deliberately).
::testing::AssertionResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                     std::vector<Tensor> inputs, float eps = 1e-2f, float atol = 2e-3f,
                                     float rtol = 2e-2f);

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

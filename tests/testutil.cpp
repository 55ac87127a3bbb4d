#include "testutil.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "autograd/graph.h"

namespace fas::test {

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no fas::Error thrown";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  }
}

Tensor randn(const Shape& s, Rng& rng, float scale, bool rg) {
  Tensor t = Tensor::zeros(s);
  init_normal(t, 0.f, scale, rng);
  t.set_requires_grad(rg);
  return t;
}

Tensor randu(const Shape& s, Rng& rng, float lo, float hi, bool rg) {
  Tensor t = Tensor::zeros(s);
  init_uniform(t, lo, hi, rng);
  t.set_requires_grad(rg);
  return t;
}

::testing::AssertionResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                     std::vector<Tensor> inputs, float eps, float atol, float rtol) {
  Rng rng(1234);
  Tensor y0 = f(inputs);
  Tensor R = randn(y0.shape(), rng);
  auto loss_value = [&]() {
    NoGradGuard ng;
    Tensor y = f(inputs);
    double s = 0;
    for (int64_t i = 0; i < y.numel(); ++i) s += (double)y.data()[i] * R.data()[i];
    return s;
  };
  for (auto& t : inputs) t.zero_grad();
  Tensor L = sum(mul(f(inputs), R));
  L.backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    if (!x.grad().defined()) return ::testing::AssertionFailure() << "input " << k << " received no gradient";
    std::vector<float> analytic = x.grad().to_vector();
    float* p = x.data();
    // Central differences at steps h and h/2, combined by Richardson extrapolation,
    // (4 D(h/2) - D(h)) / 3: the h^2 truncation term cancels, leaving O(h^4), and every point
    // stays within the caller's +-eps of x (inputs are placed away from kinks by that much).
    // The perturbed points are rounded to float32 first and the step is taken as the
    // difference actually applied, so the step's own rounding adds no error.
    auto central = [&](int64_t i, float old, float h) {
      const float up = old + h, down = old - h;
      p[i] = up;
      const double lp = loss_value();
      p[i] = down;
      const double lm = loss_value();
      p[i] = old;
      return (lp - lm) / ((double)up - (double)down);
    };
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float old = p[i];
      const double num = (4.0 * central(i, old, 0.5f * eps) - central(i, old, eps)) / 3.0;
      if (std::fabs(analytic[i] - num) > atol + rtol * std::fabs(num))
        return ::testing::AssertionFailure() << "input " << k << " element " << i << " of " << shape_str(x.shape())
                                             << ": analytic " << analytic[i] << " vs numeric " << num << " (relative error "
                                             << std::fabs(analytic[i] - num) / std::max(std::fabs(num), 1e-30) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.numel() != b.numel()) return INFINITY;
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

::testing::AssertionResult allclose(const Tensor& a, const Tensor& b, float atol, float rtol) {
  if (a.numel() != b.numel())
    return ::testing::AssertionFailure() << "shapes " << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    float x = a.data()[i], y = b.data()[i];
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y)))
      return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y << " (atol " << atol
                                           << ", rtol " << rtol << ", shape " << shape_str(a.shape()) << ")";
  }
  return ::testing::AssertionSuccess();
}

static std::string golden_path(const std::string& c, const std::string& n) {
  return std::string(FAS_SOURCE_DIR) + "/tests/golden/" + c + "/" + n;
}

bool has_golden(const std::string& c, const std::string& n) {
  return std::ifstream(golden_path(c, n) + ".bin").good();
}

Tensor load_golden(const std::string& c, const std::string& n) {
  std::ifstream sf(golden_path(c, n) + ".shape");
  if (!sf) throw Error("missing golden shape file " + golden_path(c, n) + ".shape");
  Shape s;
  int64_t d;
  while (sf >> d) s.push_back(d);
  Tensor t = Tensor::zeros(s);
  std::ifstream bf(golden_path(c, n) + ".bin", std::ios::binary);
  bf.read(reinterpret_cast<char*>(t.data()), sizeof(float) * t.numel());
  if (!bf || bf.gcount() != (std::streamsize)(sizeof(float) * t.numel()))
    throw Error("golden file " + golden_path(c, n) + ".bin is short");
  return t;
}

std::vector<int> test_thread_counts(std::initializer_list<int> wanted) {
  int cap = INT_MAX;
  if (const char* e = std::getenv("FAS_TEST_MAX_THREADS"); e && *e) {
    char* end = nullptr;
    const long v = std::strtol(e, &end, 10);
    if (*end || v < 1 || v > INT_MAX)
      throw Error(std::string("FAS_TEST_MAX_THREADS must be an integer >= 1, got '") + e + "'");
    cap = (int)v;
  }
  std::vector<int> out;
  for (int t : wanted)
    if (std::find(out.begin(), out.end(), std::min(t, cap)) == out.end()) out.push_back(std::min(t, cap));
  return out;
}

}  // namespace fas::test

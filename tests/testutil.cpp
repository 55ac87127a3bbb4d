#include "testutil.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
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
                                     std::vector<Tensor> inputs, float eps, float atol, float rtol, double dir_rtol) {
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
    // Directional check first (it is the tight one): for kDirections random +-1 directions v,
    // the finite difference of L along v against <analytic, v>, as PyTorch's fast-mode gradcheck
    // does. Each element still moves by exactly +-h, so the caller's kink margin holds, but the
    // signal is the whole gradient's projection (about |grad| sqrt(n)) while the float32 rounding
    // noise of L stays that of one evaluation: at most 2e-4 relative over the suite instead of
    // 1e-3 per element, so a 1e-3 relative backward error stands out (tests/mutation_grad.cpp).
    // err(h) = finite difference - <analytic, applied step> is O(h^2) plus rounding, so its
    // Richardson combination (4 err(h/2) - err(h)) / 3 is rounding only; both use the points as
    // rounded to float32, so the steps' own rounding adds no error.
    const std::vector<float> x0(p, p + x.numel());
    double worst = 0;
    for (int d = 0; d < kDirections; ++d) {
      std::vector<float> v(x.numel());
      for (float& vi : v) vi = rng.uniform() < 0.5f ? -1.f : 1.f;
      double proj = 0, gnorm = 0;
      for (size_t i = 0; i < v.size(); ++i) proj += (double)analytic[i] * v[i], gnorm += (double)analytic[i] * analytic[i];
      auto err = [&](float h) {
        double applied = 0;  // <analytic, x(+h) - x(-h)> over the rounded points
        for (size_t i = 0; i < v.size(); ++i) p[i] = x0[i] + h * v[i];
        const double lp = loss_value();
        for (size_t i = 0; i < v.size(); ++i) {
          const float up = p[i];
          p[i] = x0[i] - h * v[i];
          applied += (double)analytic[i] * ((double)up - (double)p[i]);
        }
        const double lm = loss_value();
        std::copy(x0.begin(), x0.end(), p);
        return ((lp - lm) - applied) / (2.0 * h);
      };
      const double e = std::fabs((4.0 * err(0.5f * eps) - err(eps)) / 3.0);
      // Relative to |<analytic, v>|, with a floor of kDirFloor |analytic| for a projection that
      // happens to cancel (or a zero gradient).
      const double scale = std::max(std::fabs(proj), kDirFloor * std::sqrt(gnorm)), rel = e / std::max(scale, 1e-30);
      worst = std::max(worst, rel);
      if (!(e <= dir_rtol * scale))
        return ::testing::AssertionFailure() << "input " << k << " of " << shape_str(x.shape()) << ", direction " << d
                                             << ": finite difference differs from <analytic, v> = " << proj << " by "
                                             << e << " (relative " << rel << ", tolerance " << dir_rtol << ")";
    }
    if (std::getenv("FAS_GRADCHECK_VERBOSE"))
      std::fprintf(stderr, "gradcheck: input %zu %s: worst directional relative error %.2e\n", k, shape_str(x.shape()).c_str(), worst);
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

::testing::AssertionResult gradcheck64(const std::function<Tensor(const std::vector<Tensor>&)>& f, const Ref64& ref,
                                       std::vector<Tensor> inputs, double h, double rtol) {
  std::vector<std::vector<double>> xd;
  for (auto& t : inputs) xd.emplace_back(t.data(), t.data() + t.numel());
  for (auto& t : inputs) t.zero_grad();
  Tensor y = f(inputs);
  const std::vector<double> yr = ref(xd);
  if ((int64_t)yr.size() != y.numel())
    return ::testing::AssertionFailure() << "reference gives " << yr.size() << " outputs, the op " << y.numel();
  double ymax = 0;
  for (double v : yr) ymax = std::max(ymax, std::fabs(v));
  for (int64_t i = 0; i < y.numel(); ++i)
    if (!(std::fabs(y.data()[i] - yr[i]) <= kRef64FwdRtol * ymax))
      return ::testing::AssertionFailure() << "forward element " << i << ": " << y.data()[i] << " vs float64 reference "
                                           << yr[i] << " (largest output " << ymax << ")";
  Rng rng(4321);
  const Tensor R = randn(y.shape(), rng);
  sum(mul(y, R)).backward();
  auto loss_value = [&]() {
    const std::vector<double> o = ref(xd);
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * R.data()[i];
    return s;
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    if (!inputs[k].grad().defined()) return ::testing::AssertionFailure() << "input " << k << " received no gradient";
    const std::vector<float> analytic = inputs[k].grad().to_vector();
    std::vector<double> num(analytic.size());
    std::vector<double>& x = xd[k];
    auto central = [&](size_t i, double step) {
      const double old = x[i];
      x[i] = old + step;
      const double lp = loss_value();
      x[i] = old - step;
      const double lm = loss_value();
      x[i] = old;
      return (lp - lm) / (2 * step);
    };
    double nmax = 0;
    for (size_t i = 0; i < num.size(); ++i) {
      num[i] = (4 * central(i, h / 2) - central(i, h)) / 3;
      nmax = std::max(nmax, std::fabs(num[i]));
    }
    double worst = 0;  // the largest share of its tolerance an element uses
    for (size_t i = 0; i < num.size(); ++i) {
      const double err = std::fabs(analytic[i] - num[i]), tol = rtol * std::fabs(num[i]) + kRef64Atol * nmax;
      worst = std::max(worst, err / std::max(tol, 1e-300));
      if (!(err <= tol))
        return ::testing::AssertionFailure() << "input " << k << " element " << i << " of " << shape_str(inputs[k].shape())
                                             << ": analytic " << analytic[i] << " vs float64 numeric " << num[i]
                                             << " (relative error " << err / std::max(std::fabs(num[i]), 1e-300) << ")";
    }
    if (std::getenv("FAS_GRADCHECK_VERBOSE"))
      std::fprintf(stderr, "gradcheck64: input %zu %s: worst element uses %.2f of its tolerance\n", k,
                   shape_str(inputs[k].shape()).c_str(), worst);
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

// The unsupervised threshold (metrics/mixture.h): EM recovers a known two-Gaussian mixture and
// cuts it where the weighted densities cross; bad inputs are errors.
#include <algorithm>
#include <cmath>

#include "metrics/mixture.h"
#include "tensor/random.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::metrics;
using namespace fas::test;

namespace {

// The exact cut of w0 N(m0, s0) = w1 N(m1, s1) between the means (the quadratic's root there).
double true_cut(double w0, double m0, double s0, double w1, double m1, double s1) {
  const double a = 1 / (s1 * s1) - 1 / (s0 * s0), b = 2 * (m0 / (s0 * s0) - m1 / (s1 * s1));
  const double c = m1 * m1 / (s1 * s1) - m0 * m0 / (s0 * s0) - 2 * std::log(w1 * s0 / (w0 * s1));
  const double r = std::sqrt(b * b - 4 * a * c), t1 = (-b + r) / (2 * a), t2 = (-b - r) / (2 * a);
  return (t1 > m0 && t1 < m1) ? t1 : t2;
}

std::vector<double> sample(Rng& rng, int n0, double m0, double s0, int n1, double m1, double s1) {
  std::vector<double> x;
  for (int i = 0; i < n0; ++i) x.push_back(m0 + s0 * rng.normal());
  for (int i = 0; i < n1; ++i) x.push_back(m1 + s1 * rng.normal());
  return x;
}

}  // namespace

TEST(Mixture, RecoversAKnownMixtureAndItsCut) {
  Rng rng(7);
  // Unequal weights and spreads, as live/spoof log-odds on a new session look (63 % / 37 %).
  std::vector<double> x = sample(rng, 6000, -2.0, 1.0, 2000, 3.0, 0.5);
  Mixture g = fit_two_gaussians(x);
  EXPECT_NEAR(g.weight[0], 0.75, 0.01);
  EXPECT_NEAR(g.mean[0], -2.0, 0.05);
  EXPECT_NEAR(g.mean[1], 3.0, 0.05);
  EXPECT_NEAR(g.stddev[0], 1.0, 0.05);
  EXPECT_NEAR(g.stddev[1], 0.5, 0.05);
  const double cut = true_cut(0.75, -2.0, 1.0, 0.25, 3.0, 0.5);
  EXPECT_NEAR(g.threshold, cut, 0.05) << "true cut " << cut;
  EXPECT_GT(g.threshold, 0.5);  // pulled towards the narrow component, not the midpoint
  EXPECT_GT(g.iterations, 1);
  // The fit depends on the values, not their order.
  std::reverse(x.begin(), x.end());
  EXPECT_NEAR(fit_two_gaussians(x).threshold, g.threshold, 1e-9);
  // Shifting and scaling the scores moves the cut with them.
  for (double& v : x) v = 10 + 3 * v;
  EXPECT_NEAR(fit_two_gaussians(x).threshold, 10 + 3 * g.threshold, 1e-6);
}

TEST(Mixture, BadInputsAreErrors) {
  EXPECT_TRUE(has(error_of([] { fit_two_gaussians({1, 2, 3}); }), "at least 4"));
  EXPECT_TRUE(has(error_of([] { fit_two_gaussians({1, 2, NAN, 3, 4}); }), "NaN"));
  EXPECT_TRUE(has(error_of([] { fit_two_gaussians({2, 2, 2, 2, 2}); }), "all scores are equal"));
}

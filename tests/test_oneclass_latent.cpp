// PCA and Gaussian-mixture EM of the latent analysis (models/oneclass_latent.h) against
// scikit-learn 1.2 on a fixed 240 x 5 dataset (tools/golden_oneclass.py, case oneclass_latent).
// Tolerance 1e-4 relative (the fixtures are float32; the fits are double).
#include <cmath>

#include "metrics/metrics.h"
#include "models/oneclass_latent.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using fas::test::error_of;
using fas::test::load_golden;

namespace {
const std::string kCase = "oneclass_latent";

std::vector<double> golden(const std::string& name) {
  std::vector<float> f = load_golden(kCase, name).to_vector();
  return std::vector<double>(f.begin(), f.end());
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], rel * std::max(1.0, std::fabs(want[i]))) << what << " [" << i << "]";
}

std::vector<int64_t> init_rows() {
  std::vector<int64_t> r;
  for (double v : golden("init")) r.push_back((int64_t)v);
  return r;
}
}  // namespace

TEST(OneClassLatent, PcaEqualsSklearn) {
  const std::vector<double> X = golden("X");
  Pca p = fit_pca(X, 240, 5, 2);
  expect_close(p.mean, golden("pca_mean"), 1e-5, "mean");
  expect_close(p.variance, golden("pca_variance"), 1e-5, "variance");
  expect_close(p.components, golden("pca_components"), 1e-4, "components");
  std::vector<double> t = p.transform(X);
  ASSERT_EQ(t.size(), 480u);
  double var0 = 0;
  for (int i = 0; i < 240; ++i) var0 += t[2 * i] * t[2 * i] / 239;  // projections have mean 0
  EXPECT_NEAR(var0, p.variance[0], 1e-9 * p.variance[0]);
}

TEST(OneClassLatent, GmmFullAndDiagonalEqualSklearn) {
  const std::vector<double> X = golden("X");
  for (const char* cov : {"full", "diag"}) {
    const std::string c = cov;
    GmmOptions o;
    o.components = 3;
    o.diagonal = c == "diag";
    Gmm g = fit_gmm(X, 240, 5, o, init_rows());
    EXPECT_TRUE(g.converged) << c;
    EXPECT_EQ(g.iterations, (int)golden(c + "_n_iter")[0]) << c;
    expect_close(g.weights, golden(c + "_weights"), 1e-4, c + " weights");
    expect_close(g.means, golden(c + "_means"), 1e-4, c + " means");
    expect_close(g.covariances, golden(c + "_covariances"), 1e-4, c + " covariances");
    EXPECT_NEAR(g.lower_bound, golden(c + "_lower_bound")[0], 1e-4 * std::fabs(g.lower_bound)) << c;
    expect_close(g.score_samples(X), golden(c + "_score_samples"), 1e-4, c + " score_samples");
  }
}

TEST(OneClassLatent, KmeansPlusPlusPicksDistinctSpreadCentres) {
  const std::vector<double> X = golden("X");
  std::vector<int64_t> a = kmeans_plusplus(X, 240, 5, 3, 7), b = kmeans_plusplus(X, 240, 5, 3, 7);
  EXPECT_EQ(a, b);  // seeded
  // One centre per blob (rows 0-79, 80-159, 160-239 are the three blobs).
  std::vector<int> blob(3, 0);
  for (int64_t r : a) ++blob[r / 80];
  EXPECT_EQ(blob, (std::vector<int>{1, 1, 1}));
  GmmOptions o;
  o.components = 3;
  Gmm g = fit_gmm(X, 240, 5, o);  // from its own k-means++: the same optimum as sklearn's
  std::vector<double> s = g.score_samples(X), want = golden("full_score_samples");
  double mean_got = 0, mean_want = 0;
  for (int i = 0; i < 240; ++i) mean_got += s[i] / 240, mean_want += want[i] / 240;
  EXPECT_NEAR(mean_got, mean_want, 1e-3 * std::fabs(mean_want));
}

TEST(OneClassLatent, BadInputIsOneClearError) {
  std::vector<double> X(10, 0.0);
  EXPECT_NE(error_of([&] { fit_pca(X, 5, 2, 3); }).find("k <= min(n, d)"), std::string::npos);
  EXPECT_NE(error_of([&] { fit_pca(X, 3, 2, 1); }).find("is not 3 x 2"), std::string::npos);
  GmmOptions o;
  o.components = 6;
  EXPECT_NE(error_of([&] { fit_gmm(X, 5, 2, o); }).find("components <= n"), std::string::npos);
  o.components = 2;
  o.reg_covar = 0;  // identical points, no regularisation: a singular covariance
  EXPECT_NE(error_of([&] { fit_gmm(X, 5, 2, o, {0, 1}); }).find("not positive definite"), std::string::npos);
  X[3] = NAN;
  EXPECT_NE(error_of([&] { fit_gmm(X, 5, 2, GmmOptions{}); }).find("non-finite"), std::string::npos);
}

TEST(OneClassLatent, QuantileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(metrics::quantile({4, 1, 3, 2}, 0.95), 3.85);  // numpy.quantile([1,2,3,4], .95)
  EXPECT_DOUBLE_EQ(metrics::quantile({4, 1, 3, 2}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(metrics::quantile({4, 1, 3, 2}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(metrics::quantile({7}, 0.5), 7.0);
  EXPECT_NE(error_of([] { metrics::quantile({}, 0.5); }).find("quantile"), std::string::npos);
}

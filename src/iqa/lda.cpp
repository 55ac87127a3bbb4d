#include "iqa/lda.h"

#include <cmath>

#include "iqa/linalg.h"
#include "base/error.h"

namespace fas::iqa {

double LdaModel::decision(const double* x) const {
  double s = intercept;
  for (size_t i = 0; i < coef.size(); ++i) s += coef[i] * x[i];
  return s;
}
double LdaModel::probability(const double* x) const { return 1.0 / (1.0 + std::exp(-decision(x))); }

namespace {
std::vector<double> column_means(const std::vector<double>& X, int n, int p) {
  std::vector<double> m((size_t)p, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < p; ++j) m[j] += X[(size_t)i * p + j];
  for (auto& v : m) v /= n;
  return m;
}

// sklearn discriminant_analysis._cov(X, 'auto'): StandardScaler (population std, 0 -> 1), the
// Ledoit-Wolf covariance of the scaled data, scaled back.
std::vector<double> shrunk_cov(const std::vector<double>& X, int n, int p) {
  const std::vector<double> mu = column_means(X, n, p);
  std::vector<double> sd((size_t)p, 0.0), Z((size_t)n * p);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < p; ++j) {
      const double d = X[(size_t)i * p + j] - mu[j];
      sd[j] += d * d / n;
    }
  for (auto& s : sd) s = s > 0 ? std::sqrt(s) : 1.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < p; ++j) Z[(size_t)i * p + j] = (X[(size_t)i * p + j] - mu[j]) / sd[j];
  const double s = ledoit_wolf_shrinkage(Z, n, p);
  std::vector<double> c((size_t)p * p, 0.0);
  double trace = 0;
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) c[(size_t)a * p + b] += Z[(size_t)i * p + a] * Z[(size_t)i * p + b] / n;
  for (int a = 0; a < p; ++a) trace += c[(size_t)a * p + a];
  for (int a = 0; a < p; ++a)
    for (int b = 0; b < p; ++b) {
      double v = (1 - s) * c[(size_t)a * p + b] + (a == b ? s * trace / p : 0.0);
      c[(size_t)a * p + b] = v * sd[a] * sd[b];
    }
  return c;
}
}  // namespace

double ledoit_wolf_shrinkage(const std::vector<double>& X, int n, int p) {
  if (p == 1) return 0.0;
  const std::vector<double> mu = column_means(X, n, p);
  std::vector<double> Xc((size_t)n * p);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < p; ++j) Xc[(size_t)i * p + j] = X[(size_t)i * p + j] - mu[j];
  // beta_ = sum((X^2)^T X^2), delta_ = sum((X^T X)^2) / n^2, emp_cov_trace = sum(X^2, 0) / n.
  std::vector<double> xtx((size_t)p * p, 0.0), x2tx2((size_t)p * p, 0.0), tr((size_t)p, 0.0);
  for (int i = 0; i < n; ++i) {
    const double* r = Xc.data() + (size_t)i * p;
    for (int a = 0; a < p; ++a) {
      tr[a] += r[a] * r[a] / n;
      for (int b = 0; b < p; ++b) {
        xtx[(size_t)a * p + b] += r[a] * r[b];
        x2tx2[(size_t)a * p + b] += r[a] * r[a] * r[b] * r[b];
      }
    }
  }
  double beta_ = 0, delta_ = 0, trace = 0;
  for (double v : x2tx2) beta_ += v;
  for (double v : xtx) delta_ += v * v;
  for (double v : tr) trace += v;
  delta_ /= (double)n * n;
  const double mu_t = trace / p;
  double beta = 1.0 / ((double)p * n) * (beta_ / n - delta_);
  double delta = (delta_ - 2.0 * mu_t * trace + p * mu_t * mu_t) / p;
  beta = std::min(beta, delta);
  return beta == 0 ? 0.0 : beta / delta;
}

LdaModel fit_shrinkage_lda(const std::vector<double>& X, const std::vector<int>& y, int p) {
  const int n = (int)y.size();
  FAS_CHECK((int64_t)X.size() == (int64_t)n * p, "lda: X must hold n x p values");
  std::vector<double> Xk[2];
  for (int i = 0; i < n; ++i) {
    FAS_CHECK(y[i] == 0 || y[i] == 1, "lda: labels must be 0 or 1");
    Xk[y[i]].insert(Xk[y[i]].end(), X.begin() + (size_t)i * p, X.begin() + (size_t)(i + 1) * p);
  }
  const int n0 = (int)(Xk[0].size() / p), n1 = (int)(Xk[1].size() / p);
  if (n0 < 2 || n1 < 2) fail("lda: needs at least 2 samples of each class (got " + std::to_string(n0) + " spoof, " +
                             std::to_string(n1) + " live)");
  const double prior[2] = {(double)n0 / n, (double)n1 / n};
  std::vector<double> Sw((size_t)p * p, 0.0), mu[2];
  for (int k = 0; k < 2; ++k) {
    const int nk = k ? n1 : n0;
    mu[k] = column_means(Xk[k], nk, p);
    const std::vector<double> c = shrunk_cov(Xk[k], nk, p);
    for (size_t i = 0; i < Sw.size(); ++i) Sw[i] += prior[k] * c[i];
  }
  LdaModel m;
  const std::vector<double> a0 = spd_solve(Sw, p, mu[0]), a1 = spd_solve(Sw, p, mu[1]);
  m.coef.resize((size_t)p);
  double q0 = 0, q1 = 0;
  for (int j = 0; j < p; ++j) m.coef[j] = a1[j] - a0[j], q0 += mu[0][j] * a0[j], q1 += mu[1][j] * a1[j];
  m.intercept = -0.5 * (q1 - q0) + std::log(prior[1] / prior[0]);
  return m;
}

}  // namespace fas::iqa

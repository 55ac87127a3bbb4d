#include "models/oneclass_latent.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace fas {

namespace {

void check_data(const std::vector<double>& X, int64_t n, int64_t d, const char* who) {
  if (n < 1 || d < 1 || (int64_t)X.size() != n * d)
    fail(std::string(who) + ": data of " + std::to_string(X.size()) + " values is not " + std::to_string(n) + " x " +
         std::to_string(d));
  for (double v : X)
    if (!std::isfinite(v)) fail(std::string(who) + ": the data has a non-finite value");
}

// Eigen-decomposition of the symmetric a [d, d] by cyclic Jacobi: eigenvalues in w, eigenvectors
// as the columns of v. Converges quadratically; d is a latent size (<= 512).
void jacobi_eigen(std::vector<double> a, int64_t d, std::vector<double>& w, std::vector<double>& v) {
  v.assign(d * d, 0.0);
  for (int64_t i = 0; i < d; ++i) v[i * d + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) (i == j ? diag : off) += a[i * d + j] * a[i * d + j];
    if (off <= 1e-30 * std::max(diag, 1e-300)) break;
    for (int64_t p = 0; p < d; ++p)
      for (int64_t q = p + 1; q < d; ++q) {
        const double apq = a[p * d + q];
        if (apq == 0) continue;
        const double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < d; ++k) {  // columns p, q
          const double akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (int64_t k = 0; k < d; ++k) {  // rows p, q
          const double apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < d; ++k) {
          const double vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  w.resize(d);
  for (int64_t i = 0; i < d; ++i) w[i] = a[i * d + i];
}

// Lower Cholesky factor of the symmetric positive definite a [d, d] (false when it is not).
bool cholesky(const double* a, int64_t d, std::vector<double>& l) {
  l.assign(d * d, 0.0);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = a[i * d + j];
      for (int64_t k = 0; k < j; ++k) s -= l[i * d + k] * l[j * d + k];
      if (i == j) {
        if (!(s > 0)) return false;
        l[i * d + i] = std::sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  return true;
}

constexpr double kLog2Pi = 1.8378770664093453;

// log N(x | mean_c, cov_c) for every row and component -> [n, k] (plus log weights when given).
std::vector<double> log_gauss(const Gmm& g, const std::vector<double>& X, int64_t n) {
  const int64_t d = g.d, k = g.k;
  std::vector<double> out(n * k), l, y(d);
  for (int64_t c = 0; c < k; ++c) {
    const double* mu = &g.means[c * d];
    if (g.diagonal) {
      const double* var = &g.covariances[c * d];
      double logdet = 0;
      for (int64_t j = 0; j < d; ++j) logdet += std::log(var[j]);
      for (int64_t i = 0; i < n; ++i) {
        double q = 0;
        for (int64_t j = 0; j < d; ++j) q += (X[i * d + j] - mu[j]) * (X[i * d + j] - mu[j]) / var[j];
        out[i * k + c] = -0.5 * (d * kLog2Pi + logdet + q);
      }
      continue;
    }
    if (!cholesky(&g.covariances[c * d * d], d, l))
      fail("gmm: the covariance of component " + std::to_string(c) + " is not positive definite; raise reg_covar");
    double logdet = 0;
    for (int64_t j = 0; j < d; ++j) logdet += 2 * std::log(l[j * d + j]);
    for (int64_t i = 0; i < n; ++i) {
      double q = 0;
      for (int64_t j = 0; j < d; ++j) {  // solve L y = x - mu
        double s = X[i * d + j] - mu[j];
        for (int64_t t = 0; t < j; ++t) s -= l[j * d + t] * y[t];
        y[j] = s / l[j * d + j];
        q += y[j] * y[j];
      }
      out[i * k + c] = -0.5 * (d * kLog2Pi + logdet + q);
    }
  }
  return out;
}

// E-step: log responsibilities in place of the weighted log densities; returns log p(x) per row.
std::vector<double> e_step(const Gmm& g, const std::vector<double>& X, int64_t n, std::vector<double>& lr) {
  lr = log_gauss(g, X, n);
  std::vector<double> lp(n);
  for (int64_t i = 0; i < n; ++i) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < g.k; ++c) mx = std::max(mx, lr[i * g.k + c] += std::log(g.weights[c]));
    double s = 0;
    for (int64_t c = 0; c < g.k; ++c) s += std::exp(lr[i * g.k + c] - mx);
    lp[i] = mx + std::log(s);
    for (int64_t c = 0; c < g.k; ++c) lr[i * g.k + c] -= lp[i];
  }
  return lp;
}

// M-step from responsibilities resp [n, k] (sklearn _estimate_gaussian_parameters; nk gets
// 10 machine epsilons so an empty component does not divide by zero).
void m_step(Gmm& g, const std::vector<double>& X, int64_t n, const std::vector<double>& resp, double reg) {
  const int64_t d = g.d, k = g.k;
  const double eps10 = 10 * std::numeric_limits<double>::epsilon();
  g.weights.assign(k, 0.0);
  g.means.assign(k * d, 0.0);
  g.covariances.assign(g.diagonal ? k * d : k * d * d, 0.0);
  for (int64_t c = 0; c < k; ++c) {
    double nk = eps10;
    for (int64_t i = 0; i < n; ++i) nk += resp[i * k + c];
    double* mu = &g.means[c * d];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) mu[j] += resp[i * k + c] * X[i * d + j];
    for (int64_t j = 0; j < d; ++j) mu[j] /= nk;
    if (g.diagonal) {  // E[x^2] - 2 mu E[x] + mu^2, as sklearn
      double* var = &g.covariances[c * d];
      for (int64_t j = 0; j < d; ++j) {
        double x2 = 0, x1 = 0;
        for (int64_t i = 0; i < n; ++i) x2 += resp[i * k + c] * X[i * d + j] * X[i * d + j], x1 += resp[i * k + c] * X[i * d + j];
        var[j] = x2 / nk - 2 * mu[j] * x1 / nk + mu[j] * mu[j] + reg;
      }
    } else {
      double* cov = &g.covariances[c * d * d];
      for (int64_t i = 0; i < n; ++i) {
        const double r = resp[i * k + c];
        if (r == 0) continue;
        for (int64_t a = 0; a < d; ++a)
          for (int64_t b = 0; b < d; ++b) cov[a * d + b] += r * (X[i * d + a] - mu[a]) * (X[i * d + b] - mu[b]);
      }
      for (int64_t a = 0; a < d * d; ++a) cov[a] /= nk;
      for (int64_t a = 0; a < d; ++a) cov[a * d + a] += reg;
    }
    g.weights[c] = nk / (double)n;
  }
}

}  // namespace

std::vector<double> Pca::transform(const std::vector<double>& X) const {
  const int64_t n = (int64_t)X.size() / d;
  std::vector<double> out(n * k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < d; ++j) out[i * k + c] += (X[i * d + j] - mean[j]) * components[c * d + j];
  return out;
}

Pca fit_pca(const std::vector<double>& X, int64_t n, int64_t d, int64_t k) {
  check_data(X, n, d, "pca");
  if (n < 2 || k < 1 || k > std::min(n, d))
    fail("pca: need 2 <= n and 1 <= k <= min(n, d), got n " + std::to_string(n) + ", d " + std::to_string(d) + ", k " +
         std::to_string(k));
  Pca p;
  p.d = d, p.k = k;
  p.mean.assign(d, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) p.mean[j] += X[i * d + j] / (double)n;
  std::vector<double> cov(d * d, 0.0), w, v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < d; ++a)
      for (int64_t b = 0; b < d; ++b) cov[a * d + b] += (X[i * d + a] - p.mean[a]) * (X[i * d + b] - p.mean[b]);
  for (double& c : cov) c /= (double)(n - 1);
  jacobi_eigen(cov, d, w, v);
  std::vector<int64_t> order(d);
  for (int64_t i = 0; i < d; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return w[a] > w[b]; });
  for (int64_t c = 0; c < k; ++c) {
    const int64_t e = order[c];
    int64_t big = 0;
    for (int64_t j = 1; j < d; ++j)
      if (std::fabs(v[j * d + e]) > std::fabs(v[big * d + e])) big = j;
    const double sign = v[big * d + e] < 0 ? -1 : 1;
    for (int64_t j = 0; j < d; ++j) p.components.push_back(sign * v[j * d + e]);
    p.variance.push_back(std::max(w[e], 0.0));
  }
  return p;
}

std::vector<int64_t> kmeans_plusplus(const std::vector<double>& X, int64_t n, int64_t d, int64_t k, uint64_t seed) {
  check_data(X, n, d, "kmeans++");
  if (k < 1 || k > n) fail("kmeans++: need 1 <= k <= n, got k " + std::to_string(k) + ", n " + std::to_string(n));
  Rng rng(seed);
  auto dist2 = [&](int64_t a, int64_t b) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += (X[a * d + j] - X[b * d + j]) * (X[a * d + j] - X[b * d + j]);
    return s;
  };
  std::vector<int64_t> idx = {(int64_t)rng.below((uint64_t)n)};
  std::vector<double> closest(n), cand(n);
  double pot = 0;
  for (int64_t i = 0; i < n; ++i) pot += closest[i] = dist2(i, idx[0]);
  const int trials = 2 + (int)std::log((double)k);
  for (int64_t c = 1; c < k; ++c) {
    std::vector<double> cum(n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) cum[i] = s += closest[i];
    double best_pot = std::numeric_limits<double>::infinity();
    int64_t best = -1;
    std::vector<double> best_d;
    for (int t = 0; t < trials; ++t) {
      const double r = (double)rng.uniform() * pot;  // the first cum >= r (numpy searchsorted)
      int64_t id = std::lower_bound(cum.begin(), cum.end(), r) - cum.begin();
      id = std::min(id, n - 1);
      double p = 0;
      for (int64_t i = 0; i < n; ++i) p += cand[i] = std::min(closest[i], dist2(i, id));
      if (p < best_pot) best_pot = p, best = id, best_d = cand;
    }
    idx.push_back(best);
    closest = best_d;
    pot = best_pot;
  }
  return idx;
}

Gmm fit_gmm(const std::vector<double>& X, int64_t n, int64_t d, const GmmOptions& o, const std::vector<int64_t>& init) {
  check_data(X, n, d, "gmm");
  const int64_t k = o.components;
  if (k < 1 || k > n) fail("gmm: need 1 <= components <= n, got " + std::to_string(k) + " for " + std::to_string(n) + " samples");
  if (!(o.reg_covar >= 0) || !(o.tol >= 0) || o.max_iter < 1) fail("gmm: reg_covar, tol must be >= 0 and max_iter >= 1");
  std::vector<int64_t> centres = init.empty() ? kmeans_plusplus(X, n, d, k, o.seed) : init;
  if ((int64_t)centres.size() != k) fail("gmm: " + std::to_string(centres.size()) + " initial centres for " + std::to_string(k) + " components");
  Gmm g;
  g.k = k, g.d = d, g.diagonal = o.diagonal;
  std::vector<double> resp(n * k, 0.0);
  for (int64_t c = 0; c < k; ++c) {
    if (centres[c] < 0 || centres[c] >= n) fail("gmm: initial centre row " + std::to_string(centres[c]) + " out of range");
    resp[centres[c] * k + c] = 1;
  }
  m_step(g, X, n, resp, o.reg_covar);
  double lower = -std::numeric_limits<double>::infinity();
  for (int it = 1; it <= o.max_iter; ++it) {
    const double prev = lower;
    std::vector<double> lr;
    std::vector<double> lp = e_step(g, X, n, lr);
    for (double& v : lr) v = std::exp(v);
    m_step(g, X, n, lr, o.reg_covar);
    lower = 0;
    for (double v : lp) lower += v / (double)n;
    g.iterations = it;
    if (std::fabs(lower - prev) < o.tol) {
      g.converged = true;
      break;
    }
  }
  g.lower_bound = lower;
  return g;
}

std::vector<double> Gmm::score_samples(const std::vector<double>& X) const {
  std::vector<double> lr;
  return e_step(*this, X, (int64_t)X.size() / d, lr);
}

}  // namespace fas

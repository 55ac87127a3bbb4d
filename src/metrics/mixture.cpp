#include "metrics/mixture.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/tensor.h"  // fas::fail

namespace fas::metrics {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;

// log(w N(x; m, s))
double log_wpdf(double x, double w, double m, double s) {
  const double z = (x - m) / s;
  return std::log(w) - std::log(s) - 0.5 * (kLog2Pi + z * z);
}

}  // namespace

Mixture fit_two_gaussians(const std::vector<double>& x) {
  const size_t n = x.size();
  if (n < 4) fail("metrics: a two-component mixture needs at least 4 scores, got " + std::to_string(n));
  for (double v : x)
    if (!std::isfinite(v)) fail("metrics: mixture threshold: a score is NaN or infinite");
  const double mu = std::accumulate(x.begin(), x.end(), 0.0) / (double)n;
  double var = 0;
  for (double v : x) var += (v - mu) * (v - mu);
  const double sd_all = std::sqrt(var / (double)n);
  if (!(sd_all > 0)) fail("metrics: mixture threshold: all scores are equal");
  const double floor = 1e-3 * sd_all;

  // Start: the halves below and above the median.
  std::vector<double> s = x;
  std::sort(s.begin(), s.end());
  Mixture g;
  for (int k = 0; k < 2; ++k) {
    const size_t b = k ? n / 2 : 0, e = k ? n : n / 2;
    double m = 0, q = 0;
    for (size_t i = b; i < e; ++i) m += s[i];
    m /= (double)(e - b);
    for (size_t i = b; i < e; ++i) q += (s[i] - m) * (s[i] - m);
    g.weight[k] = 0.5, g.mean[k] = m, g.stddev[k] = std::max(std::sqrt(q / (double)(e - b)), floor);
  }
  std::vector<double> r1(n);  // responsibility of component 1
  double prev = -INFINITY;
  for (g.iterations = 1; g.iterations <= 1000; ++g.iterations) {
    double ll = 0;
    for (size_t i = 0; i < n; ++i) {
      const double a = log_wpdf(x[i], g.weight[0], g.mean[0], g.stddev[0]);
      const double b = log_wpdf(x[i], g.weight[1], g.mean[1], g.stddev[1]);
      const double mx = std::max(a, b), lse = mx + std::log(std::exp(a - mx) + std::exp(b - mx));
      r1[i] = std::exp(b - lse);
      ll += lse;
    }
    ll /= (double)n;
    for (int k = 0; k < 2; ++k) {
      double w = 0, m = 0;
      for (size_t i = 0; i < n; ++i) {
        const double r = k ? r1[i] : 1 - r1[i];
        w += r, m += r * x[i];
      }
      if (w <= 1e-9 * (double)n) fail("metrics: mixture threshold: the scores do not form two groups");
      m /= w;
      double q = 0;
      for (size_t i = 0; i < n; ++i) q += (k ? r1[i] : 1 - r1[i]) * (x[i] - m) * (x[i] - m);
      g.weight[k] = w / (double)n, g.mean[k] = m, g.stddev[k] = std::max(std::sqrt(q / w), floor);
    }
    if (ll - prev < 1e-12) break;
    prev = ll;
  }
  g.iterations = std::min(g.iterations, 1000);
  if (g.mean[0] > g.mean[1]) {
    std::swap(g.weight[0], g.weight[1]), std::swap(g.mean[0], g.mean[1]), std::swap(g.stddev[0], g.stddev[1]);
  }
  // The cut: d(t) = log w1 N1(t) - log w0 N0(t) goes from < 0 at mean0 to > 0 at mean1 when the
  // components are distinct; bisection finds the crossing between them.
  auto d = [&](double t) {
    return log_wpdf(t, g.weight[1], g.mean[1], g.stddev[1]) - log_wpdf(t, g.weight[0], g.mean[0], g.stddev[0]);
  };
  double lo = g.mean[0], hi = g.mean[1];
  if (!(d(lo) < 0 && d(hi) > 0))
    fail("metrics: mixture threshold: the scores do not form two separate groups (no cut between the means)");
  for (int it = 0; it < 200 && hi - lo > 1e-12 * std::max(1.0, std::fabs(hi)); ++it) {
    const double mid = 0.5 * (lo + hi);
    (d(mid) < 0 ? lo : hi) = mid;
  }
  g.threshold = 0.5 * (lo + hi);
  return g;
}

}  // namespace fas::metrics

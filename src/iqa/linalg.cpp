#include "iqa/linalg.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace fas::iqa {

void sym_eigen(std::vector<double> a, int n, std::vector<double>& w, std::vector<double>& V) {
  V.assign((size_t)n * n, 0.0);
  for (int i = 0; i < n; ++i) V[(size_t)i * n + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) (i == j ? diag : off) += a[(size_t)i * n + j] * a[(size_t)i * n + j];
    if (off <= 1e-30 * diag || off == 0) break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        const double apq = a[(size_t)p * n + q];
        if (apq == 0) continue;
        const double app = a[(size_t)p * n + p], aqq = a[(size_t)q * n + q];
        const double theta = (aqq - app) / (2 * apq);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // columns p, q
          const double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
          a[(size_t)k * n + p] = c * akp - s * akq;
          a[(size_t)k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // rows p, q
          const double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
          a[(size_t)p * n + k] = c * apk - s * aqk;
          a[(size_t)q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const double vkp = V[(size_t)k * n + p], vkq = V[(size_t)k * n + q];
          V[(size_t)k * n + p] = c * vkp - s * vkq;
          V[(size_t)k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  w.resize((size_t)n);
  for (int i = 0; i < n; ++i) w[i] = a[(size_t)i * n + i];
}

std::vector<double> pinv_sym(const std::vector<double>& a, int n) {
  std::vector<double> w, V;
  sym_eigen(a, n, w, V);
  double big = 0;
  for (double x : w) big = std::max(big, std::abs(x));
  std::vector<double> p((size_t)n * n, 0.0);
  for (int k = 0; k < n; ++k) {
    if (!(std::abs(w[k]) > 1e-15 * big)) continue;
    const double inv = 1 / w[k];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) p[(size_t)i * n + j] += V[(size_t)i * n + k] * inv * V[(size_t)j * n + k];
  }
  return p;
}

double quad_form(const std::vector<double>& a, const std::vector<double>& x) {
  const size_t n = x.size();
  double s = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) s += x[i] * a[i * n + j] * x[j];
  return s;
}

std::vector<double> spd_solve(std::vector<double> a, int n, std::vector<double> b) {
  for (int j = 0; j < n; ++j) {  // a = L L^T, L stored in the lower triangle
    double d = a[(size_t)j * n + j];
    for (int k = 0; k < j; ++k) d -= a[(size_t)j * n + k] * a[(size_t)j * n + k];
    if (!(d > 0)) fail("linear solve: the matrix is not positive definite (pivot " + std::to_string(j) + ")");
    const double l = std::sqrt(d);
    a[(size_t)j * n + j] = l;
    for (int i = j + 1; i < n; ++i) {
      double s = a[(size_t)i * n + j];
      for (int k = 0; k < j; ++k) s -= a[(size_t)i * n + k] * a[(size_t)j * n + k];
      a[(size_t)i * n + j] = s / l;
    }
  }
  for (int i = 0; i < n; ++i) {  // L y = b
    for (int k = 0; k < i; ++k) b[i] -= a[(size_t)i * n + k] * b[k];
    b[i] /= a[(size_t)i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    for (int k = i + 1; k < n; ++k) b[i] -= a[(size_t)k * n + i] * b[k];
    b[i] /= a[(size_t)i * n + i];
  }
  return b;
}

}  // namespace fas::iqa

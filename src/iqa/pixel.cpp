// The pixel-difference metrics of I and I' (spec 002 §2.3 items 1, 7-12, 14-17, 19), in float64
// on grey levels [0, 255]. A zero denominator (a black or constant frame) gives the value of
// identical images instead of inf/NaN, so the classifier always receives finite features.
#include <algorithm>
#include <cmath>
#include <vector>

#include "iqa/filters.h"
#include "iqa/iqa.h"

namespace fas::iqa {

namespace {
double ratio_or(double num, double den, double fallback) { return den != 0 ? num / den : fallback; }
double sum_sq(const Plane& I) {
  double s = 0;
  for (double v : I.v) s += v * v;
  return s;
}
// 10 log10(x), capped at 10 log10(1e12) = 120 dB when the error is 0.
// Pick (§8 D): log10, as Galbally and the decibel unit; the repo's natural log only rescales.
double decibels(double num, double den) { return 10.0 * std::log10(den > 0 ? std::min(num / den, 1e12) : 1e12); }
}  // namespace

double ad(const Plane& I, const Plane& J) {
  double s = 0;
  for (size_t i = 0; i < I.size(); ++i) s += I.v[i] - J.v[i];
  return s / (double)I.size();
}

double md(const Plane& I, const Plane& J) {
  double m = 0;
  for (size_t i = 0; i < I.size(); ++i) m = std::max(m, std::abs(I.v[i] - J.v[i]));
  return m;
}

double mse(const Plane& I, const Plane& J) {
  double s = 0;
  for (size_t i = 0; i < I.size(); ++i) s += (I.v[i] - J.v[i]) * (I.v[i] - J.v[i]);
  return s / (double)I.size();
}

double nae(const Plane& I, const Plane& J) {
  double num = 0, den = 0;
  for (size_t i = 0; i < I.size(); ++i) num += std::abs(I.v[i] - J.v[i]), den += std::abs(I.v[i]);
  return ratio_or(num, den, 0.0);
}

// Galbally's element-wise NXC = sum(I I') / sum(I^2) (the repo's matrix product I . I'^T is a slip).
double nxc(const Plane& I, const Plane& J) {
  double num = 0;
  for (size_t i = 0; i < I.size(); ++i) num += I.v[i] * J.v[i];
  return ratio_or(num, sum_sq(I), 1.0);
}

// PSNR with the 8-bit peak 255 (skimage's data_range=255; the thesis' max(I^2) is the peak of this
// frame, which makes PSNR depend on the brightest pixel).
double psnr(const Plane& I, const Plane& J) { return decibels(255.0 * 255.0, mse(I, J)); }

// Pick (§8 F): Galbally's RAMD, the mean of the R = 10 largest |I - I'| (the thesis' "sum of the
// differences <= R, over R" measures the flat areas instead of the maximum differences).
double ramd(const Plane& I, const Plane& J, int R) {
  std::vector<double> d(I.size());
  for (size_t i = 0; i < I.size(); ++i) d[i] = std::abs(I.v[i] - J.v[i]);
  R = std::min<int>(R, (int)d.size());
  std::nth_element(d.begin(), d.begin() + (R - 1), d.end(), std::greater<double>());
  double s = 0;
  for (int i = 0; i < R; ++i) s += d[i];
  return s / R;
}

double sc(const Plane& I, const Plane& J) { return ratio_or(sum_sq(I), sum_sq(J), 1.0); }

double snr(const Plane& I, const Plane& J) { return decibels(sum_sq(I), (double)I.size() * mse(I, J)); }

// MAS and MAMS (§8 E) follow the thesis formulas: S = I I', M = |I| |I'| (0 -> 1),
// alpha = 1 - (2/pi) arccos(S / M), MAS = 1 - mean(alpha), MAMS = mean(1 - alpha (1 - |I - I'|/255)).
// On non-negative grey scalars S / M is exactly 1 where I I' > 0 and 0 elsewhere, so alpha is 1 or
// 0 (arccos 1 = 0, arccos 0 = pi/2): the degenerate "angle" of a scalar that Galbally defines on
// colour vectors. Coded as that closed form (no arccos per pixel).
double mas(const Plane& I, const Plane& J) {
  int64_t zero = 0;
  for (size_t i = 0; i < I.size(); ++i) zero += I.v[i] * J.v[i] <= 0;
  return (double)zero / (double)I.size();
}

double mams(const Plane& I, const Plane& J) {
  double s = 0;
  for (size_t i = 0; i < I.size(); ++i) {
    const double alpha = I.v[i] * J.v[i] > 0 ? 1.0 : 0.0;
    s += 1.0 - alpha * (1.0 - std::abs(I.v[i] - J.v[i]) / 255.0);
  }
  return s / (double)I.size();
}

// LMSE = sum (L(I) - L(I'))^2 / sum L(I)^2, L the 4-neighbour Laplacian, reflect-101 border (the
// repo's zeros on the last row/column and wrap on the first are artefacts of its loop).
double lmse(const Plane& I, const Plane& J) {
  static const std::vector<double> d2{1, -2, 1}, id{0, 1, 0};
  Plane ly, lx;
  double num = 0, den = 0;
  // L(I) - L(I') = L(I - I'): one Laplacian of the difference and one of I.
  Plane diff(I.h, I.w, Uninit{});
  for (size_t i = 0; i < I.size(); ++i) diff.v[i] = I.v[i] - J.v[i];
  for (int pass = 0; pass < 2; ++pass) {
    const Plane& src = pass == 0 ? diff : I;
    correlate_sep(src, d2, id, Border::Reflect101, ly);
    correlate_sep(src, id, d2, Border::Reflect101, lx);
    double s = 0;
    for (size_t i = 0; i < src.size(); ++i) s += (ly.v[i] + lx.v[i]) * (ly.v[i] + lx.v[i]);
    (pass == 0 ? num : den) = s;
  }
  return ratio_or(num, den, 0.0);
}

}  // namespace fas::iqa

// atan2 without libm's call (the phase metrics take one per pixel): two argument reductions to
// |u| <= tan(pi/16) and an 11-term odd Taylor series, error below 1e-15 (tests/test_iqa.cpp).
#pragma once
#include <cmath>

namespace fas::iqa {

inline double atan_unit(double t) {  // t in [0, 1]
  double off = 0;
  if (t > 0.41421356237309503) off = M_PI / 4, t = (t - 1) / (t + 1);  // atan t = pi/4 + atan((t-1)/(t+1))
  double sgn = t < 0 ? -1.0 : 1.0, a = std::abs(t), off2 = 0;
  if (a > 0.19891236737965800) off2 = M_PI / 8, a = (a - 0.41421356237309503) / (1 + a * 0.41421356237309503);
  const double u2 = a * a;
  double p = 1.0 / 21;  // sum_n (-1)^n u2^n / (2n + 1), n = 0..10, by Horner
  for (int n = 9; n >= 0; --n) p = (n % 2 ? -1.0 : 1.0) / (2 * n + 1) + u2 * p;
  return off + sgn * (off2 + a * p);
}

inline double fast_atan2(double y, double x) {
  const double ax = std::abs(x), ay = std::abs(y);
  if (ax == 0 && ay == 0) return 0.0;
  double a = ay > ax ? M_PI / 2 - atan_unit(ax / ay) : atan_unit(ay / ax);
  if (x < 0) a = M_PI - a;
  return y < 0 ? -a : a;
}

}  // namespace fas::iqa

// atan2 without libm's call (the phase metrics take one per pixel): two argument reductions to
// |u| <= tan(pi/16) and an 11-term odd Taylor series, error below 1e-15 (tests/test_iqa.cpp).
#pragma once
#include <cmath>

namespace fas::iqa {

// Selects, not branches: the sign and octant of a gradient or spectrum phase are coin tosses per
// pixel (five mispredicted branches each were most of GPE's time), and a loop of selects
// vectorises.
inline double atan_unit(double t) {  // t in [0, 1]
  const bool big = t > 0.41421356237309503;      // atan t = pi/4 + atan((t-1)/(t+1))
  const double off = big ? M_PI / 4 : 0.0;
  t = big ? (t - 1) / (t + 1) : t;
  const double sgn = t < 0 ? -1.0 : 1.0, a0 = std::abs(t);
  const bool mid = a0 > 0.19891236737965800;     // atan a = pi/8 + atan((a - tan pi/8)/(1 + a tan pi/8))
  const double off2 = mid ? M_PI / 8 : 0.0;
  const double a = mid ? (a0 - 0.41421356237309503) / (1 + a0 * 0.41421356237309503) : a0;
  const double u2 = a * a;
  // sum_n (-1)^n u2^n / (2n + 1), n = 0..10, by Horner (written out: a loop here kept the
  // callers' pixel loops from vectorising)
  double p = 1.0 / 21;
  p = -1.0 / 19 + u2 * p, p = 1.0 / 17 + u2 * p, p = -1.0 / 15 + u2 * p, p = 1.0 / 13 + u2 * p;
  p = -1.0 / 11 + u2 * p, p = 1.0 / 9 + u2 * p, p = -1.0 / 7 + u2 * p, p = 1.0 / 5 + u2 * p;
  p = -1.0 / 3 + u2 * p, p = 1.0 + u2 * p;
  return off + sgn * (off2 + a * p);
}

inline double fast_atan2(double y, double x) {
  const double ax = std::abs(x), ay = std::abs(y);
  const double hi = ax > ay ? ax : ay, lo = ax > ay ? ay : ax;
  double a = atan_unit(lo / (hi > 0 ? hi : 1.0));
  a = ay > ax ? M_PI / 2 - a : a;
  a = x < 0 ? M_PI - a : a;
  a = y < 0 ? -a : a;
  return hi > 0 ? a : 0.0;  // (0, 0): no direction
}

}  // namespace fas::iqa

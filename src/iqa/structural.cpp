// Structural metrics (spec 002 §2.3 items 6, 21, 24).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "iqa/filters.h"
#include "iqa/iqa.h"
#include "iqa/simd.h"

namespace fas::iqa {

namespace {
// The per-pixel formulas of SSIM and VIF, one definition for the vector lanes and the tail.
struct SsimPixel {
  template <class T>  // by reference: a vector returned by value changes the ABI (-Wpsabi)
  static void at(T& r, const T& ux, const T& uy, const T& aa, const T& bb, const T& ab) {
    const double cov = 49.0 / 48.0, c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    const T vx = cov * (aa - ux * ux), vy = cov * (bb - uy * uy), vxy = cov * (ab - ux * uy);
    r = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
};
}  // namespace

// Sum over pixels of SSIM's map, in four vector lanes (the running sum kept the loop scalar).
FAS_IQA_CLONES double ssim_sum(const double* ma, const double* mb, const double* aa, const double* bb,
                               const double* ab, size_t n) {
  V4d acc = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d ux, uy, xx, yy, xy;
    load4(ux, ma + i), load4(uy, mb + i), load4(xx, aa + i), load4(yy, bb + i), load4(xy, ab + i);
    V4d r;
    SsimPixel::at(r, ux, uy, xx, yy, xy);
    acc += r;
  }
  double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; i < n; ++i) {
    double r;
    SsimPixel::at(r, ma[i], mb[i], aa[i], bb[i], ab[i]);
    s += r;
  }
  return s;
}

// One VIF scale's sums over pixels of log10(1 + g^2 s1 / (sv + sigma_nsq)) and log10(1 + s1 /
// sigma_nsq) (vifp_mscale.m, its clamps in its order, as selects so that the loop vectorises).
// A log per pixel was the cost of VIF: each lane multiplies 16 factors before one log. A factor
// is at most 1 + 127.5^2 / 2 < 8200 (a variance of grey levels in [0, 255] is at most 127.5^2,
// and g^2 s1 <= s2 by Cauchy-Schwarz), so a product stays below 1e63.
FAS_IQA_CLONES VifSums vif_sums(const double* ma, const double* mb, const double* aa, const double* bb,
                                const double* ab, size_t n) {
  const double sigma_nsq = 2.0, eps = 1e-10;
  VifSums out{0, 0};
  V4d pn = {1, 1, 1, 1}, pd = pn;
  const V4d zero = {0, 0, 0, 0}, one = pn, e = {eps, eps, eps, eps};
  const auto flush = [&] {
    for (int j = 0; j < 4; ++j) out.num += std::log10(pn[j]), out.den += std::log10(pd[j]);
    pn = pd = one;
  };
  size_t i = 0;
  for (int k = 0; i + 4 <= n; i += 4) {
    V4d mu1, mu2, xx, yy, xy;
    load4(mu1, ma + i), load4(mu2, mb + i), load4(xx, aa + i), load4(yy, bb + i), load4(xy, ab + i);
    V4d s1 = xx - mu1 * mu1, s2 = yy - mu2 * mu2;
    s1 = s1 > zero ? s1 : zero, s2 = s2 > zero ? s2 : zero;
    const V4d s12 = xy - mu1 * mu2;
    V4d g = s12 / (s1 + e), sv = s2 - g * s12;
    const auto flat1 = s1 < e;
    g = flat1 ? zero : g, sv = flat1 ? s2 : sv, s1 = flat1 ? zero : s1;
    const auto flat2 = s2 < e;
    g = flat2 ? zero : g, sv = flat2 ? zero : sv;
    const auto neg = g < zero;
    sv = neg ? s2 : sv, g = neg ? zero : g;
    sv = sv <= e ? e : sv;
    pn *= one + g * g * s1 / (sv + sigma_nsq);
    pd *= one + s1 / sigma_nsq;
    if (++k == 16) flush(), k = 0;
  }
  flush();
  for (; i < n; ++i) {
    const double mu1 = ma[i], mu2 = mb[i];
    double s1 = std::max(0.0, aa[i] - mu1 * mu1), s2 = std::max(0.0, bb[i] - mu2 * mu2);
    const double s12 = ab[i] - mu1 * mu2;
    double g = s12 / (s1 + eps), sv = s2 - g * s12;
    if (s1 < eps) g = 0, sv = s2, s1 = 0;
    if (s2 < eps) g = 0, sv = 0;
    if (g < 0) sv = s2, g = 0;
    if (sv <= eps) sv = eps;
    out.num += std::log10(1 + g * g * s1 / (sv + sigma_nsq));
    out.den += std::log10(1 + s1 / sigma_nsq);
  }
  return out;
}

// skimage.metrics.structural_similarity(I, I', data_range=255) with its defaults: 7x7 uniform
// window, K1 0.01, K2 0.03, sample covariance (x 49/48), mean over the pixels whose window lies
// inside the image (skimage filters the whole image and crops 3 pixels, the same values).
double ssim(const Plane& I, const Plane& J) {
  const std::vector<double> box(7, 1.0 / 7.0);
  double s = 0;
  int64_t n = 0;
  local_moment_rows(I, J, box, [&](const double* const* m, int w) {
    s += ssim_sum(m[0], m[1], m[2], m[3], m[4], (size_t)w), n += w;
  });
  return s / (double)n;
}

// Pick (§8 G): VIFD is the standard pixel-domain VIF of Sheikh & Bovik (vifp_mscale.m, the code
// behind Galbally's VIF): 4 scales, Gaussian windows N = 2^(5-s) + 1 (17, 9, 5, 3) with
// sigma N/5, 'valid' filtering, and for s > 1 the reference and distorted images filtered and
// subsampled by 2 first; VIF = (sum over scales and pixels of log10(1 + g^2 s1^2 / (sv^2 + 2))) /
// (sum of log10(1 + s1^2 / 2)), a ratio of sums as the repo (not the thesis' 5-scale sum of
// ratios, whose compounding blur without subsampling repeats the first scale). I is the
// reference, I' the distorted image. A constant image (denominator 0) gives 1.
double vifp(const Plane& I, const Plane& J) {
  const Plane *ref = &I, *dist = &J;  // scale 1 reads the frames themselves, no copies
  Plane rs, ds, tmp;
  double num = 0, den = 0;
  for (int s = 1; s <= 4; ++s) {
    const int n = (1 << (5 - s)) + 1;
    const std::vector<double> k = gaussian_kernel(n, n / 5.0);
    if (s > 1) {
      correlate_sep_valid_even(*ref, k, k, tmp), std::swap(rs, tmp), ref = &rs;
      correlate_sep_valid_even(*dist, k, k, tmp), std::swap(ds, tmp), dist = &ds;
    }
    local_moment_rows(*ref, *dist, k, [&](const double* const* m, int w) {
      const VifSums t = vif_sums(m[0], m[1], m[2], m[3], m[4], (size_t)w);
      num += t.num, den += t.den;
    });
  }
  return den > 0 ? num / den : 1.0;
}

namespace {
// Sum of |x| in four vector lanes, and the count of sign changes x[i] x[i+1] < 0 (integer counts:
// order-free, so the loop vectorises as written).
FAS_IQA_CLONES double abs_sum(const double* x, size_t n) {
  const V4l no_sign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
  V4d acc = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d v;
    load4(v, x + i);
    acc += (V4d)((V4l)v & no_sign);
  }
  double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; i < n; ++i) s += std::abs(x[i]);
  return s;
}
FAS_IQA_CLONES int64_t sign_changes(const double* a, const double* b, size_t n) {
  int64_t c = 0;
  for (size_t i = 0; i < n; ++i) c += a[i] * b[i] < 0;
  return c;
}
FAS_IQA_CLONES void differences(const double* a, const double* b, size_t n, double* d) {
  for (size_t i = 0; i < n; ++i) d[i] = b[i] - a[i];
}
}  // namespace

// JQI: Wang, Sheikh & Bovik 2002 (jpeg_quality_score.m), on I in float64 (the repo's uint8
// differences wrap, its vertical step is 2 rows and its blockiness reads one column only):
// d = horizontal first differences, B = mean |d| across the 8x8 block boundaries, A = (8 mean|d| -
// B) / 7, Z = rate of sign changes of d; likewise vertically; each averaged over both directions.
// B, A, Z are floored at 1e-6 so that a flat image (B = 0, raised to a negative power) is finite.
// Both directions run along rows (the vertical differences of a row pair at once: a walk down
// the columns read a cache line per value); on grey levels the sums are of integers, exact in any
// order.
double jqi(const Plane& I) {
  struct BAZ { double B, A, Z; };
  const int h = I.h, w = I.w;
  const auto baz = [](double sum_abs, double sum_b, int64_t nb, int64_t zc, int n, int lines) -> BAZ {
    const double B = nb ? sum_b / (double)nb : 0.0, mean_abs = sum_abs / ((double)lines * (n - 1));
    return {B, (8 * mean_abs - B) / 7, (double)zc / ((double)lines * std::max(1, n - 2))};
  };
  // Boundary differences: d[i] with (i + 1) % 8 == 0 and i + 1 <= 8 (n / 8 - 1).
  const auto boundary = [](int i, int n) { return (i + 1) % 8 == 0 && i + 1 <= 8 * (n / 8 - 1); };
  std::vector<double> d((size_t)std::max(w, 1)), prev((size_t)std::max(w, 1));
  double sum_abs = 0, sum_b = 0;
  int64_t nb = 0, zc = 0;
  for (int y = 0; y < h; ++y) {
    const double* p = I.row(y);
    if (w < 2) break;
    differences(p, p + 1, (size_t)w - 1, d.data());
    sum_abs += abs_sum(d.data(), (size_t)w - 1);
    for (int i = 7; i < w - 1; i += 8)
      if (boundary(i, w)) sum_b += std::abs(d[i]), ++nb;
    zc += sign_changes(d.data(), d.data() + 1, (size_t)w - 2);
  }
  const BAZ hz = baz(sum_abs, sum_b, nb, zc, w, h);
  sum_abs = sum_b = 0, nb = zc = 0;
  for (int y = 0; y + 1 < h; ++y) {
    differences(I.row(y), I.row(y + 1), (size_t)w, d.data());
    const double a = abs_sum(d.data(), (size_t)w);
    sum_abs += a;
    if (boundary(y, h)) sum_b += a, nb += w;
    if (y > 0) zc += sign_changes(prev.data(), d.data(), (size_t)w);
    std::swap(d, prev);
  }
  const BAZ v = baz(sum_abs, sum_b, nb, zc, h, w);
  const double B = std::max(1e-6, (hz.B + v.B) / 2), A = std::max(1e-6, (hz.A + v.A) / 2),
               Z = std::max(1e-6, (hz.Z + v.Z) / 2);
  return -245.8909 + 261.9373 * std::pow(B, -239.8886 / 10000) * std::pow(A, 160.1664 / 10000) *
                         std::pow(Z, 64.2859 / 10000);
}

}  // namespace fas::iqa

// The pixel-difference metrics of I and I' (spec 002 §2.3 items 1, 7-12, 14-17, 19), in float64
// on grey levels [0, 255]. A zero denominator (a black or constant frame) gives the value of
// identical images instead of inf/NaN, so the classifier always receives finite features.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "iqa/filters.h"
#include "iqa/iqa.h"
#include "iqa/simd.h"

namespace fas::iqa {

namespace {
double ratio_or(double num, double den, double fallback) { return den != 0 ? num / den : fallback; }
// 10 log10(x), capped at 10 log10(1e12) = 120 dB when the error is 0.
// Pick (§8 D): log10, as Galbally and the decibel unit; the repo's natural log only rescales.
double decibels(double num, double den) { return 10.0 * std::log10(den > 0 ? std::min(num / den, 1e12) : 1e12); }

// Every sum the pixel metrics need, in one pass over I and I' (a pass per metric read the two
// planes, 4.9 MB for a 640 x 480 frame, sixteen times from memory) and in four vector lanes
// (a single running sum waits on each add's latency). Lanes fixed: the same on every CPU.
struct PixelSums {
  double diff, abs_diff, sq_diff, abs_i, ij, ii, jj, nonpos, mams, max_abs_diff;
};
FAS_IQA_CLONES PixelSums pixel_sums(const double* a, const double* b, size_t n) {
  const V4d zero = {0, 0, 0, 0}, one = {1, 1, 1, 1};
  const V4l no_sign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
  V4d diff = zero, abs_diff = zero, sq_diff = zero, abs_i = zero, ij = zero, ii = zero, jj = zero, nonpos = zero,
      mams = zero, mx = zero;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d x, y;
    load4(x, a + i), load4(y, b + i);
    const V4d d = x - y, ad = (V4d)((V4l)d & no_sign), p = x * y;
    const V4l pos = p > zero, gt = ad > mx;  // pos: alpha of MAS/MAMS, 1 where I I' > 0
    diff += d, abs_diff += ad, sq_diff += d * d, abs_i += (V4d)((V4l)x & no_sign);
    ij += p, ii += x * x, jj += y * y;
    nonpos += (V4d)(~pos & (V4l)one);
    mams += one - (V4d)(pos & (V4l)(one - ad / 255.0));
    mx = (V4d)(((V4l)ad & gt) | ((V4l)mx & ~gt));
  }
  PixelSums s{};
  for (int j = 0; j < 4; ++j) {
    s.diff += diff[j], s.abs_diff += abs_diff[j], s.sq_diff += sq_diff[j], s.abs_i += abs_i[j];
    s.ij += ij[j], s.ii += ii[j], s.jj += jj[j], s.nonpos += nonpos[j], s.mams += mams[j];
    s.max_abs_diff = std::max(s.max_abs_diff, mx[j]);
  }
  for (; i < n; ++i) {
    const double x = a[i], y = b[i], d = x - y, p = x * y;
    s.diff += d, s.abs_diff += std::abs(d), s.sq_diff += d * d, s.abs_i += std::abs(x);
    s.ij += p, s.ii += x * x, s.jj += y * y, s.nonpos += p <= 0;
    s.mams += 1.0 - (p > 0 ? 1.0 - std::abs(d) / 255.0 : 0.0);
    s.max_abs_diff = std::max(s.max_abs_diff, std::abs(d));
  }
  return s;
}
}  // namespace

PixelMetrics pixel_metrics(const Plane& I, const Plane& J) {
  const PixelSums s = pixel_sums(I.v.data(), J.v.data(), I.size());
  const double n = (double)I.size(), mse = s.sq_diff / n;
  PixelMetrics m;
  m.ad = s.diff / n;
  m.md = s.max_abs_diff;
  m.mse = mse;
  m.nae = ratio_or(s.abs_diff, s.abs_i, 0.0);
  // Galbally's element-wise NXC = sum(I I') / sum(I^2) (the repo's matrix product I . I'^T is a slip).
  m.nxc = ratio_or(s.ij, s.ii, 1.0);
  // PSNR with the 8-bit peak 255 (skimage's data_range=255; the thesis' max(I^2) is the peak of
  // this frame, which makes PSNR depend on the brightest pixel).
  m.psnr = decibels(255.0 * 255.0, mse);
  m.sc = ratio_or(s.ii, s.jj, 1.0);
  m.snr = decibels(s.ii, s.sq_diff);
  // MAS and MAMS (§8 E) follow the thesis formulas: S = I I', M = |I| |I'| (0 -> 1),
  // alpha = 1 - (2/pi) arccos(S / M), MAS = 1 - mean(alpha), MAMS = mean(1 - alpha (1 - |I - I'|/255)).
  // On non-negative grey scalars S / M is exactly 1 where I I' > 0 and 0 elsewhere, so alpha is 1
  // or 0 (arccos 1 = 0, arccos 0 = pi/2): the degenerate "angle" of a scalar that Galbally defines
  // on colour vectors. Coded as that closed form (no arccos per pixel).
  m.mas = s.nonpos / n;
  m.mams = s.mams / n;
  return m;
}

// Pick (§8 F): Galbally's RAMD, the mean of the R = 10 largest |I - I'| (the thesis' "sum of the
// differences <= R, over R" measures the flat areas instead of the maximum differences). The R
// largest are kept in a sorted array while scanning: almost every pixel fails the first compare
// (a copy and nth_element of the whole frame was a quarter of the pixel metrics).
double ramd(const Plane& I, const Plane& J, int R) {
  R = std::max(1, std::min<int>(R, (int)I.size()));
  std::vector<double> top((size_t)R, -1.0);  // descending; -1 below any |difference|
  for (size_t i = 0; i < I.size(); ++i) {
    const double d = std::abs(I.v[i] - J.v[i]);
    if (d <= top.back()) continue;
    int k = R - 1;
    for (; k > 0 && top[k - 1] < d; --k) top[k] = top[k - 1];
    top[k] = d;
  }
  double s = 0;
  for (double d : top) s += d;
  return s / R;
}

namespace {
// Sum over x of the squared 4-neighbour Laplacian of a row c between rows up and down (the
// reflect-101 border's rows already chosen), the row's ends reflected: written per row instead of
// four filtered planes, in vector lanes.
FAS_IQA_CLONES double laplacian_sq_sum(const double* up, const double* c, const double* down, int w) {
  const auto at = [&](int x) {
    const double l = x > 0 ? c[x - 1] : c[w > 1 ? 1 : 0], r = x + 1 < w ? c[x + 1] : c[w > 1 ? w - 2 : 0];
    const double v = (up[x] - 2 * c[x] + down[x]) + (l - 2 * c[x] + r);
    return v * v;
  };
  double s = at(0) + (w > 1 ? at(w - 1) : 0.0);
  V4d acc = {0, 0, 0, 0};
  int x = 1;
  for (; x + 4 <= w - 1; x += 4) {
    V4d u, m, d, l, r;
    load4(u, up + x), load4(m, c + x), load4(d, down + x), load4(l, c + x - 1), load4(r, c + x + 1);
    const V4d v = (u - 2 * m + d) + (l - 2 * m + r);
    acc += v * v;
  }
  for (; x < w - 1; ++x) s += at(x);
  return s + ((acc[0] + acc[1]) + (acc[2] + acc[3]));
}
}  // namespace

// LMSE = sum (L(I) - L(I'))^2 / sum L(I)^2, L the 4-neighbour Laplacian, reflect-101 border (the
// repo's zeros on the last row/column and wrap on the first are artefacts of its loop).
// L(I) - L(I') = L(I - I'): one Laplacian of the difference and one of I.
double lmse(const Plane& I, const Plane& J) {
  Plane diff(I.h, I.w, Uninit{});
  for (size_t i = 0; i < I.size(); ++i) diff.v[i] = I.v[i] - J.v[i];
  const int h = I.h;
  double num = 0, den = 0;
  for (int y = 0; y < h; ++y) {
    const int up = y > 0 ? y - 1 : (h > 1 ? 1 : 0), down = y + 1 < h ? y + 1 : (h > 1 ? h - 2 : 0);
    num += laplacian_sq_sum(diff.row(up), diff.row(y), diff.row(down), I.w);
    den += laplacian_sq_sum(I.row(up), I.row(y), I.row(down), I.w);
  }
  return ratio_or(num, den, 0.0);
}

}  // namespace fas::iqa

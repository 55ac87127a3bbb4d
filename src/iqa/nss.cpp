// NIQE and BIQI (spec 002 §2.3 items 2, 13; §8 H, I).
//
// NIQE follows Mittal's niqe.m: MSCN coefficients (I - mu) / (sigma + 1) with a 7x7 Gaussian of
// sigma 7/6 and a replicated border, on grey levels [0, 255] (the +1 assumes that range, §8 H);
// 96x96 blocks; per block and scale 18 features: the AGGD fit of the MSCN [alpha, (bl + br)/2]
// and of its products with the 4 neighbours (circshift within the block) [alpha, mean, bl, br];
// scale 2 is the image halved. Picks: the halving is a 2x2 mean (niqe.m: bicubic imresize); a
// block whose values have no negative or positive side gets 0 for the missing std instead of
// NaN (niqe.m drops NaN rows); the pristine model is fitted on every block of our live training
// frames (no sharpness selection), by tools/fit_iqa_pristine.py.
//
// BIQI (§8 I): the libsvm models trained on LIVE IQA cannot be had, and LIVE's human scores are
// what they learn, so the quality stage is replaced by the NIQE construction on BIQI's own
// features: 18 = (GGD shape gamma, ln sigma^2) of the horizontal, vertical and diagonal details of
// a 3-level orthonormal Haar transform (BIQI: db9; Haar keeps every coefficient inside the frame),
// and BIQI = the Mahalanobis distance of a frame's vector to the MVG of the live training frames'
// vectors. The shape fit is Moorthy's estimateggdparam with |r - rho| (not the repo's min(r - rho),
// which always gives gamma = 1).
#include "iqa/nss.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "iqa/filters.h"
#include "iqa/iqa.h"
#include "iqa/linalg.h"
#include "iqa/simd.h"
#include "base/error.h"

namespace fas::iqa {

namespace {
constexpr int kGammas = 9801;  // 0.2 : 0.001 : 10
double gamma_at(int i) { return 0.2 + 0.001 * i; }

// r(g) = Gamma(2/g)^2 / (Gamma(1/g) Gamma(3/g)), increasing in g.
const std::vector<double>& r_table() {
  static const std::vector<double> t = [] {
    std::vector<double> r(kGammas);
    for (int i = 0; i < kGammas; ++i) {
      const double g = gamma_at(i);
      r[i] = std::exp(2 * std::lgamma(2 / g) - std::lgamma(1 / g) - std::lgamma(3 / g));
    }
    return r;
  }();
  return t;
}

// Index of the table entry nearest to `target` under the error `err(table value)`, which is
// unimodal in the index because the table is monotone: first index of the minimum, like argmin.
template <class Err>
int nearest_index(const std::vector<double>& t, bool increasing, double target, Err err) {
  if (std::isnan(target)) return 0;  // Matlab's min over NaNs picks the first entry
  // First index whose value is on the far side of target, then compare with its neighbour.
  int lo = 0, hi = (int)t.size();
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (increasing ? t[mid] < target : t[mid] > target) lo = mid + 1;
    else hi = mid;
  }
  int best = std::min(lo, (int)t.size() - 1);
  if (lo > 0 && err(t[lo - 1]) <= err(t[best])) best = lo - 1;
  // Equal values (ties) further left: argmin takes the first.
  while (best > 0 && err(t[best - 1]) <= err(t[best])) --best;
  return best;
}
}  // namespace

double ggd_shape(const double* x, size_t n, double* sigma_sq) {
  double s2 = 0, e = 0;
  for (size_t i = 0; i < n; ++i) s2 += x[i] * x[i], e += std::abs(x[i]);
  s2 /= (double)n, e /= (double)n;
  if (sigma_sq) *sigma_sq = s2;
  const double rho = e > 0 ? s2 / (e * e) : NAN;  // rho = 1 / r(gamma)
  const std::vector<double>& r = r_table();
  // |rho - 1/r| over a decreasing table of 1/r: search on 1/r via r (monotone).
  auto err = [&](double rv) { return std::abs(rho - 1 / rv); };
  return gamma_at(nearest_index(r, true, rho > 0 ? 1 / rho : NAN, err));
}

namespace {
// Sums of an AGGD fit in four interleaved lanes without branches: the sign of an MSCN value or
// product is a coin toss, and branching on it mispredicted half the time (aggd_fit was a tenth
// of a frame's metrics; plain code with ?: still compiled to branches). GCC/clang vector types,
// lowered to whatever the CPU has; lanes fixed, so the result does not depend on the CPU.
struct AggdSums {
  double l2 = 0, r2 = 0, a = 0, nl = 0, nr = 0;
};
FAS_IQA_CLONES AggdSums aggd_sums(const double* x, size_t n) {
  const V4d zero = {0, 0, 0, 0};
  const V4l no_sign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
  V4d l2 = zero, r2 = zero, a = zero, nl = zero, nr = zero;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d v;
    load4(v, x + i);
    const V4l neg = v < zero, pos = v > zero;  // all ones or 0 per lane
    const V4l q = (V4l)(v * v);
    l2 += (V4d)(q & neg), r2 += (V4d)(q & pos);
    nl -= __builtin_convertvector(neg, V4d), nr -= __builtin_convertvector(pos, V4d);
    a += (V4d)((V4l)v & no_sign);
  }
  AggdSums s;
  for (int j = 0; j < 4; ++j) s.l2 += l2[j], s.r2 += r2[j], s.a += a[j], s.nl += nl[j], s.nr += nr[j];
  for (; i < n; ++i) {
    const double v = x[i];
    s.l2 += v < 0 ? v * v : 0.0, s.r2 += v > 0 ? v * v : 0.0;
    s.nl += v < 0, s.nr += v > 0, s.a += std::abs(v);
  }
  return s;
}
}  // namespace

void aggd_fit(const double* x, size_t n, double* alpha, double* bl, double* br) {
  const AggdSums t = aggd_sums(x, n);
  const double l2 = t.l2, r2 = t.r2, nl = t.nl, nr = t.nr;
  double a = t.a, s2 = l2 + r2;  // a zero adds to neither side nor to s2
  const double lstd = nl ? std::sqrt(l2 / nl) : 0.0, rstd = nr ? std::sqrt(r2 / nr) : 0.0;
  const double gh = rstd > 0 ? lstd / rstd : 1.0;
  a /= (double)n, s2 /= (double)n;
  const double rhat = s2 > 0 ? a * a / s2 : NAN;
  const double rnorm = rhat * (gh * gh * gh + 1) * (gh + 1) / ((gh * gh + 1) * (gh * gh + 1));
  auto err = [&](double rv) { return (rv - rnorm) * (rv - rnorm); };
  const double g = gamma_at(nearest_index(r_table(), true, rnorm, err));
  const double k = std::sqrt(std::exp(std::lgamma(1 / g) - std::lgamma(3 / g)));
  *alpha = g, *bl = lstd * k, *br = rstd * k;
}

namespace {
// (x - mu) / (sqrt|mu2 - mu^2| + 1) of one row.
FAS_IQA_CLONES void mscn_row(const double* x, const double* mu, const double* mu2, int w, double* o) {
  for (int i = 0; i < w; ++i) o[i] = (x[i] - mu[i]) / (std::sqrt(std::abs(mu2[i] - mu[i] * mu[i])) + 1.0);
}

// MSCN (niqe.m) of the top-left h x w of a plane: the window means of x and x^2 row by row
// (filter_rows), no squared, mean or variance planes, and no copy of the region.
Plane mscn(const Plane& img, int h, int w) {
  static const std::vector<double> g = gaussian_kernel(7, 7.0 / 6.0);
  Plane out(h, w, Uninit{});
  filter_rows(h, w, 2, [&](int q, int y, double* scratch) -> const double* {
    if (q == 0) return img.row(y);
    multiply(img.row(y), img.row(y), (size_t)w, scratch);
    return scratch;
  }, g, false, Border::Replicate, [&](int y, const double* const* m, int ow) { mscn_row(img.row(y), m[0], m[1], ow, out.row(y)); });
  return out;
}

// Products of a b x b block with its circshift(s, [dy dx]) (shifted(y, x) = s(y - dy, x - dx),
// wrapping within the block; dx is 0 or 1, so column 0 alone may wrap).
FAS_IQA_CLONES void shifted_products(const double* s, int b, int dy, int dx, double* prod) {
  for (int y = 0; y < b; ++y) {
    const int ys = y - dy < 0 ? y - dy + b : y - dy >= b ? y - dy - b : y - dy;
    const double *row = s + (size_t)y * b, *srow = s + (size_t)ys * b;
    double* o = prod + (size_t)y * b;
    o[0] = row[0] * srow[dx ? b - 1 : 0];
    for (int x = 1; x < b; ++x) o[x] = row[x] * srow[x - dx];
  }
}

// The 18 features of one b x b block at (y0, x0) of an MSCN plane (niqe.m computefeature).
void block_features(const Plane& m, int y0, int x0, int b, double* f, std::vector<double>& buf,
                    std::vector<double>& prod) {
  buf.resize((size_t)b * b);
  prod.resize((size_t)b * b);
  for (int y = 0; y < b; ++y) std::copy_n(m.row(y0 + y) + x0, b, buf.data() + (size_t)y * b);
  double a, bl, br;
  aggd_fit(buf.data(), buf.size(), &a, &bl, &br);
  f[0] = a, f[1] = (bl + br) / 2;
  const int shifts[4][2] = {{0, 1}, {1, 0}, {1, 1}, {-1, 1}};
  for (int s = 0; s < 4; ++s) {
    shifted_products(buf.data(), b, shifts[s][0], shifts[s][1], prod.data());
    aggd_fit(prod.data(), prod.size(), &a, &bl, &br);
    double* o = f + 2 + 4 * s;
    o[0] = a, o[1] = (br - bl) * std::exp(std::lgamma(2 / a) - std::lgamma(1 / a)), o[2] = bl, o[3] = br;
  }
}

// 2x2 means of the top-left h x w (even) of a plane.
Plane halve(const Plane& p, int h, int w) {
  Plane o(h / 2, w / 2, Uninit{});
  for (int y = 0; y < o.h; ++y) {
    const double *a = p.row(2 * y), *b = p.row(2 * y + 1);
    for (int x = 0; x < o.w; ++x) o.row(y)[x] = 0.25 * (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]);
  }
  return o;
}
}  // namespace

std::vector<NiqeBlock> niqe_block_features(const Plane& img, int block) {
  FAS_CHECK(block >= 4 && block % 2 == 0, "niqe: block size must be even and >= 4");
  const int by = img.h / block, bx = img.w / block;
  if (by < 1 || bx < 1)
    fail("niqe: image " + std::to_string(img.h) + "x" + std::to_string(img.w) + " is smaller than one " +
         std::to_string(block) + "x" + std::to_string(block) + " block");
  // The whole blocks' region, read in place at scale 1; halved at scale 2.
  Plane half;
  std::vector<NiqeBlock> rows((size_t)by * bx);
  std::vector<double> buf, prod;
  for (int scale = 0; scale < 2; ++scale) {
    const Plane m = scale == 0 ? mscn(img, by * block, bx * block) : mscn(half, half.h, half.w);
    const int b = block >> scale;
    for (int j = 0; j < by; ++j)
      for (int i = 0; i < bx; ++i) block_features(m, j * b, i * b, b, rows[(size_t)j * bx + i].data() + 18 * scale, buf, prod);
    if (scale == 0) half = halve(img, by * block, bx * block);
  }
  return rows;
}

BiqiVector biqi_features(const Plane& img) {
  BiqiVector f{};
  Plane ll = img;
  Plane band[3];  // Planes, from the per-thread block cache: a 614 KB std::vector is mmapped and
                  // faulted in afresh on every frame (BIQI 0.5 -> 5 ms once nothing else raised
                  // glibc's mmap threshold)
  for (int s = 0; s < 3; ++s) {
    const int h = ll.h / 2, w = ll.w / 2;
    FAS_CHECK(h >= 1 && w >= 1, "biqi: image too small for 3 wavelet levels");
    Plane next(h, w, Uninit{});
    for (auto& b : band) b = Plane(h, w, Uninit{});
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double a = ll.at(2 * y, 2 * x), b = ll.at(2 * y, 2 * x + 1), c = ll.at(2 * y + 1, 2 * x),
                     d = ll.at(2 * y + 1, 2 * x + 1);
        const size_t k = (size_t)y * w + x;
        next.v[k] = (a + b + c + d) / 2;
        band[0].v[k] = (a + b - c - d) / 2;  // horizontal detail (a change between rows)
        band[1].v[k] = (a - b + c - d) / 2;  // vertical detail
        band[2].v[k] = (a - b - c + d) / 2;  // diagonal detail
      }
    for (int k = 0; k < 3; ++k) {
      double s2;
      f[6 * s + 2 * k] = ggd_shape(band[k].v.data(), band[k].size(), &s2);
      f[6 * s + 2 * k + 1] = std::log(s2 + 1e-12);  // ln: sigma^2 spans decades between frames
    }
    ll = std::move(next);
  }
  return f;
}

Mvg fit_mvg(const std::vector<std::vector<double>>& rows) {
  FAS_CHECK(rows.size() >= 2, "fit_mvg: needs at least 2 rows");
  const size_t d = rows[0].size(), n = rows.size();
  Mvg m;
  m.mean.assign(d, 0.0);
  m.cov.assign(d * d, 0.0);
  for (auto& r : rows)
    for (size_t i = 0; i < d; ++i) m.mean[i] += r[i] / (double)n;
  for (auto& r : rows)
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) m.cov[i * d + j] += (r[i] - m.mean[i]) * (r[j] - m.mean[j]) / (double)(n - 1);
  return m;
}

double niqe_distance(const Mvg& p, const Mvg& q) {
  const size_t d = p.mean.size();
  std::vector<double> c(d * d), diff(d);
  for (size_t i = 0; i < d * d; ++i) c[i] = (p.cov[i] + q.cov[i]) / 2;
  for (size_t i = 0; i < d; ++i) diff[i] = p.mean[i] - q.mean[i];
  return std::sqrt(std::max(0.0, quad_form(pinv_sym(c, (int)d), diff)));
}

namespace {
template <size_t D>
std::vector<std::vector<double>> as_rows(const std::vector<std::array<double, D>>& a) {
  std::vector<std::vector<double>> r;
  for (auto& x : a) r.emplace_back(x.begin(), x.end());
  return r;
}
}  // namespace

double niqe(const Plane& I, int block) { return niqe_score(niqe_pristine(), niqe_block_features(I, block)); }

double niqe_score(const Mvg& pristine, const std::vector<NiqeBlock>& blocks) {
  Mvg q;
  if (blocks.size() >= 2) {
    q = fit_mvg(as_rows(blocks));
  } else {  // one block: no spread of its own
    q.mean.assign(blocks[0].begin(), blocks[0].end());
    q.cov.assign((size_t)kNiqeFeatures * kNiqeFeatures, 0.0);
  }
  return niqe_distance(pristine, q);
}

double biqi(const Plane& I) { return biqi_score(biqi_pristine(), biqi_features(I)); }

// NIQE's distance with the frame's covariance 0 (one vector): sqrt(2) x its Mahalanobis distance
// to the pristine MVG.
double biqi_score(const Mvg& pristine, const BiqiVector& f) {
  Mvg q;
  q.mean.assign(f.begin(), f.end());
  q.cov.assign((size_t)kBiqiFeatures * kBiqiFeatures, 0.0);
  return niqe_distance(pristine, q);
}

}  // namespace fas::iqa

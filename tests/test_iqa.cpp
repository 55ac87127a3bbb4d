// W-IQA metrics (src/iqa/): the FFT against a plain DFT, and every metric of three 64x48 images
// against tools/golden_iqa.py (scikit-image / NumPy / SciPy where a standard implementation exists,
// the float64 reference tools/iqa_ref.py otherwise), the 24-feature vector of a 96x192 image, and
// clear errors on bad input.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <complex>
#include <fstream>
#include <numeric>
#include <tuple>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "iqa/fastmath.h"
#include "iqa/fft.h"
#include "iqa/filters.h"
#include "iqa/iqa.h"
#include "iqa/lda.h"
#include "iqa/nss.h"
#include "testutil.h"

using namespace fas;
using namespace fas::iqa;
using Json = nlohmann::json;

namespace {

Json load_json(const std::string& name) {
  std::ifstream f(std::string(FAS_SOURCE_DIR) + "/tests/golden/" + name);
  EXPECT_TRUE(f.good()) << name;
  return Json::parse(f);
}

// The integer formulas of tools/golden_iqa.py synthetic().
Plane synthetic(int kind, int h, int w) {
  Plane p(h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int64_t v = kind == 0 ? ((x * x + 3 * y * y + 5 * x * y) / 7 + ((x * 2654435761LL) ^ (y * 40503)) % 61) % 256
                                  : ((x / 8) * 37 + (y / 8) * 91) % 200 + (x * y * 7 + x * 13 + y * 29) % 17;
      p.row((int)y)[x] = (double)v;
    }
  return p;
}

Plane case_image(const Json& c) {
  const int h = c["h"], w = c["w"];
  if (c.contains("pixels")) {
    Plane p(h, w);
    for (size_t i = 0; i < p.size(); ++i) p.v[i] = c["pixels"][i].get<double>();
    return p;
  }
  return synthetic(c["name"] == "texture" ? 0 : 1, h, w);
}

::testing::AssertionResult near_rel(double got, double want, double rtol, double atol = 0) {
  if (std::abs(got - want) <= atol + rtol * std::abs(want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (diff " << got - want << ")";
}

void expect_samples(const Plane& p, const Json& s, double rtol, double atol, const char* what) {
  for (auto& e : s) EXPECT_TRUE(near_rel(p.at(e[0], e[1]), e[2], rtol, atol)) << what << " at " << e[0] << "," << e[1];
}

}  // namespace

TEST(IqaFft, MatchesPlainDft) {
  Rng rng(3);
  for (int n : {1, 2, 3, 4, 5, 7, 8, 12, 30, 48, 64, 97, 160, 194}) {
    std::vector<cplx> x((size_t)n), work((size_t)n), want((size_t)n);
    for (auto& v : x) v = cplx(rng.uniform() - 0.5, rng.uniform() - 0.5);
    for (int k = 0; k < n; ++k)
      for (int t = 0; t < n; ++t) want[k] += x[t] * std::polar(1.0, -2 * M_PI * (double)((int64_t)k * t % n) / n);
    Fft(n).forward(x.data(), work.data());
    for (int k = 0; k < n; ++k) EXPECT_LT(std::abs(x[k] - want[k]), 1e-10 * n) << "n=" << n << " k=" << k;
  }
}

// The separable filters (row pass in place with padded ends, ring of rows, 32-output vector
// blocks) against a plain 2-D sum, on every border rule, kernel lengths 1 to 17 and sizes whose
// rows are shorter than the kernel, shorter than a block, and ragged.
TEST(IqaFilters, SeparableEqualsPlainTwoDimensionalSum) {
  Rng rng(13);
  auto at = [](const Plane& p, int y, int x, Border b) {
    auto idx = [b](int i, int n) {
      if (i >= 0 && i < n) return i;
      if (b == Border::Zero) return -1;
      if (b == Border::Replicate || n == 1) return i < 0 ? 0 : n - 1;
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
      return i;
    };
    const int yy = idx(y, p.h), xx = idx(x, p.w);
    return yy < 0 || xx < 0 ? 0.0 : p.at(yy, xx);
  };
  for (auto [h, w] : {std::pair{1, 1}, {3, 5}, {7, 40}, {33, 70}, {20, 3}, {12, 97}})
    for (int ny : {1, 3, 9})
      for (int nx : {1, 5, 17}) {
        Plane in(h, w);
        for (auto& v : in.v) v = std::floor(256 * rng.uniform());
        std::vector<double> ky(ny), kx(nx);
        for (auto& k : ky) k = rng.uniform() - 0.3;
        for (auto& k : kx) k = rng.uniform() - 0.3;
        for (Border b : {Border::Reflect101, Border::Replicate, Border::Zero}) {
          Plane out;
          correlate_sep(in, ky, kx, b, out);
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
              double want = 0;
              for (int i = 0; i < ny; ++i)
                for (int j = 0; j < nx; ++j) want += ky[i] * kx[j] * at(in, y + i - ny / 2, x + j - nx / 2, b);
              ASSERT_NEAR(out.at(y, x), want, 1e-10) << h << "x" << w << " taps " << ny << "x" << nx << " border "
                                                    << (int)b << " at " << y << "," << x;
            }
        }
        if (h < ny || w < nx) continue;
        Plane valid, even;
        correlate_sep_valid(in, ky, kx, valid);
        correlate_sep_valid_even(in, ky, kx, even);
        ASSERT_EQ(even.h, (valid.h + 1) / 2);
        ASSERT_EQ(even.w, (valid.w + 1) / 2);
        for (int y = 0; y < even.h; ++y)
          for (int x = 0; x < even.w; ++x) ASSERT_NEAR(even.at(y, x), valid.at(2 * y, 2 * x), 1e-10) << "even " << h << "x" << w;
        ASSERT_EQ(valid.h, h - ny + 1);
        ASSERT_EQ(valid.w, w - nx + 1);
        for (int y = 0; y < valid.h; ++y)
          for (int x = 0; x < valid.w; ++x) {
            double want = 0;
            for (int i = 0; i < ny; ++i)
              for (int j = 0; j < nx; ++j) want += ky[i] * kx[j] * in.at(y + i, x + j);
            ASSERT_NEAR(valid.at(y, x), want, 1e-10) << "valid " << h << "x" << w << " at " << y << "," << x;
          }
      }
}

// local_moment_rows (five row rings, rows handed out by groups, no planes) against the five
// planes filtered one by one, on sizes that leave partial groups and strips.
TEST(IqaFilters, LocalMomentRowsEqualFilteredPlanes) {
  Rng rng(23);
  for (auto t : {std::tuple{7, 7, 7}, {20, 150, 5}, {41, 33, 17}, {9, 300, 3}}) {
    const int h = std::get<0>(t), w = std::get<1>(t), n = std::get<2>(t);  // lambdas capture these
    Plane a(h, w), b(h, w), aa(h, w), bb(h, w), ab(h, w);
    for (size_t i = 0; i < a.size(); ++i) {
      a.v[i] = std::floor(256 * rng.uniform()), b.v[i] = 255 * rng.uniform();
      aa.v[i] = a.v[i] * a.v[i], bb.v[i] = b.v[i] * b.v[i], ab.v[i] = a.v[i] * b.v[i];
    }
    const std::vector<double> k = gaussian_kernel(n, n / 5.0);
    Plane want[5];
    const Plane* in[5] = {&a, &b, &aa, &bb, &ab};
    for (int q = 0; q < 5; ++q) correlate_sep_valid(*in[q], k, k, want[q]);
    int y = 0;
    local_moment_rows(a, b, k, [&](const double* const* m, int ow) {
      ASSERT_EQ(ow, want[0].w);
      for (int q = 0; q < 5; ++q)
        for (int x = 0; x < ow; ++x) ASSERT_NEAR(m[q][x], want[q].at(y, x), 1e-9 * (q < 2 ? 1 : 255)) << q << " " << y << "," << x;
      ++y;
    });
    EXPECT_EQ(y, want[0].h) << h << "x" << w;
    // Same size under each border rule: two channels, the second computed into the scratch row.
    for (Border bd : {Border::Reflect101, Border::Replicate, Border::Zero}) {
      Plane fa, fab;
      correlate_sep(a, k, k, bd, fa);
      correlate_sep(ab, k, k, bd, fab);
      int rows = 0;
      filter_rows(h, w, 2, [&](int q, int yy, double* s) -> const double* {
        if (q == 0) return a.row(yy);
        multiply(a.row(yy), b.row(yy), (size_t)w, s);
        return s;
      }, k, false, bd, [&](int yy, const double* const* m, int ow) {
        ASSERT_EQ(ow, w);
        for (int x = 0; x < w; ++x) {
          ASSERT_NEAR(m[0][x], fa.at(yy, x), 1e-9) << (int)bd << " " << yy << "," << x;
          ASSERT_NEAR(m[1][x], fab.at(yy, x), 1e-9 * 255) << (int)bd << " " << yy << "," << x;
        }
        ++rows;
      });
      EXPECT_EQ(rows, h);
    }
  }
}

// SSIM's and VIF's per-pixel parts (vector lanes; VIF's logs of lane products) against plain
// per-pixel loops, on counts that leave a tail, with flat windows (s1 or s2 below eps) and
// anticorrelated ones (g < 0) so that every clamp of vifp_mscale.m is taken.
TEST(Iqa, SsimAndVifPixelSumsEqualPlainLoops) {
  Rng rng(17);
  for (size_t n : {1, 3, 4, 7, 64, 67, 1001}) {
    std::vector<double> ma(n), mb(n), aa(n), bb(n), ab(n);
    for (size_t i = 0; i < n; ++i) {
      ma[i] = 255 * rng.uniform(), mb[i] = 255 * rng.uniform();
      const int kind = (int)(rng.uniform() * 4);  // 0: flat a, 1: flat b, 2: g < 0, 3: g > 0
      const double s1 = kind == 0 ? 0.0 : 2000 * rng.uniform(), s2 = kind == 1 ? 0.0 : 2000 * rng.uniform();
      const double rho = kind == 2 ? -rng.uniform() : rng.uniform();
      aa[i] = ma[i] * ma[i] + s1, bb[i] = mb[i] * mb[i] + s2, ab[i] = ma[i] * mb[i] + rho * std::sqrt(s1 * s2);
    }
    double ssim = 0, num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
      const double ux = ma[i], uy = mb[i], cov = 49.0 / 48.0, c1 = 6.5025, c2 = 58.5225;
      const double vx = cov * (aa[i] - ux * ux), vy = cov * (bb[i] - uy * uy), vxy = cov * (ab[i] - ux * uy);
      ssim += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      double s1 = std::max(0.0, aa[i] - ux * ux), s2 = std::max(0.0, bb[i] - uy * uy);
      const double s12 = ab[i] - ux * uy;
      double g = s12 / (s1 + 1e-10), sv = s2 - g * s12;
      if (s1 < 1e-10) g = 0, sv = s2, s1 = 0;
      if (s2 < 1e-10) g = 0, sv = 0;
      if (g < 0) sv = s2, g = 0;
      if (sv <= 1e-10) sv = 1e-10;
      num += std::log10(1 + g * g * s1 / (sv + 2)), den += std::log10(1 + s1 / 2);
    }
    EXPECT_TRUE(near_rel(ssim_sum(ma.data(), mb.data(), aa.data(), bb.data(), ab.data(), n), ssim, 1e-12, 1e-12)) << n;
    const VifSums v = vif_sums(ma.data(), mb.data(), aa.data(), bb.data(), ab.data(), n);
    EXPECT_TRUE(near_rel(v.num, num, 1e-12, 1e-12)) << n;
    EXPECT_TRUE(near_rel(v.den, den, 1e-12, 1e-12)) << n;
  }
}

// LMSE (per-row Laplacian in vector lanes) against the plain 4-neighbour Laplacian with
// reflect-101 borders, pixel by pixel, on 1-wide, 2-wide and ragged planes.
TEST(Iqa, LmseEqualsPlainLaplacian) {
  Rng rng(29);
  for (auto hw : {std::pair{1, 1}, {1, 7}, {5, 2}, {2, 9}, {13, 21}, {40, 37}}) {
    const int h = hw.first, w = hw.second;  // lambdas capture these (C++17 cannot capture bindings)
    Plane I(h, w), J(h, w);
    for (auto& v : I.v) v = std::floor(256 * rng.uniform());
    for (auto& v : J.v) v = 255 * rng.uniform();
    auto refl = [](int i, int n) { return n == 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; };
    auto lap = [&](const Plane& p, int y, int x) {
      return p.at(refl(y - 1, h), x) + p.at(refl(y + 1, h), x) + p.at(y, refl(x - 1, w)) + p.at(y, refl(x + 1, w)) -
             4 * p.at(y, x);
    };
    double num = 0, den = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double d = lap(I, y, x) - lap(J, y, x), l = lap(I, y, x);
        num += d * d, den += l * l;
      }
    EXPECT_TRUE(near_rel(lmse(I, J), den != 0 ? num / den : 0.0, 1e-10, 1e-12)) << h << "x" << w;
  }
}

// JQI (both directions along rows, vector lanes) against the plain walk of each line, sample by
// sample, on sizes that are not multiples of the 8x8 blocks.
TEST(Iqa, JqiEqualsPlainLineWalk) {
  Rng rng(19);
  for (auto [h, w] : {std::pair{3, 3}, {13, 21}, {37, 50}, {16, 24}, {96, 101}}) {
    Plane I(h, w);
    for (auto& v : I.v) v = std::floor(256 * rng.uniform());
    double f[2][3];  // per direction: B, A, Z
    for (int dir = 0; dir < 2; ++dir) {
      const int n = dir ? h : w, lines = dir ? w : h;
      double sum_abs = 0, sum_b = 0, nb = 0, zc = 0;
      for (int l = 0; l < lines; ++l)
        for (int i = 0; i + 1 < n; ++i) {
          const auto at = [&](int k) { return dir ? I.at(k, l) : I.at(l, k); };
          const double d = at(i + 1) - at(i);
          sum_abs += std::abs(d);
          if ((i + 1) % 8 == 0 && i + 1 <= 8 * (n / 8 - 1)) sum_b += std::abs(d), ++nb;
          if (i > 0 && (at(i) - at(i - 1)) * d < 0) ++zc;
        }
      const double B = nb ? sum_b / nb : 0.0;
      f[dir][0] = B, f[dir][1] = (8 * sum_abs / ((double)lines * (n - 1)) - B) / 7;
      f[dir][2] = zc / ((double)lines * std::max(1, n - 2));
    }
    const double B = std::max(1e-6, (f[0][0] + f[1][0]) / 2), A = std::max(1e-6, (f[0][1] + f[1][1]) / 2),
                 Z = std::max(1e-6, (f[0][2] + f[1][2]) / 2);
    const double want = -245.8909 + 261.9373 * std::pow(B, -239.8886 / 10000) * std::pow(A, 160.1664 / 10000) *
                                        std::pow(Z, 64.2859 / 10000);
    EXPECT_TRUE(near_rel(jqi(I), want, 1e-12)) << h << "x" << w;
  }
}

// fft2_pair (eight columns, then eight rows, per forward8 in vector lanes) against the plain
// transform Fft::forward row by row and column by column, on sizes with partial lane groups, a
// prime factor above 8 and a 1-wide plane.
TEST(IqaFft, PairOfPlanesEqualsPlainRowColumnTransform) {
  Rng rng(11);
  for (auto [h, w] : {std::pair{8, 8}, {13, 21}, {1, 9}, {9, 1}, {17, 97}, {30, 24}}) {
    Plane a(h, w), b(h, w);
    for (auto& v : a.v) v = std::floor(256 * rng.uniform());
    for (auto& v : b.v) v = std::floor(256 * rng.uniform());
    std::vector<cplx> z((size_t)h * w), work((size_t)std::max(h, w)), col((size_t)h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) z[(size_t)y * w + x] = cplx(a.at(y, x), b.at(y, x));
      Fft(w).forward(z.data() + (size_t)y * w, work.data());
    }
    for (int x = 0; x < w; ++x) {
      for (int y = 0; y < h; ++y) col[y] = z[(size_t)y * w + x];
      Fft(h).forward(col.data(), work.data());
      for (int y = 0; y < h; ++y) z[(size_t)y * w + x] = col[y];
    }
    const Dft2Pair d = fft2_pair(a, b);
    const double scale = 256.0 * h * w;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        EXPECT_LT(std::abs(d.at(y, x) - z[(size_t)y * w + x]), 1e-13 * scale) << h << "x" << w << " at " << y << "," << x;
  }
}

// spectral_metrics visits half the spectrum (the other half mirrors it); against every
// coefficient visited plainly, on even and odd sizes (odd ones have no self-mirrored row or column
// but 0).
TEST(IqaFft, SpectralMetricsHalfSpectrumEqualsFullSum) {
  Rng rng(5);
  for (auto [h, w] : {std::pair{32, 48}, {33, 47}, {32, 47}, {33, 48}}) {
    Plane I(h, w);
    for (auto& v : I.v) v = std::floor(256 * rng.uniform());
    const Plane J = blur_reference(I);
    const Dft2Pair d = fft2_pair(I, J);
    const int il = (int)std::ceil(0.15 * h), jl = (int)std::ceil(0.15 * w);
    const int ih = (int)std::ceil(0.15 * h + 1), jh = (int)std::ceil(0.15 * w + 1);
    double lfs = 0, hfs = 0, total = 0, sme = 0, spe = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        cplx F, G;
        d.split(y, x, F, G);
        const double a = std::abs(F), b = std::abs(G), da = std::arg(F * std::conj(G));
        total += a, sme += (a - b) * (a - b), spe += da * da;
        if (y < il && x < jl) lfs += a;
        if (y >= ih && x >= jh) hfs += a;
      }
    const SpectralMetrics m = spectral_metrics(I, J);
    EXPECT_TRUE(near_rel(m.hlfi, (lfs - hfs) / total, 1e-9)) << h << "x" << w;
    EXPECT_TRUE(near_rel(m.sme, sme / (h * w), 1e-9)) << h << "x" << w;
    EXPECT_TRUE(near_rel(m.spe, spe / (h * w), 1e-9)) << h << "x" << w;
  }
}

// Tolerances: 1e-9 relative for closed-form float64 metrics (only summation order differs); 1e-7
// for the DFT-based ones (an FFT's rounding grows with log n); the NSS shape fits pick the nearest
// entry of a 0.001 grid, so a fit whose target falls between two entries may pick the neighbour:
// 2e-3 absolute on those features and 1e-2 relative on the distances built from them.
TEST(IqaGolden, MetricsMatchReference) {
  const Json g = load_json("iqa_metrics.json");
  for (const Json& c : g["images"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Plane I = case_image(c), J = blur_reference(I);
    const Json& m = c["metrics"];
    expect_samples(J, c["blur"], 1e-12, 1e-12, "blur");
    Plane gx, gy;
    sobel5(I, gx, gy);
    expect_samples(gx, c["sobel_x"], 1e-12, 1e-9, "sobel x");
    expect_samples(gy, c["sobel_y"], 1e-12, 1e-9, "sobel y");
    expect_samples(harris_response(I), c["harris"], 1e-9, 1e-6, "harris");
    EXPECT_EQ(harris_corner_count(I), c["harris_count"].get<int64_t>());
    const Dft2Pair dft = fft2_pair(I, J);
    for (auto& e : c["dft_abs"]) {
      cplx F, G;
      dft.split(e[0].get<int>(), e[1].get<int>(), F, G);
      EXPECT_TRUE(near_rel(std::abs(F), e[2], 1e-9, 1e-7));
    }

    const double r = 1e-9;
    const PixelMetrics pm = pixel_metrics(I, J);
    EXPECT_TRUE(near_rel(pm.ad, m["ad"], r, 1e-12));
    EXPECT_TRUE(near_rel(pm.md, m["md"], r));
    EXPECT_TRUE(near_rel(pm.mse, m["mse"], r));
    EXPECT_TRUE(near_rel(pm.nae, m["nae"], r));
    EXPECT_TRUE(near_rel(pm.nxc, m["nxc"], r));
    EXPECT_TRUE(near_rel(pm.psnr, m["psnr"], r));
    EXPECT_TRUE(near_rel(ramd(I, J), m["ramd"], r));
    EXPECT_TRUE(near_rel(pm.sc, m["sc"], r));
    EXPECT_TRUE(near_rel(pm.snr, m["snr"], r));
    EXPECT_TRUE(near_rel(pm.mas, m["mas"], r, 1e-12));
    EXPECT_TRUE(near_rel(pm.mams, m["mams"], r));
    EXPECT_TRUE(near_rel(lmse(I, J), m["lmse"], r));
    const GradientMetrics gm = gradient_metrics(I, J);
    EXPECT_TRUE(near_rel(gm.gme, m["gme"], r));
    EXPECT_TRUE(near_rel(gm.gpe, m["gpe"], r));
    EXPECT_TRUE(near_rel(gm.ted, m["ted"], r, 1e-12));
    EXPECT_TRUE(near_rel(tcd(I, J), m["tcd"], r, 1e-12));
    const SpectralMetrics sm = spectral_metrics(I, J);
    EXPECT_TRUE(near_rel(sm.hlfi, m["hlfi"], 1e-7));
    EXPECT_TRUE(near_rel(sm.sme, m["sme"], 1e-7));
    EXPECT_TRUE(near_rel(sm.spe, m["spe"], 1e-7));
    EXPECT_TRUE(near_rel(ssim(I, J), m["ssim"], r));
    EXPECT_TRUE(near_rel(vifp(I, J), m["vifd"], r));
    EXPECT_TRUE(near_rel(jqi(I), m["jqi"], r));

    const auto blocks = niqe_block_features(I, 16);
    ASSERT_EQ((int)blocks.size(), c["niqe16_blocks"].get<int>());
    for (int k = 0; k < kNiqeFeatures; ++k) {
      double mean = 0;
      for (auto& b : blocks) mean += b[k] / (double)blocks.size();
      EXPECT_TRUE(near_rel(blocks[0][k], c["niqe16_block0"][k], 1e-6, 2e-3)) << "niqe block 0 feature " << k;
      EXPECT_TRUE(near_rel(mean, c["niqe16_mean"][k], 1e-6, 2e-3)) << "niqe mean feature " << k;
    }
    const BiqiVector bf = biqi_features(I);
    for (int k = 0; k < kBiqiFeatures; ++k) EXPECT_TRUE(near_rel(bf[k], c["biqi_features"][k], 1e-9, 2e-3)) << k;
    EXPECT_TRUE(near_rel(niqe(I, 16), m["niqe"], 1e-2));
    EXPECT_TRUE(near_rel(biqi(I), m["biqi"], 1e-2));
  }
}

TEST(IqaGolden, FeatureVectorInOrder) {
  const Json g = load_json("iqa_metrics.json")["full"];
  const Plane I = synthetic(0, g["h"], g["w"]);
  const Features f = compute_features(I);
  for (int k = 0; k < kNumMetrics; ++k) {
    const char* name = metric_names()[k];
    const double tol = k == NIQE || k == BIQI ? 1e-2 : 1e-7;
    EXPECT_TRUE(near_rel(f[k], g["features"][name], tol, 1e-12)) << name;
  }
}

// The one-pass vector sums of the pixel metrics equal plain per-pixel loops, on sizes whose pixel
// count is not a multiple of the four lanes, with zeros (MAS/MAMS' I I' <= 0 branch) and a
// maximum difference in the scalar tail.
TEST(Iqa, PixelMetricsEqualPlainLoopsOnRaggedSizes) {
  std::srand(3);
  for (auto [h, w] : {std::pair{1, 1}, {3, 5}, {7, 9}, {17, 13}, {96, 101}}) {
    Plane I(h, w), J(h, w);
    for (size_t i = 0; i < I.size(); ++i) {
      I.v[i] = std::rand() % 5 == 0 ? 0.0 : std::rand() % 256;
      J.v[i] = std::rand() % 7 == 0 ? 0.0 : (std::rand() % 25600) / 100.0;
    }
    I.v.back() = 255, J.v.back() = 0;  // the largest |I - I'|, in the tail when size % 4 != 0
    double d = 0, ad = 0, d2 = 0, ai = 0, ij = 0, ii = 0, jj = 0, nonpos = 0, mams = 0, md = 0;
    std::vector<double> diffs;
    for (size_t i = 0; i < I.size(); ++i) {
      const double x = I.v[i], y = J.v[i];
      d += x - y, ad += std::abs(x - y), d2 += (x - y) * (x - y), ai += std::abs(x), ij += x * y, ii += x * x;
      jj += y * y, nonpos += x * y <= 0, mams += 1 - (x * y > 0) * (1 - std::abs(x - y) / 255), md = std::max(md, std::abs(x - y));
      diffs.push_back(std::abs(x - y));
    }
    const double n = (double)I.size();
    const PixelMetrics m = pixel_metrics(I, J);
    const std::string at = std::to_string(h) + "x" + std::to_string(w);
    EXPECT_TRUE(near_rel(m.ad, d / n, 1e-12, 1e-12)) << at;
    EXPECT_EQ(m.md, md) << at;
    EXPECT_TRUE(near_rel(m.mse, d2 / n, 1e-12)) << at;
    EXPECT_TRUE(near_rel(m.nae, ai ? ad / ai : 0.0, 1e-12)) << at;
    EXPECT_TRUE(near_rel(m.nxc, ii ? ij / ii : 1.0, 1e-12)) << at;
    EXPECT_TRUE(near_rel(m.sc, jj ? ii / jj : 1.0, 1e-12)) << at;
    EXPECT_TRUE(near_rel(m.psnr, 10 * std::log10(255.0 * 255.0 / (d2 / n)), 1e-12)) << at;
    EXPECT_TRUE(near_rel(m.snr, 10 * std::log10(ii / d2), 1e-12)) << at;
    EXPECT_EQ(m.mas, nonpos / n) << at;
    EXPECT_TRUE(near_rel(m.mams, mams / n, 1e-12)) << at;
    std::sort(diffs.rbegin(), diffs.rend());
    const int R = std::min<int>(10, (int)diffs.size());
    EXPECT_TRUE(near_rel(ramd(I, J), std::accumulate(diffs.begin(), diffs.begin() + R, 0.0) / R, 1e-12)) << at;
  }
}

// NIQE's AGGD fit sums in vector lanes: on sizes that leave a scalar tail, with zeros, the left
// and right spreads equal plain loops (bl / br = lstd / rstd, the shape factor cancels) and the
// fit does not depend on which values fall in the tail (rotations of the same values).
TEST(Iqa, AggdFitEqualsPlainLoopsOnRaggedSizes) {
  std::srand(11);
  for (size_t n : {1u, 3u, 5u, 7u, 97u, 1001u}) {
    std::vector<double> x(n);
    for (auto& v : x) v = std::rand() % 4 == 0 ? 0.0 : (std::rand() / (double)RAND_MAX - 0.4) * 3;
    x[0] = -1.5, x[n - 1] = 2.0;  // both sides present, one of them in the tail
    double l2 = 0, r2 = 0, nl = 0, nr = 0;
    for (double v : x) {
      if (v < 0) l2 += v * v, ++nl;
      if (v > 0) r2 += v * v, ++nr;
    }
    double a, bl, br;
    aggd_fit(x.data(), n, &a, &bl, &br);
    if (n > 1) {
      EXPECT_TRUE(near_rel(bl / br, std::sqrt(l2 / nl) / std::sqrt(r2 / nr), 1e-12)) << n;
    }
    for (size_t r = 1; r < std::min<size_t>(n, 4); ++r) {
      std::vector<double> y(x);
      std::rotate(y.begin(), y.begin() + r, y.end());
      double a2, bl2, br2;
      aggd_fit(y.data(), n, &a2, &bl2, &br2);
      EXPECT_EQ(a2, a) << n << " rotated by " << r;
      EXPECT_TRUE(near_rel(bl2, bl, 1e-12) && near_rel(br2, br, 1e-12)) << n << " rotated by " << r;
    }
  }
}

// atan2 by selects equals libm's in every octant, on its boundaries and on the axes; (0, 0) is 0.
TEST(Iqa, FastAtan2MatchesLibm) {
  std::srand(5);
  std::vector<std::pair<double, double>> yx{{0, 1}, {1, 0}, {0, -1}, {-1, 0}, {1, 1}, {-1, -1}, {1, -1}, {-1, 1},
                                            {0.41421356237309503, 1}, {0.19891236737965800, 1}, {3, 1e-300}};
  for (int i = 0; i < 20000; ++i)
    yx.emplace_back((std::rand() / (double)RAND_MAX - 0.5) * std::pow(10.0, std::rand() % 9 - 4),
                    (std::rand() / (double)RAND_MAX - 0.5) * std::pow(10.0, std::rand() % 9 - 4));
  double worst = 0;
  for (auto [y, x] : yx) worst = std::max(worst, std::abs(fast_atan2(y, x) - std::atan2(y, x)));
  EXPECT_LT(worst, 1e-15);
  EXPECT_EQ(fast_atan2(0.0, 0.0), 0.0);
}

// The metrics react to what they measure: a sharper reference (less blur) scores as closer.
TEST(Iqa, MetricsOrderByDistortion) {
  const Plane I = synthetic(0, 48, 64), J = blur_reference(I);
  Plane K = J;  // blurred twice: further from I
  K = blur_reference(K);
  EXPECT_LT(pixel_metrics(I, J).mse, pixel_metrics(I, K).mse);
  EXPECT_GT(pixel_metrics(I, J).psnr, pixel_metrics(I, K).psnr);
  EXPECT_GT(ssim(I, J), ssim(I, K));
  EXPECT_GT(vifp(I, J), vifp(I, K));
  EXPECT_DOUBLE_EQ(ssim(I, I), 1.0);
  EXPECT_NEAR(vifp(I, I), 1.0, 1e-9);
  EXPECT_EQ(pixel_metrics(I, I).mse, 0.0);
}

TEST(Iqa, DegenerateImagesGiveFiniteFeatures) {
  for (double level : {0.0, 128.0}) {
    const Features f = compute_features(Plane(96, 128, level));
    for (int k = 0; k < kNumMetrics; ++k) EXPECT_TRUE(std::isfinite(f[k])) << metric_names()[k] << " at level " << level;
  }
}

TEST(Iqa, TooSmallImageIsAClearError) {
  try {
    compute_features(Plane(64, 200, 10.0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
  }
}

// Planes recycle their blocks through a per-thread cache, which a thread's exit destroys before
// the program's static objects: a static Plane freed at exit must not use the destroyed cache
// (it did: a hang or heap corruption at the end of bench_iqa; ASan reports the use after free).
void exit_holding_static_planes() {
  alarm(30);  // a hang in the destroyed map ends the child here, not the suite
  static Plane a(480, 640), b(240, 320);
  { Plane c(480, 640); }  // its block stays in the cache until exit
  std::exit(a.size() + b.size() > 0 ? 0 : 2);
}
TEST(IqaPlane, StaticPlaneFreedAfterTheThreadCacheAtExit) {
  EXPECT_EXIT(exit_holding_static_planes(), ::testing::ExitedWithCode(0), "");
}

// scikit-learn's LinearDiscriminantAnalysis(solver='eigen', shrinkage='auto') on two fixed
// datasets (tools/golden_iqa.py): features on scales 1e-3 .. 1e5, 30 and 60 samples.
TEST(IqaLda, MatchesScikitLearn) {
  const Json g = load_json("iqa_lda.json");
  for (const Json& c : g["cases"]) {
    const int n = c["n"], p = c["p"];
    const std::vector<double> X = c["X"].get<std::vector<double>>();
    const std::vector<int> y = c["y"].get<std::vector<int>>();
    const LdaModel m = fit_shrinkage_lda(X, y, p);
    for (int j = 0; j < p; ++j) EXPECT_TRUE(near_rel(m.coef[j], c["coef"][j], 1e-7, 1e-12)) << "p=" << p << " coef " << j;
    EXPECT_TRUE(near_rel(m.intercept, c["intercept"], 1e-7, 1e-9)) << "p=" << p;
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(near_rel(m.probability(X.data() + (size_t)i * p), c["proba"][i], 1e-7, 1e-10)) << "p=" << p << " row " << i;
  }
}

TEST(IqaLda, OneClassIsAClearError) {
  try {
    fit_shrinkage_lda({1, 2, 3, 4, 5, 6}, {1, 1, 1}, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("each class"), std::string::npos) << e.what();
  }
}

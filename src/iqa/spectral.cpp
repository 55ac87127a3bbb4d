// Spectral metrics (spec 002 §2.3 items 5, 18, 20) on the unnormalised 2-D DFT (numpy.fft.fft2)
// of I and I', computed together as one complex transform (fft.h).
//
// Pick (§8 D, E): Galbally's definitions, no logarithm: SME = mean (|F| - |F'|)^2 (the thesis'
// "SPE" formula; its "SME" is an error of 20 ln|F|, which is -inf at any zero coefficient) and
// SPE = mean (angle F - angle F')^2, the phase error the name says (the thesis computes no phase),
// wrapped to (-pi, pi] as arg(F conj F') (0 where either coefficient is 0).
// HLFI: the thesis formula, lfs = sum |F| over i < ceil(0.15 h), j < ceil(0.15 w) and hfs = sum |F|
// over i >= ceil(0.15 h + 1), j >= ceil(0.15 w + 1), HLFI = (lfs - hfs) / sum |F|, on the UNSHIFTED
// linear magnitude, where (0, 0) is DC, so "low" is the low-frequency corner as Galbally intends
// (the repo applies it after fftshift, where that corner holds the highest frequencies, and to a
// log spectrum).
#include <algorithm>
#include <cmath>
#include <vector>

#include "iqa/fastmath.h"
#include "iqa/filters.h"
#include "iqa/fft.h"
#include "iqa/iqa.h"
#include "iqa/simd.h"

namespace fas::iqa {

namespace {
// One column pair of the packed spectrum, row by row: z is column x (interleaved re, im), zm
// column w - x reversed (zm[y] = Z[-y mod h]). Writes |F|, (|F| - |G|)^2 and the squared phase
// difference arg(F conj G) (0 where either is 0) per row: no reduction in the loop, so it
// vectorises (the per-coefficient visit with its atan2 branches was most of the 14 ms).
FAS_IQA_CLONES void spectral_column(const double* __restrict z, const double* __restrict zm, int h, double* __restrict mag,
                                    double* __restrict sme, double* __restrict spe) {
  for (int y = 0; y < h; ++y) {
    // F = (Z[k] + conj Z[-k]) / 2, G = (Z[k] - conj Z[-k]) / 2i (Dft2Pair::split).
    const double zr = z[2 * y], zi = z[2 * y + 1], cr = zm[2 * y], ci = -zm[2 * y + 1];
    const double fr = 0.5 * (zr + cr), fi = 0.5 * (zi + ci), gr = 0.5 * (zi - ci), gi = -0.5 * (zr - cr);
    const double a = std::sqrt(fr * fr + fi * fi), b = std::sqrt(gr * gr + gi * gi);
    const double da = fast_atan2(fi * gr - fr * gi, fr * gr + fi * gi);
    mag[y] = a, sme[y] = (a - b) * (a - b), spe[y] = da * da;
  }
}
}  // namespace

SpectralMetrics spectral_metrics(const Plane& I, const Plane& J) {
  const Dft2Pair d = fft2_pair(I, J);
  const int h = I.h, w = I.w;
  const int il = (int)std::ceil(0.15 * h), jl = (int)std::ceil(0.15 * w);
  const int ih = (int)std::ceil(0.15 * h + 1), jh = (int)std::ceil(0.15 * w + 1);
  double lfs = 0, hfs = 0, total = 0, sme = 0, spe = 0;
  const auto low = [&](int y, int x) { return y < il && x < jl; };
  const auto high = [&](int y, int x) { return y >= ih && x >= jh; };
  // a, b real: |F|, |G| and the squared phase difference are equal at k and -k, so half the
  // spectrum is visited, each value standing for its mirror too (self-mirrored ones count once);
  // only HLFI's corners tell the two apart.
  const auto visit = [&](int y, int x, bool self) {
    cplx F, G;
    d.split(y, x, F, G);
    const double fr = F.real(), fi = F.imag(), gr = G.real(), gi = G.imag();
    const double a = std::sqrt(fr * fr + fi * fi), b = std::sqrt(gr * gr + gi * gi);
    const double da = fast_atan2(fi * gr - fr * gi, fr * gr + fi * gi);  // arg F conj G; 0 for (0, 0)
    const double m = self ? 1.0 : 2.0;
    total += m * a;
    sme += m * (a - b) * (a - b);
    spe += m * da * da;
    const int my = y ? h - y : 0, mx = x ? w - x : 0;
    lfs += a * ((int)low(y, x) + (int)(!self && low(my, mx)));
    hfs += a * ((int)high(y, x) + (int)(!self && high(my, mx)));
  };
  // Columns that are their own mirror (0, and w/2 for even w): half their rows, one by one.
  for (int x : {0, w / 2}) {
    if (x == w / 2 && (w % 2 || x == 0)) continue;
    for (int y = 0; y <= h / 2; ++y) visit(y, x, y == 0 || 2 * y == h);
  }
  // The other columns x < w/2 stand for themselves and their mirror w - x: every row, in bulk.
  std::vector<double> zm(2 * (size_t)h), mag(h), e_sme(h), e_spe(h);
  const double* zt = reinterpret_cast<const double*>(d.z());
  auto range = [&](int y0, int y1) { return y1 > y0 ? sum_lanes(mag.data() + y0, (size_t)(y1 - y0)) : 0.0; };
  for (int x = 1; 2 * x < w; ++x) {
    const double* mcol = zt + 2 * (size_t)(w - x) * h;
    zm[0] = mcol[0], zm[1] = mcol[1];
    for (int y = 1; y < h; ++y) zm[2 * y] = mcol[2 * (h - y)], zm[2 * y + 1] = mcol[2 * (h - y) + 1];
    spectral_column(zt + 2 * (size_t)x * h, zm.data(), h, mag.data(), e_sme.data(), e_spe.data());
    const double col = range(0, h);
    total += 2 * col;
    sme += 2 * sum_lanes(e_sme.data(), (size_t)h);
    spe += 2 * sum_lanes(e_spe.data(), (size_t)h);
    // (y, x) is low for y < il when x < jl; its mirror (h - y mod h, w - x) for y = 0 and
    // y > h - il when w - x < jl. High: y >= ih when x >= jh; the mirror for 1 <= y <= h - ih.
    if (x < jl) lfs += range(0, std::min(il, h));
    if (w - x < jl) lfs += mag[0] + range(std::max(1, h - il + 1), h);
    if (x >= jh) hfs += range(std::min(ih, h), h);
    if (w - x >= jh) hfs += range(1, std::max(1, h - ih + 1));
  }
  const double n = (double)I.size();
  return {total > 0 ? (lfs - hfs) / total : 0.0, sme / n, spe / n};
}

}  // namespace fas::iqa

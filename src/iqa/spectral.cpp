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
#include <cmath>

#include "iqa/fastmath.h"
#include "iqa/fft.h"
#include "iqa/iqa.h"

namespace fas::iqa {

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
  for (int x = 0; x <= w / 2; ++x) {  // columns: the transform's (transposed) order
    if (x == 0 || 2 * x == w) {        // a column that is its own mirror: half its rows
      for (int y = 0; y <= h / 2; ++y) visit(y, x, y == 0 || 2 * y == h);
    } else {
      for (int y = 0; y < h; ++y) visit(y, x, false);
    }
  }
  const double n = (double)I.size();
  return {total > 0 ? (lfs - hfs) / total : 0.0, sme / n, spe / n};
}

}  // namespace fas::iqa

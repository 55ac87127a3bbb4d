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
  std::vector<cplx> F, G;
  fft2_pair(I, J, F, G);
  const int h = I.h, w = I.w;
  const int il = (int)std::ceil(0.15 * h), jl = (int)std::ceil(0.15 * w);
  const int ih = (int)std::ceil(0.15 * h + 1), jh = (int)std::ceil(0.15 * w + 1);
  double lfs = 0, hfs = 0, total = 0, sme = 0, spe = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t k = (size_t)y * w + x;
      const double fr = F[k].real(), fi = F[k].imag(), gr = G[k].real(), gi = G[k].imag();
      const double a = std::sqrt(fr * fr + fi * fi), b = std::sqrt(gr * gr + gi * gi);
      total += a;
      if (y < il && x < jl) lfs += a;
      if (y >= ih && x >= jh) hfs += a;
      sme += (a - b) * (a - b);
      const double da = fast_atan2(fi * gr - fr * gi, fr * gr + fi * gi);  // arg F conj G; 0 for (0, 0)
      spe += da * da;
    }
  const double n = (double)I.size();
  return {total > 0 ? (lfs - hfs) / total : 0.0, sme / n, spe / n};
}

}  // namespace fas::iqa

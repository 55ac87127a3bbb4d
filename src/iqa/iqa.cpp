#include "iqa/iqa.h"

#include <cmath>

#include "iqa/filters.h"
#include "iqa/nss.h"
#include "base/error.h"

namespace fas::iqa {

const std::array<const char*, kNumMetrics>& metric_names() {
  static const std::array<const char*, kNumMetrics> n{"ad",  "biqi", "gme", "gpe",  "hlfi", "jqi", "lmse", "mams",
                                                      "mas", "md",   "mse", "nae",  "niqe", "nxc", "psnr", "ramd",
                                                      "sc",  "sme",  "snr", "spe",  "ssim", "tcd", "ted",  "vifd"};
  return n;
}

Plane plane_from_u8(const uint8_t* px, int h, int w) {
  Plane p(h, w, Uninit{});
  for (size_t i = 0; i < p.size(); ++i) p.v[i] = px[i];
  return p;
}

Plane plane_from_unit(const float* px, int h, int w) {
  Plane p(h, w, Uninit{});
  for (size_t i = 0; i < p.size(); ++i) p.v[i] = std::nearbyint(255.0 * std::min(1.f, std::max(0.f, px[i])));
  return p;
}

Features compute_features(const Plane& I, NssInputs* nss) {
  if (I.h < 96 || I.w < 96)
    fail("iqa: image " + std::to_string(I.h) + "x" + std::to_string(I.w) + " is too small (at least 96x96, one NIQE block)");
  const Plane J = blur_reference(I);
  Features f{};
  const GradientMetrics g = gradient_metrics(I, J);
  const SpectralMetrics s = spectral_metrics(I, J);
  const PixelMetrics p = pixel_metrics(I, J);
  NssInputs own;
  NssInputs& n = nss ? *nss : own;
  n.blocks = niqe_block_features(I);
  n.biqi = biqi_features(I);
  f[AD] = p.ad;
  f[BIQI] = biqi_score(biqi_pristine(), n.biqi);  // = biqi(I)
  f[GME] = g.gme;
  f[GPE] = g.gpe;
  f[HLFI] = s.hlfi;
  f[JQI] = jqi(I);
  f[LMSE] = lmse(I, J);
  f[MAMS] = p.mams;
  f[MAS] = p.mas;
  f[MD] = p.md;
  f[MSE] = p.mse;
  f[NAE] = p.nae;
  f[NIQE] = niqe_score(niqe_pristine(), n.blocks);  // = niqe(I)
  f[NXC] = p.nxc;
  f[PSNR] = p.psnr;
  f[RAMD] = ramd(I, J);
  f[SC] = p.sc;
  f[SME] = s.sme;
  f[SNR] = p.snr;
  f[SPE] = s.spe;
  f[SSIM] = ssim(I, J);
  f[TCD] = tcd(I, J);
  f[TED] = g.ted;
  f[VIFD] = vifp(I, J);
  return f;
}

}  // namespace fas::iqa

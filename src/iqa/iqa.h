// W-IQA (spec 002 §2): 24 image-quality metrics of a greyscale frame I and its blurred copy
// I' = blur_reference(I), in the feature order of §2.3 (alphabetical, as the thesis' code).
//
// Semantics (spec §8 A): clean float64 definitions -- Galbally, Marcel & Fierrez 2014 where the
// thesis' formula is a slip, the thesis where it is well defined; none of the repo's uint8
// wrap-around. Each pick is documented at the function that codes it (pixel.cpp, gradient.cpp,
// spectral.cpp, structural.cpp, nss.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "iqa/plane.h"

namespace fas::iqa {

constexpr int kNumMetrics = 24;
enum Metric {
  AD, BIQI, GME, GPE, HLFI, JQI, LMSE, MAMS, MAS, MD, MSE, NAE,
  NIQE, NXC, PSNR, RAMD, SC, SME, SNR, SPE, SSIM, TCD, TED, VIFD
};
const std::array<const char*, kNumMetrics>& metric_names();  // "ad", "biqi", ...
using Features = std::array<double, kNumMetrics>;

struct NssInputs;  // nss.h
// All 24 of an image (grey levels in [0, 255], at least 96 x 96: one NIQE block). `nss`, when
// given, receives the NIQE blocks and BIQI vector the two were scored from (wiqa-lda's cross-fit
// rescores them against other pristine models without computing them again).
Features compute_features(const Plane& img, NssInputs* nss = nullptr);
// Grey levels of 8-bit pixels (row-major) or of [0, 1] floats (x 255, rounded: the 8-bit frame
// the thesis' metrics read).
Plane plane_from_u8(const uint8_t* px, int h, int w);
Plane plane_from_unit(const float* px, int h, int w);

// --- the metrics by group (each documented where defined) ---
// Pixel differences of I and I' (pixel.cpp): ten of them from one pass over the two planes.
struct PixelMetrics { double ad, md, mse, nae, nxc, psnr, sc, snr, mas, mams; };
PixelMetrics pixel_metrics(const Plane& I, const Plane& J);
double ramd(const Plane& I, const Plane& J, int R = 10);
double lmse(const Plane& I, const Plane& J);
// Gradients (gradient.cpp): gme, gpe, ted share the 5x5 Sobel gradients of I and I'.
struct GradientMetrics { double gme, gpe, ted; };
GradientMetrics gradient_metrics(const Plane& I, const Plane& J);
void sobel5(const Plane& img, Plane& gx, Plane& gy);
// Harris corners (skimage corner_harris(k=0.04, sigma=1)) and TCD.
Plane harris_response(const Plane& img);
int64_t harris_corner_count(const Plane& img);
double tcd(const Plane& I, const Plane& J);
// Spectra (spectral.cpp): hlfi of I; sme, spe of I and I'.
struct SpectralMetrics { double hlfi, sme, spe; };
SpectralMetrics spectral_metrics(const Plane& I, const Plane& J);
// Structure (structural.cpp).
double ssim(const Plane& I, const Plane& J);
double vifp(const Plane& I, const Plane& J);
double jqi(const Plane& I);
// Their per-pixel parts over local moments (means of a, b, a^2, b^2, ab at each pixel), in vector
// lanes; tests pin them to plain per-pixel loops.
double ssim_sum(const double* ma, const double* mb, const double* aa, const double* bb, const double* ab, size_t n);
struct VifSums { double num, den; };
VifSums vif_sums(const double* ma, const double* mb, const double* aa, const double* bb, const double* ab, size_t n);
// Natural-scene statistics (nss.cpp): niqe and biqi of I against the pristine models of
// src/iqa/pristine_model.cpp.
double niqe(const Plane& I, int block = 96);
double biqi(const Plane& I);

}  // namespace fas::iqa

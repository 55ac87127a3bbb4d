// Separable 2-D correlation (OpenCV's filter convention: correlation, not convolution) with the
// border modes the metrics need, and the kernels they use.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "iqa/plane.h"

namespace fas::iqa {

// Reflect101: ...c b | a b c... (OpenCV's default, scipy 'mirror'); Replicate: a a | a b...;
// Zero: 0 0 | a b... (scipy 'constant', cval 0).
enum class Border { Reflect101, Replicate, Zero };

// out(y, x) = sum_ij ky[i] kx[j] in(y + i - ry, x + j - rx), kernels of odd length, same size.
void correlate_sep(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx, Border b,
                   Plane& out);
// The same with no padding (Matlab filter2 'valid'): (h - |ky| + 1) x (w - |kx| + 1).
void correlate_sep_valid(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx, Plane& out);
// The 'valid' result at even rows and columns only, ceil(h'/2) x ceil(w'/2) (filter, then take
// every other sample, as VIF's scales do): the column pass first and only on the rows kept, half
// the work of filtering everything (the order of the two passes moves the last bits only).
void correlate_sep_valid_even(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx,
                              Plane& out);

// Several planes ("channels", h x w) filtered by the same separable window k x k, same size under
// border b or 'valid', handed out row by row and never stored: source(q, y, scratch) returns row
// y of channel q (its own row, or one it computes into scratch, w values), and f(y, m, w') gets
// output row y of every channel (m[q], w' values). Metrics that only reduce filtered products
// (SSIM, VIF, Harris) skip writing and reading back a plane per product and per filter.
// o[i] = a[i] b[i], i < n (a product row for filter_rows).
void multiply(const double* a, const double* b, size_t n, double* o);
using RowSource = std::function<const double*(int q, int y, double* scratch)>;
using RowSink = std::function<void(int y, const double* const* m, int w)>;
void filter_rows(int h, int w, int channels, const RowSource& source, const std::vector<double>& k, bool valid, Border b,
                 const RowSink& f);
// Local moments of a and b under the separable window k x k, 'valid' region: the window means of
// a, b, a^2, b^2 and ab at each pixel, given row by row to f(m, w) (m[0..5) in that order, w
// values each) and never stored as planes (SSIM and VIF only reduce them per pixel: eight planes
// written and read back per call were most of their memory traffic).
void local_moment_rows(const Plane& a, const Plane& b, const std::vector<double>& k,
                       const std::function<void(const double* const* m, int w)>& f);

// Sum of x[0..n) in four interleaved lanes (fixed, so the same on every CPU): a serial sum waits
// on each add's latency, lanes let the adds overlap and vectorise.
double sum_lanes(const double* x, size_t n);

// Sampled Gaussian exp(-x^2 / 2 sigma^2), x = -(n-1)/2 .. (n-1)/2, normalised to sum 1
// (OpenCV getGaussianKernel for sigma > 0, Matlab fspecial's 1-D factor).
std::vector<double> gaussian_kernel(int n, double sigma);
// 5-tap Sobel of OpenCV (ksize 5): smoothing [1 4 6 4 1], derivative [-1 -2 0 2 1].
const std::vector<double>& sobel5_smooth();
const std::vector<double>& sobel5_deriv();

// I' of spec 002 §2.2: 5x5 Gaussian, sigma 1.1, reflect-101 border.
// Pick (§8 B): the sigma the spec names, 0.3((5-1)/2 - 1) + 0.8 = 1.1, as a sampled Gaussian.
// (OpenCV's GaussianBlur(..., (5,5), 0) does not sample it: for ksize <= 7 with sigma 0 it uses
// the fixed binomial table [1 4 6 4 1]/16, i.e. sigma 1.0.) I' is KEPT IN FLOAT64, not rounded to
// 8 bits: rounding would make AD, SME, SPE and GPE measure the rounding noise as much as the blur.
Plane blur_reference(const Plane& img);

}  // namespace fas::iqa

// Local binary patterns (Ojala, Pietikainen, Maenpaa 2002): the classical texture descriptor of
// face anti-spoofing (Maatta et al. 2011 on grey faces, Boulkenafet et al. 2015 per colour
// channel). Pure functions on one float plane; nothing is allocated (fixed stack buffers only).
#pragma once
#include <cstdint>

#include "kernels/cpu.h"

namespace fas {

// Uniform patterns LBP(8, r)^u2: the 58 codes with at most two 0/1 transitions around the
// circle get a bin each, every other code shares bin 58.
constexpr int kLbpBins = 59;
// Bin of each of the 256 codes (a table built once).
const uint8_t* lbp_u2_bins();

// The LBP(8, r) code of every interior pixel (rows and columns r .. size-r-1) of a row-major
// H x W plane, bit i set when neighbour i >= the centre; neighbours at the integer offsets
// (-r,-r), (-r,0), (-r,r), (0,r), (r,r), (r,0), (r,-r), (0,-r) (bit 0 first), i.e. the square of
// radius r rather than interpolated circle points. Codes are binned by lbp_u2_bins and counted
// per cell of a grid x grid split of the (H-2r) x (W-2r) code image (cell gy spans rows
// [gy*h/grid, (gy+1)*h/grid) of it, integer division), each cell's 59 counts divided by the
// cell's pixel count and multiplied by `scale`. out: grid*grid*59 floats, cell-major
// (row of cells first). Needs H, W > 2r and grid <= min(H, W) - 2r.
void f32_lbp8_u2_hist(const float* plane, int64_t H, int64_t W, int r, int grid, float scale, float* out);

// The variants behind f32_lbp8_u2_hist (which runs active_isa()'s). __ref: one pixel at a time,
// the plain reference. __<isa>: the codes of V pixels at once (one vector compare per
// neighbour), counted per code into four interleaved 256-entry tables, binned per cell at the
// end (lbp_impl.h); equal to __ref bit for bit (same >= comparisons, exact integer counts).
using Lbp8U2HistFn = void (*)(const float* plane, int64_t H, int64_t W, int r, int grid, float scale, float* out);
#define FAS_DECLARE_LBP(isa) \
  void f32_lbp8_u2_hist__##isa(const float* plane, int64_t H, int64_t W, int r, int grid, float scale, float* out);
FAS_DECLARE_LBP(ref)
FAS_DECLARE_LBP(scalar)
FAS_DECLARE_LBP(avx2)
FAS_DECLARE_LBP(avx512)
FAS_DECLARE_LBP(neon)
Lbp8U2HistFn lbp8_u2_hist_kernel(Isa isa);  // an error if the ISA is not available

// The histograms of one image img [C, H, W] with values in [0, 1], taken as 8-bit levels
// (rounded): ycc (C = 3): BT.601 luma and chroma planes in integer weights; grey: C = 1 used as
// is, C = 3 as luma. out [planes][nradii][grid*grid*59] (layers/lbp.h LbpHistogram, which runs
// this per image; so does the minimal deployment build). Scratch: levels [C*H*W], plane [H*W].
void lbp_image_features(const float* img, int64_t C, int64_t H, int64_t W, bool ycc, const int* radii, int nradii,
                        int grid, float scale, float* levels, float* plane, float* out);

}  // namespace fas

// Local binary patterns (Ojala, Pietikainen, Maenpaa 2002): the classical texture descriptor of
// face anti-spoofing (Maatta et al. 2011 on grey faces, Boulkenafet et al. 2015 per colour
// channel). Pure functions on one float plane; nothing is allocated.
#pragma once
#include <cstdint>

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

}  // namespace fas

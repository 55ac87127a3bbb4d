// NEON LBP(8, r) histograms (kernels/lbp.h): 4 codes per vector compare of each neighbour.
#include "kernels/lbp_impl.h"
#include "kernels/simd/vec_neon.h"

namespace fas {
void f32_lbp8_u2_hist__neon(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  e_lbp8_u2_hist<VecNeon>(x, H, W, r, grid, scale, out);
}
}  // namespace fas

// AVX2 LBP(8, r) histograms (kernels/lbp.h): 8 codes per vector compare of each neighbour.
#include "kernels/lbp_impl.h"
#include "kernels/simd/vec_avx2.h"

namespace fas {
void f32_lbp8_u2_hist__avx2(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  e_lbp8_u2_hist<VecAvx2>(x, H, W, r, grid, scale, out);
}
}  // namespace fas

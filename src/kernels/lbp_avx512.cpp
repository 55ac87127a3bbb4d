// AVX-512 LBP(8, r) histograms (kernels/lbp.h): 16 codes per vector compare of each neighbour.
#include "kernels/lbp_impl.h"
#include "kernels/simd/vec_avx512.h"

namespace fas {
void f32_lbp8_u2_hist__avx512(const float* x, int64_t H, int64_t W, int r, int grid, float scale, float* out) {
  e_lbp8_u2_hist<VecAvx512>(x, H, W, r, grid, scale, out);
}
}  // namespace fas

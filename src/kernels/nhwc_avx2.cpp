// AVX2+FMA NHWC inference kernels: nhwc_impl.h over 8-lane vectors (contract and references in
// nhwc.h / nhwc.cpp; this file gets the ISA's compile flags, see CMakeLists.txt).
#include "kernels/nhwc_impl.h"
#include "kernels/simd/vec_avx2.h"

namespace fas {
namespace {

// Shared by f32_pwconv_nhwc__avx2 (sum null) and f32_pwconv_sum_nhwc__avx2 (y null). Tile
// heights keep 8-12 of the 16 registers as accumulators: narrow outputs take more rows.
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  nhwc_pwconv_blocks<VecAvx2, 8, 6, 4, 3>(M, K, N, x, ldx, w, b, res, y, sum, lo, hi);
}

}  // namespace

FAS_DEFINE_NHWC(avx2, VecAvx2)

}  // namespace fas

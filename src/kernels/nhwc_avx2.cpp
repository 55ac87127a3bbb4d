// AVX2+FMA NHWC inference kernels: nhwc_impl.h over 8-lane vectors (contract and references in
// nhwc.h / nhwc.cpp; this file gets the ISA's compile flags, see CMakeLists.txt).
#include "kernels/nhwc_impl.h"
#include "kernels/simd/vec_avx2.h"

namespace fas {
namespace {

// Shared by f32_pwconv_nhwc__avx2 (sum null) and f32_pwconv_sum_nhwc__avx2 (y null).
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  using T = VecAvx2;
  const __m256 vlo = T::set1(lo), vhi = T::set1(hi);
  const int64_t nv = (N + 7) / 8;
  // Tile shapes keep 8-12 of the 16 registers as accumulators: narrow outputs take more rows.
  if (nv == 1) return nhwc_pw_columns<T, 8, 1>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv == 2) return nhwc_pw_columns<T, 6, 2>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  int64_t v = 0;
  for (; v + 3 <= nv; v += 3) nhwc_pw_columns<T, 4, 3>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 2) nhwc_pw_columns<T, 4, 2>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 1) nhwc_pw_columns<T, 4, 1>(M, K, N, v * 8, x, ldx, w, b, res, y, sum, vlo, vhi);
}

}  // namespace

FAS_DEFINE_NHWC(avx2, VecAvx2)

}  // namespace fas

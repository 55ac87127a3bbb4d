// AVX-512F NHWC inference kernels: nhwc_impl.h over 16-lane vectors (contract and references in
// nhwc.h / nhwc.cpp; this file gets the ISA's compile flags, see CMakeLists.txt). Weights are
// padded to 8 channels, so a 16-lane row of 24 channels is one whole and one half (masked)
// vector; the 32 registers hold twice the AVX2 tiles (16-24 accumulators).
#include "kernels/nhwc_impl.h"
#include "kernels/simd/vec_avx512.h"

namespace fas {
namespace {

// Shared by f32_pwconv_nhwc__avx512 (sum null) and f32_pwconv_sum_nhwc__avx512 (y null).
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  using T = VecAvx512;
  const __m512 vlo = T::set1(lo), vhi = T::set1(hi);
  const int64_t nv = (N + 15) / 16;
  if (nv == 1) return nhwc_pw_columns<T, 12, 1>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv == 2) return nhwc_pw_columns<T, 8, 2>(M, K, N, 0, x, ldx, w, b, res, y, sum, vlo, vhi);
  int64_t v = 0;
  for (; v + 4 <= nv; v += 4) nhwc_pw_columns<T, 6, 4>(M, K, N, v * 16, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 3) nhwc_pw_columns<T, 6, 3>(M, K, N, v * 16, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 2) nhwc_pw_columns<T, 8, 2>(M, K, N, v * 16, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (nv - v == 1) nhwc_pw_columns<T, 12, 1>(M, K, N, v * 16, x, ldx, w, b, res, y, sum, vlo, vhi);
}

}  // namespace

FAS_DEFINE_NHWC(avx512, VecAvx512)

}  // namespace fas

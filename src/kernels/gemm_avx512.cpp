// The GEMM microkernel for avx512 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include <algorithm>

#include "kernels/gemm_impl.h"
#include "kernels/simd/vec_avx512.h"

FAS_DEFINE_GEMM_UKERNEL(avx512, VecAvx512, 12, 2, 32)
FAS_DEFINE_GEMM_UKERNEL_EDGE(avx512, VecAvx512, 8, 12, 2, 32)

namespace fas {
namespace {
// 128-bit lanes (0, 2) of a then (0, 2) of b, and lanes (1, 3) of each: _mm512_shuffle_f32x4 with
// 0x88 / 0xDD, as a two-source permute (SIMDe, the emulated build's intrinsics, lacks the former).
inline __m512 lanes_even(__m512 a, __m512 b) {
  return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), b);
}
inline __m512 lanes_odd(__m512 a, __m512 b) {
  return _mm512_permutex2var_ps(a, _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31), b);
}

// 16 x 16 transpose in registers: r[t][c] -> r[c][t]. Unpack pairs of rows, then shuffle
// 64-bit pairs within 128-bit lanes, then 128-bit lanes across registers twice.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
#pragma GCC unroll 8
  for (int p = 0; p < 16; p += 2) {
    t[p] = _mm512_unpacklo_ps(r[p], r[p + 1]);
    t[p + 1] = _mm512_unpackhi_ps(r[p], r[p + 1]);
  }
  // u[4g + q], lane l: column 4l + q of rows 4g .. 4g+3.
#pragma GCC unroll 4
  for (int g = 0; g < 16; g += 4) {
    u[g + 0] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
    u[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
    u[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
    u[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const __m512 v0 = lanes_even(u[q], u[4 + q]), w0 = lanes_odd(u[q], u[4 + q]);
    const __m512 v1 = lanes_even(u[8 + q], u[12 + q]), w1 = lanes_odd(u[8 + q], u[12 + q]);
    r[q] = lanes_even(v0, v1);
    r[8 + q] = lanes_odd(v0, v1);
    r[4 + q] = lanes_even(w0, w1);
    r[12 + q] = lanes_odd(w0, w1);
  }
}
}  // namespace

// The transposed packing move (gemm.h GemmPackTFn) by 16 x 16 register transposes: the scalar
// one costs a quarter of the weight-gradient GEMM's time.
void f32_gemm_pack_t__avx512(const float* src, int64_t ld, int64_t rows, int64_t kc, float* dst, int64_t width) {
  for (int64_t r0 = 0; r0 < width; r0 += 16) {
    const int64_t nrow = std::max<int64_t>(0, std::min<int64_t>(16, rows - r0));
    const __mmask16 wmask = VecAvx512::first(std::min<int64_t>(16, width - r0));
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t nk = std::min<int64_t>(16, kc - k0);
      const __mmask16 kmask = VecAvx512::first(nk);
      __m512 r[16];
      if (nrow == 16 && nk == 16) {  // the common full block: plain loads and stores, all in registers
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) r[t] = _mm512_loadu_ps(src + (r0 + t) * ld + k0);
      } else {
        for (int t = 0; t < 16; ++t)
          r[t] = t < nrow ? _mm512_maskz_loadu_ps(kmask, src + (r0 + t) * ld + k0) : _mm512_setzero_ps();
      }
      transpose16(r);
      if (wmask == 0xFFFF && nk == 16) {
#pragma GCC unroll 16
        for (int c = 0; c < 16; ++c) _mm512_storeu_ps(dst + (k0 + c) * width + r0, r[c]);
      } else {
        for (int64_t c = 0; c < nk; ++c) _mm512_mask_storeu_ps(dst + (k0 + c) * width + r0, wmask, r[c]);
      }
    }
  }
}

}  // namespace fas

// AVX-VNNI int8 kernels (VEX-encoded vpdpwssd on ymm: Intel Alder Lake and later, AMD Zen 5):
// the 8-lane templates of qs8_nhwc_avx2_impl.h with one vpdpwssd per pair product and sum,
// where AVX2 needs vpmaddwd + vpaddd. Chosen by qs8_kernels for avx2 and for avx512 CPUs without
// AVX-512 VNNI.
#include "kernels/qs8_nhwc_avx2_impl.h"

namespace fas {

namespace {
// Inline asm, as in qs8_nhwc_avx512vnni.cpp: GCC 12 does not tie the intrinsic's accumulator to
// its output. {vex}: the AVX-VNNI encoding (without it the assembler emits the AVX-512 form).
struct VexDpwssd {
  static __m256i dot2(__m256i acc, __m256i a, __m256i b) {
    asm("%{vex%} vpdpwssd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
    return acc;
  }
};
}  // namespace

void qs8_pwconv_nhwc__avxvnni(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                              const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                              float lo, float hi) {
  qs8_pwconv_nhwc_impl<VexDpwssd>(M, K, N, x, ldx, w, scale, bias, res, res_scale, y, lo, hi);
}

void qs8_dwconv3x3_nhwc_row__avxvnni(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                     int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                     float lo, float hi) {
  qs8_dwconv3x3_nhwc_row_impl<VexDpwssd>(rows, W, C, stride, pad_left, Wo, w, scale, bias, y, lo, hi);
}

}  // namespace fas

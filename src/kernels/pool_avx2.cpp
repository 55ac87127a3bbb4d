// AVX2 2x2 max pooling and 2x nearest upsampling, forward and backward (kernels/pool.h). Vectors
// of 8 outputs (16 inputs along a row, split into even and odd columns); the ragged end of each
// row runs the scalar reference on the remaining columns, so results equal the references
// exactly: the same comparisons (strict >, first maximum in row-major scan order wins), the same
// argmax, the same order of additions.
#include <immintrin.h>

#include "kernels/pool.h"
#include "kernels/pool_impl.h"
#include "kernels/simd/vec_avx2.h"

namespace fas {

void f32_maxpool2x2__avx2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  e_maxpool2x2<VecAvx2>(x, planes, h, w, y, argmax);
}

void f32_maxpool2x2_bwd__avx2(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                              float* gx) {
  e_maxpool2x2_bwd<VecAvx2>(gy, argmax, planes, h, w, gx);
}

void f32_upsample2x__avx2(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  e_upsample2x<VecAvx2>(x, planes, h, w, y);
}

void f32_upsample2x_bwd__avx2(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  e_upsample2x_bwd<VecAvx2>(gy, planes, h, w, gx);
}

}  // namespace fas

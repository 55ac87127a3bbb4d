// NEON 2x2 max pooling and 2x nearest upsampling, forward and backward (kernels/pool.h): the
// AVX2 variant's scheme with 4 lanes. Vectors of 4 outputs (8 inputs along a row, split into even
// and odd columns); the ragged end of each row runs the scalar reference, so results equal the
// references exactly: the same comparisons (strict >, first maximum in row-major scan order
// wins; NaN never compares greater), the same argmax, the same order of additions.
#include <arm_neon.h>

#include "kernels/pool.h"
#include "kernels/pool_impl.h"
#include "kernels/simd/vec_neon.h"

namespace fas {

void f32_maxpool2x2__neon(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  e_maxpool2x2<VecNeon>(x, planes, h, w, y, argmax);
}

void f32_maxpool2x2_bwd__neon(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                              float* gx) {
  e_maxpool2x2_bwd<VecNeon>(gy, argmax, planes, h, w, gx);
}

void f32_upsample2x__neon(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  e_upsample2x<VecNeon>(x, planes, h, w, y);
}

void f32_upsample2x_bwd__neon(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  e_upsample2x_bwd<VecNeon>(gy, planes, h, w, gx);
}

}  // namespace fas

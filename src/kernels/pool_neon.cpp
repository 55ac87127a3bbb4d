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

namespace {
const int32_t kLane2[4] = {0, 2, 4, 6};  // input column offsets of 4 consecutive outputs
}

void f32_maxpool2x2__neon(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  const int64_t oh = h / 2, ow = w / 2;
  const int32x4_t lane2 = vld1q_s32(kLane2), one = vdupq_n_s32(1), wv = vdupq_n_s32((int32_t)w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* r0 = xp + 2 * i * w;
      const float* r1 = r0 + w;
      float* yr = y + (p * oh + i) * ow;
      int32_t* ar = argmax ? argmax + (p * oh + i) * ow : nullptr;
      int64_t j = 0;
      for (; j + 4 <= ow; j += 4) {
        float32x4_t e0, o0, e1, o1;
        VecNeon::deinterleave(vld1q_f32(r0 + 2 * j), vld1q_f32(r0 + 2 * j + 4), e0, o0);
        VecNeon::deinterleave(vld1q_f32(r1 + 2 * j), vld1q_f32(r1 + 2 * j + 4), e1, o1);
        // Scan order (r0, even), (r0, odd), (r1, even), (r1, odd); a later one wins only if greater.
        float32x4_t m = e0;
        const uint32x4_t c1 = vcgtq_f32(o0, m);
        m = vbslq_f32(c1, o0, m);
        const uint32x4_t c2 = vcgtq_f32(e1, m);
        m = vbslq_f32(c2, e1, m);
        const uint32x4_t c3 = vcgtq_f32(o1, m);
        m = vbslq_f32(c3, o1, m);
        vst1q_f32(yr + j, m);
        if (ar) {
          const int32x4_t i00 = vaddq_s32(vdupq_n_s32((int32_t)(2 * i * w + 2 * j)), lane2);
          const int32x4_t i10 = vaddq_s32(i00, wv);
          int32x4_t idx = i00;
          idx = vbslq_s32(c1, vaddq_s32(i00, one), idx);
          idx = vbslq_s32(c2, i10, idx);
          idx = vbslq_s32(c3, vaddq_s32(i10, one), idx);
          vst1q_s32(ar + j, idx);
        }
      }
      f32_maxpool2x2_row_tail(xp, w, i, j, ow, yr, ar);
    }
  }
}

void f32_maxpool2x2_bwd__neon(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                              float* gx) {
  const int64_t oh = h / 2, ow = w / 2;
  const int32x4_t lane2 = vld1q_s32(kLane2), zero = vdupq_n_s32(0), one = vdupq_n_s32(1);
  const int32x4_t wv = vdupq_n_s32((int32_t)w), w1 = vdupq_n_s32((int32_t)w + 1);
  for (int64_t p = 0; p < planes; ++p) {
    float* gp = gx + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const float* gr = gy + (p * oh + i) * ow;
      const int32_t* ar = argmax + (p * oh + i) * ow;
      float* r0 = gp + 2 * i * w;
      float* r1 = r0 + w;
      int64_t j = 0;
      for (; j + 4 <= ow; j += 4) {
        // Offset of each argmax within its window: 0, 1, w or w + 1.
        const int32x4_t base = vaddq_s32(vdupq_n_s32((int32_t)(2 * i * w + 2 * j)), lane2);
        const int32x4_t d = vsubq_s32(vld1q_s32(ar + j), base);
        const uint32x4_t g = vreinterpretq_u32_f32(vld1q_f32(gr + j));
        auto pick = [&](int32x4_t v) { return vreinterpretq_f32_u32(vandq_u32(g, vceqq_s32(d, v))); };
        float32x4_t lo, hi;
        VecNeon::interleave(pick(zero), pick(one), lo, hi);
        vst1q_f32(r0 + 2 * j, vaddq_f32(vld1q_f32(r0 + 2 * j), lo));
        vst1q_f32(r0 + 2 * j + 4, vaddq_f32(vld1q_f32(r0 + 2 * j + 4), hi));
        VecNeon::interleave(pick(wv), pick(w1), lo, hi);
        vst1q_f32(r1 + 2 * j, vaddq_f32(vld1q_f32(r1 + 2 * j), lo));
        vst1q_f32(r1 + 2 * j + 4, vaddq_f32(vld1q_f32(r1 + 2 * j + 4), hi));
      }
      for (; j < ow; ++j) gp[ar[j]] += gr[j];
    }
  }
}

void f32_upsample2x__neon(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  e_upsample2x<VecNeon>(x, planes, h, w, y);
}

void f32_upsample2x_bwd__neon(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  e_upsample2x_bwd<VecNeon>(gy, planes, h, w, gx);
}

}  // namespace fas

// NEON (aarch64) NHWC inference kernels: plain 4-lane versions of the pointwise (plain and
// pooled-sum) and depthwise kernels (contract and references in nhwc.h / nhwc.cpp). Packed
// weights and biases are padded to 8 channels, so whole 4-lane loads are safe; activations use
// a scalar tail.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/nhwc.h"

namespace fas {

namespace {
inline float32x4_t clamp4(float32x4_t v, float32x4_t lo, float32x4_t hi) { return vminq_f32(vmaxq_f32(v, lo), hi); }

// Stores the first `valid` lanes (1..4) of v.
inline void store_n(float* p, float32x4_t v, int64_t valid) {
  if (valid >= 4) return vst1q_f32(p, v);
  float t[4];
  vst1q_f32(t, v);
  std::copy(t, t + valid, p);
}
inline float32x4_t load_n(const float* p, int64_t valid) {
  if (valid >= 4) return vld1q_f32(p);
  float t[4] = {0, 0, 0, 0};
  std::copy(p, p + valid, t);
  return vld1q_f32(t);
}
}  // namespace

void f32_pwconv_nhwc__neon(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                           const float* b, const float* res, float* y, float lo, float hi) {
  const int64_t Np = nhwc_pad_ch(N);
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (int64_t m = 0; m < M; ++m) {
    const float* xr = x + m * ldx;
    for (int64_t n = 0; n < N; n += 8) {  // 8 outputs (two vectors) per pass
      float32x4_t a0 = vld1q_f32(b + n), a1 = vld1q_f32(b + n + 4);
      for (int64_t k = 0; k < K; ++k) {
        a0 = vfmaq_n_f32(a0, vld1q_f32(w + k * Np + n), xr[k]);
        a1 = vfmaq_n_f32(a1, vld1q_f32(w + k * Np + n + 4), xr[k]);
      }
      const int64_t v0 = std::min<int64_t>(4, N - n), v1 = std::min<int64_t>(4, N - n - 4);
      if (res) a0 = vaddq_f32(a0, load_n(res + m * N + n, v0));
      store_n(y + m * N + n, clamp4(a0, vlo, vhi), v0);
      if (v1 > 0) {
        if (res) a1 = vaddq_f32(a1, load_n(res + m * N + n + 4, v1));
        store_n(y + m * N + n + 4, clamp4(a1, vlo, vhi), v1);
      }
    }
  }
}

// Column blocks outside, pixels inside, so each lane sums its clamped outputs over m in the
// reference's order before adding to sum[n].
void f32_pwconv_sum_nhwc__neon(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                               const float* b, float* sum, float lo, float hi) {
  const int64_t Np = nhwc_pad_ch(N);
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (int64_t n = 0; n < N; n += 8) {
    float32x4_t s0 = vdupq_n_f32(0.f), s1 = s0;
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x + m * ldx;
      float32x4_t a0 = vld1q_f32(b + n), a1 = vld1q_f32(b + n + 4);
      for (int64_t k = 0; k < K; ++k) {
        a0 = vfmaq_n_f32(a0, vld1q_f32(w + k * Np + n), xr[k]);
        a1 = vfmaq_n_f32(a1, vld1q_f32(w + k * Np + n + 4), xr[k]);
      }
      s0 = vaddq_f32(s0, clamp4(a0, vlo, vhi));
      s1 = vaddq_f32(s1, clamp4(a1, vlo, vhi));
    }
    const int64_t v0 = std::min<int64_t>(4, N - n), v1 = std::min<int64_t>(4, N - n - 4);
    store_n(sum + n, vaddq_f32(load_n(sum + n, v0), s0), v0);
    if (v1 > 0) store_n(sum + n + 4, vaddq_f32(load_n(sum + n + 4, v1), s1), v1);
  }
}

void f32_dwconv3x3_nhwc_row__neon(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                  int64_t Wo, const float* w, const float* b, float* y, float lo, float hi) {
  const int64_t Cp = nhwc_pad_ch(C);
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (int64_t ox = 0; ox < Wo; ++ox)
    for (int64_t c = 0; c < C; c += 4) {
      const int64_t valid = std::min<int64_t>(4, C - c);
      float32x4_t acc = vld1q_f32(b + c);
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * stride - pad_left + kx;
          if (ix < 0 || ix >= W) continue;
          acc = vfmaq_f32(acc, load_n(rows[ky] + ix * C + c, valid), vld1q_f32(w + (ky * 3 + kx) * Cp + c));
        }
      }
      store_n(y + ox * C + c, clamp4(acc, vlo, vhi), valid);
    }
}

}  // namespace fas

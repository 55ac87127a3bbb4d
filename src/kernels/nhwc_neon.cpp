// NEON (aarch64) NHWC inference kernels, shaped like the AVX2 ones: register-tiled pointwise
// (plain and pooled-sum), depthwise and the full 3x3 stem conv four pixels at a time
// (contract and references in nhwc.h / nhwc.cpp). Packed
// weights and biases are padded to 8 channels, so whole 4-lane loads are safe; activations use
// a scalar tail.
#include <arm_neon.h>

#include <algorithm>
#include <type_traits>

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

namespace {

// One MR-pixel x (8*NG)-channel tile of the pointwise GEMM, channels [n0, n0 + 8*NG) (w, b, res,
// y and sum point at n0; N is the row length of y and res). MR*2*NG independent accumulators
// (16 of aarch64's 32 vector registers), so the FMAs are not one latency-bound chain per output.
// sum != null: fused global pooling (the clamped outputs are added into sum, not stored).
template <int MR, int NG>
inline void pw_tile(int64_t K, const float* x, int64_t ldx, const float* w, int64_t Np, const float* b,
                    const float* res, float* y, float* sum, int64_t N, int64_t n0, float32x4_t vlo, float32x4_t vhi) {
  constexpr int NV = 2 * NG;
  float32x4_t acc[MR][NV];
  for (int j = 0; j < NV; ++j) {
    const float32x4_t bj = vld1q_f32(b + 4 * j);  // padded to 8: whole loads are safe
    for (int i = 0; i < MR; ++i) acc[i][j] = bj;
  }
  for (int64_t k = 0; k < K; ++k) {
    float32x4_t wv[NV];
    for (int j = 0; j < NV; ++j) wv[j] = vld1q_f32(w + k * Np + 4 * j);
    for (int i = 0; i < MR; ++i) {
      const float xv = x[i * ldx + k];
      for (int j = 0; j < NV; ++j) acc[i][j] = vfmaq_n_f32(acc[i][j], wv[j], xv);
    }
  }
  for (int j = 0; j < NV; ++j) {
    const int64_t valid = std::min<int64_t>(4, N - n0 - 4 * j);
    if (valid <= 0) break;
    if (sum) {
      float32x4_t t = vdupq_n_f32(0.f);
      for (int i = 0; i < MR; ++i) t = vaddq_f32(t, clamp4(acc[i][j], vlo, vhi));
      store_n(sum + 4 * j, vaddq_f32(load_n(sum + 4 * j, valid), t), valid);
      continue;
    }
    for (int i = 0; i < MR; ++i) {
      float32x4_t v = acc[i][j];
      if (res) v = vaddq_f32(v, load_n(res + i * N + 4 * j, valid));
      store_n(y + i * N + 4 * j, clamp4(v, vlo, vhi), valid);
    }
  }
}

// All pixels of one channel block (nhwc_pw_pixel_tiles: MR-pixel tiles, then 4, 2, 1).
template <int MR, int NG>
void pw_columns(int64_t M, int64_t K, int64_t N, int64_t n0, const float* x, int64_t ldx, const float* w,
                const float* b, const float* res, float* y, float* sum, float32x4_t vlo, float32x4_t vhi) {
  const int64_t Np = nhwc_pad_ch(N);
  nhwc_pw_pixel_tiles<MR>(M, [&](int64_t m, auto S) {
    pw_tile<decltype(S)::value, NG>(K, x + m * ldx, ldx, w + n0, Np, b + n0, res ? res + m * N + n0 : nullptr,
                                    y ? y + m * N + n0 : nullptr, sum ? sum + n0 : nullptr, N, n0, vlo, vhi);
  });
}

// Shared by the plain (sum null) and pooled (y null) pointwise kernels: 16-channel blocks of
// 4 pixels, a last 8-channel block (or a narrow layer's only one) of 8 pixels.
void pwconv(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, const float* b,
            const float* res, float* y, float* sum, float lo, float hi) {
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  const int64_t groups = nhwc_pad_ch(N) / 8;
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) pw_columns<4, 2>(M, K, N, 8 * g, x, ldx, w, b, res, y, sum, vlo, vhi);
  if (g < groups) pw_columns<8, 1>(M, K, N, 8 * g, x, ldx, w, b, res, y, sum, vlo, vhi);
}

}  // namespace

FAS_DEFINE_NHWC_PWCONV(neon)

namespace {

// One 4-channel vector [c0, c0+4) of a depthwise output row from NR present input rows (the
// others are zero padding), as the AVX2 kernel: interior pixels four at a time with independent
// accumulators and the stride as a constant, edge pixels tap by tap; the 3*NR weight vectors
// stay in registers.
template <int NR>
void dw_channel_vector(const float* const* r, const float* const* wrow, int64_t W, int64_t C, int stride,
                       int pad_left, int64_t Wo, const float* b, float* y, int64_t c0, float32x4_t vlo,
                       float32x4_t vhi) {
  const int64_t valid = std::min<int64_t>(4, C - c0);
  float32x4_t wk[NR > 0 ? NR : 1][3];
  for (int i = 0; i < NR; ++i)
    for (int kx = 0; kx < 3; ++kx) wk[i][kx] = vld1q_f32(wrow[i] + kx * nhwc_pad_ch(C) + c0);
  const float32x4_t bias = vld1q_f32(b + c0);
  auto edge = [&](int64_t ox) {
    float32x4_t acc = bias;
    for (int i = 0; i < NR; ++i)
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix >= 0 && ix < W) acc = vfmaq_f32(acc, load_n(r[i] + ix * C + c0, valid), wk[i][kx]);
      }
    store_n(y + ox * C + c0, clamp4(acc, vlo, vhi), valid);
  };
  nhwc_row_walk_3<4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S, auto) {
    constexpr int kS = decltype(S)::value;
    float32x4_t a[4] = {bias, bias, bias, bias};
    const int64_t off = (ox * kS - pad_left) * C + c0;
    for (int i = 0; i < NR; ++i)
      for (int kx = 0; kx < 3; ++kx)
        for (int u = 0; u < 4; ++u) a[u] = vfmaq_f32(a[u], load_n(r[i] + off + (u * kS + kx) * C, valid), wk[i][kx]);
    for (int u = 0; u < 4; ++u) store_n(y + (ox + u) * C + c0, clamp4(a[u], vlo, vhi), valid);
  });
}

}  // namespace

void f32_dwconv3x3_nhwc_row__neon(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                  int64_t Wo, const float* w, const float* b, float* y, float lo, float hi) {
  const int64_t Cp = nhwc_pad_ch(C);
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  const float* r[3];
  const float* wrow[3];  // weights of the present rows' taps (ky*3 + kx)
  const int nr = nhwc_present_rows(rows, w, Cp, r, wrow);
  for (int64_t c0 = 0; c0 < C; c0 += 4)
    nhwc_const_0to3(nr, [&](auto NR) {
      dw_channel_vector<decltype(NR)::value>(r, wrow, W, C, stride, pad_left, Wo, b, y, c0, vlo, vhi);
    });
}

namespace {

// One 8-channel output block [o0, o0+8) of a full 3x3 conv row. kC > 0: the input channel
// count as a constant (the stem's 1..3 image channels), so the tap loop unrolls fully; 0: any.
template <int kC>
void conv3x3_block8(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs, int stride,
                    int pad_left, int64_t Wo, int64_t Cout, int64_t o0, const float* w, const float* b, float* y,
                    float32x4_t vlo, float32x4_t vhi) {
  const int64_t Cp = nhwc_pad_ch(Cout), cin = kC > 0 ? kC : Cin;
  const int64_t v0 = std::min<int64_t>(4, Cout - o0), v1 = std::min<int64_t>(4, Cout - o0 - 4);
  const float32x4_t b0 = vld1q_f32(b + o0), b1 = vld1q_f32(b + o0 + 4);  // padded: whole loads are safe
  auto store = [&](int64_t ox, float32x4_t a0, float32x4_t a1) {
    float* yp = y + ox * Cout + o0;
    store_n(yp, clamp4(a0, vlo, vhi), v0);
    if (v1 > 0) store_n(yp + 4, clamp4(a1, vlo, vhi), v1);
  };
  auto edge = [&](int64_t ox) {
    float32x4_t a0 = b0, a1 = b1;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride - pad_left + kx;
        if (ix < 0 || ix >= W) continue;
        const float* wp = w + (ky * 3 + kx) * cin * Cp + o0;
        for (int64_t c = 0; c < cin; ++c) {
          const float v = rows[ky][ix * xs + c * cs];
          a0 = vfmaq_n_f32(a0, vld1q_f32(wp + c * Cp), v);
          a1 = vfmaq_n_f32(a1, vld1q_f32(wp + c * Cp + 4), v);
        }
      }
    }
    store(ox, a0, a1);
  };
  // Four pixels x 8 channels: 8 accumulators; each weight pair feeds 8 FMAs.
  nhwc_row_walk_3<4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S, auto) {
    constexpr int kS = decltype(S)::value;
    float32x4_t a[4][2];
    for (int u = 0; u < 4; ++u) a[u][0] = b0, a[u][1] = b1;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const float* p = rows[ky] + (ox * kS - pad_left + kx) * xs;
        const float* wp = w + (ky * 3 + kx) * cin * Cp + o0;
#pragma GCC unroll 4
        for (int64_t c = 0; c < cin; ++c) {
          const float32x4_t w0 = vld1q_f32(wp + c * Cp), w1 = vld1q_f32(wp + c * Cp + 4);
          const float* q = p + c * cs;
#pragma GCC unroll 4
          for (int u = 0; u < 4; ++u) {
            const float v = q[u * kS * xs];
            a[u][0] = vfmaq_n_f32(a[u][0], w0, v);
            a[u][1] = vfmaq_n_f32(a[u][1], w1, v);
          }
        }
      }
    }
    for (int u = 0; u < 4; ++u) store(ox + u, a[u][0], a[u][1]);
  });
}

}  // namespace

void f32_conv3x3_row__neon(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,
                           int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,
                           float* y, float lo, float hi) {
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (int64_t o0 = 0; o0 < Cout; o0 += 8)
    nhwc_const_0to3(int(Cin), [&](auto CI) {
      conv3x3_block8<decltype(CI)::value>(rows, W, Cin, xs, cs, stride, pad_left, Wo, Cout, o0, w, b, y, vlo, vhi);
    });
}

}  // namespace fas

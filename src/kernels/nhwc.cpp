// Scalar reference NHWC inference kernels, weight packing and ISA dispatch (see nhwc.h).
#include "kernels/nhwc.h"

#include <algorithm>

#include "base/error.h"

namespace fas {

namespace {
inline float clampf(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }
}  // namespace

void f32_pwconv_nhwc__scalar(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                             const float* b, const float* res, float* y, float lo, float hi) {
  const int64_t Np = nhwc_pad_ch(N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float acc = b[n];
      for (int64_t k = 0; k < K; ++k) acc += x[m * ldx + k] * w[k * Np + n];
      if (res) acc += res[m * N + n];
      y[m * N + n] = clampf(acc, lo, hi);
    }
}

void f32_pwconv_sum_nhwc__scalar(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                                 const float* b, float* sum, float lo, float hi) {
  const int64_t Np = nhwc_pad_ch(N);
  for (int64_t n = 0; n < N; ++n) {
    float s = 0.f;
    for (int64_t m = 0; m < M; ++m) {
      float acc = b[n];
      for (int64_t k = 0; k < K; ++k) acc += x[m * ldx + k] * w[k * Np + n];
      s += clampf(acc, lo, hi);
    }
    sum[n] += s;
  }
}

void f32_dwconv3x3_nhwc_row__scalar(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                    int64_t Wo, const float* w, const float* b, float* y, float lo, float hi) {
  const int64_t Cp = nhwc_pad_ch(C);
  for (int64_t ox = 0; ox < Wo; ++ox)
    for (int64_t c = 0; c < C; ++c) {
      float acc = b[c];
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * stride - pad_left + kx;
          if (ix < 0 || ix >= W) continue;
          acc += rows[ky][ix * C + c] * w[(ky * 3 + kx) * Cp + c];
        }
      }
      y[ox * C + c] = clampf(acc, lo, hi);
    }
}

void f32_conv3x3_row__scalar(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,
                             int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,
                             float* y, float lo, float hi) {
  const int64_t Cp = nhwc_pad_ch(Cout);
  for (int64_t ox = 0; ox < Wo; ++ox)
    for (int64_t o = 0; o < Cout; ++o) {
      float acc = b[o];
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * stride - pad_left + kx;
          if (ix < 0 || ix >= W) continue;
          for (int64_t c = 0; c < Cin; ++c)
            acc += rows[ky][ix * xs + c * cs] * w[((ky * 3 + kx) * Cin + c) * Cp + o];
        }
      }
      y[ox * Cout + o] = clampf(acc, lo, hi);
    }
}

NhwcKernels nhwc_kernels(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return {f32_pwconv_nhwc__scalar, f32_pwconv_sum_nhwc__scalar, f32_dwconv3x3_nhwc_row__scalar,
              f32_conv3x3_row__scalar};
#if defined(FAS_X86_KERNELS)
    case Isa::Avx2:
      return {f32_pwconv_nhwc__avx2, f32_pwconv_sum_nhwc__avx2, f32_dwconv3x3_nhwc_row__avx2,
              f32_conv3x3_row__avx2};
    case Isa::Avx512:
      return {f32_pwconv_nhwc__avx512, f32_pwconv_sum_nhwc__avx512, f32_dwconv3x3_nhwc_row__avx512,
              f32_conv3x3_row__avx512};
#endif
#if defined(FAS_NEON_KERNELS)
    case Isa::Neon:
      return {f32_pwconv_nhwc__neon, f32_pwconv_sum_nhwc__neon, f32_dwconv3x3_nhwc_row__neon,
              f32_conv3x3_row__neon};
#endif
    default: fail(std::string("nhwc_kernels: ISA ") + isa_name(isa) + " is not compiled in");
  }
}

std::vector<float> pack_pw_weights(const float* w_oi, int64_t N, int64_t K, const float* scale) {
  const int64_t Np = nhwc_pad_ch(N);
  std::vector<float> p(K * Np, 0.f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) p[k * Np + n] = w_oi[n * K + k] * (scale ? scale[n] : 1.f);
  return p;
}

std::vector<float> pack_dw3x3_weights(const float* w_c9, int64_t C, const float* scale) {
  const int64_t Cp = nhwc_pad_ch(C);
  std::vector<float> p(9 * Cp, 0.f);
  for (int64_t c = 0; c < C; ++c)
    for (int t = 0; t < 9; ++t) p[t * Cp + c] = w_c9[c * 9 + t] * (scale ? scale[c] : 1.f);
  return p;
}

std::vector<float> pack_conv3x3_weights(const float* w, int64_t Cout, int64_t Cin, const float* scale) {
  const int64_t Cp = nhwc_pad_ch(Cout);
  std::vector<float> p(9 * Cin * Cp, 0.f);
  for (int64_t o = 0; o < Cout; ++o)
    for (int64_t c = 0; c < Cin; ++c)
      for (int t = 0; t < 9; ++t) p[(t * Cin + c) * Cp + o] = w[(o * Cin + c) * 9 + t] * (scale ? scale[o] : 1.f);
  return p;
}

std::vector<float> pack_bias(const float* b, int64_t N) {
  std::vector<float> p(nhwc_pad_ch(N), 0.f);
  if (b) std::copy(b, b + N, p.begin());
  return p;
}

}  // namespace fas

// Scalar reference int8 kernels, quantisation helpers and dispatch (see qs8_nhwc.h).
#include "kernels/qs8_nhwc.h"

#include <algorithm>
#include <cmath>

#if defined(FAS_X86_KERNELS)
#include <cpuid.h>
#endif

namespace fas {

int8_t qs8_round_sat(float v) {
  const float r = std::nearbyint(v);  // round half to even (default FP mode), like cvtps2dq
  return static_cast<int8_t>(std::min(127.f, std::max(-127.f, r)));
}

void qs8_quantize__scalar(int64_t n, const float* x, float inv_scale, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = qs8_round_sat(x[i] * inv_scale);
}

namespace {
inline int8_t epilogue(int32_t acc, float scale, float bias, float lo, float hi, const int8_t* res, float res_scale) {
  float v = std::min(std::max(static_cast<float>(acc) * scale + bias, lo), hi);
  if (res) v += res_scale * static_cast<float>(*res);
  return qs8_round_sat(v);
}
}  // namespace

void qs8_pwconv_nhwc__scalar(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                             const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                             float lo, float hi) {
  const int64_t Np = nhwc_pad_ch(N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t(x[m * ldx + k]) * w[(k / 2) * Np * 2 + n * 2 + k % 2];
      y[m * N + n] = epilogue(acc, scale[n], bias[n], lo, hi, res ? res + m * N + n : nullptr, res_scale);
    }
}

void qs8_dwconv3x3_nhwc_row__scalar(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                    int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                    float lo, float hi) {
  const int64_t Cp = nhwc_pad_ch(C);
  for (int64_t ox = 0; ox < Wo; ++ox)
    for (int64_t c = 0; c < C; ++c) {
      int32_t acc = 0;
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * stride - pad_left + kx;
          if (ix >= 0 && ix < W) acc += int32_t(rows[ky][ix * C + c]) * w[(ky * 3 + kx) * Cp + c];
        }
      }
      y[ox * C + c] = epilogue(acc, scale[c], bias[c], lo, hi, nullptr, 0.f);
    }
}

namespace {

constexpr Qs8Kernels kScalar{qs8_pwconv_nhwc__scalar, qs8_dwconv3x3_nhwc_row__scalar, qs8_quantize__scalar, "scalar"};
#if defined(FAS_X86_KERNELS)
constexpr Qs8Kernels kAvx2{qs8_pwconv_nhwc__avx2, qs8_dwconv3x3_nhwc_row__avx2, qs8_quantize__avx2, "avx2"};
constexpr Qs8Kernels kAvxVnni{qs8_pwconv_nhwc__avxvnni, qs8_dwconv3x3_nhwc_row__avxvnni, qs8_quantize__avx2,
                              "avxvnni"};
// AVX-VNNI is CPUID.(EAX=7,ECX=1):EAX[4]; asked directly because clang 14 has no "avxvnni" name for
// __builtin_cpu_supports. The OS saving ymm state is already implied by isa_supported(Avx2).
bool cpu_avxvnni() {
  static const bool v = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return isa_supported(Isa::Avx2) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1u);
  }();
  return v;
}
#if !defined(FAS_AVX512_EMULATE)  // the AVX-512 VNNI file is not in the emulated build (see its header)
constexpr Qs8Kernels kAvx512Vnni{qs8_pwconv_nhwc__avx512vnni, qs8_dwconv3x3_nhwc_row__avx512vnni,
                                 qs8_quantize__avx2, "avx512vnni"};
bool cpu_avx512vnni() {
  static const bool v = isa_supported(Isa::Avx512) && __builtin_cpu_supports("avx512vnni") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return v;
}
#endif
#endif

}  // namespace

Qs8Kernels qs8_kernels(Isa isa) {
#if defined(FAS_X86_KERNELS)
#if !defined(FAS_AVX512_EMULATE)
  if (isa == Isa::Avx512 && cpu_avx512vnni()) return kAvx512Vnni;
#endif
  if (isa == Isa::Avx2 || isa == Isa::Avx512) return cpu_avxvnni() ? kAvxVnni : kAvx2;
#endif
  (void)isa;
  return kScalar;
}

std::vector<Qs8Kernels> qs8_kernel_sets() {
  std::vector<Qs8Kernels> sets{kScalar};
#if defined(FAS_X86_KERNELS)
  if (isa_supported(Isa::Avx2)) sets.push_back(kAvx2);
  if (cpu_avxvnni()) sets.push_back(kAvxVnni);
#if !defined(FAS_AVX512_EMULATE)
  if (cpu_avx512vnni()) sets.push_back(kAvx512Vnni);
#endif
#endif
  return sets;
}

Qs8Weights qs8_quantize_weights(const float* w, int64_t N, int64_t K) {
  Qs8Weights q;
  q.q.resize(N * K);
  q.scale.resize(N);
  for (int64_t n = 0; n < N; ++n) {
    float m = 0;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, std::fabs(w[n * K + k]));
    q.scale[n] = m > 0 ? m / 127.f : 1.f;
    for (int64_t k = 0; k < K; ++k) q.q[n * K + k] = qs8_round_sat(w[n * K + k] / q.scale[n]);
  }
  return q;
}

std::vector<int16_t> qs8_pack_pw(const Qs8Weights& w, int64_t N, int64_t K) {
  const int64_t Np = nhwc_pad_ch(N), Kp = (K + 1) / 2 * 2;
  std::vector<int16_t> p(Kp * Np, 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) p[(k / 2) * Np * 2 + n * 2 + k % 2] = w.q[n * K + k];
  return p;
}

std::vector<int16_t> qs8_pack_dw3x3(const Qs8Weights& w, int64_t C) {
  const int64_t Cp = nhwc_pad_ch(C);
  std::vector<int16_t> p(9 * Cp, 0);
  for (int64_t c = 0; c < C; ++c)
    for (int t = 0; t < 9; ++t) p[t * Cp + c] = w.q[c * 9 + t];
  return p;
}

}  // namespace fas

// Int8 inference kernels on NHWC rows (symmetric quantisation, zero point 0): the int8 twins of
// kernels/nhwc.h used by models/mobilenetv2_int8.h.
//   activations: int8 q in [-127, 127], value = s_act * q (one scale per tensor);
//   weights:     int8-valued, per-output-channel scale, packed as int16 (see below);
//   accumulate:  exact int32 sums of int8 x int8 products;
//   epilogue:    v = clamp(acc * scale[n] + bias[n], lo, hi) + res_scale * res  (float),
//                y = saturate(round-half-even(v)) to [-127, 127].
// scale[n] = s_in * s_w[n] / s_out and bias[n] = b[n] / s_out fold the requantisation, lo/hi
// are the ReLU6 bounds in output units (0, 6 / s_out) or +-inf. Same contract as nhwc.h: pure,
// no allocation, null row = zero padding, channel dims of weights/scale/bias padded to 8.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/nhwc.h"

namespace fas {

// Pointwise: w packed in int16 pairs [Kp/2][Np][2] (Kp = K rounded up to even, zero-filled):
// w[(k/2)*Np*2 + n*2 + k%2] -- the layout of AVX2's vpmaddwd (two k per 32-bit lane).
using Qs8PwConvFn = void (*)(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                             const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                             float lo, float hi);
// Depthwise 3x3 row (as f32_dwconv3x3_nhwc_row): w [9][Cp] int16.
using Qs8DwConv3x3RowFn = void (*)(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                   int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                   float lo, float hi);

// y[i] = saturate(round-half-even(x[i] * inv_scale)) to [-127, 127].
using Qs8QuantizeFn = void (*)(int64_t n, const float* x, float inv_scale, int8_t* y);

void qs8_quantize__scalar(int64_t n, const float* x, float inv_scale, int8_t* y);
void qs8_pwconv_nhwc__scalar(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                             const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                             float lo, float hi);
void qs8_dwconv3x3_nhwc_row__scalar(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                    int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                    float lo, float hi);
#if defined(__x86_64__)
void qs8_quantize__avx2(int64_t n, const float* x, float inv_scale, int8_t* y);
void qs8_pwconv_nhwc__avx2(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                           const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                           float lo, float hi);
void qs8_dwconv3x3_nhwc_row__avx2(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                  int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                  float lo, float hi);
// AVX-VNNI: the AVX2 kernels with the VEX vpdpwssd.
void qs8_pwconv_nhwc__avxvnni(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                              const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                              float lo, float hi);
void qs8_dwconv3x3_nhwc_row__avxvnni(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                     int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                     float lo, float hi);
// AVX-512 VNNI (with BW and VL): vpdpwssd on the same packed weights.
void qs8_pwconv_nhwc__avx512vnni(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                                 const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                                 float lo, float hi);
void qs8_dwconv3x3_nhwc_row__avx512vnni(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                        int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                        float lo, float hi);
#endif

struct Qs8Kernels {
  Qs8PwConvFn pwconv;
  Qs8DwConv3x3RowFn dwconv3x3;
  Qs8QuantizeFn quantize;
  const char* name;  // "avx512vnni", "avxvnni", "avx2" or "scalar": whose code runs
};
// The int8 kernels for an ISA: scalar where an ISA has no int8 variant; for avx512, the AVX-512
// VNNI kernels when the CPU has AVX-512 VNNI, BW and VL; for avx2 (and avx512 without those),
// the AVX-VNNI kernels when the CPU has AVX-VNNI, else the AVX2 ones.
Qs8Kernels qs8_kernels(Isa isa);
// Every int8 kernel set this CPU can run, scalar first (what the tests compare).
std::vector<Qs8Kernels> qs8_kernel_sets();

int8_t qs8_round_sat(float v);  // saturate(round-half-even(v)) to [-127, 127]

// Per-output-channel symmetric quantisation of a [N][K] weight matrix (PyTorch layout, rows
// = output channels): s_w[n] = max|w[n, :]| / 127 (1 for an all-zero row), q = round(w / s_w).
struct Qs8Weights {
  std::vector<int8_t> q;   // [N][K]
  std::vector<float> scale;  // [N]
};
Qs8Weights qs8_quantize_weights(const float* w, int64_t N, int64_t K);
std::vector<int16_t> qs8_pack_pw(const Qs8Weights& w, int64_t N, int64_t K);  // -> [Kp/2][Np][2]
std::vector<int16_t> qs8_pack_dw3x3(const Qs8Weights& w, int64_t C);         // K = 9 -> [9][Cp]

}  // namespace fas

// Inference kernels on NHWC rows with folded batch norm (bias) and a fused clamp epilogue
// (ReLU6 = [0, 6], linear = [-inf, inf]). Written for the fused inverted-residual blocks of
// models/mobilenetv2_infer: pointwise (1x1) convs are small GEMMs over a row of pixels, the
// depthwise 3x3 and the full 3x3 stem conv produce one output row from three input rows.
//
// Contract (all kernels): pure functions, no allocation, no threads. Weights are packed with
// the output-channel dimension padded to a multiple of 8 (NHWC_CH_PAD) and zero-filled, so
// SIMD variants can load whole vectors of weights and bias; inputs and outputs are not padded.
// A null input row is a zero-padding row. Each __scalar kernel is the reference its ISA
// variants (__avx2, __avx512, __neon) are tested against.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cpu.h"

namespace fas {

constexpr int64_t NHWC_CH_PAD = 8;
inline int64_t nhwc_pad_ch(int64_t c) { return (c + NHWC_CH_PAD - 1) / NHWC_CH_PAD * NHWC_CH_PAD; }

// Output columns [lo, hi) of a 3-wide window whose taps ix = ox*stride - pad_left + {0,1,2}
// all lie inside [0, W): SIMD kernels run these without bounds checks.
// f(std::integral_constant<int, n>) for n in 1..3, f(std::integral_constant<int, 0>) otherwise:
// a small run-time count (present window rows, stem input channels) made a compile-time
// constant so the kernel's loops over it unroll; 0 selects the kernel's generic loop.
template <class F>
inline void nhwc_const_0to3(int n, F&& f) {
  switch (n) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    default: return f(std::integral_constant<int, 0>{});
  }
}

inline void nhwc_interior_3(int64_t W, int stride, int pad_left, int64_t Wo, int64_t& lo, int64_t& hi) {
  lo = std::min<int64_t>(Wo, (pad_left + stride - 1) / stride);
  hi = W - 3 + pad_left >= 0 ? std::min<int64_t>(Wo, (W - 3 + pad_left) / stride + 1) : 0;
  hi = std::max(lo, hi);
}

// One output row of a 3-wide window, walked for SIMD kernels: edge(ox) for the pixels whose
// window leaves [0, W) (and any left over), block(ox, S, P) for each run of P interior pixels,
// P = STEP, then (TAIL < STEP) P = TAIL for the rest, S the stride as a compile-time
// std::integral_constant (1 or 2; other strides use edge), so the kernel can share the loads of
// overlapping windows and keep its addressing simple.
template <int STEP, int TAIL = STEP, class Edge, class Block>
inline void nhwc_row_walk_3(int64_t W, int stride, int pad_left, int64_t Wo, Edge&& edge, Block&& block) {
  int64_t lo, hi;
  nhwc_interior_3(W, stride, pad_left, Wo, lo, hi);
  int64_t ox = 0;
  for (; ox < lo; ++ox) edge(ox);
  auto run = [&](auto S) {
    for (; ox + STEP <= hi; ox += STEP) block(ox, S, std::integral_constant<int, STEP>{});
    if constexpr (TAIL < STEP)
      for (; ox + TAIL <= hi; ox += TAIL) block(ox, S, std::integral_constant<int, TAIL>{});
  };
  if (stride == 1) run(std::integral_constant<int, 1>{});
  else if (stride == 2) run(std::integral_constant<int, 2>{});
  for (; ox < Wo; ++ox) edge(ox);
}

// Pixel tiling of the SIMD pointwise kernels: tile(m, S) for each MR-pixel tile from pixel m,
// then the leftover pixels in tiles of 4, 2 and 1 (S: the tile height as a compile-time
// std::integral_constant); a 1-pixel tile is one latency-bound FMA chain per vector, so the
// pixels left after the wide tiles (2 of 50, 4 of 100) should not all go through it.
template <int MR, class Tile>
inline void nhwc_pw_pixel_tiles(int64_t M, Tile&& tile) {
  int64_t m = 0;
  auto run = [&](auto S) {
    for (; m + decltype(S)::value <= M; m += decltype(S)::value) tile(m, S);
  };
  run(std::integral_constant<int, MR>{});
  if constexpr (MR > 4) run(std::integral_constant<int, 4>{});
  if constexpr (MR > 2) run(std::integral_constant<int, 2>{});
  run(std::integral_constant<int, 1>{});
}

// The present input rows of a depthwise window (null = zero padding, skipped) and the matching
// rows of tap-major [9][Cp] weights; returns how many (0..3).
template <class T, class Wt>
inline int nhwc_present_rows(const T* const rows[3], const Wt* w, int64_t Cp, const T* r[3], const Wt* wrow[3]) {
  int nr = 0;
  for (int ky = 0; ky < 3; ++ky)
    if (rows[ky]) r[nr] = rows[ky], wrow[nr] = w + ky * 3 * Cp, ++nr;
  return nr;
}

// Pointwise conv over M pixels: y[m*N + n] = clamp(sum_k x[m*ldx + k] * w[k*Np + n] + b[n]
// + (res ? res[m*N + n] : 0), lo, hi), Np = nhwc_pad_ch(N). res may alias y (in-place residual).
using PwConvFn = void (*)(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                          const float* b, const float* res, float* y, float lo, float hi);

// Pointwise conv fused with global pooling: sum[n] += sum over m of clamp(sum_k x[m*ldx + k]
// * w[k*Np + n] + b[n], lo, hi); the outputs themselves are not stored.
using PwConvSumFn = void (*)(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,
                             const float* b, float* sum, float lo, float hi);

// Depthwise 3x3 producing one output row of Wo pixels x C channels from rows[0..2] (each
// [W][C], null = zero row): input column ix = ox*stride - pad_left + kx, zero outside [0, W).
// w [9][Cp] (tap-major, tap = ky*3 + kx), b [Cp], Cp = nhwc_pad_ch(C).
using DwConv3x3RowFn = void (*)(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                int64_t Wo, const float* w, const float* b, float* y, float lo, float hi);

// Full 3x3 conv producing one output row [Wo][Cout] from three input rows with arbitrary
// element strides: input (ix, c) of row r is rows[r][ix*xs + c*cs] (NHWC: xs = Cin, cs = 1;
// NCHW planes: xs = 1, cs = H*W). w [9][Cin][Coutp], b [Coutp]. Meant for few input channels.
using Conv3x3RowFn = void (*)(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,
                              int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,
                              float* y, float lo, float hi);

// The four kernels of an ISA: f32_pwconv_nhwc__<isa>, f32_pwconv_sum_nhwc__<isa>,
// f32_dwconv3x3_nhwc_row__<isa> and f32_conv3x3_row__<isa>, of the types above.
#define FAS_DECLARE_NHWC(isa)                                                                                    \
  void f32_pwconv_nhwc__##isa(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,     \
                              const float* b, const float* res, float* y, float lo, float hi);                \
  void f32_pwconv_sum_nhwc__##isa(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, \
                                  const float* b, float* sum, float lo, float hi);                            \
  void f32_dwconv3x3_nhwc_row__##isa(const float* const rows[3], int64_t W, int64_t C, int stride, int pad_left, \
                                     int64_t Wo, const float* w, const float* b, float* y, float lo, float hi);   \
  void f32_conv3x3_row__##isa(const float* const rows[3], int64_t W, int64_t Cin, int64_t xs, int64_t cs,        \
                              int stride, int pad_left, int64_t Wo, int64_t Cout, const float* w, const float* b,  \
                              float* y, float lo, float hi);
FAS_DECLARE_NHWC(scalar)
#if defined(__x86_64__)
FAS_DECLARE_NHWC(avx2)
FAS_DECLARE_NHWC(avx512)
#endif
#if defined(__aarch64__)
FAS_DECLARE_NHWC(neon)
#endif

// The two public pointwise entry points of an ISA over its file-local
// pwconv(M, K, N, x, ldx, w, b, res, y, sum, lo, hi) (plain: sum null; pooled: y and res null).
#define FAS_DEFINE_NHWC_PWCONV(isa)                                                                            \
  void f32_pwconv_nhwc__##isa(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w,    \
                              const float* b, const float* res, float* y, float lo, float hi) {               \
    pwconv(M, K, N, x, ldx, w, b, res, y, nullptr, lo, hi);                                                    \
  }                                                                                                            \
  void f32_pwconv_sum_nhwc__##isa(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* w, \
                                  const float* b, float* sum, float lo, float hi) {                           \
    pwconv(M, K, N, x, ldx, w, b, nullptr, nullptr, sum, lo, hi);                                              \
  }

struct NhwcKernels {
  PwConvFn pwconv;
  PwConvSumFn pwconv_sum;
  DwConv3x3RowFn dwconv3x3;
  Conv3x3RowFn conv3x3;
};
// The kernel set for an ISA; throws if the ISA is not compiled in.
NhwcKernels nhwc_kernels(Isa isa);

// Packing from PyTorch layouts (OIHW) with an optional per-output-channel scale (folded BN).
// scale may be null (1). Outputs are zero-padded to nhwc_pad_ch(out channels).
std::vector<float> pack_pw_weights(const float* w_oi, int64_t N, int64_t K, const float* scale);  // -> [K][Np]
std::vector<float> pack_dw3x3_weights(const float* w_c9, int64_t C, const float* scale);         // -> [9][Cp]
std::vector<float> pack_conv3x3_weights(const float* w_oi33, int64_t Cout, int64_t Cin,
                                        const float* scale);                                     // -> [9][Cin][Coutp]
std::vector<float> pack_bias(const float* b, int64_t N);                                         // -> [Np]

}  // namespace fas

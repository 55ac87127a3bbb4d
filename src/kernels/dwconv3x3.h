// Depthwise 3x3 convolution kernels (MobileNet's hot spot), NCHW, one channel plane per call.
// Names follow XNNPACK: f32_dwconv3x3_s{stride}[_dx|_dw]__{isa}; "_dx" is the input gradient,
// "_dw" the weight gradient. Every variant is a pure function on raw pointers (no allocation,
// only small stack windows) and equals the plain reference f32_dwconv3x3*__ref.
// The SIMD variants vectorise along W within a row; ragged tails and the padded borders go
// through a zero-filled stack window, so any geometry works.
#pragma once
#include <cstdint>

#include "kernels/cpu.h"

namespace fas {

// Geometry of one plane. Output (oy, ox) reads input rows oy*s - pad_top + {0,1,2} and columns
// ox*s - pad_left + {0,1,2}; taps outside the h x w input are zero. Bottom/right padding is
// implied by oh/ow (any amount, so TF's asymmetric "same" needs nothing special). pad_top/left
// may also be negative (a crop), which the stride-1 input gradient uses.
struct DwConv3x3Geom {
  int64_t h, w, oh, ow;
  int pad_top, pad_left;
};

// y = clamp((accumulate ? y : 0) + bias + sum_k w9[k] * x_k, out_min, out_max)
using DwConv3x3Fn = void (*)(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g,
                             float out_min, float out_max, bool accumulate);
// dx[h, w] += transposed convolution of dy[oh, ow] with w9 (the input gradient); with
// accumulate = false, dx = instead, never reading dx (a fresh gradient buffer).
using DwConv3x3DxFn = void (*)(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, bool accumulate);
// dw9[k] += sum over outputs of dy * x_k (the weight gradient; the bias gradient is sum(dy)).
using DwConv3x3DwFn = void (*)(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g);

struct DwConv3x3Kernels {
  DwConv3x3Fn fwd[2];  // index: stride - 1
  DwConv3x3DxFn dx[2];
  DwConv3x3DwFn dw[2];
};
// The kernels of one ISA (must be supported), or of active_isa().
const DwConv3x3Kernels& dwconv3x3_kernels(Isa isa);
const DwConv3x3Kernels& dwconv3x3_kernels();

// Plain references (stride 1 or 2), written directly from the definition.
void f32_dwconv3x3__ref(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g, int stride,
                        float out_min, float out_max, bool accumulate);
void f32_dwconv3x3_dx__ref(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, int stride);
void f32_dwconv3x3_dw__ref(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g, int stride);

// Whole-tensor drivers for x [n, c, h, w] with weights [c, 1, 3, 3], using the active ISA, on
// `threads` OpenMP threads over planes (the weight gradient over channels, so every output has
// one writer and results do not depend on the thread count). bias may be null.
// forward: y = clamp((accumulate ? y : 0) + conv + bias); dx likewise (+= or =); dw accumulates.
void dwconv3x3_forward(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t c,
                       const DwConv3x3Geom& g, int stride, float out_min, float out_max, bool accumulate = false,
                       int threads = 1);
void dwconv3x3_backward_input(const float* dy, const float* w, float* dx, int64_t n, int64_t c,
                              const DwConv3x3Geom& g, int stride, int threads = 1, bool accumulate = true);
void dwconv3x3_backward_weight(const float* x, const float* dy, float* dw, int64_t n, int64_t c,
                               const DwConv3x3Geom& g, int stride, int threads = 1);

// Per-ISA variants (defined in dwconv3x3_<isa>.cpp; only those the build targets exist).
#define FAS_DECLARE_DWCONV3X3(isa)                                                                       \
  void f32_dwconv3x3_s1__##isa(const float*, const float*, float, float*, const DwConv3x3Geom&, float,   \
                               float, bool);                                                             \
  void f32_dwconv3x3_s2__##isa(const float*, const float*, float, float*, const DwConv3x3Geom&, float,   \
                               float, bool);                                                             \
  void f32_dwconv3x3_s1_dx__##isa(const float*, const float*, float*, const DwConv3x3Geom&, bool);       \
  void f32_dwconv3x3_s2_dx__##isa(const float*, const float*, float*, const DwConv3x3Geom&, bool);       \
  void f32_dwconv3x3_s1_dw__##isa(const float*, const float*, float*, const DwConv3x3Geom&);             \
  void f32_dwconv3x3_s2_dw__##isa(const float*, const float*, float*, const DwConv3x3Geom&);
FAS_DECLARE_DWCONV3X3(scalar)
FAS_DECLARE_DWCONV3X3(avx2)
FAS_DECLARE_DWCONV3X3(avx512)
FAS_DECLARE_DWCONV3X3(neon)

}  // namespace fas

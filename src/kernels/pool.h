// Pooling and nearest upsampling kernels on NCHW planes. Pure functions: raw pointers and
// explicit dims, no allocation (index buffers are passed in). These are the scalar references;
// SIMD variants go beside them with an ISA suffix and must match them exactly.
#pragma once
#include <cstdint>

#include "kernels/cpu.h"

namespace fas {

// One pooling problem: `planes` = N*C independent H x W planes -> OH x OW each.
struct PoolGeom {
  int64_t planes, h, w, oh, ow;
  int kh, kw, sh, sw;
  int pad_top, pad_left;  // bottom/right padding is implied by oh/ow
};

// Max over the valid (non-padding) part of each window; argmax receives, per output, the
// plane-local input index of the first maximum in row-major scan order (PyTorch's tie rule).
// argmax may be null (inference). Every window must contain at least one valid pixel (the
// caller checks padding < kernel).
void f32_maxpool2d(const float* x, const PoolGeom& g, float* y, int32_t* argmax);
// gx[argmax] += gy for every output (gx is accumulated, not overwritten).
void f32_maxpool2d_backward(const float* gy, const int32_t* argmax, const PoolGeom& g, float* gx);

// Window mean. count_include_pad: divide by kh*kw; otherwise by the valid pixel count.
void f32_avgpool2d(const float* x, const PoolGeom& g, bool count_include_pad, float* y);
void f32_avgpool2d_backward(const float* gy, const PoolGeom& g, bool count_include_pad, float* gx);

// Mean of each plane of `size` pixels: x [planes, size] -> y [planes].
void f32_global_avgpool(const float* x, int64_t planes, int64_t size, float* y);
void f32_global_avgpool_backward(const float* gy, int64_t planes, int64_t size, float* gx);

// y[i][j] = x[i / sh][j / sw], y is (h*sh) x (w*sw) per plane. Backward sums each block.
void f32_upsample_nearest2d(const float* x, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* y);
void f32_upsample_nearest2d_backward(const float* gy, int64_t planes, int64_t h, int64_t w, int sh, int sw,
                                     float* gx);

// ---- Fast paths for the common 2x2 cases, per ISA (pool_avx2.cpp, pool_neon.cpp; "scalar" runs the
// references above). Names: f32_<op>__<isa>. Each works on `planes` h x w planes and must equal
// its reference exactly (same values, same argmax, same summation order).
//   maxpool2x2:      2x2 window, stride 2, no padding: y is (h/2) x (w/2), argmax may be null
//   maxpool2x2_bwd:  gx[argmax] += gy for argmax from maxpool2x2
//   upsample2x:      nearest, scale 2 both ways
//   upsample2x_bwd:  gx[i][j] += the 2x2 block of gy, added in row-major order
using MaxPool2x2Fn = void (*)(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax);
using MaxPool2x2BwdFn = void (*)(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                                 float* gx);
using Upsample2xFn = void (*)(const float* x, int64_t planes, int64_t h, int64_t w, float* y);
using Upsample2xBwdFn = void (*)(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx);
struct PoolKernels {
  MaxPool2x2Fn maxpool2x2;
  MaxPool2x2BwdFn maxpool2x2_bwd;
  Upsample2xFn upsample2x;
  Upsample2xBwdFn upsample2x_bwd;
};
const PoolKernels& pool_kernels(Isa isa);  // must be available; ISAs without SIMD variants get scalar
const PoolKernels& pool_kernels();         // active_isa()

#define FAS_DECLARE_POOL(isa)                                                                                  \
  void f32_maxpool2x2__##isa(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax); \
  void f32_maxpool2x2_bwd__##isa(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,  \
                                 float* gx);                                                                   \
  void f32_upsample2x__##isa(const float* x, int64_t planes, int64_t h, int64_t w, float* y);                   \
  void f32_upsample2x_bwd__##isa(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx);
FAS_DECLARE_POOL(scalar)
FAS_DECLARE_POOL(avx2)
FAS_DECLARE_POOL(neon)

// For the SIMD variants' ragged row ends: outputs [j0, ow) of output row i of one h x w plane
// xp (w the input width), with the reference's comparisons and argmax (ar may be null).
void f32_maxpool2x2_row_tail(const float* xp, int64_t w, int64_t i, int64_t j0, int64_t ow, float* yr, int32_t* ar);

// Threaded drivers (active ISA, planes split over `threads`): the 2x2 fast path where the
// geometry allows, the references otherwise.
void maxpool2d(const float* x, const PoolGeom& g, float* y, int32_t* argmax, int threads);
void maxpool2d_backward(const float* gy, const int32_t* argmax, const PoolGeom& g, float* gx, int threads);
void upsample_nearest2d(const float* x, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* y, int threads);
void upsample_nearest2d_backward(const float* gy, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* gx,
                                 int threads);

}  // namespace fas

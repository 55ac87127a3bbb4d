// Pooling and nearest upsampling kernels on NCHW planes. Pure functions: raw pointers and
// explicit dims, no allocation (index buffers are passed in). These are the scalar references;
// SIMD variants go beside them with an ISA suffix and must match them exactly.
#pragma once
#include <cstdint>

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

}  // namespace fas

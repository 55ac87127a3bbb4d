// Direct depthwise convolution: groups == C == OC, w [C, 1, KH, KW], any kernel size, stride,
// padding and dilation (ConvDims). GEMM is the wrong tool here (K = KH*KW is tiny), so each
// channel plane is convolved directly. Contract as in kernels/conv.h:
//   fwd:        y  = dwconv(x, w) + b     (b may be null; accumulate: y += instead of y =)
//   bwd_input:  gx += gradient w.r.t. x
//   bwd_weight: gw += gradient w.r.t. w  (summed over the batch)
// No allocation. OpenMP with `threads` threads over (n, c) planes (fwd, bwd_input) or over
// channels (bwd_weight), so every output element has one writer: results do not depend on the
// thread count. These __scalar kernels are plain C++; ISA variants (e.g. f32_dwconv3x3_s1__avx2)
// take the same arguments and are tested against f32_conv2d_*__ref.
#pragma once
#include "kernels/conv_params.h"

namespace fas {

inline bool conv2d_is_depthwise(const ConvDims& d) { return d.groups == d.C && d.OC == d.C; }

void f32_dwconv2d_fwd__scalar(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                              bool accumulate, int threads);
void f32_dwconv2d_bwd_input__scalar(const ConvDims& d, const float* gy, const float* w, float* gx, int threads);
void f32_dwconv2d_bwd_weight__scalar(const ConvDims& d, const float* x, const float* gy, float* gw,
                                     int threads);

}  // namespace fas

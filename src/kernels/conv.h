// 2-D convolution kernels: pure functions on raw NCHW pointers and ConvDims, no allocation.
// Passes and their contract (the same for every variant):
//   fwd:        y  = conv(x, w) + b           (b may be null; accumulate: y += instead of y =)
//   bwd_input:  gx += conv_transpose(gy, w)   (gradient w.r.t. x; also transposed conv's forward;
//               the fast drivers' accumulate = false assigns gx =, never reading gx: a fresh
//               gradient buffer from Tensor::grad_for_write)
//   bwd_weight: gw += correlation of x and gy (gradient w.r.t. w, summed over the batch)
//   bwd_bias:   gb += sum of gy over N, OH, OW
// __ref are plain direct loops (the reference). __gemm lower each image and group to
// sgemm (kernels/gemm.h): im2col + GEMM (fwd), GEMM + col2im (bwd_input), im2col + GEMM (bwd_weight); a 1x1,
// stride-1, unpadded conv is already a GEMM on the image and skips im2col/col2im.
#pragma once
#include <cstddef>
#include <string>

#include "kernels/conv_params.h"

namespace fas {

void f32_conv2d_fwd__ref(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                         bool accumulate);
void f32_conv2d_bwd_input__ref(const ConvDims& d, const float* gy, const float* w, float* gx);
void f32_conv2d_bwd_weight__ref(const ConvDims& d, const float* x, const float* gy, float* gw);
// gb[c] += sum of g [N, C, P] over N and P (bias gradient of conv and transposed conv), channels
// split over `threads`.
void f32_conv2d_bwd_bias(int64_t N, int64_t C, int64_t P, const float* g, float* gb, int threads = 1);

// One image, one group: x_g [Cg, H, W] <-> col [Cg*KH*KW, OH*OW]. col2im adds into x_g.
void f32_im2col(const ConvDims& d, const float* x_g, float* col);
void f32_col2im(const ConvDims& d, const float* col, float* x_g);

bool conv2d_is_pointwise(const ConvDims& d);  // 1x1, stride 1, no padding: no im2col needed

// GEMM path. The passes run OpenMP over the batch with `threads` threads; each thread uses its own
// slice of the caller's workspace `ws`, which must hold f32_conv2d_gemm_workspace(d, pass, threads)
// floats (0 is valid and ws may then be null).
enum class ConvPass { Fwd, BwdInput, BwdWeight };
size_t f32_conv2d_gemm_workspace(const ConvDims& d, ConvPass pass, int threads);
// Whose GEMM a pass of the GEMM path runs (gemm.h gemm_name for each band's shape, joined by
// " + " when the bands differ): benchmark labels.
std::string f32_conv2d_gemm_name(const ConvDims& d, ConvPass pass);
void f32_conv2d_fwd__gemm(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                          bool accumulate, float* ws, int threads);
void f32_conv2d_bwd_input__gemm(const ConvDims& d, const float* gy, const float* w, float* gx, float* ws,
                                int threads, bool accumulate);
// Each thread sums its contiguous share of the batch into a private partial, and the partials are
// added in thread order: deterministic for a given thread count.
void f32_conv2d_bwd_weight__gemm(const ConvDims& d, const float* x, const float* gy, float* gw, float* ws,
                                 int threads);

}  // namespace fas

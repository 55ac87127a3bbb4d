// Direct (no im2col) stride-1 convolution for narrow layers, NCHW. im2col + GEMM is the wrong
// tool when the channel counts are small (the stacked AE's 3->8 ... 16->3 convs, CNN8's first
// layers): the GEMM has M = OC <= 16 rows, so OpenBLAS spends its time packing and zeroing, and
// im2col / col2im copy KH*KW times the input. These kernels read a zero-padded copy of the
// image instead (made by the driver into the caller's workspace) and keep a register tile of
// several output channels, so each loaded input vector feeds several FMAs.
//
// Kernels (pure functions, no allocation, names XNNPACK-style: op, tile, ISA):
//   f32_conv2d_s1_4oc3v__<isa>      forward; register tile 4 output channels x 3 vectors of
//                                   adjacent outputs of one row
//   f32_conv2d_s1_dw_3oc3tap__<isa> weight gradient; register tile 3 output channels x 3 taps
//                                   of one kernel row, vectorised along the output row
// The references are the plain direct loops f32_conv2d_*__ref of kernels/conv.h.
// The input gradient of a stride-1 conv is itself a stride-1 conv of gy with the kernel
// flipped and its channel axes swapped, padded by KH-1-pt / KW-1-pl: the driver runs the
// forward kernel on that (kernels/conv_direct.cpp).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/conv.h"
#include "kernels/cpu.h"

namespace fas {

// Every padded plane is this many floats wider than a whole number of 16-float vectors of
// output, so a kernel may read a full vector (up to AVX-512's 16 lanes) past the last output.
constexpr int64_t kDirectConvLanes = 16;

// One image (or a band of OH output rows of it) of a stride-1, dilation-1, groups-1 conv on a
// padded input:
//   xp [C][Hp][Wp], Hp = OH + KH - 1, Wp = direct_conv_padded_width(OW, KW), zero borders;
//   w [OC][C][KH][KW]; y / gy: OC planes `plane` floats apart, rows of OW (plane = OH*OW for a
//   whole image; a band points y at its first row and keeps the image's plane stride).
struct DirectConvGeom {
  int64_t C, OC, Hp, Wp, OH, OW;
  int KH, KW;
  int64_t plane;
};
int64_t direct_conv_padded_width(int64_t OW, int KW);

// y[oc, oh, :] = (accumulate ? y : 0) + b[oc] + sum_{c,kh,kw} w[oc,c,kh,kw] xp[c, oh+kh, kw:]
// for oc in [oc0, oc1), oh in [oh0, oh1). b may be null.
using ConvDirectFwdFn = void (*)(const float* xp, const float* w, const float* b, float* y, const DirectConvGeom& g,
                                 int64_t oc0, int64_t oc1, int64_t oh0, int64_t oh1, bool accumulate);
// gw[oc, c, kh, kw] += sum_{oh in [oh0, oh1), ow} gy[oc, oh, ow] xp[c, oh+kh, ow+kw].
using ConvDirectDwFn = void (*)(const float* xp, const float* gy, float* gw, const DirectConvGeom& g, int64_t oh0,
                                int64_t oh1);

struct ConvDirectKernels {
  ConvDirectFwdFn fwd;
  ConvDirectDwFn dw;
};
const ConvDirectKernels& conv_direct_kernels(Isa isa);  // must be available
const ConvDirectKernels& conv_direct_kernels();         // active_isa()

// xp[c][r][col] = x[c][r - pt][col - pl] inside the H x W plane, 0 elsewhere, for the C planes;
// pt / pl may be negative (a crop). Writes all of xp [C][Hp][Wp].
void f32_conv2d_pad_planes(const float* x, int64_t C, int64_t H, int64_t W, int64_t pt, int64_t pl, float* xp,
                           int64_t Hp, int64_t Wp);

// Whole-tensor drivers with the kernels/conv.h pass contracts, for convs where
// conv2d_direct_suits(d). Threads: over the batch when N >= threads (the weight gradient then
// sums per-thread partials in thread order: deterministic for a given thread count), else over
// output-channel blocks x row bands of each image. ws holds f32_conv2d_direct_workspace(d, pass,
// threads) floats.
bool conv2d_direct_suits(const ConvDims& d);
size_t f32_conv2d_direct_workspace(const ConvDims& d, ConvPass pass, int threads);
void f32_conv2d_fwd__direct(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                            bool accumulate, float* ws, int threads);
void f32_conv2d_bwd_input__direct(const ConvDims& d, const float* gy, const float* w, float* gx, float* ws,
                                  int threads, bool accumulate);
void f32_conv2d_bwd_weight__direct(const ConvDims& d, const float* x, const float* gy, float* gw, float* ws,
                                   int threads);

#define FAS_DECLARE_CONV_DIRECT(isa)                                                                           \
  void f32_conv2d_s1_4oc3v__##isa(const float* xp, const float* w, const float* b, float* y,                    \
                                 const DirectConvGeom& g, int64_t oc0, int64_t oc1, int64_t oh0, int64_t oh1, \
                                 bool accumulate);                                                             \
  void f32_conv2d_s1_dw_3oc3tap__##isa(const float* xp, const float* gy, float* gw, const DirectConvGeom& g,        \
                                   int64_t oh0, int64_t oh1);
FAS_DECLARE_CONV_DIRECT(scalar)
FAS_DECLARE_CONV_DIRECT(avx2)
FAS_DECLARE_CONV_DIRECT(avx512)
FAS_DECLARE_CONV_DIRECT(neon)

}  // namespace fas

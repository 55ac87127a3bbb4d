// Geometry of one 2-D convolution, shared by every conv kernel (reference, GEMM, depthwise).
// Layouts: x [N, C, H, W], w [OC, C/groups, KH, KW], y [N, OC, OH, OW], all contiguous NCHW.
// OH/OW are given, not derived, so the same dims describe a transposed conv (whose forward is
// this conv's input gradient) with any output_padding. Only the top/left pads are needed: the
// bottom/right ones are implied by OH/OW.
#pragma once
#include <cstdint>

namespace fas {

struct ConvDims {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input
  int64_t OC = 1, OH = 1, OW = 1;      // output
  int KH = 1, KW = 1;
  int sh = 1, sw = 1;  // stride
  int pt = 0, pl = 0;  // top / left padding
  int dh = 1, dw = 1;  // dilation
  int groups = 1;

  int64_t Cg() const { return C / groups; }
  int64_t OCg() const { return OC / groups; }
  int64_t K() const { return Cg() * KH * KW; }  // GEMM depth per group
  int64_t HW() const { return H * W; }
  int64_t OHW() const { return OH * OW; }
};

// Outputs o in [lo, hi) read input index o*s + off inside [0, n); the rest fall into padding.
inline void conv_valid_range(int64_t off, int s, int64_t n, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = n - off <= 0 ? 0 : (n - off + s - 1) / s;
  *lo = a < out ? a : out;
  *hi = b < out ? b : out;
  if (*hi < *lo) *hi = *lo;
}

}  // namespace fas

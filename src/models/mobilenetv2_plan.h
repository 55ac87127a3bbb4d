// The static activation memory plan shared by the float and int8 MobileNetV2-lite engines
// (sizes in elements, so the same plan serves float and int8 buffers), and the row walk of
// a fused inverted-residual block.
#pragma once
#include <cstddef>
#include <vector>

#include "models/mobilenetv2_fold.h"

namespace fas {

struct MobileNetV2Plan {
  struct Step {
    int src = 0, dst = 0;             // ping-pong buffer (equal: in place)
    size_t src_off = 0, dst_off = 0;  // element offsets into them
  };
  size_t buf[2] = {0, 0};  // ping-pong buffer sizes
  size_t ring = 0;         // 3 expanded rows of the widest block
  size_t row = 0;          // one depthwise output row
  size_t stem_off = 0;     // where the stem writes in buffer 0
  std::vector<Step> steps;  // per block
  int final_buf = 0;
  size_t final_off = 0;
};

// Two ping-pong buffers. A stride-1 block with an expand conv and a residual runs in place:
// the ring buffer holds its expanded input rows before they are overwritten and the input
// row is the residual of the output row written over it. A block without expand but with a
// residual (block 0) runs in place shifted by one row: output row y is written where input
// row y-1 was, which the depthwise has already read and no later row needs; the stem leaves
// one row of slack in front for it. Anything else ping-pongs. shift = false ping-pongs block 0
// too: an image split over threads (Mnv2Split) cannot run it shifted, as the first row one part
// writes is a row the other part still reads.
MobileNetV2Plan plan_mobilenetv2(const FoldedMobileNetV2& net, bool shift = true);

// Input row pointers of depthwise output row oy: rows[r] = row(iy) for iy = oy*stride -
// pad_top + r inside [0, H), else null. row(iy) is called in increasing iy (lets the caller
// expand rows into a ring lazily).
template <class T, class RowFn>
inline void dw_input_rows(const FoldedConv& d, int64_t oy, RowFn row, const T* rows[3]) {
  for (int r = 0; r < 3; ++r) {
    const int64_t iy = oy * d.stride - d.pad_top + r;
    rows[r] = iy >= 0 && iy < d.H ? row(iy) : nullptr;
  }
}

}  // namespace fas

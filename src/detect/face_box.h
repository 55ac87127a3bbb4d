// Face boxes: the thesis' squaring rule and the crop handed to the face tests (spec 002 §3.1).
// Pure functions on [C, H, W] images; no detector needed (face_detector.h finds the boxes).
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace fas {

struct FaceBox {
  int64_t x = 0, y = 0, w = 0, h = 0;  // left, top, width, height in pixels
  int64_t area() const { return w * h; }
};

// The largest box by area (spec 002 §3.1: "the largest by area is kept"); boxes must be
// non-empty. Ties keep the first.
FaceBox largest_box(const std::vector<FaceBox>& boxes);

// The thesis' squaring rule: s = max(h, w), the square keeps the box's top-left corner
// (B' = (top, top + s, left, left + s)). Border handling (our pick): the thesis' NumPy slice
// clips at the image edge and the resize then distorts the face; here the square is shifted
// back inside the image instead (its size kept), and only when s exceeds the image's shorter
// side is s reduced to that side. The result always lies inside an img_h x img_w image.
FaceBox square_box(const FaceBox& b, int64_t img_h, int64_t img_w);

}  // namespace fas

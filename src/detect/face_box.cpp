#include "detect/face_box.h"

#include <algorithm>

#include "tensor/tensor.h"

namespace fas {

FaceBox largest_box(const std::vector<FaceBox>& boxes) {
  if (boxes.empty()) fail("largest_box: no boxes");
  FaceBox best = boxes[0];
  for (const auto& b : boxes)
    if (b.area() > best.area()) best = b;
  return best;
}

FaceBox square_box(const FaceBox& b, int64_t img_h, int64_t img_w) {
  if (img_h <= 0 || img_w <= 0 || b.w <= 0 || b.h <= 0) fail("square_box: empty image or box");
  const int64_t s = std::min({std::max(b.w, b.h), img_h, img_w});
  FaceBox q;
  q.w = q.h = s;
  q.x = std::clamp<int64_t>(b.x, 0, img_w - s);
  q.y = std::clamp<int64_t>(b.y, 0, img_h - s);
  return q;
}

}  // namespace fas

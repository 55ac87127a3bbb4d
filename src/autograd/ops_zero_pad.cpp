#include <cstring>

#include "autograd/graph.h"
#include "autograd/zero_pad.h"

namespace fas {

Tensor zero_pad2d(const Tensor& x, int top, int bottom, int left, int right) {
  if (x.dim() != 4) fail("zero_pad2d: expected [N, C, H, W], got " + shape_str(x.shape()));
  if (top < 0 || bottom < 0 || left < 0 || right < 0)
    fail("zero_pad2d: negative padding (" + std::to_string(top) + ", " + std::to_string(bottom) + ", " +
         std::to_string(left) + ", " + std::to_string(right) + ") for input " + shape_str(x.shape()));
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = h + top + bottom, ow = w + left + right;
  Tensor y = Tensor::zeros({x.size(0), x.size(1), oh, ow});
  const float* src = x.data();
  float* dst = y.data();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t r = 0; r < h; ++r)
      std::memcpy(dst + (p * oh + r + top) * ow + left, src + (p * h + r) * w, sizeof(float) * w);
  Tensor xin = x;
  record(y, "zero_pad2d", {x}, [xin, planes, h, w, oh, ow, top, left](const Tensor& gy) mutable {
    bool fresh;  // a fresh buffer (Tensor::grad_for_write) is assigned: the crop covers all of it
    float* gx = xin.grad_for_write(&fresh);
    const float* g = gy.data();
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t r = 0; r < h; ++r) {
        const float* grow = g + (p * oh + r + top) * ow + left;
        float* xrow = gx + (p * h + r) * w;
        if (fresh)
          std::memcpy(xrow, grow, sizeof(float) * w);
        else
          for (int64_t c = 0; c < w; ++c) xrow[c] += grow[c];
      }
  });
  return y;
}

}  // namespace fas

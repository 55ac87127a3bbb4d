#include "layers/zero_pad.h"

#include "autograd/zero_pad.h"

namespace fas {

std::array<int, 4> keras_correct_pad(int64_t h, int64_t w, int kh, int kw) {
  if (h <= 0 || w <= 0 || kh <= 0 || kw <= 0)
    fail("keras_correct_pad: bad input " + std::to_string(h) + "x" + std::to_string(w) + " or kernel " +
         std::to_string(kh) + "x" + std::to_string(kw));
  const int adj_h = h % 2 == 0 ? 1 : 0, adj_w = w % 2 == 0 ? 1 : 0;
  std::array<int, 4> p{kh / 2 - adj_h, kh / 2, kw / 2 - adj_w, kw / 2};
  if (p[0] < 0 || p[2] < 0)  // a 1-wide kernel on an even size: Keras would fail as well
    fail("keras_correct_pad: kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " on input " +
         std::to_string(h) + "x" + std::to_string(w) + " gives negative padding");
  return p;
}

Tensor ZeroPadding2D::forward(const Tensor& x) { return zero_pad2d(x, pad_[0], pad_[1], pad_[2], pad_[3]); }

}  // namespace fas

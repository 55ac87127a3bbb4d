// Keras ZeroPadding2D as a module, and Keras' correct_pad rule for stride-2 convolutions.
#pragma once
#include <array>

#include "layers/module.h"

namespace fas {

// keras.applications correct_pad(inputs, kernel_size) for an input of h x w:
// per dim (k/2 - adjust, k/2) with adjust = 1 for an even size, 0 for an odd one.
// Returns {top, bottom, left, right}. For a 3x3 stride-2 conv this equals TF "same" padding on
// every size (tested), which is why Conv2d's Padding::Same may stand in for pad + valid conv.
std::array<int, 4> keras_correct_pad(int64_t h, int64_t w, int kh, int kw);

class ZeroPadding2D : public Module {
 public:
  ZeroPadding2D(int top, int bottom, int left, int right) : pad_{top, bottom, left, right} {}
  explicit ZeroPadding2D(std::array<int, 4> pad) : pad_(pad) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ZeroPadding2D"; }
  const std::array<int, 4>& pad() const { return pad_; }

 private:
  std::array<int, 4> pad_;  // top, bottom, left, right
};

}  // namespace fas

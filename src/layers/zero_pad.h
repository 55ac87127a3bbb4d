// Keras ZeroPadding2D as a module, and Keras' correct_pad rule for stride-2 convolutions.
#pragma once
#include <array>

#include "layers/module.h"

namespace fas {

// keras.applications correct_pad(inputs, kernel_size) for an input of h x w:
// per dim (k/2 - adjust, k/2) with adjust = 1 for an even size, 0 for an odd one.
// Returns {top, bottom, left, right}. For stride 2 and any odd kernel (3, 5, 7) this equals TF
// "same" padding on every input size (tested on 1..400), so Conv2d's Padding::Same may stand in
// for pad + valid conv. They differ where Keras would not use correct_pad: stride 1 (same pads
// (k-1)/2 both sides, correct_pad one less on top for even sizes), even or 1-wide kernels, and
// Keras' unknown-size case (adjust fixed to 1). A 1-wide kernel on an even size is an error.
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

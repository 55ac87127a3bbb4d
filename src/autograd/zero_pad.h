// Zero padding of the two spatial dims of an NCHW tensor: Keras ZeroPadding2D. Kept apart from
// ops.h because only the Keras-layout models need it (MobileNetV2's correct_pad, spec 003 §4.4).
#pragma once
#include "tensor/tensor.h"

namespace fas {

// x [N, C, H, W] -> [N, C, top + H + bottom, left + W + right]; pads must be >= 0.
// Backward crops the output gradient back to the input window.
Tensor zero_pad2d(const Tensor& x, int top, int bottom, int left, int right);

}  // namespace fas

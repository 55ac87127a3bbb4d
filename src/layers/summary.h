// Keras-style model summary.
#pragma once
#include <cstdint>
#include <string>

#include "layers/module.h"

namespace fas {

// Runs one eval-mode, no-grad forward of zeros of input_shape (batch included) through m,
// recording every leaf module's output, and returns a table like Keras' model.summary():
//   Layer (type) | Output Shape | Param #
// with the batch shown as None and shapes in fas' NCHW layout (Keras prints NHWC). Param # is
// the leaf's own parameters + buffers. Totals: Total = Trainable + Non-trainable, where
// non-trainable = frozen parameters + buffers (BN running stats), as Keras counts them.
// The train/eval mode of every module in m is restored afterwards.
std::string summary_table(Module& m, const Shape& input_shape);

// 87289 -> "87,289" (negative numbers keep their sign).
std::string with_thousands(int64_t v);

}  // namespace fas

// Softmax along one axis of a contiguous tensor viewed as [outer, n, inner].
// Numerically stable (the row max is subtracted). Pure scalar references.
#pragma once
#include <cstdint>

namespace fas {

// y = softmax(x) or, with log_out, log_softmax(x) along the middle axis.
void f32_softmax(const float* x, int64_t outer, int64_t n, int64_t inner, bool log_out, float* y);
// gx += dL/dx given y (the forward output) and gy:
//   softmax:     gx = y * (gy - sum(gy * y))
//   log_softmax: gx = gy - exp(y) * sum(gy)
void f32_softmax_backward(const float* y, const float* gy, int64_t outer, int64_t n, int64_t inner, bool log_out,
                          float* gx);

}  // namespace fas

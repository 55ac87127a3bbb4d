#include "layers/add.h"

#include "autograd/ops.h"

namespace fas {

Tensor Add::operator()(const Tensor& a, const Tensor& b) {
  Tensor y = add(a, b);
  if (auto* t = SummaryTrace::active()) t->entries.push_back({this, y.shape()});
  return y;
}

Tensor Add::forward(const Tensor& x) { fail("Add: needs two inputs, called with one " + shape_str(x.shape())); }

}  // namespace fas

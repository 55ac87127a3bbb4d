// Keras Add layer: the residual merge, a module only so that it appears (and is named) in the
// summary table. It takes two inputs, so it is called through operator()(a, b).
#pragma once
#include "layers/module.h"

namespace fas {

class Add : public Module {
 public:
  Tensor operator()(const Tensor& a, const Tensor& b);  // a + b, reported to an active SummaryTrace
  Tensor forward(const Tensor& x) override;             // throws: Add needs two inputs
  std::string type_name() const override { return "Add"; }
};

}  // namespace fas

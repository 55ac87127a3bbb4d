// Exponential moving average of a model's weights (Polyak averaging), the form of TF's
// ExponentialMovingAverage with num_updates: after every optimizer step
//   avg = d * avg + (1 - d) * w,   d = min(decay, (1 + n) / (10 + n)),  n = updates so far,
// over every parameter and buffer (BN running statistics too, as timm's ModelEma does), so the
// averaged model is complete and evaluates on its own. The warm-up keeps the random initial
// weights from dominating the first epochs. Small nets trained with Adam at a constant rate swing
// from epoch to epoch on a shifted test domain; the average is the usual remedy.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace fas {

// Bound to the module's tensors at construction (state-dict handles share their storage), so a
// step's update is one pass over the values, without rebuilding the state dict.
class WeightEma {
 public:
  WeightEma(const Module& m, float decay);  // avg starts as a copy of m's current values
  void update();                            // after each optimizer step
  void swap();                              // exchange the module's values and the average (twice = restore)
  float decay() const { return decay_; }
  int64_t updates() const { return n_; }
  void set_updates(int64_t n) { n_ = n; }  // on resume: the optimizer's step count
  float current_decay() const;              // the d of the next update
  // The averages under the model's state-dict names. load checks names and shapes.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& sd);

 private:
  std::map<std::string, Tensor> avg_;
  std::vector<std::pair<Tensor, Tensor>> bound_;  // (module tensor, its average)
  float decay_;
  int64_t n_ = 0;
};

}  // namespace fas

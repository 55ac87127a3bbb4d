// Optimizers and learning-rate schedules. Parameters whose requires_grad is false (frozen) or
// that received no gradient are skipped. Optimizer state is named "<param>.<slot>" and saved
// with the model (state_dict / load_state_dict).
#pragma once
#include <map>
#include <string>

#include "layers/module.h"

namespace fas {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  int64_t steps() const { return t_; }
  virtual std::map<std::string, Tensor> state_dict() const;
  virtual void load_state_dict(const std::map<std::string, Tensor>& sd);

 protected:
  Tensor& slot(size_t i, const char* name);  // zeros like param i, created on first use
  NamedTensors params_;
  std::map<std::string, Tensor> state_;
  float lr_ = 1e-3f;
  int64_t t_ = 0;
};

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.f;
  bool decoupled = false;  // AdamW: decay the weights directly (lr * wd * w), not through the gradient
  // Keras form (spec 004 §1.4): lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t * m / (sqrt(v) + eps),
  // i.e. eps added to the uncorrected sqrt(v). PyTorch form: eps added to sqrt(v_hat).
  bool keras = false;
};
class Adam : public Optimizer {
 public:
  Adam(NamedTensors params, AdamConfig cfg = {});
  void step() override;
  const AdamConfig& config() const { return cfg_; }

 private:
  AdamConfig cfg_;
};

struct SgdConfig {
  float lr = 1e-2f, momentum = 0.f, dampening = 0.f, weight_decay = 0.f;
  bool nesterov = false;
};
class Sgd : public Optimizer {
 public:
  Sgd(NamedTensors params, SgdConfig cfg = {});
  void step() override;

 private:
  SgdConfig cfg_;
};

// Learning rate as a function of the epoch (0-based).
struct LrSchedule {
  enum Kind { Constant, Step, HalfThenLinear } kind = Constant;
  float base = 1e-3f;
  int step_size = 10;   // Step: multiply by gamma every step_size epochs
  float gamma = 0.1f;
  int total = 1;        // HalfThenLinear: constant for total/2 epochs, then linear to ~0 at total
  float at(int epoch) const;
};

}  // namespace fas

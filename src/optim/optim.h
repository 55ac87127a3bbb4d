// Optimizers and learning-rate schedules. Parameters whose requires_grad is false (frozen) or
// that received no gradient are skipped. Optimizer state is named "<param>.<slot>" and saved
// with the model (state_dict / load_state_dict).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "layers/module.h"

namespace fas {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  // Averages the gradients over the data-parallel ranks when a step of a parallel run is in
  // progress (dist/grad_sync.h; nothing otherwise), then updates the parameters.
  void step();
  void zero_grad();
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  int64_t steps() const { return t_; }
  const NamedTensors& params() const { return params_; }
  virtual std::map<std::string, Tensor> state_dict() const;
  virtual void load_state_dict(const std::map<std::string, Tensor>& sd);

 protected:
  virtual void update() = 0;  // one step of the rule on the (averaged) gradients
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
  const AdamConfig& config() const { return cfg_; }

 private:
  void update() override;
  AdamConfig cfg_;
};

struct SgdConfig {
  float lr = 1e-2f, momentum = 0.f, dampening = 0.f, weight_decay = 0.f;
  bool nesterov = false;
};
class Sgd : public Optimizer {
 public:
  Sgd(NamedTensors params, SgdConfig cfg = {});

 private:
  void update() override;
  SgdConfig cfg_;
};

// Learning rate as a function of the epoch (0-based), set at the start of each epoch.
struct LrSchedule {
  enum Kind { Constant, Step, HalfThenLinear, Cosine, Plateau } kind = Constant;
  float base = 1e-3f;
  int step_size = 10;     // Step: multiply by gamma every step_size epochs
  float gamma = 0.1f;     // Step and Plateau: the factor
  int total = 1;          // HalfThenLinear: constant for total/2 epochs, then linear to ~0 at total;
                          // Cosine: half a cosine from base (epoch 0) to base * min_ratio (epoch total-1)
  float min_ratio = 0.f;  // Cosine
  // Plateau (Keras ReduceLROnPlateau, cooldown 0, min_lr 0): after an epoch whose monitored value
  // is not below the best so far by min_delta, a wait counter grows; at `patience` the lr is
  // multiplied by gamma and the counter restarts.
  int patience = 10;
  float min_delta = 1e-4f;
  float at(int epoch) const;  // Plateau: the base (nothing monitored yet)
  // monitored[i]: the value after epoch i (lower is better), for i < epoch. The lr is a pure
  // function of that history, so a resumed run recomputes it from its stored history.
  float at(int epoch, const std::vector<double>& monitored) const;
  std::string str() const;  // the parse_lr_schedule form
};

// "constant" | "step:EVERY[:GAMMA]" | "cosine[:MIN_RATIO]" | "plateau[:PATIENCE[:FACTOR]]" |
// "halflinear"; bad syntax or values -> fas::Error. base and total come from --lr and --epochs.
LrSchedule parse_lr_schedule(const std::string& spec, float base, int total);

}  // namespace fas

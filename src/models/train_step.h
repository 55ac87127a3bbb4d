// The training-step seam: what `fas train` asks of a model for one batch.
//
// The trainer (src/cli/train.cpp) owns the data, epochs, learning-rate schedule, checkpoints,
// history, progress and plots; a model's TrainStep owns everything between a batch and the
// updated weights: its forward pass, its losses, its backward passes and which optimizer steps
// on which parameters. A classifier or an autoencoder needs nothing of its own (the default
// step: one optimizer, model_loss); GANomaly's alternating generator/discriminator updates and
// the auto-decoder's per-image codes are their own TrainStep, registered with the model
// (ModelInfo::make_step), so none of them is a branch in the trainer.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint.h"
#include "io/dataset.h"
#include "optim/optim.h"

namespace fas {

struct ModelInfo;

// The run's optimizer settings (recipe defaults overridden by flags).
struct StepContext {
  std::string optimizer = "adam";  // "adam" | "adam_keras" | "sgd"
  float lr = 1e-3f;
  float weight_decay = 0.f;  // decoupled for Adam (AdamW), through the gradient for SGD
  uint64_t seed = 0;         // for steps that draw random numbers (derive from (seed, step))
  size_t train_items = 0;    // training-list length (Batch::index < train_items); 0 = unknown (bench)
};

struct StepResult {
  float loss = 0;  // the value that is logged, averaged per epoch and checked for NaN/Inf
  // Named loss terms (e.g. "rec", "kl"), averaged per epoch into the history next to the loss.
  std::vector<std::pair<std::string, double>> parts;
};

class TrainStep {
 public:
  virtual ~TrainStep() = default;
  // One batch: forward, losses, backward and the optimizer steps. global_step counts from 1.
  virtual StepResult step(const Batch& b, int64_t global_step) = 0;
  virtual void set_lr(float lr) = 0;  // the schedule's rate for this epoch, for every optimizer
  virtual float lr() const = 0;
  // Every optimizer's state under distinct names (saved in checkpoints as "optim.<name>").
  virtual TensorMap optimizer_state() const = 0;
  virtual void load_optimizer_state(const TensorMap& state) = 0;
  // Metadata the step learnt about the data (saved with each checkpoint; none by default).
  virtual Metadata checkpoint_metadata() const { return {}; }
};

// A step with one optimizer: a subclass computes the batch's loss (and fills its named terms);
// the base zeroes the gradients, skips the update on a non-finite loss (the trainer reports it),
// backpropagates and steps.
class SingleOptimizerStep : public TrainStep {
 public:
  explicit SingleOptimizerStep(std::unique_ptr<Optimizer> opt) : opt_(std::move(opt)) {}
  StepResult step(const Batch& b, int64_t global_step) final;
  void set_lr(float lr) override { opt_->set_lr(lr); }
  float lr() const override { return opt_->lr(); }
  TensorMap optimizer_state() const override { return opt_->state_dict(); }
  void load_optimizer_state(const TensorMap& s) override;

 protected:
  virtual Tensor loss(const Batch& b, int64_t global_step, StepResult& r) = 0;
  std::unique_ptr<Optimizer> opt_;
};

std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, const NamedTensors& params, const StepContext& c);

// The default step: one optimizer over all the model's parameters, loss = model_loss.
std::unique_ptr<TrainStep> make_supervised_step(Module& model, const ModelInfo& info, const StepContext& c);

// The model's own step when it registers one, the default step otherwise.
std::unique_ptr<TrainStep> make_train_step(Module& model, const ModelInfo& info, const StepContext& c);

// Helper for steps with several optimizers: their states merged under "<prefix><name>", and
// split back (a missing prefix leaves that optimizer fresh only when the map is empty).
TensorMap prefixed_state(const std::vector<std::pair<std::string, const Optimizer*>>& opts);
void load_prefixed_state(const TensorMap& state, const std::vector<std::pair<std::string, Optimizer*>>& opts);

}  // namespace fas

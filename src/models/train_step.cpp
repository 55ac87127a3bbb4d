#include "models/train_step.h"

#include <cmath>

#include "dist/grad_sync.h"
#include "models/registry.h"
#include "tensor/tensor.h"

namespace fas {

std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, const NamedTensors& params, const StepContext& c) {
  if (kind == "adam" || kind == "adam_keras") {
    AdamConfig a;
    a.lr = c.lr;
    a.keras = kind == "adam_keras";
    // Keras' Adam adds K.epsilon() = 1e-7 (specs 003 §5 and 004 §1.4), not PyTorch's 1e-8: with
    // eps on the uncorrected sqrt(v) it bounds the first steps' size for tiny gradients.
    if (a.keras) a.eps = 1e-7f;
    a.weight_decay = c.weight_decay;
    a.decoupled = true;
    return std::make_unique<Adam>(params, a);
  }
  if (kind == "sgd") {
    SgdConfig s;
    s.lr = c.lr;
    s.momentum = 0.9f;
    s.weight_decay = c.weight_decay;
    return std::make_unique<Sgd>(params, s);
  }
  fail("unknown optimizer '" + kind + "' in the model's recipe");
}

namespace {

class SupervisedStep : public SingleOptimizerStep {
 public:
  SupervisedStep(Module& m, const ModelInfo& info, const StepContext& c)
      : SingleOptimizerStep(make_optimizer(c.optimizer, m.named_parameters(), c)), m_(m), info_(info) {}

 protected:
  Tensor loss(const Batch& b, int64_t, StepResult&) override { return model_loss(info_, m_, b.x, b.y); }

 private:
  Module& m_;
  const ModelInfo& info_;
};

}  // namespace

StepResult SingleOptimizerStep::step(const Batch& b, int64_t global_step) {
  opt_->zero_grad();
  StepResult r;
  Tensor l = loss(b, global_step, r);
  r.loss = l.item();
  if (!std::isfinite(r.loss)) return r;
  {
    dist::OverlappedBackward overlap(opt_->params());
    l.backward();
  }
  opt_->step();
  return r;
}

void SingleOptimizerStep::load_optimizer_state(const TensorMap& s) {
  if (!s.empty()) opt_->load_state_dict(s);
}

std::unique_ptr<TrainStep> make_supervised_step(Module& model, const ModelInfo& info, const StepContext& c) {
  return std::make_unique<SupervisedStep>(model, info, c);
}

std::unique_ptr<TrainStep> make_train_step(Module& model, const ModelInfo& info, const StepContext& c) {
  if (info.make_step) return info.make_step(model, info, c);
  return make_supervised_step(model, info, c);
}

TensorMap prefixed_state(const std::vector<std::pair<std::string, const Optimizer*>>& opts) {
  TensorMap all;
  for (const auto& [prefix, o] : opts)
    for (const auto& [k, v] : o->state_dict()) all[prefix + k] = v;
  return all;
}

void load_prefixed_state(const TensorMap& state, const std::vector<std::pair<std::string, Optimizer*>>& opts) {
  if (state.empty()) return;
  for (const auto& [prefix, o] : opts) {
    TensorMap mine;
    for (const auto& [k, v] : state)
      if (k.compare(0, prefix.size(), prefix) == 0) mine[k.substr(prefix.size())] = v;
    o->load_state_dict(mine);
  }
}

}  // namespace fas

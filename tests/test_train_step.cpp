// The training-step seam (models/train_step.h): a model with its own step (two optimizers,
// named loss terms) trains through `fas train`, saves both optimizers' state, resumes exactly,
// and logs its loss terms into the history.
#include "cli/commands.h"
#include "io/checkpoint.h"
#include "layers/layers.h"
#include "models/registry.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// Two heads on the flattened image; each head has its own Adam and its own loss term.
class TwoHeads : public Module {
 public:
  TwoHeads(int64_t in, Rng& rng) {
    a = register_module("a", std::make_shared<Linear>(in, 1, rng));
    b = register_module("b", std::make_shared<Linear>(in, 1, rng));
  }
  Tensor forward(const Tensor& x) override { return (*a)(flatten(x)); }
  std::string type_name() const override { return "TwoHeads"; }
  std::shared_ptr<Linear> a, b;
};

class TwoHeadsStep : public TrainStep {
 public:
  TwoHeadsStep(Module& m, const StepContext& c) : m_(dynamic_cast<TwoHeads&>(m)) {
    oa_ = make_optimizer("adam", m_.a->named_parameters(), c);
    ob_ = make_optimizer("adam", m_.b->named_parameters(), c);
  }
  StepResult step(const Batch& batch, int64_t) override {
    Tensor x = flatten(batch.x);
    oa_->zero_grad();
    Tensor la = bce_with_logits(reshape(m_.a->forward(x), {x.size(0)}), batch.y);
    la.backward();
    oa_->step();
    ob_->zero_grad();
    Tensor lb = mse_loss(reshape(m_.b->forward(x), {x.size(0)}), batch.y);
    lb.backward();
    ob_->step();
    return {la.item() + lb.item(), {{"a", la.item()}, {"b", lb.item()}}};
  }
  void set_lr(float lr) override { oa_->set_lr(lr), ob_->set_lr(lr); }
  float lr() const override { return oa_->lr(); }
  TensorMap optimizer_state() const override { return prefixed_state({{"a.", oa_.get()}, {"b.", ob_.get()}}); }
  void load_optimizer_state(const TensorMap& s) override { load_prefixed_state(s, {{"a.", oa_.get()}, {"b.", ob_.get()}}); }

 private:
  TwoHeads& m_;
  std::unique_ptr<Optimizer> oa_, ob_;
};

void register_two_heads() {
  static bool done = false;
  if (done) return;
  done = true;
  ModelInfo m;
  m.name = "test-two-heads";
  m.description = "two heads, two optimizers";
  m.defaults = {{"channels", 1}, {"height", 4}, {"width", 4}};
  m.build = [](const Json&, Rng& rng) -> std::shared_ptr<Module> { return std::make_shared<TwoHeads>(16, rng); };
  m.make_step = [](Module& mod, const ModelInfo&, const StepContext& c) -> std::unique_ptr<TrainStep> {
    return std::make_unique<TwoHeadsStep>(mod, c);
  };
  register_model(m);
}

cli::TrainOptions options(const std::string& out, int epochs) {
  cli::TrainOptions o;
  o.common.threads = 1;
  o.common.out = out;
  o.model = "test-two-heads";
  o.data = std::string(FAS_SOURCE_DIR) + "/data/sample/train.txt";
  o.limit = 24;
  o.epochs = epochs;
  o.batch = 8;
  o.quiet = true;
  return o;
}

}  // namespace

TEST(TrainStep, CustomStepSavesEveryOptimizerAndResumesExactly) {
  register_two_heads();
  const std::string dir = scratch_dir("two_heads");
  ASSERT_EQ(cli::run_train(options(dir + "/full", 3)), 0);
  ASSERT_EQ(cli::run_train(options(dir + "/part", 1)), 0);
  cli::TrainOptions r = options(dir + "/part", 3);
  r.model.clear();
  r.resume = dir + "/part/last.safetensors";
  ASSERT_EQ(cli::run_train(r), 0);

  Checkpoint full = load_checkpoint(dir + "/full/last.safetensors");
  Checkpoint resumed = load_checkpoint(dir + "/part/last.safetensors");
  // Both optimizers' moments are in the checkpoint, under their prefixes.
  EXPECT_TRUE(full.optim.count("a.weight.exp_avg")) << full.optim.begin()->first;
  size_t na = 0, nb = 0;
  for (auto& [k, v] : full.optim) na += k.rfind("a.", 0) == 0, nb += k.rfind("b.", 0) == 0;
  EXPECT_GT(na, 0u);
  EXPECT_GT(nb, 0u);
  ASSERT_EQ(full.model.size(), resumed.model.size());
  for (auto& [k, v] : full.model) EXPECT_EQ(v.to_vector(), resumed.model.at(k).to_vector()) << k;
  for (auto& [k, v] : full.optim) EXPECT_EQ(v.to_vector(), resumed.optim.at(k).to_vector()) << k;

  // The step's loss terms are in the history, per epoch, and sum to the logged loss.
  Json h = Json::parse(read_bytes(dir + "/full/history.json"));
  ASSERT_EQ(h["epochs"].size(), 3u);
  const Json& e = h["epochs"][2];
  ASSERT_TRUE(e.contains("parts"));
  EXPECT_NEAR(e["parts"]["a"].get<double>() + e["parts"]["b"].get<double>(), e["train_loss"].get<double>(), 1e-5);
}

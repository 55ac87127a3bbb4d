// Registers spec 004's auto-decoder with the CLI registry (models/registry.h) and gives it its
// own training step: a batch's codes are the rows of its images' positions in the training list
// (Batch::index), so every image keeps its own row for the whole run — the thesis' bug (rows
// re-assigned to new images every data pull, spec §0.4) cannot happen. Each step also records
// the rows' groups (the list label), saved in the checkpoint for generate's group presets.
//
// Picks (spec 004 §1.4, §6; the report is silent and the author's code decides):
//   loss      MSE, mean over all elements, against RGB / 255;
//   optimizer Keras 2.3 Adam (lr 1e-3, eps 1e-7 added to the uncorrected sqrt(v)), dense: rows
//             not in the batch still move with their momentum, as Keras densifies the gradient;
//   schedule  constant (Keras fit with no callback);
//   recipe    batch 32, 20,000 epochs (the spec's run: about an hour on a GPU; see the model page
//             for what a CPU run takes), no augmentation.
//   validation is by projection: a held-out image has no trained code, so its score (and `fas
//             eval`'s) is the MSE after optimising a code for it with the decoder frozen — not the
//             untrained-row error that made the thesis' validation curve meaningless (spec §0.5).
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "models/autodecoder.h"
#include "models/registry.h"

namespace fas {

namespace {

AutoDecoder& as_autodecoder(Module& m) { return module_as<AutoDecoder>(m, "autodecoder"); }

class AutoDecoderStep : public SingleOptimizerStep {
 public:
  AutoDecoderStep(Module& m, const StepContext& c)
      : SingleOptimizerStep(make_optimizer(c.optimizer, m.named_parameters(), c)),
        m_(as_autodecoder(m)),
        groups_(m_.images(), -1) {
    if (c.train_items != 0 && (int64_t)c.train_items != m_.images())
      fail("autodecoder: the training list has " + std::to_string(c.train_items) + " images and the model " +
           std::to_string(m_.images()) + " codes (one per image): train with --set images=" +
           std::to_string(c.train_items));
  }
  Metadata checkpoint_metadata() const override { return {{kGroupsKey, Json(groups_).dump()}}; }

 protected:
  Tensor loss(const Batch& b, int64_t, StepResult&) override {
    std::vector<int64_t> ids(b.index.begin(), b.index.end());
    for (size_t i = 0; i < ids.size(); ++i) groups_.at(ids[i]) = (int)b.y.data()[i];
    return mse_loss(m_.decode(embedding(ids, m_.codes->weight)), b.x);
  }

 private:
  AutoDecoder& m_;
  std::vector<int> groups_;  // each code's group (its image's label), -1 until the image is seen
};

void check_image_shape(const Json& cfg) {
  if (cfg.at("channels") != 3 || cfg.at("height") != 256 || cfg.at("width") != 256)
    fail("autodecoder: the decoder paints 3x256x256 images; channels/height/width cannot change");
}

}  // namespace

void register_autodecoder() {
  ModelInfo m;
  m.name = "autodecoder";
  m.description = "latent auto-decoder, per-image codes + 8 transposed convs to 256x256 RGB (spec 004)";
  m.defaults = {{"channels", 3}, {"height", 256}, {"width", 256}, {"latent", 25}, {"images", 200}};
  m.recipe.epochs = 20000;
  m.recipe.batch = 32;
  m.recipe.lr = 1e-3f;
  m.recipe.loss = "recon_mse";
  m.recipe.optimizer = "adam_keras";
  m.recipe.lr_schedule = "constant";
  m.score = ScoreKind::Anomaly;
  m.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    check_image_shape(cfg);
    return std::make_shared<AutoDecoder>(cfg.at("images").get<int64_t>(), cfg.at("latent").get<int64_t>(), rng);
  };
  m.forward_input = [](const Json&) { return Shape{1}; };  // one image id per row
  m.make_step = [](Module& mod, const ModelInfo&, const StepContext& c) -> std::unique_ptr<TrainStep> {
    return std::make_unique<AutoDecoderStep>(mod, c);
  };
  // Score = MSE after projection (an anomaly score: higher = the decoder cannot paint it); the
  // validation loss (recon_mse kind) is its mean.
  m.scores = [](Module& mod, const Tensor& x) {
    AutoDecoder& ad = as_autodecoder(mod);
    return project_codes(ad, x, latent_stats(ad).mean, ProjectOptions{}).mse;
  };
  register_model(std::move(m));
}

}  // namespace fas

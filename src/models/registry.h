// The model registry: everything `fas train|eval|predict|summary|bench` needs to know about a
// model, so a new model works with every subcommand by one registration.
//
// Adding a model (e.g. in src/models/mobilenetv2.cpp):
//
//   void register_mobilenetv2_lite() {
//     ModelInfo m;
//     m.name = "mobilenetv2-lite";
//     m.description = "MobileNetV2 alpha=0.1 (spec 003)";
//     m.defaults = {{"channels", 3}, {"height", 128}, {"width", 128}, {"alpha", 0.1}};
//     m.recipe = {/*epochs*/ 30, /*batch*/ 32, /*lr*/ 1e-3f, "bce_logits", "rotate=30,shift=0.1,zoom=0.15"};
//     m.score = ScoreKind::LiveProbability;      // or ScoreKind::Anomaly (higher = spoof)
//     m.build = [](const nlohmann::json& cfg, Rng& rng) -> std::shared_ptr<Module> { ... };
//     register_model(std::move(m));
//   }
//
// and one line in register_builtin_models() (registry.cpp) calling register_mobilenetv2_lite().
// (An explicit list rather than static initialisers: the library is static, and the linker drops
// object files that nothing references, silently losing self-registering models.)
//
// Config: a flat JSON object of defaults. `--set key=value` overrides a key (the value is
// parsed as JSON when it parses, e.g. 0.5, true, [1,2]; otherwise it is a string); unknown keys
// are errors. Keys "channels", "height", "width" are required: they give the input shape
// [channels, height, width] the data pipeline resizes images to. The optional key "normalize"
// ("unit" | "symmetric" | "meanstd:...") picks the input normalisation (default "unit": [0, 1]).
//
// Loss and scoring default from the recipe's loss kind; a model can override them:
//   "bce_logits": forward(x) -> logits [N] or [N, 1]; loss = BCE-with-logits against the label
//                 (1 live); score = sigmoid(logit) = P(live).
//   "ce2":        forward(x) -> logits [N, 2] (class 1 = live); loss = cross-entropy;
//                 score = softmax(...)[:, 1] = P(live).
//   "recon_mse":  forward(x) -> reconstruction of x; trained on live images only; loss = MSE;
//                 score = per-image mean squared error (an anomaly score, higher = spoof).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/module.h"
#include "models/deploy_engine.h"
#include "models/train_step.h"
#include "tensor/random.h"

namespace fas {

class Dataset;  // io/dataset.h
using Json = nlohmann::json;

// How a model's score reads: P(live) in [0, 1] (higher = live), or an anomaly score
// (higher = spoof). Metrics and decisions use this to orient thresholds.
enum class ScoreKind { LiveProbability, Anomaly };

struct Recipe {
  int epochs = 10;
  int batch = 32;
  float lr = 1e-3f;
  std::string loss = "bce_logits";  // "bce_logits" | "ce2" | "recon_mse"
  std::string augment = "none";     // io/augment.h syntax
  bool live_only = false;           // train on label-1 images only (one-class anomaly models)
  std::string optimizer = "adam";   // "adam" | "adam_keras" | "sgd"
  std::string lr_schedule = "constant";  // optim.h parse_lr_schedule syntax
};

struct ModelInfo {
  std::string name;
  std::string description;
  Json defaults = Json::object();
  Recipe recipe;
  ScoreKind score = ScoreKind::LiveProbability;
  std::function<std::shared_ptr<Module>(const Json& cfg, Rng& rng)> build;
  // Optional overrides. loss: scalar loss of a batch (x [N,C,H,W], y [N] with 1 = live).
  std::function<Tensor(Module& m, const Tensor& x, const Tensor& y)> loss;
  // scores: one score per row of x, in the orientation of `score`. Called under NoGradGuard.
  std::function<std::vector<float>(Module& m, const Tensor& x)> scores;
  // named_scores: every anomaly score of the model per row, named, the first the one `scores`
  // gives (e.g. a VAE's reconstruction error, KL and negative ELBO); `fas eval` reports each.
  std::function<std::vector<std::pair<std::string, std::vector<float>>>(Module& m, const Tensor& x)> named_scores;
  // logits: live log-odds per row, for models whose `scores` hides them (see model_logits).
  std::function<std::vector<float>(Module& m, const Tensor& x)> logits;
  // Optional deployment engines beside the autograd graph (`fas eval|predict --engine NAME`;
  // "graph" is the model's own forward and always exists). make() gets the trained module (eval
  // mode) and, when needs_calibration, calibration images [n, C, H, W] and the clipping
  // percentile of |activation| (0: the maximum, max-abs); it returns an engine
  // (models/deploy_engine.h) scoring in the orientation of `score`, used from one thread.
  struct Engine {
    bool needs_calibration = false;
    std::string description;
    std::function<std::shared_ptr<DeployEngine>(Module& m, const Tensor& calib, double calib_pct)> make;
  };
  std::map<std::string, Engine> engines;
  // Optional training step (models/train_step.h): models whose training is more than one
  // optimizer on model_loss (adversarial pairs, per-image codes). Default: the supervised step.
  std::function<std::unique_ptr<TrainStep>(Module& m, const ModelInfo& info, const StepContext& c)> make_step;
  // Optional: the forward's input shape without the batch dimension, when it is not the image
  // shape [channels, height, width] (e.g. the auto-decoder's forward takes image ids [1]).
  // summary and bench feed it zeros of this shape.
  std::function<Shape(const Json& cfg)> forward_input;
  // Optional closed-form training: `fas train` calls fit (on the built module and the training
  // set) instead of the epoch loop, then writes the checkpoint as usual (e.g. wiqa-lda's LDA).
  std::function<void(Module& m, Dataset& train)> fit;
  // What the model looks at in a full camera frame: a face crop (the face tests) or the whole
  // frame (W-IQA judges the capture's quality, spec 002). fas serve routes its input by this.
  bool whole_frame = false;
};

// A model's module as its own class (a registry hook is handed the Module its build made); any
// other module is one fas::Error naming the model.
template <class M>
M& module_as(Module& m, const char* model) {
  auto* p = dynamic_cast<M*>(&m);
  if (!p) fail(std::string(model) + ": the module is a " + m.type_name() + ", not the model's own");
  return *p;
}

// Registers (or fails on a duplicate name / missing build / missing input-shape keys).
void register_model(ModelInfo info);
// Looks a model up; an unknown name is a fas::Error listing the known ones.
const ModelInfo& find_model(const std::string& name);
std::vector<std::string> model_names();

// The model with its random initialisation skipped (tensor/random.h SkipInit: weights zero,
// constants such as batch-norm gamma set), to load a checkpoint into:
//   auto m = build_uninitialised(find_model(ck.info.model), cfg); m->load_state_dict(ck.model);
std::shared_ptr<Module> build_uninitialised(const ModelInfo& m, const Json& cfg);

// Config = defaults with "key=value" overrides applied (errors name the key).
Json make_config(const ModelInfo& m, const std::vector<std::string>& overrides);
// [C, H, W] from the config's channels/height/width.
Shape input_shape(const Json& cfg);
// The model's input pipeline from its config (channels/height/width/normalize/resize). Image
// files give 1 or 3 channels; other channel counts (e.g. 2) work with summary/bench only.
ImageSpec image_spec(const Json& cfg);
// The forward's input shape without the batch: forward_input when set, else input_shape.
Shape forward_input_shape(const ModelInfo& m, const Json& cfg);

// Loss and scores of a model for a batch, using its overrides or its recipe's loss kind.
Tensor model_loss(const ModelInfo& m, Module& model, const Tensor& x, const Tensor& y);
std::vector<float> model_scores(const ModelInfo& m, Module& model, const Tensor& x);
// Live log-odds per row, log P(live) - log P(spoof), unsaturated (the `logits` override, or the
// logit itself for bce_logits and ce2; the inverted probability for custom scoring, clamped at 1e-12). Score
// fusion averages these. Anomaly models have none (an error).
std::vector<float> model_logits(const ModelInfo& m, Module& model, const Tensor& x);
// P(live) <-> live log-odds in double; the probability is clamped to [1e-12, 1 - 1e-12].
double live_log_odds(double p);
double live_probability(double log_odds);

// Calls every built-in model's registration once (idempotent; find_model calls it).
void register_builtin_models();

}  // namespace fas

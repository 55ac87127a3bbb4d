// Registers spec 000's models with the CLI registry (models/registry.h); wired in
// by one line in register_builtin_models(): register_stacked_ae_models();
//
//   cnn8        CNN8 classifier, softmax over 2 classes (class 1 = live), cross-entropy on the
//               logits. Keys: channels/height/width (NUAA crops: 128x128x3), dropout (0 = E1/E2),
//               init = a stacked-ae stage-4 checkpoint whose eight encoder convs initialise the
//               convs (E5; "" = random, E1-E3), the dense layer stays new.
//               normalize (all three models): the input normalisation (io/image.h); a stage's
//               `from` and CNN8's `init` checkpoint must have been trained with the same one.
//   stacked-ae  stage k of the greedy layer-wise procedure (§2): trains AE k on the code of the
//               frozen AE1..AE(k-1), loaded from `from` (the stage k-1 checkpoint). Loss MSE,
//               trained on all training images (live and spoof, as the thesis' AEs); its score is
//               the per-image reconstruction MSE of AE k's input (an anomaly score); its forward
//               maps the reconstruction back to an image through the frozen decoders, so
//               `fas eval` writes reconstructions.png (inputs above reconstructions) per stage.
//   deep-ae     the full deep AE (annex), trained end to end with MSE (the thesis could not).
// The pipeline (scripts/stacked_ae_pipeline.sh runs it as one command):
//   fas train --model stacked-ae --set stage=1 --data L --out R/ae1
//   fas train --model stacked-ae --set stage=2 --set from=R/ae1/last.safetensors --data L --out R/ae2
//   ... stage 3, 4 ...
//   fas train --model cnn8 --set init=R/ae4/last.safetensors --data L --val V --out R/cnn8
#include <cstdio>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "io/checkpoint.h"
#include "models/registry.h"
#include "models/stacked_ae.h"

namespace fas {

namespace {

StackedAEConfig model_config(const Json& cfg, Rng& rng) {
  StackedAEConfig c;
  c.channels = cfg.at("channels").get<int64_t>();
  c.height = cfg.at("height").get<int64_t>();
  c.width = cfg.at("width").get<int64_t>();
  c.seed = rng.next_u64();
  return c;
}

// A stage or CNN8 built on another stage's weights must see inputs normalised the same way, or
// the transferred encoders read inputs they were never trained on. Old checkpoints: "unit".
Checkpoint load_matching(const std::string& path, const Json& cfg, const char* key) {
  Checkpoint ck = load_checkpoint(path, "stacked-ae");
  // Compared as JSON values: a malformed value (say a number) is named, never a type error here.
  auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  const Json ours = cfg.value("normalize", Json("unit"));
  const Json stored = Json::parse(ck.info.config.empty() ? "{}" : ck.info.config, nullptr, false);
  const Json theirs = stored.is_object() ? stored.value("normalize", Json("unit")) : Json("unit");
  if (ours != theirs)
    fail(std::string(key) + " checkpoint '" + path + "' was trained with normalize=" + text(theirs) +
         ", this model has normalize=" + text(ours) + " (set the same --set normalize=...)");
  return ck;
}

std::vector<int64_t> labels_of(const Tensor& y) {
  std::vector<int64_t> l;
  for (float v : y.to_vector()) l.push_back(v > 0.5f ? 1 : 0);
  return l;
}

std::shared_ptr<Module> build_cnn8(const Json& cfg, Rng& rng) {
  StackedAEConfig c = model_config(cfg, rng);
  c.dropout = cfg.at("dropout").get<float>();
  auto cnn = std::make_shared<CNN8>(c);
  const std::string init = cfg.at("init").get<std::string>();
  if (!init.empty()) {
    Checkpoint ck = load_matching(init, cfg, "cnn8: init");
    GreedyStage stage4(4, c);
    stage4.load_lower(ck.model);  // AE1..AE3
    std::map<std::string, Tensor> ae4;
    for (auto& [n, t] : ck.model)
      if (n.rfind("ae4.", 0) == 0) ae4[n.substr(4)] = t;
    if (ae4.empty()) fail("cnn8: init checkpoint '" + init + "' is not a stacked-ae stage-4 checkpoint (no AE4)");
    stage4.aes[3]->load_state_dict(ae4);
    transfer_encoders(stage4.aes, *cnn);
  }
  // A linear probe of the (transferred) encoder: only the new dense layer trains.
  const Json freeze = cfg.value("freeze_convs", Json(false));
  if (!freeze.is_boolean()) fail("cnn8: config 'freeze_convs' must be true or false, got " + freeze.dump());
  if (freeze.get<bool>())
    for (auto& conv : cnn->convs) conv->freeze();
  return cnn;
}

std::shared_ptr<Module> build_stage(const Json& cfg, Rng& rng) {
  const int k = cfg.at("stage").get<int>();
  auto stage = std::make_shared<GreedyStage>(k, model_config(cfg, rng));
  const std::string from = cfg.at("from").get<std::string>();
  if (k > 1 && from.empty())  // fine for `fas summary`; training this way learns codes of random encoders
    std::fprintf(stderr, "stacked-ae: stage %d without --set from=<stage %d checkpoint>: AE1..AE%d are random\n", k,
                 k - 1, k - 1);
  else if (k > 1)
    stage->load_lower(load_matching(from, cfg, "stacked-ae: from").model);
  return stage;
}

}  // namespace

void register_stacked_ae_models() {
  ModelInfo cnn;
  cnn.name = "cnn8";
  cnn.description = "CNN8 (spec 000): 8 x [conv3x3 tanh, dropout, maxpool], dense 2, softmax; 6,295,378 params";
  cnn.defaults = {{"channels", 3}, {"height", 128}, {"width", 128}, {"dropout", 0.25}, {"init", ""},
                  {"freeze_convs", false}, {"normalize", "unit"}};
  // Thesis augmentation (flips, shear, "range", brightness; no magnitudes): horizontal flip (a
  // face's natural flip), shift and zoom 10 %, brightness 0.1.
  cnn.recipe = {20, 32, 1e-4f, "ce2", "flip=0.5,shift=0.1,zoom=0.1,brightness=0.1", false, "adam"};
  cnn.score = ScoreKind::LiveProbability;
  cnn.build = build_cnn8;
  cnn.loss = [](Module& m, const Tensor& x, const Tensor& y) {
    return cross_entropy(module_as<CNN8>(m, "cnn8").logits(x), labels_of(y));
  };
  cnn.scores = [](Module& m, const Tensor& x) {
    Tensor p = module_as<CNN8>(m, "cnn8")(x);  // softmax probabilities [N, 2]
    std::vector<float> s(x.size(0));
    for (int64_t i = 0; i < x.size(0); ++i) s[i] = p.data()[2 * i + 1];
    return s;
  };
  register_model(std::move(cnn));

  ModelInfo ae;
  ae.name = "stacked-ae";
  ae.description = "greedy layer-wise conv AE stage k (spec 000 §2): AE k on the frozen AE1..AE(k-1) code";
  ae.defaults = {{"channels", 3}, {"height", 128}, {"width", 128}, {"stage", 1}, {"from", ""}, {"normalize", "unit"}};
  ae.recipe = {10, 32, 1e-3f, "recon_mse", "none", false, "adam"};
  ae.score = ScoreKind::Anomaly;
  ae.build = build_stage;
  ae.loss = [](Module& m, const Tensor& x, const Tensor&) { return module_as<GreedyStage>(m, "stacked-ae").loss(x); };
  ae.scores = [](Module& m, const Tensor& x) {
    GreedyStage& s = module_as<GreedyStage>(m, "stacked-ae");
    Tensor in = s.stage_input(x);
    Tensor r = s.reconstruct_input(x);
    const int64_t n = x.size(0);
    return mean_dim(square(sub(r, in)).reshape({n, -1}), 1).to_vector();
  };
  register_model(std::move(ae));

  ModelInfo deep;
  deep.name = "deep-ae";
  deep.description = "full deep conv AE (spec 000 annex), trained end to end: 18,877,603 params";
  deep.defaults = {{"channels", 3}, {"height", 128}, {"width", 128}, {"normalize", "unit"}};
  deep.recipe = {10, 8, 1e-3f, "recon_mse", "none", false, "adam"};
  deep.score = ScoreKind::Anomaly;
  deep.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    return std::make_shared<DeepAE>(model_config(cfg, rng));
  };
  register_model(std::move(deep));
}

}  // namespace fas

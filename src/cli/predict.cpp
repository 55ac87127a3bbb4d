// fas predict: one JSON line per image, from one checkpoint or the fusion of several.
#include <cmath>
#include <cstdio>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace fas::cli {

namespace {

// One image as a model's input batch [1, C, H, W], normalised; a shape mismatch is an error
// naming both shapes unless resize.
Tensor model_input(const std::string& path, const LoadedModel& m, bool resize_ok) {
  const ImageSpec spec = image_spec(m.config);
  Tensor img = load_image(path, resize_ok ? spec.channels : 0);
  if (!resize_ok && (img.size(0) != spec.channels || img.size(1) != spec.height || img.size(2) != spec.width))
    fail("image '" + path + "' is " + shape_str(img.shape()) + " but model '" + m.info->name + "' expects " +
         shape_str({spec.channels, spec.height, spec.width}) + " [C, H, W]; pass --resize to convert it");
  img = resize(img, spec.height, spec.width, spec.resize);
  Tensor x = img.reshape({1, spec.channels, spec.height, spec.width});
  normalize_inplace(x, spec.norm);
  return x;
}

void print_decision(const std::string& path, float s, bool hil, double thr, Json extra = Json::object()) {
  const bool live = hil ? s >= thr : s <= thr;
  Json j = {{"image", path},
            {"score", s},
            {"score_kind", hil ? "p_live" : "anomaly"},
            {"threshold", thr},
            {"decision", live ? "live" : "spoof"}};
  j.update(extra);
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// predict with several checkpoints: the fused P(live) of eval's fusion, per image.
int run_predict_fusion(const PredictOptions& o) {
  std::vector<LoadedModel> ms = load_fusion(o.ckpts, o.engine, "predict", nullptr);
  const double thr = o.has_threshold ? o.threshold : 0.5;
  for (const auto& path : o.images) {
    std::vector<float> z;
    double sum = 0;
    for (const auto& m : ms) {
      z.push_back(model_logits(*m.info, *m.module, model_input(path, m, o.resize)).at(0));
      sum += z.back();
    }
    const float p = (float)live_probability(sum / (double)ms.size());
    print_decision(path, p, true, thr, {{"logits", z}});
  }
  return 0;
}

}  // namespace

int run_predict(const PredictOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpts.empty()) fail("predict: --ckpt is required");
  if (o.images.empty()) fail("predict: give at least one IMAGE");
  if (o.ckpts.size() > 1) return run_predict_fusion(o);
  LoadedModel m = load_model(o.ckpts[0]);
  const bool hil = m.info->score == ScoreKind::LiveProbability;
  const Scorer engine = make_engine_scorer(m, o.engine.name, o.engine.calib, o.engine.calib_n, o.common.seed);
  double thr = 0;
  if (o.has_threshold) thr = o.threshold;
  else if (!stored_threshold(m, &thr)) {
    if (!hil) fail("predict: checkpoint '" + o.ckpts[0] + "' stores no decision threshold; pass --threshold");
    thr = 0.5;
  }
  for (const auto& path : o.images) {
    Tensor x = model_input(path, m, o.resize);
    Json extra = Json::object();
    if (m.info->named_scores && !engine) {  // every named score beside the deciding one
      NoGradGuard ng;
      for (auto& [name, v] : m.info->named_scores(*m.module, x)) extra["scores"][name] = v.at(0);
    }
    print_decision(path, (engine ? engine(x) : model_scores(*m.info, *m.module, x)).at(0), hil, thr, extra);
  }
  return 0;
}

}  // namespace fas::cli

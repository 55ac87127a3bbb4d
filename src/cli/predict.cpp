// fas predict: one JSON line per image, from one checkpoint or the fusion of several.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

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

// Every image read, decoded and shape-checked before anything is scored or printed. The tensors
// are not kept (a long list would hold them all in memory): scoring decodes each again, which
// costs far less than the model.
void check_inputs(const std::vector<std::string>& images, const LoadedModel& m, bool resize_ok) {
  for (const auto& path : images) (void)model_input(path, m, resize_ok);
}

// One image's result line.
std::string decision_line(const std::string& path, float s, bool hil, double thr, Json extra = Json::object()) {
  const bool live = hil ? s >= thr : s <= thr;
  Json j = {{"image", path},
            {"score", s},
            {"score_kind", hil ? "p_live" : "anomaly"},
            {"threshold", thr},
            {"decision", live ? "live" : "spoof"}};
  j.update(extra);
  return j.dump();
}

// Results are printed only once every image is read and scored: an error on any one of them
// leaves stdout empty instead of a partial list.
void print_lines(const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
}

// predict with several checkpoints: the fused P(live) of eval's fusion, per image.
int run_predict_fusion(const PredictOptions& o) {
  std::vector<LoadedModel> ms = load_fusion(o.ckpts, o.engine, "predict", nullptr);
  const double thr = o.has_threshold ? o.threshold : 0.5;
  for (const auto& m : ms) check_inputs(o.images, m, o.resize);
  std::vector<std::string> lines;
  for (size_t i = 0; i < o.images.size(); ++i) {
    std::vector<float> z;
    double sum = 0;
    for (const auto& m : ms) {
      z.push_back(model_logits(*m.info, *m.module, model_input(o.images[i], m, o.resize)).at(0));
      sum += z.back();
    }
    const float p = (float)live_probability(sum / (double)ms.size());
    lines.push_back(decision_line(o.images[i], p, true, thr, {{"logits", z}}));
  }
  print_lines(lines);
  return 0;
}

}  // namespace

int run_predict(const PredictOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpts.empty()) fail("predict: --ckpt is required");
  if (o.images.empty()) fail("predict: give at least one IMAGE");
  if (o.ckpts.size() > 1) return run_predict_fusion(o);
  LoadedModel m = load_model(o.ckpts[0]);
  check_inputs(o.images, m, o.resize);
  const bool hil = m.info->score == ScoreKind::LiveProbability;
  const Scorer engine = make_engine_scorer(m, o.engine.name, o.engine.calib, o.engine.calib_n, o.common.seed);
  double thr = 0;
  if (o.has_threshold) thr = o.threshold;
  else if (!stored_threshold(m, &thr)) {
    if (!hil) fail("predict: checkpoint '" + o.ckpts[0] + "' stores no decision threshold; pass --threshold");
    thr = 0.5;
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < o.images.size(); ++i) {
    const Tensor x = model_input(o.images[i], m, o.resize);
    Json extra = Json::object();
    if (m.info->named_scores && !engine) {  // every named score beside the deciding one
      NoGradGuard ng;
      for (auto& [name, v] : m.info->named_scores(*m.module, x)) extra["scores"][name] = v.at(0);
    }
    const float s = (engine ? engine(x) : model_scores(*m.info, *m.module, x)).at(0);
    lines.push_back(decision_line(o.images[i], s, hil, thr, extra));
  }
  print_lines(lines);
  return 0;
}

}  // namespace fas::cli

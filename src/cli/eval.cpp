// fas eval and fas predict: score images with a trained checkpoint.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/atomic_file.h"
#include "io/plot.h"
#include "metrics/metrics.h"

namespace fas::cli {

namespace {

// The decision threshold stored at training time (validation EER threshold), if any.
bool stored_threshold(const LoadedModel& m, double* t) {
  auto it = m.ckpt.info.extra.find("threshold");
  if (it == m.ckpt.info.extra.end()) return false;
  try {
    *t = std::stod(it->second);
  } catch (const std::logic_error&) {
    return false;
  }
  return std::isfinite(*t);
}

std::unique_ptr<Dataset> open_set(const std::string& path, const ImageSpec& spec, const EvalOptions& o) {
  return std::make_unique<Dataset>(limit_samples(read_samples(path), o.limit, o.common.seed), spec, o.skip_bad, path);
}

// For reconstruction models: the first images of the set above their reconstructions.
void write_reconstruction_grid(const std::string& path, const LoadedModel& m, Dataset& ds) {
  LoaderOptions lo;
  lo.batch = 8;
  BatchLoader loader(ds, lo);
  Batch b;
  if (!loader.next(b)) return;
  Tensor recon;
  {
    NoGradGuard ng;
    recon = (*m.module)(b.x).clone();
  }
  if (recon.shape() != b.x.shape()) return;  // not an image-to-image model
  const Normalize& norm = ds.spec().norm;
  denormalize_inplace(b.x, norm);
  denormalize_inplace(recon, norm);
  plot::write_image_grid_png(path, {plot::unbatch(b.x), plot::unbatch(recon)});
}

}  // namespace

int run_eval(const EvalOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpt.empty() || o.data.empty()) fail("eval: --ckpt and --data are required");
  if (o.batch <= 0) fail("eval: --batch must be positive");
  LoadedModel m = load_model(o.ckpt);
  const ImageSpec spec = image_spec(m.config);
  auto test = open_set(o.data, spec, o);
  std::unique_ptr<Dataset> val = o.val.empty() ? nullptr : open_set(o.val, spec, o);
  const bool hil = m.info->score == ScoreKind::LiveProbability;

  ScoredSet ts = score_dataset(m, *test, (size_t)o.batch, false);
  if (ts.scores.empty()) fail("dataset '" + o.data + "': no readable images");
  metrics::Scores test_s{ts.scores, ts.labels}, val_s;
  metrics::EvalOptions eo;
  eo.higher_is_live = hil;
  double t = 0;
  if (o.has_threshold) eo.threshold = o.threshold;
  else if (!val && stored_threshold(m, &t)) eo.threshold = t;
  if (val) {
    ScoredSet vs = score_dataset(m, *val, (size_t)o.batch, false);
    val_s = {vs.scores, vs.labels};
  }
  metrics::Report r = metrics::evaluate(test_s, eo, val ? &val_s : nullptr);
  if (eo.threshold && !o.has_threshold) r.threshold_source = "checkpoint (validation EER at training)";

  const std::string out = o.common.out.empty()
                              ? join_path(std::filesystem::path(o.ckpt).parent_path().string(), "eval")
                              : o.common.out;
  make_dirs(out);
  std::printf("fas eval: %s on %s (%zu images%s)\n", o.ckpt.c_str(), o.data.c_str(), ts.scores.size(),
              test->bad_count() ? (", " + std::to_string(test->bad_count()) + " bad skipped").c_str() : "");
  std::printf("%s", r.to_table().c_str());
  plot::write_eval_artifacts(out, m.info->name, r, test_s);
  std::ostringstream sc;
  sc << "path,label,score\n";
  sc.precision(9);
  for (size_t i = 0; i < ts.scores.size(); ++i) sc << test->sample(ts.index[i]).path << ',' << ts.labels[i] << ',' << ts.scores[i] << '\n';
  io::write_file_atomic(join_path(out, "scores.csv"), sc.str());
  const bool recon = m.info->recipe.loss == "recon_mse";
  if (recon) write_reconstruction_grid(join_path(out, "reconstructions.png"), m, *test);
  std::printf("wrote metrics.json, metrics.csv, roc.csv, scores.csv, roc.svg, scores_hist.svg%s in %s\n",
              recon ? ", reconstructions.png" : "", out.c_str());
  return 0;
}

int run_predict(const PredictOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpt.empty()) fail("predict: --ckpt is required");
  if (o.images.empty()) fail("predict: give at least one IMAGE");
  LoadedModel m = load_model(o.ckpt);
  const ImageSpec spec = image_spec(m.config);
  const bool hil = m.info->score == ScoreKind::LiveProbability;
  double thr = 0;
  if (o.has_threshold) thr = o.threshold;
  else if (!stored_threshold(m, &thr)) {
    if (!hil) fail("predict: checkpoint '" + o.ckpt + "' stores no decision threshold; pass --threshold");
    thr = 0.5;
  }
  for (const auto& path : o.images) {
    Tensor img = load_image(path, o.resize ? spec.channels : 0);
    if (!o.resize && (img.size(0) != spec.channels || img.size(1) != spec.height || img.size(2) != spec.width))
      fail("image '" + path + "' is " + shape_str(img.shape()) + " but model '" + m.info->name + "' expects " +
           shape_str({spec.channels, spec.height, spec.width}) + " [C, H, W]; pass --resize to convert it");
    img = resize(img, spec.height, spec.width, spec.resize);
    Tensor x = img.reshape({1, spec.channels, spec.height, spec.width});
    normalize_inplace(x, spec.norm);
    float s = model_scores(*m.info, *m.module, x).at(0);
    const bool live = hil ? s >= thr : s <= thr;
    Json j = {{"image", path},
              {"score", s},
              {"score_kind", hil ? "p_live" : "anomaly"},
              {"threshold", thr},
              {"decision", live ? "live" : "spoof"}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace fas::cli

// fas eval: score a list with a trained checkpoint, or the fusion of several, and report the metrics.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/fusion.h"
#include "io/image.h"
#include "io/atomic_file.h"
#include "io/plot.h"
#include "metrics/groups.h"
#include "metrics/metrics.h"
#include "metrics/mixture.h"

namespace fas::cli {

namespace {

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

// A deployment engine against the graph it came from, on the same images: how often the two
// decide alike at the report's threshold, and how far the scores move.
void write_engine_agreement(const std::string& path, const LoadedModel& m, Dataset& ds, size_t batch,
                            const EngineOptions& e, int64_t calib_used, const ScoredSet& es,
                            const metrics::Report& r) {
  ScoredSet gs = score_dataset(m, ds, batch, false);
  if (gs.index != es.index) fail("engine and graph scored different images of '" + ds.name() + "'");
  const bool hil = r.higher_is_live;
  size_t same = 0;
  double sum_d = 0, max_d = 0;
  for (size_t i = 0; i < gs.scores.size(); ++i) {
    const bool a = hil ? gs.scores[i] >= r.threshold : gs.scores[i] <= r.threshold;
    const bool b = hil ? es.scores[i] >= r.threshold : es.scores[i] <= r.threshold;
    same += a == b;
    const double d = std::fabs((double)gs.scores[i] - (double)es.scores[i]);
    sum_d += d, max_d = std::max(max_d, d);
  }
  const double n = (double)std::max<size_t>(1, gs.scores.size());
  metrics::Scores g{gs.scores, gs.labels};
  metrics::EvalOptions eo;
  eo.higher_is_live = hil;
  eo.threshold = r.threshold;
  metrics::Report gr = metrics::evaluate(g, eo);
  // Calibration: the list and the number of images actually read; null for engines without one.
  const Json cal_list = calib_used > 0 ? Json(e.calib) : Json(nullptr), cal_n = calib_used > 0 ? Json(calib_used) : Json(nullptr);
  const Json cal_clip = calib_used <= 0 ? Json(nullptr) : e.calib_pct > 0 ? Json(e.calib_pct) : Json("max-abs");
  Json j = {{"engine", e.name},          {"calibration_list", cal_list},  {"calibration_images", cal_n},
            {"calibration_clip", cal_clip},
            {"images", gs.scores.size()}, {"threshold", r.threshold},      {"decision_agreement", same / n},
            {"mean_abs_score_diff", sum_d / n}, {"max_abs_score_diff", max_d},
            {"engine_acer", r.acer},      {"graph_acer", gr.acer},          {"engine_accuracy", r.accuracy},
            {"graph_accuracy", gr.accuracy}, {"engine_auc", r.auc},         {"graph_auc", gr.auc}};
  io::write_file_atomic(path, j.dump(2) + "\n");
  std::printf("engine %s vs graph: %.2f %% same decisions at threshold %.4g, mean |dscore| %.4g (max %.4g); "
              "ACER %.2f %% vs %.2f %%\n",
              e.name.c_str(), 100 * same / n, r.threshold, sum_d / n, max_d, 100 * r.acer, 100 * gr.acer);
}

void check_threshold_flags(const EvalOptions& o) {
  if (o.adapt_threshold && (o.has_threshold || !o.val.empty()))
    fail("eval: --adapt-threshold sets the threshold itself; drop --threshold / --val");
  if (o.live_quantile > 0 && (o.val.empty() || o.has_threshold || o.adapt_threshold || o.ckpts.size() > 1))
    fail("eval: --live-quantile takes the threshold from the live images of --val LIST, for one checkpoint; "
         "give --val and drop --threshold / --adapt-threshold");
}

std::regex group_regex(const std::string& re) {
  try {
    return std::regex(re, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail("eval: --group-by '" + re + "' is not a regular expression (" + e.what() + ")");
  }
}

// Before anything is scored: the pattern compiles and finds a group in at least one listed path.
// Compiled once here; null without --group-by.
std::unique_ptr<std::regex> checked_group_regex(const EvalOptions& o) {
  if (o.group_by.empty()) return nullptr;
  auto rx = std::make_unique<std::regex>(group_regex(o.group_by));
  const std::vector<Sample> all = read_samples(o.data);
  for (const Sample& x : all)
    if (metrics::group_key(x.path, *rx) != metrics::kNoGroup) return rx;
  fail("eval: --group-by '" + o.group_by + "' matches none of the " + std::to_string(all.size()) +
       " image paths of '" + o.data + "'" + (all.empty() ? "" : " (e.g. '" + all[0].path + "')"));
}

// --group-by: the errors of each group at the report's threshold, printed and in groups.csv.
void write_groups(const std::string& out, const std::regex& rx, const std::string& re, const metrics::Report& r,
                  const metrics::Scores& s, const Dataset& ds, const ScoredSet& ts) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < ts.scores.size(); ++i) keys.push_back(metrics::group_key(ds.sample(ts.index[i]).path, rx));
  const auto g = metrics::group_errors(keys, s, r.threshold, r.higher_is_live);
  std::printf("errors per group (--group-by '%s') at threshold %.4g:\n%s", re.c_str(), r.threshold,
              metrics::groups_table(g).c_str());
  io::write_file_atomic(join_path(out, "groups.csv"), metrics::groups_csv(g));
}

// --adapt-threshold: the mixture cut of the evaluated scores x (log-odds for P(live) models),
// returned in score units (P(live) or the anomaly score).
double adapted_threshold(const std::vector<double>& x, bool logodds) {
  const metrics::Mixture g = metrics::fit_two_gaussians(x);
  std::printf("adapted threshold (transductive, labels unused): %s %.4g between components at %.4g (sd %.3g, "
              "%.0f %%) and %.4g (sd %.3g, %.0f %%)\n",
              logodds ? "log-odds" : "score", g.threshold, g.mean[0], g.stddev[0], 100 * g.weight[0], g.mean[1],
              g.stddev[1], 100 * g.weight[1]);
  return logodds ? live_probability(g.threshold) : g.threshold;
}
constexpr const char* kAdaptedSource = "adapted: two-Gaussian mixture on the evaluated scores (labels unused)";

// The report on the terminal, the plots and metrics files, and scores.csv (path, label, score,
// then any extra columns, e.g. each fused model's log-odds).
void write_report(const std::string& out, const std::string& model_name, const metrics::Report& r,
                  const metrics::Scores& s, const Dataset& ds, const ScoredSet& ts, const EvalOptions& o,
                  const std::regex* group_rx, const std::vector<std::string>& extra_names = {},
                  const std::vector<std::vector<float>>& extra = {}) {
  std::printf("%s", r.to_table().c_str());
  if (group_rx) write_groups(out, *group_rx, o.group_by, r, s, ds, ts);
  plot::write_eval_artifacts(out, model_name, r, s);
  std::ostringstream sc;
  sc << "path,label,score";
  for (const auto& n : extra_names) sc << ',' << n;
  sc << '\n';
  sc.precision(9);
  for (size_t i = 0; i < ts.scores.size(); ++i) {
    sc << ds.sample(ts.index[i]).path << ',' << ts.labels[i] << ',' << ts.scores[i];
    for (const auto& col : extra) sc << ',' << col[i];
    sc << '\n';
  }
  io::write_file_atomic(join_path(out, "scores.csv"), sc.str());
}

// Models with several named scores (models/registry.h named_scores): one pass scores every image
// with all of them; the scorer returns the first (the model's `scores`) and keeps the rest.
struct NamedColumns {
  std::vector<std::string> names;
  std::vector<std::vector<float>> cols;  // in the order the images are scored
};
Scorer named_scorer(const LoadedModel& m, NamedColumns* out) {
  return [&m, out](const Tensor& x) {
    NoGradGuard ng;
    auto s = m.info->named_scores(*m.module, x);
    if (s.empty()) fail("model '" + m.info->name + "' gave no named scores");
    if (out->names.empty())
      for (auto& kv : s) out->names.push_back(kv.first), out->cols.emplace_back();
    for (size_t k = 0; k < s.size(); ++k) out->cols[k].insert(out->cols[k].end(), s[k].second.begin(), s[k].second.end());
    return s.front().second;
  };
}

// The `q` quantile of the scores of the live images.
double live_quantile(const std::vector<float>& scores, const std::vector<int>& labels, double q, const std::string& list) {
  std::vector<double> live;
  for (size_t i = 0; i < scores.size(); ++i)
    if (labels[i] == 1) live.push_back(scores[i]);
  if (live.empty()) fail("eval: --live-quantile: '" + list + "' has no live (label 1) images");
  return metrics::quantile(std::move(live), q);
}

// Every named score's metrics on the test list, at its own threshold from --val's live images
// (--live-quantile) or else at the test list's EER threshold: printed and in named_scores.json.
void write_named_scores(const std::string& out, const NamedColumns& test, const std::vector<int>& test_labels,
                        const NamedColumns* val, const std::vector<int>& val_labels, const EvalOptions& o) {
  Json all = Json::object();
  std::printf("every score (anomaly, higher = spoof):\n  %-8s %12s  %-24s %8s %8s %8s %8s %7s\n", "score",
              "threshold", "threshold from", "APCER", "BPCER", "ACER", "EER", "AUC");
  for (size_t k = 0; k < test.names.size(); ++k) {
    metrics::EvalOptions eo;
    eo.higher_is_live = false;
    std::string source = "test EER (optimistic)";
    if (val && o.live_quantile > 0) {
      eo.threshold = live_quantile(val->cols[k], val_labels, o.live_quantile, o.val);
      source = "q" + std::to_string((int)std::lround(100 * o.live_quantile)) + " of live --val";
    }
    metrics::Report r = metrics::evaluate({test.cols[k], test_labels}, eo);
    std::printf("  %-8s %12.6g  %-24s %7.2f%% %7.2f%% %7.2f%% %7.2f%% %7.4f\n", test.names[k].c_str(), r.threshold,
                source.c_str(), 100 * r.apcer, 100 * r.bpcer, 100 * r.acer, 100 * r.eer, r.auc);
    all[test.names[k]] = {{"threshold", r.threshold}, {"threshold_source", source}, {"apcer", r.apcer},
                          {"bpcer", r.bpcer}, {"acer", r.acer}, {"eer", r.eer}, {"auc", r.auc}};
  }
  io::write_file_atomic(join_path(out, "named_scores.json"), all.dump(2) + "\n");
}

std::string default_out(const EvalOptions& o, const char* name) {
  return o.common.out.empty() ? join_path(std::filesystem::path(o.ckpts[0]).parent_path().string(), name)
                              : o.common.out;
}

// Score fusion of several P(live) models: each scores the list through its own input spec (size,
// channels, normalisation), and the fused score is sigmoid(mean of their live log-odds). Equal
// weights, none fitted: every model here fits its training list almost perfectly, so that list
// cannot say how far to trust each one on other sessions. `per_model` gets each model's log-odds,
// `fused` (optional) their mean.
ScoredSet fused_scores(const std::vector<LoadedModel>& ms, const std::string& list, const EvalOptions& o,
                       std::unique_ptr<Dataset>* first, std::vector<std::vector<float>>* per_model,
                       std::vector<double>* fused = nullptr) {
  ScoredSet acc;
  std::vector<double> sum;
  for (size_t k = 0; k < ms.size(); ++k) {
    const LoadedModel& m = ms[k];
    auto ds = open_set(list, image_spec(m.config), o);
    const Scorer logits = [&m](const Tensor& x) { return model_logits(*m.info, *m.module, x); };
    ScoredSet s = score_dataset(m, *ds, (size_t)o.batch, false, logits);
    if (k == 0) {
      acc = s;
      sum.assign(s.scores.size(), 0.0);
      *first = std::move(ds);
    } else if (s.index != acc.index) {
      fail("eval: checkpoints '" + o.ckpts[0] + "' and '" + o.ckpts[k] + "' read different images of '" + list +
           "' (an image one of them cannot load?)");
    }
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += s.scores[i];
    if (per_model) per_model->push_back(std::move(s.scores));
  }
  for (double& z : sum) z /= (double)ms.size();
  for (size_t i = 0; i < sum.size(); ++i) acc.scores[i] = (float)live_probability(sum[i]);
  if (fused) *fused = std::move(sum);
  return acc;
}

int run_eval_fusion(const EvalOptions& o, const std::regex* group_rx) {
  std::string name;
  std::vector<LoadedModel> ms = load_fusion(o.ckpts, o.engine, "eval", &name);
  std::unique_ptr<Dataset> test, val;
  std::vector<std::vector<float>> per_model;
  std::vector<double> z;  // the fused log-odds, unsaturated
  ScoredSet ts = fused_scores(ms, o.data, o, &test, &per_model, &z);
  if (ts.scores.empty()) fail("dataset '" + o.data + "': no readable images");
  metrics::Scores test_s{ts.scores, ts.labels}, val_s;
  metrics::EvalOptions eo;
  eo.higher_is_live = true;
  if (o.has_threshold) eo.threshold = o.threshold;
  if (o.adapt_threshold) {
    eo.threshold = adapted_threshold(z, true);
  } else if (!o.val.empty()) {
    ScoredSet vs = fused_scores(ms, o.val, o, &val, nullptr);
    val_s = {vs.scores, vs.labels};
  } else if (!o.has_threshold) {
    eo.threshold = 0.5;  // the members' stored thresholds belong to their own scores, not the mean
  }
  metrics::Report r = metrics::evaluate(test_s, eo, val ? &val_s : nullptr);
  if (o.adapt_threshold) r.threshold_source = kAdaptedSource;
  else if (o.val.empty() && !o.has_threshold) r.threshold_source = "0.5 on the fused P(live) (no --val, no --threshold)";
  const std::string out = default_out(o, "eval_fusion");
  make_dirs(out);
  std::printf("fas eval: %s of %zu checkpoints on %s (%zu images%s)\n", name.c_str(), ms.size(), o.data.c_str(),
              ts.scores.size(), test->bad_count() ? (", " + std::to_string(test->bad_count()) + " bad skipped").c_str() : "");
  std::vector<std::string> cols;
  for (size_t k = 0; k < ms.size(); ++k) cols.push_back("logit_" + std::to_string(k + 1));
  write_report(out, name, r, test_s, *test, ts, o, group_rx, cols, per_model);
  std::printf("wrote metrics.json, metrics.csv, roc.csv, scores.csv (with each model's log-odds), roc.svg, "
              "scores_hist.svg%s in %s\n", o.group_by.empty() ? "" : ", groups.csv", out.c_str());
  return 0;
}

// A learned fusion (cli/fusion.h): every image through the serving path (its face crop by the
// detector on frames), the members' log-odds fused by the LDA, at a fixed threshold (--threshold,
// default 0.5: nothing is chosen on the evaluated list). An image without a face is rejected
// (P(live) = 0, an attack refused or a bona fide presentation refused) and counted.
int run_eval_learned_fusion(const EvalOptions& o, const std::regex* group_rx) {
  if (o.adapt_threshold || !o.val.empty() || (!o.engine.name.empty() && o.engine.name != "graph"))
    fail("eval: a learned fusion is scored by its members' graphs at a fixed threshold (--threshold, default 0.5); "
         "drop --val / --adapt-threshold / --engine");
  const Fusion fz = load_fusion_checkpoint(o.ckpts[0]);
  const Detector det = default_detector();
  Dataset ds(limit_samples(read_samples(o.data), o.limit, o.common.seed), image_spec(fz.members[0].config), o.skip_bad, o.data);
  const size_t K = fz.members.size();
  ScoredSet ts;
  std::vector<std::vector<float>> cols(K + 1);
  size_t no_face = 0, bad = 0;
  Progress bar("scoring", ds.size(), stdout_is_tty());
  for (size_t i = 0; i < ds.size(); ++i) {
    Tensor img;
    try {
      img = load_image(ds.sample(i).path, 3);
    } catch (const Error&) {
      if (!o.skip_bad) throw;
      ++bad;
      continue;
    }
    std::vector<double> z;
    const bool face = member_log_odds(fz.members, img, det, &z);
    no_face += !face;
    const double fused = face ? fz.lda.decision(z.data()) : -INFINITY;
    for (size_t k = 0; k < K; ++k) cols[k].push_back(face ? (float)z[k] : NAN);
    cols[K].push_back((float)fused);
    ts.scores.push_back(face ? (float)live_probability(fused) : 0.f);
    ts.labels.push_back(ds.sample(i).label);
    ts.index.push_back(i);
    bar.update(i + 1);
  }
  if (ts.scores.empty()) fail("dataset '" + o.data + "': no readable images");
  metrics::Scores test_s{ts.scores, ts.labels};
  metrics::EvalOptions eo;
  eo.threshold = o.has_threshold ? o.threshold : 0.5;
  metrics::Report r = metrics::evaluate(test_s, eo);
  r.threshold_source = o.has_threshold ? "given" : "0.5 on the fused P(live) (the LDA's own rule)";
  const std::string out = default_out(o, "eval");
  make_dirs(out);
  bar.finish("fas eval: " + fz.name + " on " + o.data + " (" + std::to_string(ts.scores.size()) + " images, " +
             std::to_string(no_face) + " without a face: rejected" + (bad ? ", " + std::to_string(bad) + " bad skipped" : "") + ")");
  std::vector<std::string> names;
  for (size_t k = 0; k < K; ++k) names.push_back("logit_" + fz.members[k].info->name);
  names.push_back("fused_logit");
  write_report(out, fz.name, r, test_s, ds, ts, o, group_rx, names, cols);
  io::write_file_atomic(join_path(out, "fusion.json"),
                        Json{{"members", fz.member_paths}, {"coef", fz.lda.coef}, {"intercept", fz.lda.intercept},
                             {"images", ts.scores.size()}, {"no_face", no_face}}.dump(2) + "\n");
  std::printf("wrote metrics.json, metrics.csv, roc.csv, scores.csv (with each member's log-odds), fusion.json, roc.svg, "
              "scores_hist.svg%s in %s\n", o.group_by.empty() ? "" : ", groups.csv", out.c_str());
  return 0;
}

}  // namespace

int run_eval(const EvalOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpts.empty() || o.data.empty()) fail("eval: --ckpt and --data are required");
  if (o.batch <= 0) fail("eval: --batch must be positive");
  check_threshold_flags(o);
  const std::unique_ptr<std::regex> group_rx = checked_group_regex(o);
  if (o.ckpts.size() == 1 && is_fusion_checkpoint(o.ckpts[0])) return run_eval_learned_fusion(o, group_rx.get());
  if (o.ckpts.size() > 1) return run_eval_fusion(o, group_rx.get());
  const std::string& ckpt = o.ckpts[0];
  LoadedModel m = load_model(ckpt);
  const ImageSpec spec = image_spec(m.config);
  auto test = open_set(o.data, spec, o);
  std::unique_ptr<Dataset> val = o.val.empty() ? nullptr : open_set(o.val, spec, o);
  const bool hil = m.info->score == ScoreKind::LiveProbability;

  int64_t calib_used = 0;
  const Scorer engine =
      make_engine_scorer(m, o.engine, o.common.seed, &calib_used);
  if (o.live_quantile > 0 && hil) fail("eval: --live-quantile is for anomaly-score models; '" + m.info->name + "' gives P(live)");
  NamedColumns named, val_named;
  const bool many = m.info->named_scores && !engine;
  ScoredSet ts = score_dataset(m, *test, (size_t)o.batch, false, many ? named_scorer(m, &named) : engine);
  if (ts.scores.empty()) fail("dataset '" + o.data + "': no readable images");
  metrics::Scores test_s{ts.scores, ts.labels}, val_s;
  metrics::EvalOptions eo;
  eo.higher_is_live = hil;
  double t = 0;
  if (o.has_threshold) eo.threshold = o.threshold;
  else if (o.adapt_threshold) {
    std::vector<double> x;
    if (!hil) {
      x.assign(ts.scores.begin(), ts.scores.end());
    } else if (engine) {
      for (float p : ts.scores) x.push_back(live_log_odds(p));  // engines give P(live) only
    } else {
      const Scorer logits = [&m](const Tensor& in) { return model_logits(*m.info, *m.module, in); };
      ScoredSet zs = score_dataset(m, *test, (size_t)o.batch, false, logits);
      x.assign(zs.scores.begin(), zs.scores.end());
    }
    eo.threshold = adapted_threshold(x, hil);
  } else if (!val && stored_threshold(m, &t)) eo.threshold = t;
  if (val) {
    ScoredSet vs = score_dataset(m, *val, (size_t)o.batch, false, many ? named_scorer(m, &val_named) : engine);
    val_s = {vs.scores, vs.labels};
    if (o.live_quantile > 0) eo.threshold = live_quantile(vs.scores, vs.labels, o.live_quantile, o.val);
  }
  const bool val_eer = val && o.live_quantile == 0;
  metrics::Report r = metrics::evaluate(test_s, eo, val_eer ? &val_s : nullptr);
  if (o.adapt_threshold) r.threshold_source = kAdaptedSource;
  else if (o.live_quantile > 0)
    r.threshold_source = "quantile " + std::to_string(o.live_quantile) + " of the live scores of " + o.val;
  else if (eo.threshold && !o.has_threshold) r.threshold_source = "checkpoint (validation EER at training)";

  const std::string out = default_out(o, "eval");
  make_dirs(out);
  std::printf("fas eval: %s on %s (%zu images%s)\n", ckpt.c_str(), o.data.c_str(), ts.scores.size(),
              test->bad_count() ? (", " + std::to_string(test->bad_count()) + " bad skipped").c_str() : "");
  write_report(out, m.info->name, r, test_s, *test, ts, o, group_rx.get(), named.names, named.cols);
  if (many) write_named_scores(out, named, ts.labels, val ? &val_named : nullptr, val_s.labels, o);
  if (engine) write_engine_agreement(join_path(out, "engine.json"), m, *test, (size_t)o.batch, o.engine, calib_used, ts, r);
  const bool recon = m.info->score == ScoreKind::Anomaly;  // reconstruction models (the grid skips others)
  if (recon) write_reconstruction_grid(join_path(out, "reconstructions.png"), m, *test);
  std::printf("wrote metrics.json, metrics.csv, roc.csv, scores.csv, roc.svg, scores_hist.svg%s%s%s%s in %s\n",
              o.group_by.empty() ? "" : ", groups.csv", engine ? ", engine.json" : "", recon ? ", reconstructions.png" : "",
              many ? ", named_scores.json" : "", out.c_str());
  return 0;
}

}  // namespace fas::cli

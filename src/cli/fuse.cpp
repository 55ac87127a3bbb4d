// fas fuse: fits a learned fusion (cli/fusion.h) on out-of-fold scores.
//
// For each fold f of k (subjects split by subject_fold), every member is retrained from its
// checkpoint's model, config and training settings on its --train list without fold f's
// subjects, then scores the --data images of fold f's subjects through the serving path (face
// crop by the detector on frames). The LDA is fitted on these scores -- no score comes from a
// model that saw the image's subject -- and saved with the members' own (full-data) checkpoints.
// Why not fit on the members' training scores: every member fits its training list almost
// perfectly, so those scores cannot say how far each test carries to new subjects.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/fusion.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "metrics/groups.h"
#include "metrics/metrics.h"

namespace fas::cli {

namespace {

// The training options that made checkpoint m (model, config, recipe settings, epochs), on list.
TrainOptions retrain_options(const LoadedModel& m, const std::string& list, const FuseOptions& o, const std::string& out) {
  TrainOptions t;
  t.model = m.info->name;
  t.data = list;
  t.common.out = out;
  t.common.threads = o.common.threads;
  t.quiet = true;
  for (auto& [k, v] : m.config.items()) t.set.push_back(k + "=" + v.dump());
  t.epochs = (int)std::max<int64_t>(1, m.ckpt.info.epoch);
  if (o.fold_epochs > 0) t.epochs = std::min(t.epochs, o.fold_epochs);  // a cap: closed-form fits ignore it
  const auto it = m.ckpt.info.extra.find("fas_train");
  const Json run = it == m.ckpt.info.extra.end() ? Json::object() : Json::parse(it->second, nullptr, false);
  if (run.is_object()) {
    if (run.contains("batch")) t.batch = run["batch"];
    if (run.contains("lr")) t.lr = run["lr"];
    if (run.contains("lr_schedule")) t.lr_schedule = run["lr_schedule"];
    if (run.contains("augment")) t.augment = run["augment"];
    if (run.contains("ema")) t.ema = run["ema"];
    if (run.contains("weight_decay")) t.weight_decay = run["weight_decay"];
    if (run.contains("seed")) t.common.seed = run["seed"], t.common.seed_set = true;
  }
  return t;
}

void write_list(const std::string& path, const std::vector<Sample>& items) {
  std::ostringstream s;
  for (const auto& x : items) s << std::filesystem::absolute(x.path).string() << ' ' << x.label << '\n';
  io::write_file_atomic(path, s.str());
}

}  // namespace

int run_fuse(const FuseOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpts.empty() || o.data.empty() || o.common.out.empty()) fail("fuse: --ckpt, --data and --out are required");
  if (o.train.size() != o.ckpts.size())
    fail("fuse: give one --train list per --ckpt (the list each member was trained on), in the same order; got " +
         std::to_string(o.ckpts.size()) + " --ckpt and " + std::to_string(o.train.size()) + " --train");
  if (o.folds < 2) fail("fuse: --folds must be at least 2");
  std::vector<LoadedModel> finals = load_fusion(o.ckpts, EngineOptions{}, "fuse", nullptr);
  const std::vector<Sample> items = read_samples(o.data);
  std::vector<std::vector<Sample>> trains;
  for (const auto& t : o.train) trains.push_back(read_samples(t));
  // Every fold must hold subjects of the fusion list and leave training images for each member.
  std::vector<int> item_fold;
  for (const auto& x : items) item_fold.push_back(metrics::subject_fold(x.path, o.group_by, o.folds));
  const std::string& out = o.common.out;
  make_dirs(out);
  const Detector det = default_detector();
  const size_t K = finals.size();
  std::vector<std::vector<double>> oof(items.size());
  std::vector<char> has(items.size(), 0);
  size_t no_face = 0;
  for (int f = 0; f < o.folds; ++f) {
    size_t held = 0;
    for (int g : item_fold) held += g == f;
    if (held == 0) fail("fuse: fold " + std::to_string(f) + " of " + std::to_string(o.folds) + " holds no image of '" +
                        o.data + "' (fewer subjects than folds?)");
    const std::string dir = join_path(out, "fold" + std::to_string(f));
    make_dirs(dir);
    std::vector<LoadedModel> ms;
    for (size_t k = 0; k < K; ++k) {
      std::vector<Sample> keep;
      for (const auto& x : trains[k])
        if (metrics::subject_fold(x.path, o.group_by, o.folds) != f) keep.push_back(x);
      const std::string list = join_path(dir, "train_" + std::to_string(k) + ".txt");
      write_list(list, keep);
      const std::string mdir = join_path(dir, "member_" + std::to_string(k));
      std::printf("fas fuse: fold %d/%d: training %s on %zu images (%s)\n", f + 1, o.folds, finals[k].info->name.c_str(),
                  keep.size(), list.c_str());
      std::fflush(stdout);
      run_train(retrain_options(finals[k], list, o, mdir));
      ms.push_back(load_model(join_path(mdir, "last.safetensors")));
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (item_fold[i] != f) continue;
      if (member_log_odds(ms, load_image(items[i].path, 3), det, &oof[i])) has[i] = 1;
      else ++no_face;
    }
  }
  // The fit on the out-of-fold log-odds of the images with a face.
  std::vector<double> X;
  std::vector<int> y;
  std::ostringstream csv;
  csv << "path,label,fold";
  for (size_t k = 0; k < K; ++k) csv << ",logit_" << k + 1;
  csv << '\n';
  csv.precision(9);
  for (size_t i = 0; i < items.size(); ++i) {
    csv << items[i].path << ',' << items[i].label << ',' << item_fold[i];
    for (size_t k = 0; k < K; ++k) csv << ',' << (has[i] ? std::to_string(oof[i][k]) : "");
    csv << '\n';
    if (!has[i]) continue;
    X.insert(X.end(), oof[i].begin(), oof[i].end());
    y.push_back(items[i].label);
  }
  io::write_file_atomic(join_path(out, "oof_scores.csv"), csv.str());
  const iqa::LdaModel lda = iqa::fit_shrinkage_lda(X, y, (int)K);
  std::printf("fas fuse: %zu out-of-fold rows (%zu images without a face left out), %d folds by '%s'\n", y.size(), no_face,
              o.folds, o.group_by.c_str());
  // Each member's out-of-fold quality and the fusion's, at P(live) = 0.5 (not a test figure).
  std::vector<std::string> names;
  std::vector<std::string> models;
  for (size_t k = 0; k <= K; ++k) {
    metrics::Scores s;
    for (size_t r = 0; r < y.size(); ++r) {
      const double z = k < K ? X[r * K + k] : lda.decision(&X[r * K]);
      s.scores.push_back((float)live_probability(z));
      s.labels.push_back(y[r]);
    }
    metrics::EvalOptions eo;
    eo.threshold = 0.5;
    const metrics::Report rep = metrics::evaluate(s, eo);
    std::printf("  %-18s %s  out-of-fold ACER %6.2f %%  AUC %.4f\n", k < K ? finals[k].info->name.c_str() : "fused (lda)",
                k < K ? ("coef " + std::to_string(lda.coef[k])).c_str() : ("intercept " + std::to_string(lda.intercept)).c_str(),
                100 * rep.acer, rep.auc);
  }
  for (const auto& m : finals) models.push_back(m.info->name);
  const std::string path = join_path(out, "fusion.safetensors");
  save_fusion_checkpoint(path, o.ckpts, models, lda,
                         {{"fas_fuse", Json{{"data", o.data}, {"train", o.train}, {"folds", o.folds}, {"group_by", o.group_by},
                                            {"fold_epochs", o.fold_epochs}, {"rows", y.size()}, {"no_face", no_face}}.dump()}});
  std::printf("wrote %s (members: the --ckpt files) and oof_scores.csv in %s\n", path.c_str(), out.c_str());
  return 0;
}

}  // namespace fas::cli

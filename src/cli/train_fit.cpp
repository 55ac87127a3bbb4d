#include "cli/train_fit.h"

#include <chrono>
#include <cstdio>

#include "cli/report.h"
#include "io/checkpoint.h"

namespace fas::cli {

int run_train_fit(const TrainOptions& o, const std::string& name, const Json& cfg, LoadedModel& m, Dataset& train,
                  Dataset* val) {
  const ModelInfo& info = *m.info;
  if (!o.resume.empty()) fail("train: model '" + name + "' is fitted in closed form; there is nothing to resume");
  const std::string out = o.common.out.empty() ? "runs/" + name : o.common.out;
  if (!o.quiet)
    std::printf("fas train: model %s, %zu train images (%lld live)%s, closed-form fit, out %s\n", name.c_str(),
                train.size(), (long long)train.live_count(), val ? (", " + std::to_string(val->size()) + " val").c_str() : "",
                out.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  m.module->train();
  info.fit(*m.module, train);
  m.module->eval();
  EpochRecord rec;
  rec.epoch = 1;
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rec.items_per_s = rec.seconds > 0 ? train.size() / rec.seconds : 0;
  rec.skipped = (int64_t)train.bad_count();
  if (val) rec.val = validation_metrics(score_dataset(m, *val, 16, true), info.score == ScoreKind::LiveProbability);
  History hist;
  hist.add(rec);
  hist.set_train_set((int64_t)train.size(), (int64_t)train.live_count());

  CheckpointInfo ci;
  ci.model = name;
  ci.config = cfg.dump();
  ci.epoch = 1;
  ci.extra["history"] = hist.to_json();
  ci.extra["fas_train"] = Json{{"fit", "closed-form"}, {"seed", o.common.seed}}.dump();
  if (rec.val.has_threshold) ci.extra["threshold"] = Json(rec.val.threshold).dump();
  else if (info.score == ScoreKind::LiveProbability) ci.extra["threshold"] = "0.5";
  make_dirs(out);  // only now: a failed fit leaves no directory behind
  const std::string last = join_path(out, "last.safetensors"), best = join_path(out, "best.safetensors");
  save_checkpoint(last, ci, *m.module, nullptr);
  save_checkpoint(best, ci, *m.module, nullptr);
  write_history_files(out, hist);
  if (!o.quiet) {
    std::printf("fitted in %.1f s (%zu bad images skipped)%s\n", rec.seconds, train.bad_count(),
                val ? ("; validation: " + rec.line(1)).c_str() : "");
    std::printf("checkpoints: %s, %s\n", best.c_str(), last.c_str());
  }
  return 0;
}

}  // namespace fas::cli

// fas train: the training loop with validation, checkpoints, history and resume.
//
// Resume contract: a run resumed from its "last" checkpoint continues bit-identically to an
// uninterrupted run (same seed, one thread), because every source of randomness is a pure
// function of (seed, epoch, item): the shuffle order, the per-item augmentation stream; the
// model, optimizer state (Adam moments and step), BN buffers and the history come from the
// checkpoint, which is written at the end of each epoch. Dropout layers own a generator whose
// state is not a tensor, so each epoch reseeds them from (seed, epoch, layer position) instead.
// (Random state a model keeps elsewhere is outside this contract.)
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/report.h"
#include "cli/train_fit.h"
#include "io/plot.h"
#include "layers/layers.h"
#include "optim/ema.h"
#include "optim/optim.h"

namespace fas::cli {

namespace {

// weight_decay: decoupled for Adam (AdamW, as torch.optim.AdamW), through the gradient for SGD.
std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, const Module& m, float lr, float weight_decay) {
  if (kind == "adam" || kind == "adam_keras") {
    AdamConfig c;
    c.lr = lr;
    c.keras = kind == "adam_keras";
    c.weight_decay = weight_decay;
    c.decoupled = true;
    return std::make_unique<Adam>(m.named_parameters(), c);
  }
  if (kind == "sgd") {
    SgdConfig c;
    c.lr = lr;
    c.momentum = 0.9f;
    c.weight_decay = weight_decay;
    return std::make_unique<Sgd>(m.named_parameters(), c);
  }
  fail("unknown optimizer '" + kind + "' in the model's recipe");
}

// The run's settings that a resume must reuse (stored as checkpoint metadata "fas_train").
struct RunSettings {
  int batch = 0;
  float lr = 0;
  std::string lr_schedule;
  std::string augment;
  uint64_t seed = 0;
  int64_t limit = 0;
  float ema = 0;  // weight-average decay, 0 = off
  float weight_decay = 0;
  Json to_json() const {
    return {{"batch", batch}, {"lr", lr},       {"lr_schedule", lr_schedule}, {"augment", augment},
            {"seed", seed},   {"limit", limit}, {"ema", ema},                 {"weight_decay", weight_decay}};
  }
};

// See the resume contract above: the dropout masks (and MixStyle draws) of an epoch depend on
// (seed, epoch) only.
void reseed_dropout(Module& root, uint64_t seed, int64_t epoch) {
  uint64_t k = 0;
  std::function<void(Module&)> walk = [&](Module& m) {
    if (auto* d = dynamic_cast<Dropout*>(&m)) d->rng.reseed(mix_seed(mix_seed(seed ^ 0xD409D409ULL, (uint64_t)epoch), k++));
    if (auto* s = dynamic_cast<MixStyle*>(&m)) s->rng.reseed(mix_seed(mix_seed(seed ^ 0x5717E5717EULL, (uint64_t)epoch), k++));
    for (auto& [name, child] : m.named_children()) walk(*child);
  };
  walk(root);
}

std::vector<Sample> load_list(const std::string& path, int64_t limit, uint64_t seed, bool live_only) {
  auto s = limit_samples(read_samples(path), limit, seed);
  if (live_only) {
    std::vector<Sample> live;
    for (auto& x : s)
      if (x.label == 1) live.push_back(x);
    if (live.empty()) fail("dataset '" + path + "' has no live (label 1) images, and this model trains on live images only");
    s = std::move(live);
  }
  return s;
}

// What a plateau schedule watches: the validation loss when there is one, else the training loss.
std::vector<double> monitored_losses(const History& h) {
  std::vector<double> v;
  for (const auto& r : h.epochs()) v.push_back(r.val.present ? r.val.loss : r.train_loss);
  return v;
}

}  // namespace

int run_train(const TrainOptions& o) {
  setup_threads(o.common.threads);
  if (o.data.empty()) fail("train: --data LIST is required");

  // --- model, config and (when resuming) the checkpoint: all validated before anything is written.
  const bool resuming = !o.resume.empty();
  Checkpoint ck;
  std::string name = o.model;
  Json cfg;
  Json stored = Json::object();
  if (resuming) {
    ck = load_checkpoint(o.resume, o.model);
    name = ck.info.model;
    cfg = Json::parse(ck.info.config, nullptr, false);
    if (cfg.is_discarded()) fail("checkpoint '" + o.resume + "': bad config JSON");
    if (!o.set.empty() || o.size > 0) fail("train: --set/--size cannot change the config of a resumed run");
    auto it = ck.info.extra.find("fas_train");
    if (it != ck.info.extra.end()) stored = Json::parse(it->second, nullptr, false);
    if (stored.is_discarded()) stored = Json::object();
  } else {
    if (name.empty()) fail("train: --model NAME is required (or --resume CKPT)");
    std::vector<std::string> sets = o.set;
    if (o.size > 0) {
      sets.push_back("height=" + std::to_string(o.size));
      sets.push_back("width=" + std::to_string(o.size));
    }
    cfg = make_config(find_model(name), sets);
  }
  LoadedModel m = build_model(name, cfg, o.common.seed);
  const ModelInfo& info = *m.info;
  const Recipe& r = info.recipe;

  // A resumed run reuses its stored settings unless a flag overrides them.
  RunSettings rs;
  rs.batch = o.batch > 0 ? o.batch : stored.value("batch", r.batch);
  rs.lr = o.lr > 0 ? o.lr : stored.value("lr", r.lr);
  rs.lr_schedule = !o.lr_schedule.empty() ? o.lr_schedule : stored.value("lr_schedule", r.lr_schedule);
  rs.augment = o.augment != "recipe" ? o.augment : stored.value("augment", r.augment);
  rs.seed = resuming && !o.common.seed_set ? stored.value("seed", o.common.seed) : o.common.seed;
  rs.limit = o.limit > 0 ? o.limit : stored.value("limit", (int64_t)0);
  rs.ema = o.ema >= 0 ? o.ema : stored.value("ema", 0.f);
  rs.weight_decay = o.weight_decay >= 0 ? o.weight_decay : stored.value("weight_decay", 0.f);
  const int epochs = o.epochs > 0 ? o.epochs : r.epochs;
  if (rs.batch <= 0) fail("train: --batch must be positive");
  if (!(rs.lr > 0) || !std::isfinite(rs.lr)) fail("train: --lr must be a positive number");
  if (!(rs.ema == 0 || (rs.ema > 0 && rs.ema < 1))) fail("train: --ema must be 0 (off) or a decay in (0, 1)");
  if (!(rs.weight_decay >= 0 && rs.weight_decay <= 1)) fail("train: --weight-decay must be in [0, 1]");
  const AugmentConfig aug = parse_augment(rs.augment);
  const LrSchedule sched = parse_lr_schedule(rs.lr_schedule, rs.lr, epochs);

  const ImageSpec spec = image_spec(cfg);
  Dataset train_ds(load_list(o.data, rs.limit, rs.seed, r.live_only), spec, o.skip_bad, o.data);
  std::unique_ptr<Dataset> val_ds;
  if (!o.val.empty()) val_ds = std::make_unique<Dataset>(load_list(o.val, rs.limit, rs.seed, false), spec, o.skip_bad, o.val);
  if (info.fit) return run_train_fit(o, name, cfg, m, train_ds, val_ds.get());  // closed-form models

  auto opt = make_optimizer(r.optimizer, *m.module, rs.lr, rs.weight_decay);
  int start_epoch = 0;
  int64_t step = 0;
  History hist;
  if (resuming) {
    restore_checkpoint(ck, o.resume, *m.module, opt.get());
    start_epoch = (int)ck.info.epoch;
    step = ck.info.step;
    auto h = ck.info.extra.find("history");
    if (h != ck.info.extra.end()) hist = History::from_json(h->second);
  }
  // The average starts from the current weights, or continues from the checkpoint's.
  std::unique_ptr<WeightEma> ema;
  if (rs.ema > 0) {
    ema = std::make_unique<WeightEma>(*m.module, rs.ema);
    if (!ck.ema.empty()) ema->load_state_dict(ck.ema);
    ema->set_updates(step);
  }

  const std::string out = o.common.out.empty() ? "runs/" + name : o.common.out;
  make_dirs(out);
  const std::string last_path = join_path(out, "last.safetensors"), best_path = join_path(out, "best.safetensors");
  const std::string ema_path = join_path(out, "ema.safetensors");
  const bool tty = stdout_is_tty() && !o.quiet;
  std::ostringstream notes;  // the optional settings, only when on
  if (rs.ema > 0) notes << ", weight average " << rs.ema;
  if (rs.weight_decay > 0) notes << ", weight decay " << rs.weight_decay;
  if (!o.quiet)
    std::printf("fas train: model %s, %zu train images (%lld live)%s, epochs %d, batch %d, lr %g (%s), augment %s%s, "
                "out %s\n",
                name.c_str(), train_ds.size(), (long long)train_ds.live_count(),
                val_ds ? (", " + std::to_string(val_ds->size()) + " val").c_str() : "", epochs, rs.batch, rs.lr,
                sched.str().c_str(), augment_str(aug).c_str(),
                notes.str().c_str(), out.c_str());
  if (start_epoch >= epochs && !o.quiet) std::printf("already trained %d of %d epochs: nothing to do\n", start_epoch, epochs);

  bool saved_any = resuming;
  for (int epoch = start_epoch; epoch < epochs; ++epoch) {
    m.module->train();
    opt->set_lr(sched.at(epoch, monitored_losses(hist)));
    reseed_dropout(*m.module, rs.seed, epoch);
    LoaderOptions lo;
    lo.batch = (size_t)rs.batch;
    lo.shuffle = true;
    lo.seed = rs.seed;
    lo.epoch = epoch;
    lo.augment = &aug;
    lo.patch = cfg.value("train_patch", (int64_t)0);  // models with patch training (config key)
    BatchLoader loader(train_ds, lo);
    char label[64];
    std::snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, epochs);
    Progress prog(label, loader.num_items(), tty);
    double loss_sum = 0;
    size_t seen = 0, batch_no = 0;
    Batch b;
    while (loader.next(b)) {
      ++step;
      ++batch_no;
      opt->zero_grad();
      Tensor loss = model_loss(info, *m.module, b.x, b.y);
      float lv = loss.item();
      if (step == o.debug_nan_step) lv = NAN;
      if (!std::isfinite(lv)) {
        if (tty) std::printf("\n");
        fail(std::string("loss is ") + (std::isnan(lv) ? "NaN" : "Inf") + " at step " + std::to_string(step) +
             " (epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(batch_no) + "); training stopped. " +
             (saved_any ? "Last good checkpoint: " + last_path : std::string("No checkpoint was written.")) +
             " Try a lower --lr.");
      }
      loss.backward();
      opt->step();
      if (ema) ema->update();
      loss_sum += (double)lv * (double)b.index.size();
      seen += b.index.size();
      prog.update(seen, loss_sum / (double)seen);
    }
    if (seen == 0) fail("dataset '" + o.data + "': no readable images (" + std::to_string(train_ds.bad_count()) + " bad)");

    // With --ema, validation and the best/ema checkpoints use the averaged weights; last keeps
    // the training weights (plus the average) so a resume continues exactly.
    if (ema) ema->swap();
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.step = step;
    rec.lr = opt->lr();
    rec.train_loss = loss_sum / (double)seen;
    rec.seconds = prog.elapsed();
    rec.items_per_s = rec.seconds > 0 ? seen / rec.seconds : 0;
    rec.skipped = (int64_t)train_ds.bad_count();
    if (val_ds) {
      if (tty) std::printf("\r%s  validating on %zu images...\x1b[K", label, val_ds->size()), std::fflush(stdout);
      ScoredSet vs = score_dataset(m, *val_ds, std::max(rs.batch, 64), true);
      rec.val = validation_metrics(vs, info.score == ScoreKind::LiveProbability);
    }
    const bool best = hist.add(rec);

    CheckpointInfo ci;
    ci.model = name;
    ci.config = cfg.dump();
    ci.epoch = epoch + 1;
    ci.step = step;
    ci.extra["history"] = hist.to_json();
    ci.extra["fas_train"] = rs.to_json().dump();
    if (rec.val.has_threshold) ci.extra["threshold"] = Json(rec.val.threshold).dump();  // shortest exact form
    else if (info.score == ScoreKind::LiveProbability) ci.extra["threshold"] = "0.5";
    if (ema) {
      save_checkpoint(ema_path, ci, *m.module, nullptr);
      if (best) save_checkpoint(best_path, ci, *m.module, nullptr);
      ema->swap();
      const TensorMap avg = ema->state_dict();
      save_checkpoint(last_path, ci, *m.module, opt.get(), &avg);
    } else {
      save_checkpoint(last_path, ci, *m.module, opt.get());
      if (best) save_checkpoint(best_path, ci, *m.module, opt.get());
    }
    saved_any = true;
    if (best && rec.val.has_roc)
      plot::write_svg(join_path(out, "roc_val.svg"),
                      plot::roc_svg({{"validation, epoch " + std::to_string(rec.epoch), rec.val.roc, rec.val.auc}}));
    write_history_files(out, hist);
    if (!o.quiet) prog.finish(rec.line(epochs) + (best ? "  *best" : ""));
  }
  if (!o.quiet) {
    if (train_ds.bad_count() || (val_ds && val_ds->bad_count()))
      std::printf("skipped %zu bad training and %zu bad validation images; first: %s\n", train_ds.bad_count(),
                  val_ds ? val_ds->bad_count() : 0,
                  (train_ds.bad_count() ? train_ds.first_bad_message() : val_ds->first_bad_message()).c_str());
    std::printf("checkpoints: %s (best: epoch %d), %s%s; history and plots in %s\n", best_path.c_str(), hist.best_epoch(),
                last_path.c_str(), ema ? (", averaged weights " + ema_path).c_str() : "", out.c_str());
  }
  return 0;
}

}  // namespace fas::cli

// fas train: the training loop with validation, checkpoints, history and resume.
//
// One batch reads as a straight line: BatchLoader::next -> TrainStep::step (the model's own
// forward, losses, backward and optimizer steps; models/train_step.h) -> progress. Everything
// else here is the trainer's: data, epochs, learning-rate schedule, checkpoints, history, plots.
//
// Resume contract: a run resumed from its "last" checkpoint continues bit-identically to an
// uninterrupted run (same seed, one thread), because every source of randomness is a pure
// function of (seed, epoch, item) or (seed, step): the shuffle order, the per-item augmentation
// stream, a step's own draws; the model, optimizer state (every optimizer of the step), BN
// buffers and the history come from the checkpoint, which is written at the end of each epoch.
// Dropout layers own a generator whose state is not a tensor, so each epoch reseeds them from
// (seed, epoch, layer position) instead. (Random state a model keeps elsewhere is outside this
// contract.)
//
// Data-parallel runs (`mpirun -np N fas train ...`, dist/): every rank builds the same model from
// the same seed (or loads the same checkpoint), takes its part of each global batch of the same
// epoch order (LoaderOptions::rank), and every optimizer step averages the gradients over the
// ranks first (dist/grad_sync.h), so the ranks keep identical weights and together follow the
// single-process run with the same --batch. Rank 0 alone validates, prints, and writes
// checkpoints, history and plots; a checkpoint does not depend on N, so --resume works with any N.
#include <climits>
#include <cmath>
#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <optional>
#include <thread>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/report.h"
#include "cli/train_fit.h"
#include "dist/dist.h"
#include "dist/grad_sync.h"
#include "io/plot.h"
#include "layers/layers.h"
#include "optim/ema.h"
#include "optim/optim.h"

namespace fas::cli {

namespace {

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
  return live_only ? live_samples(std::move(s), path, "to train on (this model trains on live images only)") : s;
}

// What a plateau schedule watches: the validation loss when there is one, else the training loss.
std::vector<double> monitored_losses(const History& h) {
  std::vector<double> v;
  for (const auto& r : h.epochs()) v.push_back(r.val.present ? r.val.loss : r.train_loss);
  return v;
}

// Everything a run needs, validated before anything is written.
struct Run {
  LoadedModel m;
  const ModelInfo* info = nullptr;
  Json cfg;
  RunSettings rs;
  int epochs = 0;
  AugmentConfig aug;
  LrSchedule sched;
  std::unique_ptr<Dataset> train_ds, val_ds;
  std::unique_ptr<TrainStep> step;
  std::unique_ptr<WeightEma> ema;
  History hist;
  int start_epoch = 0;
  int64_t global_step = 0;
  std::string out, last_path, best_path, ema_path;
  bool saved_any = false;
  std::unique_ptr<Progress> prog;  // the current epoch's bar, finished by its summary line
  std::string epoch_label;
};

Run prepare(const TrainOptions& o) {
  Run run;
  const bool resuming = !o.resume.empty();
  Checkpoint ck;
  std::string name = o.model;
  Json stored = Json::object();
  if (resuming) {
    ck = load_checkpoint(o.resume, o.model);
    name = ck.info.model;
    run.cfg = Json::parse(ck.info.config, nullptr, false);
    if (run.cfg.is_discarded()) fail("checkpoint '" + o.resume + "': bad config JSON");
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
    run.cfg = make_config(find_model(name), sets);
  }
  // A resumed run's weights come from its checkpoint: no random first copy.
  run.m = resuming ? build_model_to_load(name, run.cfg) : build_model(name, run.cfg, o.common.seed);
  run.info = run.m.info;
  const Recipe& r = run.info->recipe;

  // A resumed run reuses its stored settings unless a flag overrides them.
  RunSettings& rs = run.rs;
  rs.batch = o.batch > 0 ? o.batch : stored.value("batch", r.batch);
  rs.lr = o.lr > 0 ? o.lr : stored.value("lr", r.lr);
  rs.lr_schedule = !o.lr_schedule.empty() ? o.lr_schedule : stored.value("lr_schedule", r.lr_schedule);
  rs.augment = o.augment != "recipe" ? o.augment : stored.value("augment", r.augment);
  rs.seed = resuming && !o.common.seed_set ? stored.value("seed", o.common.seed) : o.common.seed;
  rs.limit = o.limit > 0 ? o.limit : stored.value("limit", (int64_t)0);
  rs.ema = o.ema >= 0 ? o.ema : stored.value("ema", 0.f);
  rs.weight_decay = o.weight_decay >= 0 ? o.weight_decay : stored.value("weight_decay", 0.f);
  run.epochs = o.epochs > 0 ? o.epochs : r.epochs;
  if (rs.batch <= 0) fail("train: --batch must be positive");
  if (!(rs.lr > 0) || !std::isfinite(rs.lr)) fail("train: --lr must be a positive number");
  if (!(rs.ema == 0 || (rs.ema > 0 && rs.ema < 1))) fail("train: --ema must be 0 (off) or a decay in (0, 1)");
  if (!(rs.weight_decay >= 0 && rs.weight_decay <= 1)) fail("train: --weight-decay must be in [0, 1]");
  run.aug = parse_augment(rs.augment);
  run.sched = parse_lr_schedule(rs.lr_schedule, rs.lr, run.epochs);

  const ImageSpec spec = image_spec(run.cfg);
  std::vector<Sample> train = load_list(o.data, rs.limit, rs.seed, r.live_only);
  if (!o.data2.empty()) {  // two groups: the label says which
    if (r.live_only) fail("train: --data2 gives two groups, and model '" + name + "' trains on live images only");
    for (auto& s : train) s.label = 0;
    for (auto s : load_list(o.data2, rs.limit, rs.seed, false)) {
      s.label = 1;
      train.push_back(s);
    }
  }
  std::vector<Sample> val = o.val.empty() ? std::vector<Sample>{} : load_list(o.val, rs.limit, rs.seed, false);
  // Every listed image is a readable image file before anything is written (--skip-bad: skipped
  // and counted while training instead).
  if (!o.skip_bad) check_sample_files(train), check_sample_files(val);
  run.train_ds = std::make_unique<Dataset>(std::move(train), spec, o.skip_bad, o.data);
  if (!o.val.empty()) run.val_ds = std::make_unique<Dataset>(std::move(val), spec, o.skip_bad, o.val);

  run.out = o.common.out.empty() ? "runs/" + name : o.common.out;
  check_output_dir(run.out, "--out");
  if (run.info->fit) return run;  // closed-form models: run_train_fit takes over
  StepContext sc;
  sc.optimizer = r.optimizer;
  sc.lr = rs.lr;
  sc.weight_decay = rs.weight_decay;
  // A step's own draws (the VAE's sampling noise, GANomaly's) come from (seed, step) for the
  // whole batch; other ranks take their own stream, so no two ranks draw the same numbers for
  // their parts (rank 0's is the single-process stream).
  sc.seed = dist::rank() == 0 ? rs.seed : mix_seed(rs.seed ^ 0xD157D157ULL, (uint64_t)dist::rank());
  sc.train_items = run.train_ds->size();
  run.step = make_train_step(*run.m.module, *run.info, sc);
  if (resuming) {
    restore_checkpoint(ck, o.resume, *run.m.module, nullptr);
    try {
      run.step->load_optimizer_state(ck.optim);
    } catch (const Error& e) {
      fail("checkpoint '" + o.resume + "': optimizer state does not fit model '" + name + "': " + e.what());
    }
    run.start_epoch = (int)ck.info.epoch;
    run.global_step = ck.info.step;
    auto h = ck.info.extra.find("history");
    if (h != ck.info.extra.end()) run.hist = History::from_json(h->second);
    run.saved_any = true;
  }
  run.hist.set_train_set((int64_t)run.train_ds->size(), (int64_t)run.train_ds->live_count());
  // The average starts from the current weights, or continues from the checkpoint's.
  if (rs.ema > 0) {
    run.ema = std::make_unique<WeightEma>(*run.m.module, rs.ema);
    if (!ck.ema.empty()) run.ema->load_state_dict(ck.ema);
    run.ema->set_updates(run.global_step);
  }
  run.last_path = join_path(run.out, "last.safetensors");
  run.best_path = join_path(run.out, "best.safetensors");
  run.ema_path = join_path(run.out, "ema.safetensors");
  return run;
}

void print_header(const Run& run) {
  const RunSettings& rs = run.rs;
  std::ostringstream notes;  // the optional settings, only when on
  if (rs.ema > 0) notes << ", weight average " << rs.ema;
  if (rs.weight_decay > 0) notes << ", weight decay " << rs.weight_decay;
  if (dist::parallel()) notes << ", " << dist::size() << " ranks" << (dist::sync_bn_requested() ? " (SyncBN)" : "");
  std::printf("fas train: model %s, %zu train images (%lld live)%s, epochs %d, batch %d, lr %g (%s), augment %s%s, "
              "out %s\n",
              run.info->name.c_str(), run.train_ds->size(), (long long)run.train_ds->live_count(),
              run.val_ds ? (", " + std::to_string(run.val_ds->size()) + " val").c_str() : "", run.epochs, rs.batch, rs.lr,
              run.sched.str().c_str(), augment_str(run.aug).c_str(), notes.str().c_str(), run.out.c_str());
}

// "gradient of NAME is NaN" (or Inf) for the first parameter whose gradient holds one; empty if none.
std::string nonfinite_gradient(Module& m) {
  for (auto& [name, p] : m.named_parameters()) {
    const Tensor& g = p.grad();
    if (!g.defined()) continue;
    const float* d = g.data();
    const int64_t n = g.numel();
    int bad = 0;  // x - x is 0 when x is finite, NaN otherwise: no branch, so the scan vectorises
    for (int64_t i = 0; i < n; ++i) bad |= (d[i] - d[i]) != 0.f;
    if (!bad) continue;
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(d[i])) return "gradient of " + name + " is " + (std::isnan(d[i]) ? "NaN" : "Inf");
  }
  return "";
}

// The --debug-nan-grad test hook: a NaN in the gradient of the last parameter that has one.
void poison_last_gradient(Module& m) {
  NamedTensors ps = m.named_parameters();
  for (auto it = ps.rbegin(); it != ps.rend(); ++it)
    if (it->second.grad().defined()) {
      it->second.grad().data()[0] = NAN;
      return;
    }
}

// One epoch of batches through the model's step. Fills the record's training fields.
EpochRecord train_epoch(Run& run, int epoch, const TrainOptions& o, bool tty) {
  run.m.module->train();
  // Rank 0 alone validates, so its history decides a plateau schedule's rate for every rank.
  float lr = run.sched.at(epoch, monitored_losses(run.hist));
  dist::broadcast(&lr, 1);
  run.step->set_lr(lr);
  reseed_dropout(*run.m.module, run.rs.seed, epoch);
  LoaderOptions lo;
  lo.batch = (size_t)run.rs.batch;
  lo.shuffle = true;
  lo.seed = run.rs.seed;
  lo.epoch = epoch;
  lo.augment = &run.aug;
  lo.patch = run.cfg.value("train_patch", (int64_t)0);  // models with patch training (config key)
  lo.rank = (size_t)dist::rank();
  lo.ranks = (size_t)dist::size();
  BatchLoader loader(*run.train_ds, lo);
  run.epoch_label = "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(run.epochs);
  run.prog = std::make_unique<Progress>(run.epoch_label, loader.num_items(), tty);
  Progress& prog = *run.prog;
  double loss_sum = 0;
  std::map<std::string, double> part_sums;
  std::vector<std::string> part_order;
  size_t seen = 0, batch_no = 0, global_seen = 0;
  Batch b;
  while (loader.next(b)) {
    ++run.global_step;
    ++batch_no;
    dist::begin_step(b.index.size(), b.global_items);
    StepResult sr = run.step->step(b, run.global_step);
    dist::end_step();
    const bool debug_rank = o.debug_nan_rank < 0 || o.debug_nan_rank == dist::rank();
    if (run.global_step == o.debug_nan_step && debug_rank) sr.loss = NAN;
    if (run.global_step == o.debug_nan_grad_step && debug_rank) poison_last_gradient(*run.m.module);
    // The loss first (a non-finite loss skips the backward), then every parameter's gradient, so
    // a NaN/Inf is reported at the step where it appears, not steps later through the loss. This
    // step's update may already hold it; nothing is saved after it, so the checkpoint on disk
    // stays the previous epoch's.
    const std::string bad = !std::isfinite(sr.loss) ? std::string("loss is ") + (std::isnan(sr.loss) ? "NaN" : "Inf")
                                                    : nonfinite_gradient(*run.m.module);
    if (!bad.empty()) {
      if (tty) std::printf("\n");
      fail(bad + " at step " +
           std::to_string(run.global_step) + " (epoch " + std::to_string(epoch + 1) + ", batch " +
           std::to_string(batch_no) + "); training stopped. " +
           (run.saved_any ? "Last good checkpoint: " + run.last_path : std::string("No checkpoint was written.")) +
           " Try a lower --lr.");
    }
    if (run.ema) run.ema->update();
    const double n = (double)b.index.size();
    loss_sum += (double)sr.loss * n;
    for (const auto& [k, v] : sr.parts) {
      if (!part_sums.count(k)) part_order.push_back(k);
      part_sums[k] += v * n;
    }
    seen += b.index.size();
    global_seen += b.global_items;
    prog.update(global_seen, loss_sum / (double)seen);  // the bar's loss: this rank's part
  }
  if (seen == 0)
    fail("dataset '" + o.data + "': no readable images (" + std::to_string(run.train_ds->bad_count()) + " bad)");
  // The epoch's means over all ranks' items (the same order of terms on every rank).
  std::vector<double> sums = {loss_sum, (double)seen};
  for (const auto& k : part_order) sums.push_back(part_sums[k]);
  dist::allreduce_sum(sums.data(), sums.size());
  loss_sum = sums[0], seen = (size_t)sums[1];
  for (size_t i = 0; i < part_order.size(); ++i) part_sums[part_order[i]] = sums[2 + i];
  EpochRecord rec;
  rec.epoch = epoch + 1;
  rec.step = run.global_step;
  rec.lr = run.step->lr();
  rec.train_loss = loss_sum / (double)seen;
  for (const auto& k : part_order) rec.parts.emplace_back(k, part_sums[k] / (double)seen);
  rec.seconds = prog.elapsed();
  rec.items_per_s = rec.seconds > 0 ? seen / rec.seconds : 0;
  rec.skipped = (int64_t)run.train_ds->bad_count();
  return rec;
}

// Validation, checkpoints, history and plots at the end of an epoch. With --ema, validation and
// the best/ema checkpoints use the averaged weights; last keeps the training weights (plus the
// average) so a resume continues exactly.
bool finish_epoch(Run& run, EpochRecord& rec, bool tty) {
  // Per-rank batch norm leaves each rank its own running statistics: rank 0's are the run's (as
  // PyTorch DDP's buffer broadcast), so every rank continues from what the checkpoint holds.
  for (auto& [name, buf] : run.m.module->named_buffers()) dist::broadcast(buf.data(), (size_t)buf.numel());
  if (!dist::is_root()) {
    run.hist.add(rec);  // the training record; rank 0 holds the one with validation
    run.saved_any = true;  // by rank 0
    return false;
  }
  if (run.ema) run.ema->swap();
  if (run.val_ds) {
    if (tty) std::printf("\r%s  validating on %zu images...\x1b[K", run.epoch_label.c_str(), run.val_ds->size()), std::fflush(stdout);
    ScoredSet vs = score_dataset(run.m, *run.val_ds, std::max(run.rs.batch, 64), true);
    rec.val = validation_metrics(vs, run.info->score == ScoreKind::LiveProbability);
  }
  const bool best = run.hist.add(rec);

  CheckpointInfo ci;
  ci.model = run.info->name;
  ci.config = run.cfg.dump();
  ci.epoch = rec.epoch;
  ci.step = run.global_step;
  ci.extra["history"] = run.hist.to_json();
  ci.extra["fas_train"] = run.rs.to_json().dump();
  for (const auto& [k, v] : run.step->checkpoint_metadata()) ci.extra[k] = v;
  if (rec.val.has_threshold) ci.extra["threshold"] = Json(rec.val.threshold).dump();  // shortest exact form
  else if (run.info->score == ScoreKind::LiveProbability) ci.extra["threshold"] = "0.5";
  const TensorMap opt_state = run.step->optimizer_state();
  if (run.ema) {
    save_checkpoint(run.ema_path, ci, *run.m.module, TensorMap{});
    if (best) save_checkpoint(run.best_path, ci, *run.m.module, TensorMap{});
    run.ema->swap();
    const TensorMap avg = run.ema->state_dict();
    save_checkpoint(run.last_path, ci, *run.m.module, opt_state, &avg);
  } else {
    save_checkpoint(run.last_path, ci, *run.m.module, opt_state);
    if (best) save_checkpoint(run.best_path, ci, *run.m.module, opt_state);
  }
  run.saved_any = true;
  if (best && rec.val.has_roc)
    plot::write_svg(join_path(run.out, "roc_val.svg"),
                    plot::roc_svg({{"validation, epoch " + std::to_string(rec.epoch), rec.val.roc, rec.val.auc}}));
  write_history_files(run.out, run.hist);
  return best;
}

}  // namespace

namespace {

// Ranks on one machine share its cores: without --threads or $FAS_NUM_THREADS each rank takes
// its share (cores / ranks on this node, at least one) instead of all of them.
int default_threads(int flag) {
  if (flag > 0 || !dist::parallel()) return flag;
  if (const char* env = std::getenv("FAS_NUM_THREADS"); env && *env) return flag;
  int local = dist::size();
  if (const char* l = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local = std::max(1, std::atoi(l));
  return std::max(1, (int)std::thread::hardware_concurrency() / local);
}

// Training frees and allocates the same large buffers every step. glibc gives a block above its
// mmap threshold (at most 32 MB) back to the kernel when it is freed, so the next step pays a page
// fault and the kernel's zeroing for each of its pages; on a virtual machine that was a third
// of DCVAE's step (EXP-093). Serve everything from the heap and keep what is freed.
void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace

int run_train(const TrainOptions& o_in) {
  keep_freed_memory();
  dist::init();
  TrainOptions o = o_in;
  if (!dist::is_root()) o.quiet = true;  // rank 0 alone prints
  setup_threads(default_threads(o.common.threads));
  if (o.data.empty()) fail("train: --data LIST is required");
  if (dist::parallel() && o.skip_bad)
    fail("train: --skip-bad is not supported under mpirun (a skipped image would leave the ranks' batches uneven)");
  dist::set_sync_bn(o.sync_bn);
  Run run = prepare(o);
  if (run.info->fit) {
    if (dist::parallel()) fail("train: model '" + run.info->name + "' is fitted in closed form; run it without mpirun");
    const int rc = run_train_fit(o, run.info->name, run.cfg, run.m, *run.train_ds, run.val_ds.get());
    dist::finalize();
    return rc;
  }
  if (dist::size() > run.rs.batch)
    fail("train: --batch " + std::to_string(run.rs.batch) + " is smaller than the " + std::to_string(dist::size()) +
         " ranks (each rank needs items of every batch)");
  dist::barrier();  // every rank has checked the output directory before rank 0 creates it
  // Rank 0's output directory, removed again if the run fails before its first checkpoint. In a
  // parallel run, rank 0 may be ended by another rank's error (MPI_Abort) before it can remove
  // it, so there it is only tried now (and removed) and made for real at the first checkpoint.
  std::optional<OutputDir> out_dir;
  if (dist::is_root()) out_dir.emplace(run.out);
  if (dist::parallel()) out_dir.reset();
  const bool tty = stdout_is_tty() && !o.quiet;
  if (!o.quiet) print_header(run);
  if (run.start_epoch >= run.epochs && !o.quiet)
    std::printf("already trained %d of %d epochs: nothing to do\n", run.start_epoch, run.epochs);

  for (int epoch = run.start_epoch; epoch < run.epochs; ++epoch) {
    EpochRecord rec = train_epoch(run, epoch, o, tty);
    if (dist::is_root() && !out_dir) out_dir.emplace(run.out);
    const bool best = finish_epoch(run, rec, tty);
    if (out_dir) out_dir->keep();
    if (!o.quiet) run.prog->finish(rec.line(run.epochs) + (best ? "  *best" : ""));
  }
  if (!o.quiet) {
    const Dataset &tr = *run.train_ds;
    if (tr.bad_count() || (run.val_ds && run.val_ds->bad_count()))
      std::printf("skipped %zu bad training and %zu bad validation images; first: %s\n", tr.bad_count(),
                  run.val_ds ? run.val_ds->bad_count() : 0,
                  (tr.bad_count() ? tr.first_bad_message() : run.val_ds->first_bad_message()).c_str());
    std::printf("checkpoints: %s (best: epoch %d), %s%s; history and plots in %s\n", run.best_path.c_str(),
                run.hist.best_epoch(), run.last_path.c_str(), run.ema ? (", averaged weights " + run.ema_path).c_str() : "",
                run.out.c_str());
  }
  dist::finalize();
  return 0;
}

}  // namespace fas::cli

// fas: train, evaluate and run face anti-spoofing models.
//   fas train   --model NAME --data LIST [--val LIST] ...
//   fas project --ckpt AUTODECODER --data LIST      fas generate --ckpt AUTODECODER --out F.png ...
//   fas eval    --ckpt FILE --data LIST
//   fas predict --ckpt FILE IMAGE...
//   fas recalibrate --ckpt FILE --data LIST --out FILE
//   fas export  --ckpt FILE --out MODEL.fasm [--engine float|int8 --calib LIST]
//   fas summary --model NAME
//   fas bench   --model NAME --batch N --size S
//   fas serve   [--host H] [--port P] [--ckpt FILE ...]   the liveness web service and page
// Every fas::Error ends the program with one line "fas: error: ..." on stderr and exit code 1.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

#include "cli/commands.h"
#include "dist/dist.h"
#include "cli/serve.h"
#include "cli/wait_policy.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/qs8_nhwc.h"
#include "models/registry.h"
#include "tensor/tensor.h"

using namespace fas::cli;

namespace {

// Numeric flags. CLI11 alone reports a non-number as out of range ("Value abc not in range 1 to
// ...") or, for option functions, as "Could not convert", and it takes "-1" for an unsigned seed
// (wrapping it) and "0x10" for 16. These check the written form first (a plain decimal integer, a
// finite decimal number), then the range, so the one error line says which of the two is wrong;
// CLI11 prefixes it with the option's name.
bool parse_integer(const std::string& s, long double* v) {
  size_t i = s[0] == '-' || s[0] == '+';
  if (i >= s.size() || s.find_first_not_of("0123456789", i) != std::string::npos) return false;
  *v = std::strtold(s.c_str(), nullptr);
  return true;
}
bool parse_number(const std::string& s, long double* v) {
  if (s.empty() || s.find_first_of("xXpP") != std::string::npos) return false;  // no hex floats
  char* end = nullptr;
  *v = std::strtold(s.c_str(), &end);
  return *end == '\0' && std::isfinite(*v);
}
std::string fmt_num(long double v) {
  char b[64];
  if (v == std::floor(v) && std::fabs(v) < 1e20L) std::snprintf(b, sizeof b, "%.0Lf", v);  // e.g. 2^64 - 1 in full
  else std::snprintf(b, sizeof b, "%.10Lg", v);
  return b;
}
const long double kHuge = 1.7e308L;  // "no bound" (beyond any double)
// integer: whole numbers only. lo_open: the lower bound itself is excluded (e.g. > 0). hidden:
// the option's name for options hidden from --help, which CLI11 reports without one.
CLI::Validator numeric(bool integer, long double lo, long double hi, bool lo_open = false, std::string hidden = "") {
  const std::string kind = integer ? "an integer" : "a number";
  std::string range = hi >= kHuge ? std::string(lo_open ? "> " : ">= ") + fmt_num(lo)
                                  : std::string(lo_open ? "in (" : "in [") + fmt_num(lo) + ", " + fmt_num(hi) + "]";
  if (lo <= -kHuge) range = "finite";
  if (!hidden.empty()) hidden += ": ";
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        long double v = 0;
        if (!(integer ? parse_integer(s, &v) : parse_number(s, &v))) return hidden + "'" + s + "' is not " + kind;
        if (v < lo || v > hi || (lo_open && v == lo)) return hidden + s + " is out of range: must be " + range;
        return "";
      },
      range.rfind("in ", 0) == 0 ? range.substr(3) : range);  // help: "INT:[1, 8192]", "FLOAT:> 0"
}
CLI::Validator integer_in(long double lo, long double hi) { return numeric(true, lo, hi); }
CLI::Validator number_in(long double lo, long double hi) { return numeric(false, lo, hi); }
CLI::Validator positive_number() { return numeric(false, 0, kHuge, true); }

// --threshold for eval and predict: sets the value and remembers that it was given.
template <class Opts>
void add_threshold(CLI::App* c, Opts& o, const std::string& help) {
  c->add_option_function<double>("--threshold", [&o](const double& t) { o.threshold = t, o.has_threshold = true; }, help)
      ->check(number_in(-kHuge, kHuge));
}

void add_calib_pct(CLI::App* c, EngineOptions& e) {
  c->add_option("--calib-pct", e.calib_pct,
                "int8: clip each activation at this percentile of |a| over the calibration images "
                "(e.g. 99.999; default: the maximum)")
      ->check(number_in(1e-9, 100));
}

void add_engine(CLI::App* c, EngineOptions& e) {
  c->add_option("--engine", e.name,
                "graph (default: the trained network) or a deployment engine of the model, e.g. float or int8 "
                "for mobilenetv2-lite (BN folded, fused, static memory plan; int8: post-training quantised)");
  c->add_option("--calib", e.calib, "calibration image list for int8 (use the training list)");
  c->add_option("--calib-n", e.calib_n, "calibration images (seeded choice from --calib; default 256)")
      ->check(integer_in(1, 1 << 20));
  add_calib_pct(c, e);
}

void add_common(CLI::App* c, CommonOptions& o, const std::string& out_help) {
  c->add_option("--threads", o.threads, "OpenMP threads (default: $FAS_NUM_THREADS, else all cores)")
      ->check(integer_in(1, 1024));
  c->add_option_function<uint64_t>(
       "--seed", [&o](const uint64_t& s) { o.seed = s, o.seed_set = true; }, "random seed (default 42)")
      ->check(integer_in(0, 18446744073709551615.0L));
  c->add_option("--out", o.out, out_help);
}

std::string models_list() {
  std::string s;
  for (auto& n : fas::model_names()) s += "\n  " + n + ": " + fas::find_model(n).description;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (RLIMIT_FSIZE) a write then fails with EFBIG, which the checkpoint
  // writer reports as one error, instead of SIGXFSZ killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  choose_wait_policy(argv);  // may re-execute with OMP_WAIT_POLICY=passive (cli/wait_policy.h)
  CLI::App app{"fas: face anti-spoofing — train, evaluate and run models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::function<std::string()>([] {
    return "fas 0.1.0, kernels " + fas::isa_report() + ", FAS_ISA forces one; GEMM " + fas::gemm_name() +
           ", FAS_GEMM=openblas forces OpenBLAS; int8 kernels " +
           fas::qs8_kernels(fas::active_isa()).name;
  }));

  TrainOptions tr;
  auto* train = app.add_subcommand("train", "train a model on a labelled image list");
  add_common(train, tr.common, "output directory for checkpoints, history and plots (default runs/MODEL)");
  train->add_option("--model", tr.model, "model name (see fas summary --list)");
  train->add_option("--data", tr.data, "training list ('relative/path label' lines) or class-folder tree")->required();
  train->add_option("--data2", tr.data2,
                    "a second group of images (e.g. the auto-decoder's two groups): --data's images become "
                    "group 0, these group 1, whatever their labels");
  train->add_option("--val", tr.val, "validation list, evaluated after every epoch");
  train->add_option("--epochs", tr.epochs, "total epochs (default: the model's recipe)")->check(integer_in(1, 1000000));
  train->add_option("--batch", tr.batch, "batch size (default: recipe)")->check(integer_in(1, 1 << 20));
  train->add_option("--lr", tr.lr, "learning rate (default: recipe)")->check(positive_number());
  train->add_option("--lr-schedule", tr.lr_schedule,
                    "constant | step:EVERY[:GAMMA] | cosine[:MIN_RATIO] | plateau[:PATIENCE[:FACTOR]] (monitors the "
                    "validation loss, else the training loss) | halflinear (default: recipe)");
  train->add_option("--augment", tr.augment, "'recipe', 'none' or e.g. 'flip=0.5,rotate=15@0.3,noise=0.02'");
  train->add_option("--ema", tr.ema,
                    "average the weights over steps with this decay (e.g. 0.999; 0 = off); validation, best and "
                    "OUT/ema.safetensors use the average, last.safetensors keeps the training weights")
      ->check(number_in(0.0, 0.999999));
  train->add_option("--weight-decay", tr.weight_decay,
                    "weight decay on every parameter: decoupled for Adam (AdamW: w -= lr * WD * w), L2 in the "
                    "gradient for SGD (default 0 = off)")
      ->check(number_in(0.0, 1.0));
  train->add_option("--resume", tr.resume, "continue from this checkpoint (e.g. OUT/last.safetensors)");
  train->add_flag("--skip-bad", tr.skip_bad, "skip and count unreadable images instead of stopping");
  train->add_option("--limit", tr.limit, "use only N items of each list (seeded choice; quick runs)")->check(integer_in(1, 1 << 30));
  train->add_option("--size", tr.size, "input height and width (overrides the model config)")->check(integer_in(1, 8192));
  train->add_option("--set", tr.set, "model config override key=value (repeatable)");
  train->add_option("--debug-nan", tr.debug_nan_step, "testing: make the loss NaN at this step")
      ->check(numeric(true, -1, kHuge, false, "--debug-nan"))
      ->group("");
  train->add_option("--debug-nan-grad", tr.debug_nan_grad_step, "testing: make a gradient NaN at this step")
      ->check(numeric(true, -1, kHuge, false, "--debug-nan-grad"))
      ->group("");
  train->add_option("--debug-nan-rank", tr.debug_nan_rank, "testing: --debug-nan(-grad) on this MPI rank only")
      ->check(integer_in(0, 1 << 20))
      ->group("");
  train->add_flag("--sync-bn", tr.sync_bn,
                  "under mpirun: batch-norm statistics over the global batch of all ranks (SyncBN; default: "
                  "each rank's own part)");
  train->add_flag("--quiet", tr.quiet, "print nothing but errors");

  EvalOptions ev;
  auto* eval = app.add_subcommand("eval", "evaluate a checkpoint: APCER, BPCER, ACER, EER, HTER, AUC, plots");
  add_common(eval, ev.common, "output directory for metrics and plots (default: CKPT_DIR/eval)");
  eval->add_option("--ckpt", ev.ckpts, "checkpoint file; repeat it to fuse models (mean live log-odds)")
      ->required()
      ->allow_extra_args(false)  // one file per --ckpt, so positional images are not taken as checkpoints
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  eval->add_option("--data", ev.data, "test list or class-folder tree")->required();
  eval->add_option("--val", ev.val, "validation list: its EER threshold is used on --data (HTER)");
  add_threshold(eval, ev, "decision threshold (default: the checkpoint's validation EER threshold)");
  eval->add_flag("--adapt-threshold", ev.adapt_threshold,
                 "transductive: cut the evaluated list's own scores (labels unused) where a two-Gaussian mixture "
                 "fitted to them (log-odds for P(live)) changes component; report such figures apart");
  eval->add_option("--live-quantile", ev.live_quantile,
                   "anomaly models: threshold = this quantile (e.g. 0.95) of the scores of the live images of --val "
                   "(the live training images); every named score of the model gets its own")
      ->check(number_in(0.0, 1.0));
  eval->add_option("--group-by", ev.group_by,
                   "regular expression on image paths: errors per group (its first capture group) at the threshold, "
                   "also in groups.csv; NUAA subject: '/([0-9]{4})_', session: '_([0-9]{2})_[0-9]+\\.'");
  eval->add_flag("--skip-bad", ev.skip_bad, "skip and count unreadable images");
  eval->add_option("--limit", ev.limit, "use only N items")->check(integer_in(1, 1 << 30));
  eval->add_option("--batch", ev.batch, "batch size")->check(integer_in(1, 1 << 20));
  add_engine(eval, ev.engine);

  PredictOptions pr;
  auto* predict = app.add_subcommand("predict", "score images: one JSON line per image");
  add_common(predict, pr.common, "unused");
  predict->add_option("--ckpt", pr.ckpts, "checkpoint file; repeat it to fuse models (mean live log-odds)")
      ->required()
      ->allow_extra_args(false)  // one file per --ckpt, so positional images are not taken as checkpoints
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  predict->add_option("images", pr.images, "image files")->required();
  predict->add_flag("--resize", pr.resize, "convert channels and resize images to the model input");
  predict->add_flag("--detect", pr.detect,
                    "full frames: score the largest face found by the face detector, squared (as fas serve); "
                    "images with no face get 'no face found' and no score; images of at most 160 px are taken as crops");
  predict->add_option("--detect-max-side", pr.detect_max_side,
                      "the face detector works on the image shrunk to this longer side (default 320; 0 = full size)")
      ->check(CLI::Range(0, 100000));
  add_threshold(predict, pr, "decision threshold (default: the checkpoint's)");
  add_engine(predict, pr.engine);

  RecalibrateOptions rc;
  auto* recal = app.add_subcommand(
      "recalibrate", "recompute a checkpoint's batch-norm statistics on other images (e.g. a new camera; labels unused)");
  add_common(recal, rc.common, "the new checkpoint file (required; the input is never overwritten)");
  recal->add_option("--ckpt", rc.ckpt, "checkpoint file")->required();
  recal->add_option("--data", rc.data, "image list or class-folder tree (labels are not used)")->required();
  recal->add_option("--batch", rc.batch, "batch size (default 32; each batch weighs the same)")
      ->check(integer_in(2, 1 << 20));
  recal->add_option("--limit", rc.limit, "use only N images (seeded choice)")->check(integer_in(1, 1 << 30));
  recal->add_flag("--skip-bad", rc.skip_bad, "skip and count unreadable images");

  ExportOptions ex;
  auto* exp = app.add_subcommand(
      "export", "write a checkpoint's inference engine as a .fasm file for the minimal build's C API (docs/deploy.md)");
  add_common(exp, ex.common, "the .fasm file (required)");
  exp->add_option("--ckpt", ex.ckpt, "checkpoint file (mobilenetv2-lite or lbp-lr)")->required();
  exp->add_option("--engine", ex.engine.name, "float (default) or int8 (mobilenetv2-lite: post-training quantised)");
  exp->add_option("--calib", ex.engine.calib, "calibration image list for int8 (use the training list)");
  exp->add_option("--calib-n", ex.engine.calib_n, "calibration images (seeded choice from --calib; default 256)")
      ->check(integer_in(1, 1 << 20));
  add_calib_pct(exp, ex.engine);

  LatentOptions la;
  auto* latent = app.add_subcommand(
      "latent", "one-class models: PCA and Gaussian mixtures on the live training latents, log-likelihood as a score");
  add_common(latent, la.common, "output directory (default: CKPT_DIR/latent)");
  latent->add_option("--ckpt", la.ckpt, "checkpoint of dcvae, resvae or ganomaly")->required();
  latent->add_option("--data", la.data, "training list: the mixtures are fitted on its live images")->required();
  latent->add_option("--test", la.test, "list scored with each mixture (live and spoof)")->required();
  latent->add_option("--components", la.components, "mixture sizes (default 1 2 4 ... 128)")
      ->check(integer_in(1, 4096))
      ->delimiter(',');
  latent->add_option("--covariance", la.covariance, "diag (default) or full")->check(CLI::IsMember({"diag", "full"}));
  latent->add_option("--live-quantile", la.live_quantile,
                     "threshold = this quantile of the live training images' scores (default 0.95)")
      ->check(number_in(0.0, 1.0));
  latent->add_option("--batch", la.batch, "batch size")->check(integer_in(1, 1 << 20));
  latent->add_option("--limit", la.limit, "use only N items of each list")->check(integer_in(1, 1 << 30));
  latent->add_flag("--skip-bad", la.skip_bad, "skip and count unreadable images");

  SummaryOptions su;
  bool list = false;
  auto* summary = app.add_subcommand("summary", "print a model's layers, output shapes and parameter counts");
  add_common(summary, su.common, "unused");
  summary->add_option("--model", su.model, "model name");
  summary->add_option("--ckpt", su.ckpt, "or the model of a checkpoint");
  summary->add_option("--set", su.set, "config override key=value (repeatable)");
  summary->add_option("--size", su.size, "input height and width")->check(integer_in(1, 8192));
  summary->add_flag("--list", list, "list the registered models");

  BenchOptions be;
  auto* bench = app.add_subcommand("bench", "time a model's forward pass (and training step)");
  add_common(bench, be.common, "unused");
  bench->add_option("--model", be.model, "model name")->required();
  bench->add_option("--set", be.set, "config override key=value (repeatable)");
  bench->add_option("--batch", be.batch, "batch size")->check(integer_in(1, 1 << 16));
  bench->add_option("--size", be.size, "input height and width")->check(integer_in(1, 8192));
  bench->add_option("--runs", be.runs, "timed runs (median reported)")->check(integer_in(1, 100000));
  bench->add_option("--warmup", be.warmup, "untimed runs first")->check(integer_in(0, 100000));
  bench->add_flag("--train", be.train, "also time a training step (forward, backward, Adam)");
  bench->add_option("--engine", be.engine,
                    "graph (default: the autograd model) or a deployment engine, e.g. float, int8 "
                    "(one engine per thread, each on its part of the batch)");

  ProjectCliOptions pj;
  auto* project = app.add_subcommand("project", "auto-decoder: find images' codes with the decoder frozen, report "
                                                "their reconstruction error");
  add_common(project, pj.common, "output directory for codes.csv and reconstructions.png (default: project)");
  project->add_option("--ckpt", pj.ckpt, "autodecoder checkpoint")->required();
  project->add_option("--data", pj.data, "image list (e.g. held-out images) or class-folder tree")->required();
  project->add_option("--steps", pj.steps, "Adam steps on the codes (default 300)")->check(integer_in(0, 1000000));
  project->add_option("--lr", pj.lr, "Adam learning rate on the codes (default 0.05)")->check(positive_number());
  project->add_option("--limit", pj.limit, "use only N images (seeded choice)")->check(integer_in(1, 1 << 30));

  GenerateOptions ge;
  auto* generate = app.add_subcommand("generate", "auto-decoder: decode a code (sliders in standard deviations, "
                                                  "presets, interpolation, hybrids) to a PNG");
  add_common(generate, ge.common, "the PNG file to write (required)");
  generate->add_option("--ckpt", ge.ckpt, "autodecoder checkpoint")->required();
  generate->add_option("--preset", ge.preset, "mean (default) | random | group:G | image:K");
  generate->add_option("--sd", ge.sd, "the code as 's0,s1,...' standard deviations about the mean of the learned codes");
  generate->add_option("--interpolate", ge.interpolate, "A,B: a strip of frames from training image A's code to B's");
  generate->add_option("--frames", ge.frames, "frames of --interpolate (default 8)")->check(integer_in(2, 64));
  generate->add_option("--hybrid", ge.hybrid, "A,B: --dims of image A's code, the rest of image B's");
  generate->add_option("--dims", ge.dims, "dimensions for --hybrid, e.g. 0,3,7");

  ServeOptions sv;
  auto* serve = app.add_subcommand("serve", "liveness web service: POST /v1/liveness, GET /health, GET / (a page); "
                                            "serves the bundled models/ checkpoints unless --ckpt is given");
  serve->add_option("--host", sv.host, "address to bind (default 127.0.0.1: this machine only)");
  serve->add_option("--port", sv.port, "TCP port (default 8080; 0 = any free port)")->check(CLI::Range(0, 65535));
  serve->add_option("--ckpt", sv.ckpts, "face test checkpoint (P(live) model); repeat to fuse (mean live log-odds)");
  serve->add_option("--models-dir", sv.models_dir, "directory of the bundled checkpoints (default: the source tree's models/)");
  serve->add_option("--token-file", sv.token_file, "file whose first line is the bearer token every /v1 route requires");
  serve->add_option("--max-body-mb", sv.max_body_mb, "largest image accepted, in MiB (default 8)")->check(CLI::PositiveNumber);
  serve->add_option("--max-pixels", sv.max_pixels, "largest width x height accepted, checked before decoding (default 16e6)")
      ->check(CLI::Range(1LL, 1LL << 40));
  serve->add_option("--threads", sv.threads, "worker threads (default 2)")->check(CLI::Range(1, 256));
  serve->add_option("--timeout-s", sv.timeout_s, "socket read/write timeout in seconds (default 10)")->check(CLI::Range(1, 3600));
  serve->add_option("--cors", sv.cors, "allow this origin (e.g. https://example.org) to call the API from a browser");
  serve->add_option("--threshold", sv.threshold, "decision threshold on the fused P(live) (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  serve->add_option("--detect-max-side", sv.detect_max_side,
                    "the face detector works on the image shrunk to this longer side (default 320; 0 = full size)")
      ->check(CLI::Range(0, 100000));
  serve->add_option("--generator", sv.generator,
                    "an autodecoder checkpoint: also serve the face generator's slider page at /generator");
  serve->add_option("--fusion", sv.fusion,
                    "a learned fusion checkpoint (fas fuse): serve its members, fused by its LDA, instead of --ckpt");

  FuseOptions fu;
  auto* fuse = app.add_subcommand(
      "fuse", "learn a fusion of P(live) checkpoints (shrinkage LDA of their log-odds) on out-of-fold scores of a list");
  add_common(fuse, fu.common, "output directory: fusion.safetensors, oof_scores.csv and the fold runs (required)");
  fuse->add_option("--ckpt", fu.ckpts, "a member checkpoint (P(live) model); repeat for each test")
      ->required()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  fuse->add_option("--train", fu.train, "the list the member of the same position was trained on (retrained per fold)")
      ->required()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  fuse->add_option("--data", fu.data, "the list whose out-of-fold scores the fusion is fitted on")->required();
  fuse->add_option("--folds", fu.folds, "subject folds (default 5)")->check(CLI::Range(2, 1000));
  fuse->add_option("--group-by", fu.group_by, "regular expression whose first group is an image's subject (default NUAA's '/([0-9]{4})_')");
  fuse->add_option("--fold-epochs", fu.fold_epochs, "at most this many epochs in each fold's retraining (default: the checkpoint's epochs)")
      ->check(CLI::Range(1, 100000));

  // CLI11 would report an unknown first word as "a subcommand is required"; name it instead.
  bool known = argc < 2 || argv[1][0] == '-';
  for (auto* sc : {train, eval, predict, recal, exp, latent, summary, bench, project, generate, serve, fuse})
    known |= argc > 1 && sc->get_name() == argv[1];
  if (!known) {
    std::fprintf(stderr,
                 "fas: error: unknown subcommand '%s' (known: train, eval, predict, recalibrate, export, latent, summary, "
                 "bench, project, generate, serve, fuse)\n",
                 argv[1]);
    return 1;
  }
  try {  // a bad FAS_ISA or FAS_GEMM is one clear error up front, not a failure halfway through a command
    (void)fas::active_isa();
    (void)fas::gemm_name();
  } catch (const fas::Error& e) {
    std::fprintf(stderr, "fas: error: %s\n", e.what());
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.rfind(": ", 0) == 0) what.erase(0, 2);  // a hidden option's empty name (numeric() names it)
    std::replace(what.begin(), what.end(), '\n', ' ');  // one line, whatever CLI11 wraps
    std::fprintf(stderr, "fas: error: %s (see fas %s--help)\n", what.c_str(),
                 app.get_subcommands().empty() ? "" : (app.get_subcommands()[0]->get_name() + " ").c_str());
    return 1;
  }
  try {
    if (*train) return run_train(tr);
    if (*eval) return run_eval(ev);
    if (*predict) return run_predict(pr);
    if (*recal) return run_recalibrate(rc);
    if (*exp) return run_export(ex);
    if (*fuse) return run_fuse(fu);
    if (*latent) return run_latent(la);
    if (*summary) {
      if (list) {
        std::printf("models:%s\n", models_list().c_str());
        return 0;
      }
      return run_summary(su);
    }
    if (*bench) return run_bench(be);
    if (*project) return run_project(pj);
    if (*generate) return run_generate(ge);
    if (*serve) return run_serve(sv);
  } catch (const fas::Error& e) {  // under mpirun: also ends the other ranks (dist/dist.h)
    return fas::dist::fail_all(e.what());
  } catch (const std::exception& e) {  // e.g. bad_alloc: still one line, never an abort
    return fas::dist::fail_all(e.what());
  }
  return 1;
}

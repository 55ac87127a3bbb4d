// The fas subcommands as library functions (apps/fas.cpp parses flags into these options), so
// tests can drive them in-process as well as through the binary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fas::cli {

struct CommonOptions {
  int threads = 0;      // 0: $FAS_NUM_THREADS or OpenMP's default
  uint64_t seed = 42;
  bool seed_set = false;  // --seed given (a resumed run otherwise keeps its stored seed)
  std::string out;      // output directory ("" = the subcommand's default)
};

struct TrainOptions {
  CommonOptions common;
  std::string model;              // may be empty with --resume (taken from the checkpoint)
  std::string data, val;
  std::string data2;              // a second group: --data's images get label 0, these label 1
  int epochs = -1;                // -1: the model's recipe
  int batch = -1;
  float lr = -1.f;
  std::string lr_schedule;        // empty: the recipe's (optim.h parse_lr_schedule syntax)
  std::string augment = "recipe"; // "recipe", "none" or io/augment.h syntax
  float ema = -1.f;               // weight-average decay (optim/ema.h); 0 = off, -1 = stored/off
  float weight_decay = -1.f;      // Adam: decoupled (AdamW), SGD: L2; 0 = off, -1 = stored/off
  std::string resume;
  bool skip_bad = false;
  int64_t limit = 0;              // use only N items of each list (0 = all)
  int size = 0;                   // override the config's height and width
  std::vector<std::string> set;   // config overrides key=value
  int64_t debug_nan_step = -1;    // test hook: make the loss NaN at this (1-based) global step
  int64_t debug_nan_grad_step = -1;  // test hook: a NaN in the last parameter's gradient at this step
  int debug_nan_rank = -1;        // test hook: either, on this data-parallel rank only (-1: every rank)
  bool sync_bn = false;           // data-parallel runs: batch-norm statistics over all ranks
  bool quiet = false;             // no per-epoch output (tests)
};
// Returns the process exit code (0), or throws fas::Error.
int run_train(const TrainOptions& o);

// --engine / --calib / --calib-n of eval and predict (models/registry.h ModelInfo::engines).
struct EngineOptions {
  std::string name = "graph";
  std::string calib;     // calibration list (int8)
  int64_t calib_n = 256;
  double calib_pct = 0;  // clipping percentile of |activation| (0: max-abs)
};

struct EvalOptions {
  CommonOptions common;
  // Several checkpoints: score fusion, the mean of their live log-odds (P(live) models only).
  std::vector<std::string> ckpts;
  std::string data, val;
  double threshold = 0;   // used when has_threshold; else the --val EER threshold, else the
                          // checkpoint's stored one, else the test set's own EER threshold
  bool has_threshold = false;
  // Threshold from the evaluated list's own unlabelled scores (metrics/mixture.h): transductive.
  bool adapt_threshold = false;
  // Anomaly models: threshold = this quantile (e.g. 0.95) of the scores of --val's live images
  // (the live training images: no spoof and nothing of the test list chooses it); 0 = off.
  double live_quantile = 0;
  bool skip_bad = false;
  int64_t limit = 0;
  int batch = 64;
  EngineOptions engine;
  // Errors per group of images at the report's threshold (metrics/groups.h): the group of an
  // image is the first capture group of this regular expression searched in its path.
  std::string group_by;
};
int run_eval(const EvalOptions& o);

struct PredictOptions {
  CommonOptions common;
  std::vector<std::string> ckpts;  // several: the fused P(live), as eval's fusion
  std::vector<std::string> images;
  bool resize = false;  // convert channels and resize to the model input instead of failing
  // Full frames: the face tests score the squared largest dlib face (detect/face_crop.h, as
  // fas serve); an image without a face gets a "no face found" answer and no score.
  bool detect = false;
  int detect_max_side = 320;  // the detector's working size (face_detector.h)
  double threshold = 0;
  bool has_threshold = false;
  EngineOptions engine;
};
int run_predict(const PredictOptions& o);

// fas fuse: a learned fusion (cli/fusion.h) of the members --ckpt, fitted on out-of-fold scores
// of --data; member k was trained on --train[k] (it is retrained per fold without the fold's
// subjects, with its checkpoint's model, config and settings; fold_epochs > 0 caps its
// epochs: the cheaper out-of-fold study of an expensive member). common.out: the directory of fusion.safetensors, the fold runs and oof_scores.csv.
struct FuseOptions {
  CommonOptions common;
  std::vector<std::string> ckpts, train;
  std::string data;
  int folds = 5;
  std::string group_by = "/([0-9]{4})_";  // the NUAA subject of a path
  int fold_epochs = 0;
};
int run_fuse(const FuseOptions& o);

// fas generate (spec 004's auto-decoder): one of --sd, --preset, --interpolate, --hybrid.
struct GenerateOptions {
  CommonOptions common;          // common.out: the PNG file
  std::string ckpt;
  std::string preset = "mean";   // mean | random | group:G | image:K
  std::string sd;                // "s0,s1,...": the code in standard deviations about the mean
  std::string interpolate;       // "A,B": a strip from training image A's code to B's
  int frames = 8;
  std::string hybrid, dims;      // "A,B" + "i,j": dimensions i, j of A's code, the rest of B's
};
int run_generate(const GenerateOptions& o);

// fas project: codes for images by optimisation with the decoder frozen.
struct ProjectCliOptions {
  CommonOptions common;
  std::string ckpt, data;
  int steps = 300;
  float lr = 0.05f;
  int64_t limit = 0;
};
int run_project(const ProjectCliOptions& o);

struct RecalibrateOptions {
  CommonOptions common;
  std::string ckpt, data;  // the new checkpoint file: common.out
  int batch = 32;
  int64_t limit = 0;
  bool skip_bad = false;
};
int run_recalibrate(const RecalibrateOptions& o);

// Latent analysis of a one-class model (spec 001 §3.4): PCA and Gaussian mixtures fitted on the
// latents (VAE mu, GANomaly E1(x)) of the live images of `data`, the mixtures' negative
// log-likelihood as an anomaly score on `test`.
struct LatentOptions {
  CommonOptions common;
  std::string ckpt, data, test;
  std::vector<int64_t> components = {1, 2, 4, 8, 16, 32, 64, 128};
  std::string covariance = "diag";  // "diag" | "full"
  double live_quantile = 0.95;      // threshold: this quantile of the live training images' scores
  int batch = 64;
  int64_t limit = 0;
  bool skip_bad = false;
};
int run_latent(const LatentOptions& o);

struct SummaryOptions {
  CommonOptions common;
  std::string model, ckpt;
  std::vector<std::string> set;
  int size = 0;
};
int run_summary(const SummaryOptions& o);

// fas export: a checkpoint's deployment engine as a .fasm file (deploy/fasm.h) for the minimal
// build's C API. engine: float or int8 (mobilenetv2-lite); lbp-lr exports its one form (float).
struct ExportOptions {
  CommonOptions common;  // common.out: the .fasm file (required)
  std::string ckpt;
  EngineOptions engine{"float", "", 256};
};
int run_export(const ExportOptions& o);

struct BenchOptions {
  CommonOptions common;
  std::string model;
  std::vector<std::string> set;
  int batch = 1, size = 0, runs = 10, warmup = 2;
  bool train = false;  // also time one training step (forward + backward + Adam)
  // "graph": the autograd model (training graph in eval mode); else a deployment engine
  // (models/registry.h ModelInfo::engines), one instance per thread on parts of the batch.
  std::string engine = "graph";
};
int run_bench(const BenchOptions& o);

}  // namespace fas::cli

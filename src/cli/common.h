// Shared pieces of the fas subcommands: threads, output files, model + checkpoint loading,
// the progress bar.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "models/registry.h"

namespace fas::cli {

// --threads N (N > 0) or else $FAS_NUM_THREADS, else OpenMP's default. Returns the count used.
int setup_threads(int threads_flag);

void make_dirs(const std::string& dir);  // mkdir -p; errors name the directory
// An output directory that an error leaves as it found it: made (mkdir -p) by the constructor,
// and removed again by the destructor when it made it and keep() was not called (call it once
// the first file is written there, e.g. a checkpoint that a resume needs).
class OutputDir {
 public:
  explicit OutputDir(std::string dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  void keep() { keep_ = true; }

 private:
  std::string dir_;
  bool made_ = false, keep_ = false;
};
// A fas::Error when `path` exists and is not a directory (before a long run that would fail to
// write there at its end).
void check_output_dir(const std::string& path, const std::string& flag);
std::string join_path(const std::string& dir, const std::string& name);


// A built model with its registry entry and config.
struct LoadedModel {
  const ModelInfo* info = nullptr;
  Json config;
  std::shared_ptr<Module> module;
  Checkpoint ckpt;  // empty info.model when not loaded from a checkpoint
};
LoadedModel build_model(const std::string& name, const Json& config, uint64_t seed);
// The same without random weights (models/registry.h build_uninitialised), for a checkpoint to fill.
LoadedModel build_model_to_load(const std::string& name, const Json& config);
// Reads the checkpoint, rebuilds its model from the stored name and config, loads the weights,
// eval mode. Errors: truncated/bad file, unknown model, shape mismatch (one fas::Error each).
LoadedModel load_model(const std::string& ckpt_path);

// The decision threshold stored at training time (the validation EER threshold), if any.
bool stored_threshold(const LoadedModel& m, double* t);
struct EngineOptions;
// The members of a score fusion (eval/predict with several --ckpt): P(live) models only, scored
// by their graphs (a non-graph engine is an error naming cmd). name (optional): "fusion of A + B".
std::vector<LoadedModel> load_fusion(const std::vector<std::string>& ckpts, const EngineOptions& e, const char* cmd,
                                     std::string* name);

// Scores of every item of ds (eval mode, no grad, no augmentation), in dataset order, with
// the labels of the items that loaded (bad ones are skipped when the dataset skips them).
struct ScoredSet {
  std::vector<float> scores;
  std::vector<int> labels;
  std::vector<size_t> index;
  double mean_loss = 0;  // the model's loss over the set (classifiers; NaN when not computable)
};
// A batch scorer: images [N, C, H, W] -> one score per image in the model's orientation.
using Scorer = std::function<std::vector<float>(const Tensor& x)>;
// scorer: null = the model's graph forward (model_scores).
ScoredSet score_dataset(const LoadedModel& m, Dataset& ds, size_t batch, bool with_loss, const Scorer& scorer = nullptr);

// The model's registered deployment engine NAME; an unknown name is a fas::Error listing them.
const ModelInfo::Engine& find_engine(const ModelInfo& info, const std::string& engine);
// --engine NAME: "graph" (null scorer) or one of the model's registered engines, built from the
// loaded model; engines that calibrate read the first calib_n images (seeded choice) of the
// list calib, which must then be given, and clip at calib_pct. Unknown names and a missing list
// are fas::Errors. calib_used (optional): the number of calibration images read (0 when the
// engine needs none).
Scorer make_engine_scorer(const LoadedModel& m, const EngineOptions& o, uint64_t seed, int64_t* calib_used = nullptr);
// The calibration images of an engine: the first calib_n (seeded choice) of calib_list, in the
// model's input form; what make_engine_scorer and fas export calibrate on.
Tensor load_calibration(const LoadedModel& m, const std::string& engine, const std::string& calib_list,
                        int64_t calib_n, uint64_t seed);

// Per-epoch progress: a redrawn bar on a terminal, nothing until finish() otherwise.
class Progress {
 public:
  Progress(std::string label, size_t total, bool tty);
  void update(size_t done, double running_loss = NAN);  // NaN: no loss shown
  // Replaces the bar with the final line (printed on its own line when not a terminal).
  void finish(const std::string& line);
  double elapsed() const;

 private:
  std::string label_;
  size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};
bool stdout_is_tty();
std::string fmt_seconds(double s);  // "1:05" / "1:02:03"

}  // namespace fas::cli

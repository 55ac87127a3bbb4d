// Training history (per-epoch records), validation metrics, and the files written from them.
#pragma once
#include <string>
#include <vector>

#include "cli/common.h"
#include "metrics/metrics.h"

namespace fas::cli {

struct ValMetrics {
  bool present = false;
  double loss = 0, accuracy = 0, apcer = 0, bpcer = 0, acer = 0, auc = 0, eer = 0;
  bool has_threshold = false;
  double threshold = 0;  // the validation EER threshold (used as the checkpoint's decision threshold)
  bool has_roc = false;
  metrics::RocCurve roc;  // not stored in the history
};
// Metrics of a scored validation set. Rates at the set's own EER threshold (that threshold is
// what a deployment would fix from validation); AUC and EER threshold-free.
ValMetrics validation_metrics(const ScoredSet& s, bool higher_is_live);

struct EpochRecord {
  int epoch = 0;  // 1-based, completed
  int64_t step = 0;
  double lr = 0, train_loss = 0, seconds = 0, items_per_s = 0;
  int64_t skipped = 0;
  std::vector<std::pair<std::string, double>> parts;  // named loss terms (TrainStep), epoch means
  ValMetrics val;
  std::string line(int epochs) const;  // one plain line for the terminal / log
};

class History {
 public:
  // Appends; returns true when this epoch is the best so far: lowest validation EER (ties: lower
  // validation loss), or lowest training loss without validation.
  bool add(const EpochRecord& r);
  const std::vector<EpochRecord>& epochs() const { return recs_; }
  int best_epoch() const { return best_; }
  std::string to_json() const;
  static History from_json(const std::string& s);  // bad JSON -> fas::Error
  // The training set the epochs saw (after --one-class / live-only filtering and --limit): its
  // size and live count, kept in history.json so a result names the images that produced it.
  void set_train_set(int64_t images, int64_t live) { train_images_ = images, train_live_ = live; }

 private:
  std::vector<EpochRecord> recs_;
  int best_ = 0;
  int64_t train_images_ = -1, train_live_ = -1;  // -1: not recorded (older checkpoints)
};

// history.json, history.csv and the curves loss.svg (train/validation loss) and val.svg
// (validation EER, ACER, AUC) in dir, each written atomically.
void write_history_files(const std::string& dir, const History& h);

}  // namespace fas::cli

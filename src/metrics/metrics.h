// Face anti-spoofing metrics (ISO/IEC 30107-3 names) on scores + labels.
//
// Labels: 1 = live / bona fide, 0 = spoof / attack presentation.
// Scores: either a classifier's P(live) (higher_is_live = true) or an anomaly score where higher means
// spoof (higher_is_live = false). Thresholds are always reported in the caller's score units.
//
// Decision rule (one rule for every metric here, so APCER/BPCER at a threshold and the ROC agree):
//   higher_is_live:  accepted as live  <=>  score >= threshold
//   anomaly scores:  accepted as live  <=>  score <= threshold   (rejected as spoof iff score > threshold)
// i.e. with the "liveness" s = higher_is_live ? score : -score, live <=> s >= t.
//
// ISO/IEC 30107-3 defines APCER per attack-instrument species and takes the maximum; the lists we
// evaluate carry one attack label, so APCER here pools all attacks (documented simplification).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fas::metrics {

// Confusion matrix laid out as sklearn's confusion_matrix(labels=[0, 1]):
// m[true][predicted], index 0 = spoof, 1 = live.
struct Confusion {
  std::array<std::array<int64_t, 2>, 2> m{};
  int64_t tn() const { return m[0][0]; }  // attack rejected
  int64_t fp() const { return m[0][1]; }  // attack accepted as live
  int64_t fn() const { return m[1][0]; }  // bona fide rejected
  int64_t tp() const { return m[1][1]; }  // bona fide accepted
  int64_t total() const { return tn() + fp() + fn() + tp(); }
};

// Positive class = live: fpr = APCER, tpr = 1 - BPCER at each threshold (caller's units).
// thresholds[0] is the "accept nothing" end: +inf for higher_is_live, -inf for anomaly scores
// (sklearn >= 1.3 also uses inf there; sklearn 1.2 used max + 1).
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
};

struct Eer {
  double eer = 0;        // error rate where APCER == BPCER on the interpolated curve
  double threshold = 0;  // score threshold interpolated at that point (caller's units)
};

// All functions below validate: equal sizes, non-empty, labels in {0,1}, no NaN/Inf score;
// metrics that need both classes (rates, EER, ROC, AUC) throw if one class is missing.
// Every failure is a fas::Error starting with "metrics: ".

Confusion confusion(const std::vector<float>& scores, const std::vector<int>& labels, double threshold,
                    bool higher_is_live);
double apcer(const Confusion& c);     // attacks accepted as live / attacks
double bpcer(const Confusion& c);     // bona fide rejected / bona fide
double acer(const Confusion& c);      // (APCER + BPCER) / 2
double accuracy(const Confusion& c);  // (TP + TN) / N

// ROC with one point per distinct score (ties form one diagonal step, like sklearn).
// drop_intermediate removes collinear points exactly as sklearn's roc_curve does by default.
RocCurve roc_curve(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live,
                   bool drop_intermediate = true);
double auc(const RocCurve& roc);  // trapezoid rule over (fpr, tpr)
double roc_auc(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live);
// The q quantile (0 <= q <= 1) of non-empty values, linear interpolation between order statistics
// (numpy's default): e.g. an anomaly threshold at q = 0.95 of the live training images' scores.
double quantile(std::vector<double> values, double q);

// EER: walk the ROC points (all distinct thresholds, from "accept nothing" to "accept all").
// d = BPCER - APCER strictly decreases from +1 to -1 along them; take the first point i with d_i <= 0
// and interpolate linearly between points i-1 and i with a = d_{i-1} / (d_{i-1} - d_i):
//   EER = APCER_{i-1} + a (APCER_i - APCER_{i-1})   (= BPCER at the same a),
//   threshold = thr_{i-1} + a (thr_i - thr_{i-1});  when point i-1 is the infinite "accept nothing"
//   end, the threshold is thr_i (the highest liveness score; there is nothing finite to interpolate).
// On the set it was computed on, this threshold yields point i-1's rates (or point i's when a = 1).
Eer eer(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live);

// HTER = (APCER + BPCER) / 2 on the test set at the EER threshold of the validation set.
struct Hter {
  double hter = 0, threshold = 0, val_eer = 0;
};
Hter hter(const std::vector<float>& val_scores, const std::vector<int>& val_labels,
          const std::vector<float>& test_scores, const std::vector<int>& test_labels, bool higher_is_live);

struct Scores {
  std::vector<float> scores;
  std::vector<int> labels;
};

struct EvalOptions {
  bool higher_is_live = true;
  // Operating threshold for APCER/BPCER/ACER/accuracy/confusion. When unset: the validation EER
  // threshold if a validation set is given, else the EER threshold of the evaluated set itself
  // (optimistic; threshold_source says which was used).
  std::optional<double> threshold;
};

struct Report {
  bool higher_is_live = true;
  int64_t n = 0, n_live = 0, n_spoof = 0;
  double threshold = 0;
  std::string threshold_source;  // "given", "val-eer" or "test-eer"
  Confusion cm;
  double apcer = 0, bpcer = 0, acer = 0, accuracy = 0;
  double eer = 0, eer_threshold = 0;  // on the evaluated set
  double auc = 0;
  bool has_val = false;                              // the three below are set only with a validation set
  double val_eer = 0, val_eer_threshold = 0, hter = 0;  // HTER: test rates at val_eer_threshold
  RocCurve roc;

  std::string to_json() const;   // one object; ROC as arrays; non-finite numbers as null
  std::string to_table() const;  // aligned text table for a terminal (rates in %)
  std::string to_csv() const;    // "metric,value" rows (no ROC)
  std::string roc_csv() const;   // "threshold,fpr,tpr" rows
};

// Computes every metric above on `test`; `val` (optional) supplies the HTER threshold.
Report evaluate(const Scores& test, const EvalOptions& opt = {}, const Scores* val = nullptr);

}  // namespace fas::metrics

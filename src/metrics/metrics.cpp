#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

#include "tensor/tensor.h"

namespace fas::metrics {
namespace {

struct Counts {
  int64_t live = 0, spoof = 0;
};

// One place for all input validation so every entry point reports the same errors.
Counts check(const std::vector<float>& scores, const std::vector<int>& labels, const char* what,
             bool need_both) {
  const std::string w = std::string("metrics: ") + what + ": ";
  if (scores.size() != labels.size())
    fail(w + std::to_string(scores.size()) + " scores but " + std::to_string(labels.size()) + " labels");
  if (scores.empty()) fail(w + "empty input (no scores)");
  Counts c;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i]))
      fail(w + "score " + std::to_string(i) + " is " + (std::isnan(scores[i]) ? "NaN" : "infinite"));
    if (labels[i] == 1)
      ++c.live;
    else if (labels[i] == 0)
      ++c.spoof;
    else
      fail(w + "label " + std::to_string(i) + " is " + std::to_string(labels[i]) + " (expected 1 = live, 0 = spoof)");
  }
  if (need_both && (c.live == 0 || c.spoof == 0))
    fail(w + "needs both classes, got " + std::to_string(c.live) + " live and " + std::to_string(c.spoof) +
         " spoof samples");
  return c;
}

double liveness(float score, bool higher_is_live) { return higher_is_live ? (double)score : -(double)score; }

double rate(int64_t num, int64_t den, const char* name) {
  if (den == 0) fail(std::string("metrics: ") + name + " is undefined: no samples of that class");
  return (double)num / (double)den;
}

// Points of the ROC in liveness units, before normalisation: cumulative false/true positives at each
// distinct liveness value (descending), preceded by the (0, 0, +inf) "accept nothing" point.
struct RawRoc {
  std::vector<double> fps, tps, thr;
};

RawRoc raw_roc(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live,
               bool drop_intermediate) {
  const size_t n = scores.size();
  std::vector<double> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = liveness(scores[i], higher_is_live);
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  RawRoc r;
  double tp = 0, fp = 0;
  for (size_t k = 0; k < n; ++k) {
    (labels[idx[k]] == 1 ? tp : fp) += 1;
    // One point per group of tied scores: ties move tpr and fpr together (a diagonal step).
    if (k + 1 == n || s[idx[k + 1]] != s[idx[k]]) {
      r.fps.push_back(fp);
      r.tps.push_back(tp);
      r.thr.push_back(s[idx[k]]);
    }
  }
  if (drop_intermediate && r.fps.size() > 2) {
    // sklearn: keep the ends and every point where the second difference of fps or tps is non-zero.
    RawRoc d;
    const size_t m = r.fps.size();
    for (size_t i = 0; i < m; ++i) {
      bool keep = i == 0 || i + 1 == m;
      if (!keep) {
        double dfp = r.fps[i + 1] - 2 * r.fps[i] + r.fps[i - 1];
        double dtp = r.tps[i + 1] - 2 * r.tps[i] + r.tps[i - 1];
        keep = dfp != 0 || dtp != 0;
      }
      if (keep) {
        d.fps.push_back(r.fps[i]);
        d.tps.push_back(r.tps[i]);
        d.thr.push_back(r.thr[i]);
      }
    }
    r = std::move(d);
  }
  r.fps.insert(r.fps.begin(), 0.0);
  r.tps.insert(r.tps.begin(), 0.0);
  r.thr.insert(r.thr.begin(), std::numeric_limits<double>::infinity());
  return r;
}

RocCurve normalise(const RawRoc& r, bool higher_is_live) {
  RocCurve c;
  const double nf = r.fps.back(), nt = r.tps.back();
  for (size_t i = 0; i < r.fps.size(); ++i) {
    c.fpr.push_back(r.fps[i] / nf);
    c.tpr.push_back(r.tps[i] / nt);
    c.thresholds.push_back(higher_is_live ? r.thr[i] : -r.thr[i]);
  }
  return c;
}

}  // namespace

Confusion confusion(const std::vector<float>& scores, const std::vector<int>& labels, double threshold,
                    bool higher_is_live) {
  check(scores, labels, "confusion", false);
  if (std::isnan(threshold)) fail("metrics: confusion: threshold is NaN");
  const double t = higher_is_live ? threshold : -threshold;
  Confusion c;
  for (size_t i = 0; i < scores.size(); ++i) c.m[labels[i]][liveness(scores[i], higher_is_live) >= t ? 1 : 0]++;
  return c;
}

double apcer(const Confusion& c) { return rate(c.fp(), c.fp() + c.tn(), "APCER"); }
double bpcer(const Confusion& c) { return rate(c.fn(), c.fn() + c.tp(), "BPCER"); }
double acer(const Confusion& c) { return 0.5 * (apcer(c) + bpcer(c)); }
double accuracy(const Confusion& c) { return rate(c.tp() + c.tn(), c.total(), "accuracy"); }

RocCurve roc_curve(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live,
                   bool drop_intermediate) {
  check(scores, labels, "roc_curve", true);
  return normalise(raw_roc(scores, labels, higher_is_live, drop_intermediate), higher_is_live);
}

double auc(const RocCurve& roc) {
  if (roc.fpr.size() != roc.tpr.size() || roc.fpr.size() < 2)
    fail("metrics: auc: need at least two ROC points with as many fpr as tpr values");
  double a = 0;
  for (size_t i = 1; i < roc.fpr.size(); ++i) a += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
  return a;
}

double roc_auc(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live) {
  return auc(roc_curve(scores, labels, higher_is_live));
}

double quantile(std::vector<double> v, double q) {
  if (v.empty() || !(q >= 0 && q <= 1)) fail("metrics: quantile needs values and 0 <= q <= 1");
  std::sort(v.begin(), v.end());
  const double pos = q * (double)(v.size() - 1);
  const size_t lo = (size_t)std::floor(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

Eer eer(const std::vector<float>& scores, const std::vector<int>& labels, bool higher_is_live) {
  check(scores, labels, "eer", true);
  // All distinct thresholds: dropping collinear points would not move the EER but would change
  // which two thresholds get interpolated.
  RocCurve r = normalise(raw_roc(scores, labels, higher_is_live, false), higher_is_live);
  auto d = [&](size_t i) { return (1.0 - r.tpr[i]) - r.fpr[i]; };  // BPCER - APCER
  size_t i = 1;
  while (d(i) > 0) ++i;  // terminates: the last point has d = 0 - 1 = -1
  const double d0 = d(i - 1), d1 = d(i);
  const double a = d0 / (d0 - d1);  // d0 > 0 >= d1, so a in (0, 1]
  Eer e;
  e.eer = r.fpr[i - 1] + a * (r.fpr[i] - r.fpr[i - 1]);
  e.threshold = i == 1 ? r.thresholds[1] : r.thresholds[i - 1] + a * (r.thresholds[i] - r.thresholds[i - 1]);
  return e;
}

Hter hter(const std::vector<float>& val_scores, const std::vector<int>& val_labels,
          const std::vector<float>& test_scores, const std::vector<int>& test_labels, bool higher_is_live) {
  check(test_scores, test_labels, "hter (test set)", true);
  Eer v;
  try {
    v = eer(val_scores, val_labels, higher_is_live);
  } catch (const Error& e) {
    fail(std::string(e.what()) + " (validation set)");
  }
  Confusion c = confusion(test_scores, test_labels, v.threshold, higher_is_live);
  return {acer(c), v.threshold, v.eer};
}

Report evaluate(const Scores& test, const EvalOptions& opt, const Scores* val) {
  Counts cnt = check(test.scores, test.labels, "evaluate", true);
  Report r;
  r.higher_is_live = opt.higher_is_live;
  r.n = (int64_t)test.scores.size();
  r.n_live = cnt.live;
  r.n_spoof = cnt.spoof;
  Eer e = eer(test.scores, test.labels, opt.higher_is_live);
  r.eer = e.eer;
  r.eer_threshold = e.threshold;
  r.roc = roc_curve(test.scores, test.labels, opt.higher_is_live);
  r.auc = auc(r.roc);
  if (val) {
    Hter h = hter(val->scores, val->labels, test.scores, test.labels, opt.higher_is_live);
    r.has_val = true;
    r.val_eer = h.val_eer;
    r.val_eer_threshold = h.threshold;
    r.hter = h.hter;
  }
  if (opt.threshold) {
    r.threshold = *opt.threshold;
    r.threshold_source = "given";
  } else if (val) {
    r.threshold = r.val_eer_threshold;
    r.threshold_source = "val-eer";
  } else {
    r.threshold = r.eer_threshold;
    r.threshold_source = "test-eer";
  }
  r.cm = confusion(test.scores, test.labels, r.threshold, opt.higher_is_live);
  r.apcer = apcer(r.cm);
  r.bpcer = bpcer(r.cm);
  r.acer = acer(r.cm);
  r.accuracy = accuracy(r.cm);
  return r;
}

// ---------------------------------------------------------------- output formats

namespace {

std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

std::string num_array(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + num(v[i]);
  return s + "]";
}

std::string short_num(double v) {  // for the screen table; JSON/CSV keep full precision
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", 100 * v);
  return b;
}

// Scalar metrics in one list, shared by JSON and CSV so the two never disagree.
std::vector<std::pair<std::string, double>> scalars(const Report& r) {
  std::vector<std::pair<std::string, double>> v = {
      {"n", (double)r.n},          {"n_live", (double)r.n_live}, {"n_spoof", (double)r.n_spoof},
      {"threshold", r.threshold},  {"apcer", r.apcer},           {"bpcer", r.bpcer},
      {"acer", r.acer},            {"accuracy", r.accuracy},     {"eer", r.eer},
      {"eer_threshold", r.eer_threshold}, {"auc", r.auc},        {"tn", (double)r.cm.tn()},
      {"fp", (double)r.cm.fp()},   {"fn", (double)r.cm.fn()},    {"tp", (double)r.cm.tp()}};
  if (r.has_val) {
    v.push_back({"val_eer", r.val_eer});
    v.push_back({"val_eer_threshold", r.val_eer_threshold});
    v.push_back({"hter", r.hter});
  }
  return v;
}

}  // namespace

std::string Report::to_json() const {
  std::ostringstream o;
  o << "{\n  \"higher_is_live\": " << (higher_is_live ? "true" : "false") << ",\n  \"threshold_source\": \""
    << threshold_source << "\",\n";
  for (auto& [k, v] : scalars(*this)) o << "  \"" << k << "\": " << num(v) << ",\n";
  o << "  \"confusion_matrix\": [[" << cm.tn() << ", " << cm.fp() << "], [" << cm.fn() << ", " << cm.tp()
    << "]],\n";
  o << "  \"roc\": {\"fpr\": " << num_array(roc.fpr) << ", \"tpr\": " << num_array(roc.tpr)
    << ", \"thresholds\": " << num_array(roc.thresholds) << "}\n}\n";
  return o.str();
}

std::string Report::to_csv() const {
  std::string s = "metric,value\n";
  for (auto& [k, v] : scalars(*this)) s += k + "," + (std::isfinite(v) ? num(v) : std::string()) + "\n";
  return s;
}

std::string Report::roc_csv() const {
  std::string s = "threshold,fpr,tpr\n";
  for (size_t i = 0; i < roc.fpr.size(); ++i) {
    double t = roc.thresholds[i];
    s += (std::isfinite(t) ? num(t) : std::string(t > 0 ? "inf" : "-inf")) + "," + num(roc.fpr[i]) + "," +
         num(roc.tpr[i]) + "\n";
  }
  return s;
}

std::string Report::to_table() const {
  char b[160];
  std::string s;
  auto row = [&](const char* k, const std::string& v) {
    std::snprintf(b, sizeof b, "  %-10s %s\n", k, v.c_str());
    s += b;
  };
  row("samples", std::to_string(n) + " (" + std::to_string(n_live) + " live, " + std::to_string(n_spoof) +
                     " spoof)");
  row("scores", higher_is_live ? "higher = live" : "higher = spoof (anomaly score)");
  row("threshold", short_num(threshold) + " (" + threshold_source + ")");
  row("APCER", pct(apcer) + "  attacks accepted as live");
  row("BPCER", pct(bpcer) + "  bona fide rejected");
  row("ACER", pct(acer));
  row("accuracy", pct(accuracy));
  row("EER", pct(eer) + "  at threshold " + short_num(eer_threshold));
  if (has_val) row("HTER", pct(hter) + "  at val EER threshold " + short_num(val_eer_threshold) + " (val EER " +
                               pct(val_eer) + ")");
  std::snprintf(b, sizeof b, "%.4f", auc);
  row("AUC", b);
  std::snprintf(b, sizeof b,
                "  confusion  %12s %10s\n  %-10s %12lld %10lld\n  %-10s %12lld %10lld\n", "pred spoof",
                "pred live", "true spoof", (long long)cm.tn(), (long long)cm.fp(), "true live", (long long)cm.fn(),
                (long long)cm.tp());
  return s + b;
}

}  // namespace fas::metrics

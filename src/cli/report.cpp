#include "cli/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "io/atomic_file.h"
#include "io/plot.h"

namespace fas::cli {

ValMetrics validation_metrics(const ScoredSet& s, bool higher_is_live) {
  ValMetrics v;
  v.present = true;
  v.loss = s.mean_loss;
  bool both = false;
  for (int l : s.labels) both |= l != s.labels.front();
  if (s.scores.empty() || !both) {
    // One class only: rates and AUC are undefined; report accuracy at the default threshold.
    if (!s.scores.empty() && higher_is_live) {
      metrics::Confusion c = metrics::confusion(s.scores, s.labels, 0.5, true);
      v.accuracy = metrics::accuracy(c);
    }
    return v;
  }
  metrics::Scores sc{s.scores, s.labels};
  metrics::EvalOptions eo;
  eo.higher_is_live = higher_is_live;
  metrics::Report r = metrics::evaluate(sc, eo);
  v.accuracy = r.accuracy;
  v.apcer = r.apcer;
  v.bpcer = r.bpcer;
  v.acer = r.acer;
  v.auc = r.auc;
  v.eer = r.eer;
  v.has_threshold = std::isfinite(r.eer_threshold);
  v.threshold = r.eer_threshold;
  v.has_roc = true;
  v.roc = r.roc;
  return v;
}

std::string EpochRecord::line(int epochs) const {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "epoch %d/%d  loss %.4f", epoch, epochs, train_loss);
  for (const auto& [k, v] : parts)
    if (n > 0 && n < (int)sizeof buf) n += std::snprintf(buf + n, sizeof buf - n, " (%s %.4g)", k.c_str(), v);
  if (n > 0 && n < (int)sizeof buf)
    n += std::snprintf(buf + n, sizeof buf - n, "  %.1f img/s  %s", items_per_s, fmt_seconds(seconds).c_str());
  if (val.present && n > 0 && n < (int)sizeof buf)
    std::snprintf(buf + n, sizeof buf - n, "  | val loss %.4f  EER %.2f%%  acc@EER %.2f%%  ACER@EER %.2f%%  AUC %.4f", val.loss,
                  100 * val.eer, 100 * val.accuracy, 100 * val.acer, val.auc);  // at the EER threshold, not 0.5
  return buf;
}

bool History::add(const EpochRecord& r) {
  bool better = recs_.empty();
  if (!better) {
    const EpochRecord& b = recs_[best_ - 1];
    if (r.val.present && b.val.present)
      better = r.val.eer < b.val.eer || (r.val.eer == b.val.eer && r.val.loss < b.val.loss);
    else
      better = r.train_loss < b.train_loss;
  }
  recs_.push_back(r);
  if (better) best_ = r.epoch;
  return better;
}

namespace {
// JSON numbers must be finite; NaN (e.g. no loss) becomes null and reads back as NaN.
Json num(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }
double get(const Json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN;
}
}  // namespace

std::string History::to_json() const {
  Json a = Json::array();
  for (auto& r : recs_) {
    Json e = {{"epoch", r.epoch},       {"step", r.step},       {"lr", num(r.lr)},
              {"train_loss", num(r.train_loss)}, {"seconds", num(r.seconds)}, {"items_per_s", num(r.items_per_s)},
              {"skipped", r.skipped}};
    if (!r.parts.empty()) {
      Json parts = Json::object();
      for (auto& [k, v] : r.parts) parts[k] = num(v);
      e["parts"] = parts;
    }
    if (r.val.present) {
      e["val"] = {{"loss", num(r.val.loss)}, {"accuracy", num(r.val.accuracy)}, {"apcer", num(r.val.apcer)},
                  {"bpcer", num(r.val.bpcer)}, {"acer", num(r.val.acer)},       {"auc", num(r.val.auc)},
                  {"eer", num(r.val.eer)}};
      if (r.val.has_threshold) e["val"]["threshold"] = num(r.val.threshold);
    }
    a.push_back(e);
  }
  Json out = {{"best_epoch", best_}, {"epochs", a}};
  if (train_images_ >= 0) out["train_images"] = train_images_, out["train_live"] = train_live_;
  return out.dump();
}

History History::from_json(const std::string& s) {
  Json j = Json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("epochs")) fail("checkpoint: bad training history metadata");
  History h;
  for (auto& e : j["epochs"]) {
    EpochRecord r;
    r.epoch = e.value("epoch", 0);
    r.step = e.value("step", (int64_t)0);
    r.lr = get(e, "lr");
    r.train_loss = get(e, "train_loss");
    r.seconds = get(e, "seconds");
    r.items_per_s = get(e, "items_per_s");
    r.skipped = e.value("skipped", (int64_t)0);
    if (e.contains("parts") && e["parts"].is_object())
      for (auto& [k, v] : e["parts"].items()) r.parts.emplace_back(k, get(e["parts"], k.c_str()));
    if (e.contains("val")) {
      const Json& v = e["val"];
      r.val.present = true;
      r.val.loss = get(v, "loss");
      r.val.accuracy = get(v, "accuracy");
      r.val.apcer = get(v, "apcer");
      r.val.bpcer = get(v, "bpcer");
      r.val.acer = get(v, "acer");
      r.val.auc = get(v, "auc");
      r.val.eer = get(v, "eer");
      r.val.has_threshold = v.contains("threshold");
      r.val.threshold = get(v, "threshold");
    }
    h.recs_.push_back(r);
  }
  h.best_ = j.value("best_epoch", 0);
  h.train_images_ = j.value("train_images", (int64_t)-1);
  h.train_live_ = j.value("train_live", (int64_t)-1);
  return h;
}

namespace {
void write_history_plots(const std::string& dir, const History& h) {
  std::vector<double> tl, vl, eer, acer, auc;
  bool any_val = false;
  for (auto& r : h.epochs()) {
    tl.push_back(r.train_loss);
    vl.push_back(r.val.present ? r.val.loss : NAN);
    eer.push_back(r.val.present ? r.val.eer : NAN);
    acer.push_back(r.val.present ? r.val.acer : NAN);
    auc.push_back(r.val.present ? r.val.auc : NAN);
    any_val |= r.val.present;
  }
  plot::ChartOptions lo;
  lo.title = "Loss per epoch";
  lo.xlabel = "epoch";
  lo.ylabel = "loss";
  std::vector<plot::Series> loss = {plot::epoch_series("train", tl)};
  if (any_val) loss.push_back(plot::epoch_series("validation", vl));
  plot::write_svg(join_path(dir, "loss.svg"), plot::line_chart_svg(loss, lo));
  if (!any_val) return;
  plot::ChartOptions vo;
  vo.title = "Validation metrics per epoch";
  vo.xlabel = "epoch";
  vo.ylabel = "rate";
  vo.ymin = 0;
  vo.ymax = 1;
  plot::write_svg(join_path(dir, "val.svg"),
                  plot::line_chart_svg({plot::epoch_series("EER", eer), plot::epoch_series("ACER at the EER threshold", acer),
                                        plot::epoch_series("AUC", auc)},
                                       vo));
}
}  // namespace

void write_history_files(const std::string& dir, const History& h) {
  io::write_file_atomic(join_path(dir, "history.json"), Json::parse(h.to_json()).dump(2) + "\n");
  std::ostringstream csv;
  csv << "epoch,step,lr,train_loss,val_loss,val_accuracy,val_eer,val_acer,val_auc,seconds\n";
  csv.precision(9);
  for (auto& r : h.epochs()) {
    csv << r.epoch << ',' << r.step << ',' << r.lr << ',' << r.train_loss << ',';
    if (r.val.present) csv << r.val.loss << ',' << r.val.accuracy << ',' << r.val.eer << ',' << r.val.acer << ',' << r.val.auc;
    else csv << ",,,,";
    csv << ',' << r.seconds << '\n';
  }
  io::write_file_atomic(join_path(dir, "history.csv"), csv.str());
  write_history_plots(dir, h);
}

}  // namespace fas::cli

#include "metrics/groups.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "tensor/tensor.h"

namespace fas::metrics {

namespace {

double median(std::vector<float> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + (ptrdiff_t)h, v.end());
  const double hi = v[h];
  if (v.size() % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + (ptrdiff_t)h));
}

double rate(int64_t k, int64_t n) { return n ? (double)k / (double)n : std::numeric_limits<double>::quiet_NaN(); }

std::string num(double x, const char* fmt) {
  if (!std::isfinite(x)) return "";
  char b[32];
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}

}  // namespace

std::vector<GroupErrors> group_errors(const std::vector<std::string>& keys, const Scores& s, double threshold,
                                      bool higher_is_live) {
  if (keys.size() != s.scores.size() || s.labels.size() != s.scores.size())
    fail("metrics: group_errors: " + std::to_string(keys.size()) + " keys for " + std::to_string(s.scores.size()) +
         " scores and " + std::to_string(s.labels.size()) + " labels");
  struct Acc {
    std::vector<float> live, spoof;
  };
  std::map<std::string, Acc> by;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (s.labels[i] != 0 && s.labels[i] != 1) fail("metrics: group_errors: label " + std::to_string(s.labels[i]) + " is not 0 or 1");
    (s.labels[i] ? by[keys[i]].live : by[keys[i]].spoof).push_back(s.scores[i]);
  }
  std::vector<GroupErrors> out;
  for (auto& [key, a] : by) {
    // One decision rule for every metric: confusion() on the group's own scores.
    std::vector<float> sc(a.live);
    sc.insert(sc.end(), a.spoof.begin(), a.spoof.end());
    std::vector<int> lab(a.live.size(), 1);
    lab.resize(sc.size(), 0);
    const Confusion c = confusion(sc, lab, threshold, higher_is_live);
    GroupErrors g;
    g.key = key;
    g.live = (int64_t)a.live.size(), g.spoof = (int64_t)a.spoof.size();
    g.live_rejected = c.fn(), g.spoof_accepted = c.fp();
    g.live_median = median(a.live), g.spoof_median = median(a.spoof);
    out.push_back(g);
  }
  return out;
}

std::string group_key(const std::string& path, const std::regex& re) {
  std::smatch m;
  if (!std::regex_search(path, m, re)) return kNoGroup;
  return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
}

std::string groups_csv(const std::vector<GroupErrors>& g) {
  std::string s = "group,live,spoof,live_rejected,spoof_accepted,bpcer,apcer,live_median_score,spoof_median_score\n";
  for (const auto& r : g)
    s += r.key + ',' + std::to_string(r.live) + ',' + std::to_string(r.spoof) + ',' + std::to_string(r.live_rejected) +
         ',' + std::to_string(r.spoof_accepted) + ',' + num(rate(r.live_rejected, r.live), "%.6g") + ',' +
         num(rate(r.spoof_accepted, r.spoof), "%.6g") + ',' + num(r.live_median, "%.6g") + ',' +
         num(r.spoof_median, "%.6g") + '\n';
  return s;
}

std::string groups_table(const std::vector<GroupErrors>& g) {
  size_t w = 5;
  for (const auto& r : g) w = std::max(w, r.key.size());
  // The key column is padded here, not by snprintf, so a long key is never cut by the buffer.
  auto key = [w](const std::string& k) { return k + std::string(w - k.size() + 1, ' '); };
  char line[128];
  std::snprintf(line, sizeof line, "%7s %7s %8s %8s %12s %12s\n", "live", "spoof", "BPCER", "APCER", "median live",
                "median spoof");
  std::string s = key("group") + line;
  auto pct = [](double x) { return std::isfinite(x) ? num(100 * x, "%.2f %%") : std::string("-"); };
  auto med = [](double x) { return std::isfinite(x) ? num(x, "%.4g") : std::string("-"); };
  for (const auto& r : g) {
    std::snprintf(line, sizeof line, "%7lld %7lld %8s %8s %12s %12s\n", (long long)r.live, (long long)r.spoof,
                  pct(rate(r.live_rejected, r.live)).c_str(), pct(rate(r.spoof_accepted, r.spoof)).c_str(),
                  med(r.live_median).c_str(), med(r.spoof_median).c_str());
    s += key(r.key) + line;
  }
  return s;
}

int subject_fold(const std::string& path, const std::string& group_regex, int k) {
  const std::string g = group_key(path, std::regex(group_regex));
  if (g == kNoGroup) fail("subject folds: no subject in '" + path + "' (subject pattern '" + group_regex + "')");
  uint64_t v = 0;
  bool digits = !g.empty() && g.size() < 18;
  for (char c : g) digits = digits && c >= '0' && c <= '9';
  if (digits) v = std::stoull(g);
  else {
    v = 1469598103934665603ull;
    for (unsigned char c : g) v = (v ^ c) * 1099511628211ull;
  }
  return (int)(v % (uint64_t)k);
}

}  // namespace fas::metrics

// SVG charts. One Frame draws what every chart shares (title, axes, nice ticks, grid, legend);
// the chart functions only add their marks inside it.
#include "io/plot.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "io/atomic_file.h"

namespace fas::plot {
namespace {

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kMarkerMaxPoints = 60;

std::string esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      case '\'': r += "&apos;"; break;
      default: r += c;
    }
  }
  return r;
}

std::string f2(double v) {  // pixel coordinates
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string label_num(double v, int decimals) {
  char b[32];
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-4))
    std::snprintf(b, sizeof b, "%.3g", v);
  else
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  int decimals = 0;
};

// Ticks at 1, 2, 2.5 or 5 x 10^k, about six intervals. Auto ends are widened to whole steps.
Axis make_axis(double data_lo, double data_hi, double fixed_lo, double fixed_hi, bool integer) {
  double lo = std::isnan(fixed_lo) ? data_lo : fixed_lo, hi = std::isnan(fixed_hi) ? data_hi : fixed_hi;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;  // no finite data at all
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(lo))) {  // one value: give it some room
    double r = std::max(0.5, 0.1 * std::fabs(lo));
    lo -= std::isnan(fixed_lo) ? r : 0;
    hi += std::isnan(fixed_hi) ? r : 0;
    if (hi <= lo) hi = lo + r;
  }
  double raw = (hi - lo) / 6, mag = std::pow(10.0, std::floor(std::log10(raw))), r = raw / mag;
  const bool quarter = !integer || mag >= 10;  // 2.5 x 10^k is a whole number only for k >= 1
  double step = (r <= 1 ? 1 : r <= 2 ? 2 : (r <= 2.5 && quarter) ? 2.5 : r <= 5 ? 5 : 10) * mag;
  if (integer) step = std::max(step, 1.0);
  Axis a;
  a.step = step;
  a.lo = std::isnan(fixed_lo) ? std::floor(lo / step + 1e-9) * step : lo;
  a.hi = std::isnan(fixed_hi) ? std::ceil(hi / step - 1e-9) * step : hi;
  while (a.decimals < 12) {  // fewest decimals that print every multiple of the step exactly
    double scaled = step * std::pow(10.0, a.decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * scaled) break;
    ++a.decimals;
  }
  return a;
}

struct LegendEntry {
  enum Kind { Line, Box, Text } kind;
  std::string name, color;
  bool dashed = false;
};

class Frame {
 public:
  Frame(int width, int height, Axis x, Axis y, const std::vector<LegendEntry>& legend)
      : w_(width), h_(height), x_(x), y_(y), legend_(legend) {
    size_t longest = 0;
    for (auto& e : legend) longest = std::max(longest, e.name.size());
    legend_w_ = legend.empty() ? 0 : (int)std::min<size_t>(300, 40 + 7 * longest);
    left_ = 70, top_ = 44, right_ = w_ - 20 - legend_w_, bottom_ = h_ - 54;
    if (right_ - left_ < 100 || bottom_ - top_ < 80)
      fail("plot: chart of " + std::to_string(w_) + "x" + std::to_string(h_) + " pixels is too small");
  }
  double px(double x) const { return left_ + (x - x_.lo) / (x_.hi - x_.lo) * (right_ - left_); }
  double py(double y) const { return bottom_ - (y - y_.lo) / (y_.hi - y_.lo) * (bottom_ - top_); }
  double left() const { return left_; }
  double right() const { return right_; }
  double top() const { return top_; }
  double bottom() const { return bottom_; }

  // Everything under the marks: background, title, grid, ticks, axis labels, clip region.
  std::string begin(const std::string& title, const std::string& xlabel, const std::string& ylabel) const {
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w_
      << "\" height=\"" << h_ << "\" viewBox=\"0 0 " << w_ << " " << h_
      << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<defs><clipPath id=\"plot-area\"><rect x=\"" << f2(left_ - 4) << "\" y=\"" << f2(top_ - 4)
      << "\" width=\"" << f2(right_ - left_ + 8) << "\" height=\"" << f2(bottom_ - top_ + 8)
      << "\"/></clipPath></defs>\n";
    if (!title.empty())
      o << "<text x=\"" << f2((left_ + right_) / 2) << "\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">"
        << esc(title) << "</text>\n";
    o << "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
    for (double v : ticks(x_)) o << "<line x1=\"" << f2(px(v)) << "\" y1=\"" << f2(top_) << "\" x2=\"" << f2(px(v))
                                 << "\" y2=\"" << f2(bottom_) << "\"/>\n";
    for (double v : ticks(y_)) o << "<line x1=\"" << f2(left_) << "\" y1=\"" << f2(py(v)) << "\" x2=\"" << f2(right_)
                                 << "\" y2=\"" << f2(py(v)) << "\"/>\n";
    o << "</g>\n<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\">\n"
      << "<line x1=\"" << f2(left_) << "\" y1=\"" << f2(bottom_) << "\" x2=\"" << f2(right_) << "\" y2=\""
      << f2(bottom_) << "\"/>\n<line x1=\"" << f2(left_) << "\" y1=\"" << f2(top_) << "\" x2=\"" << f2(left_)
      << "\" y2=\"" << f2(bottom_) << "\"/>\n";
    for (double v : ticks(x_)) o << "<line x1=\"" << f2(px(v)) << "\" y1=\"" << f2(bottom_) << "\" x2=\""
                                 << f2(px(v)) << "\" y2=\"" << f2(bottom_ + 5) << "\"/>\n";
    for (double v : ticks(y_)) o << "<line x1=\"" << f2(left_ - 5) << "\" y1=\"" << f2(py(v)) << "\" x2=\""
                                 << f2(left_) << "\" y2=\"" << f2(py(v)) << "\"/>\n";
    o << "</g>\n<g class=\"tick-labels\" fill=\"#333\">\n";
    for (double v : ticks(x_)) o << "<text x=\"" << f2(px(v)) << "\" y=\"" << f2(bottom_ + 18)
                                 << "\" text-anchor=\"middle\">" << label_num(v, x_.decimals) << "</text>\n";
    for (double v : ticks(y_)) o << "<text x=\"" << f2(left_ - 8) << "\" y=\"" << f2(py(v) + 4)
                                 << "\" text-anchor=\"end\">" << label_num(v, y_.decimals) << "</text>\n";
    o << "</g>\n";
    if (!xlabel.empty())
      o << "<text x=\"" << f2((left_ + right_) / 2) << "\" y=\"" << f2(h_ - 14) << "\" text-anchor=\"middle\">"
        << esc(xlabel) << "</text>\n";
    if (!ylabel.empty())
      o << "<text transform=\"translate(18 " << f2((top_ + bottom_) / 2)
        << ") rotate(-90)\" text-anchor=\"middle\">" << esc(ylabel) << "</text>\n";
    return o.str();
  }

  std::string end() const {
    std::ostringstream o;
    if (!legend_.empty()) {
      double x = right_ + 16, y = top_ + 6;
      o << "<g class=\"legend\">\n";
      for (auto& e : legend_) {
        if (e.kind == LegendEntry::Line)
          o << "<line x1=\"" << f2(x) << "\" y1=\"" << f2(y) << "\" x2=\"" << f2(x + 22) << "\" y2=\"" << f2(y)
            << "\" stroke=\"" << esc(e.color) << "\" stroke-width=\"2\"" << (e.dashed ? " stroke-dasharray=\"6 4\"" : "")
            << "/>\n";
        else if (e.kind == LegendEntry::Box)
          o << "<rect x=\"" << f2(x + 4) << "\" y=\"" << f2(y - 6) << "\" width=\"14\" height=\"12\" fill=\""
            << esc(e.color) << "\" fill-opacity=\"0.45\" stroke=\"" << esc(e.color) << "\"/>\n";
        o << "<text x=\"" << f2(e.kind == LegendEntry::Text ? x : x + 30) << "\" y=\"" << f2(y + 4) << "\">"
          << esc(e.name) << "</text>\n";
        y += 20;
      }
      o << "</g>\n";
    }
    return o.str() + "</svg>\n";
  }

 private:
  static std::vector<double> ticks(const Axis& a) {
    std::vector<double> t;
    for (double k = std::ceil(a.lo / a.step - 1e-9); k <= std::floor(a.hi / a.step + 1e-9); ++k)
      t.push_back(std::fabs(k) < 0.5 ? 0.0 : k * a.step);
    return t;
  }
  int w_, h_;
  Axis x_, y_;
  std::vector<LegendEntry> legend_;
  int legend_w_;
  double left_, top_, right_, bottom_;
};

std::string series_color(const Series& s, size_t i) { return s.color.empty() ? kPalette[i % 10] : s.color; }

}  // namespace

Series epoch_series(const std::string& name, const std::vector<double>& per_epoch) {
  Series s;
  s.name = name;
  s.y = per_epoch;
  for (size_t i = 0; i < per_epoch.size(); ++i) s.x.push_back((double)(i + 1));
  return s;
}

std::string line_chart_svg(const std::vector<Series>& series, const ChartOptions& opt) {
  if (series.empty()) fail("plot: line chart '" + opt.title + "': no series");
  double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
  bool integer_x = true;
  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.x.size() != s.y.size())
      fail("plot: line chart: series '" + s.name + "' has " + std::to_string(s.x.size()) + " x but " +
           std::to_string(s.y.size()) + " y values");
    for (size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
      xl = std::min(xl, s.x[k]), xh = std::max(xh, s.x[k]), yl = std::min(yl, s.y[k]), yh = std::max(yh, s.y[k]);
      integer_x = integer_x && s.x[k] == std::round(s.x[k]);
    }
    legend.push_back({LegendEntry::Line, s.name, series_color(s, i), s.dashed});
  }
  // Whole-number x data (epochs) gets whole-number ticks, unless the caller fixed the range.
  integer_x = integer_x && std::isnan(opt.xmin) && std::isnan(opt.xmax);
  Frame fr(opt.width, opt.height, make_axis(xl, xh, opt.xmin, opt.xmax, integer_x),
           make_axis(yl, yh, opt.ymin, opt.ymax, false), legend);
  std::ostringstream o;
  o << fr.begin(opt.title, opt.xlabel, opt.ylabel);
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string color = esc(series_color(s, i));
    o << "<g class=\"series\" data-name=\"" << esc(s.name) << "\" clip-path=\"url(#plot-area)\">\n";
    auto finite = [&](size_t k) { return std::isfinite(s.x[k]) && std::isfinite(s.y[k]); };
    size_t n_finite = 0;
    for (size_t k = 0; k < s.x.size(); ++k) n_finite += finite(k);
    const bool markers = opt.markers && n_finite <= (size_t)kMarkerMaxPoints;
    auto dot = [&](std::pair<double, double> p) {
      o << "<circle cx=\"" << f2(p.first) << "\" cy=\"" << f2(p.second) << "\" r=\"3\" fill=\"" << color << "\"/>\n";
    };
    // Runs of consecutive finite points: a polyline each; a lone point is drawn as a dot.
    std::vector<std::pair<double, double>> run, all;
    auto flush = [&] {
      if (run.size() >= 2) {
        o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\""
          << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << " stroke-linejoin=\"round\" points=\"";
        for (size_t k = 0; k < run.size(); ++k) o << (k ? " " : "") << f2(run[k].first) << "," << f2(run[k].second);
        o << "\"/>\n";
      } else if (run.size() == 1 && !markers) {
        dot(run[0]);
      }
      run.clear();
    };
    for (size_t k = 0; k < s.x.size(); ++k) {
      if (finite(k)) {
        run.push_back({fr.px(s.x[k]), fr.py(s.y[k])});
        all.push_back(run.back());
      } else {
        flush();
      }
    }
    flush();
    if (markers)
      for (auto& p : all) dot(p);
    o << "</g>\n";
  }
  return o.str() + fr.end();
}

std::string roc_svg(const std::vector<RocSeries>& curves, const std::string& title) {
  if (curves.empty()) fail("plot: ROC chart: no curves");
  std::vector<Series> s;
  for (auto& c : curves) {
    char b[48];
    std::snprintf(b, sizeof b, " (AUC = %.4f)", c.auc);
    s.push_back({c.name + b, c.roc.fpr, c.roc.tpr, "", false});
  }
  s.push_back({"chance", {0, 1}, {0, 1}, "#999999", true});
  ChartOptions o;
  o.title = title;
  o.xlabel = "APCER (attacks accepted as live)";
  o.ylabel = "1 - BPCER (bona fide accepted)";
  o.xmin = o.ymin = 0;
  o.xmax = o.ymax = 1;
  o.markers = false;
  o.width = 760;
  o.height = 520;
  return line_chart_svg(s, o);
}

std::string histogram_svg(const std::vector<float>& scores, const std::vector<int>& labels,
                          const HistogramOptions& opt) {
  if (scores.size() != labels.size())
    fail("plot: histogram: " + std::to_string(scores.size()) + " scores but " + std::to_string(labels.size()) +
         " labels");
  if (scores.empty()) fail("plot: histogram: no scores");
  if (opt.bins < 1) fail("plot: histogram: bins must be >= 1, got " + std::to_string(opt.bins));
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] != 0 && labels[i] != 1)
      fail("plot: histogram: label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
           " (expected 1 = live, 0 = spoof)");
  double lo = INFINITY, hi = -INFINITY;
  for (float v : scores)
    if (std::isfinite(v)) lo = std::min(lo, (double)v), hi = std::max(hi, (double)v);
  if (lo >= 0 && hi <= 1) lo = 0, hi = 1;  // probabilities: keep the natural range
  if (!std::isnan(opt.lo)) lo = opt.lo;
  if (!std::isnan(opt.hi)) hi = opt.hi;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;  // nothing finite to show
  if (hi <= lo) hi = lo + 1;
  const int nb = opt.bins;
  std::vector<int64_t> count[2] = {std::vector<int64_t>(nb), std::vector<int64_t>(nb)};
  int64_t n[2] = {0, 0}, skipped = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    double v = scores[i];
    if (!std::isfinite(v) || v < lo || v > hi) {
      ++skipped;
      continue;
    }
    count[labels[i]][std::min(nb - 1, (int)((v - lo) / (hi - lo) * nb))]++;
    n[labels[i]]++;
  }
  int64_t top = 1;
  for (auto& c : count) top = std::max(top, *std::max_element(c.begin(), c.end()));
  const char* color[2] = {"#d62728", "#2ca02c"};
  const char* name[2] = {"spoof", "live"};
  std::vector<LegendEntry> legend;
  for (int c : {1, 0}) legend.push_back({LegendEntry::Box, std::string(name[c]) + " (n=" + std::to_string(n[c]) + ")", color[c]});
  if (opt.threshold) {
    char b[48];
    std::snprintf(b, sizeof b, "threshold %.4g", *opt.threshold);
    legend.push_back({LegendEntry::Line, b, "#333333", true});
  }
  if (skipped) legend.push_back({LegendEntry::Text, std::to_string(skipped) + " not shown (NaN/out of range)", ""});
  Axis ax = make_axis(lo, hi, lo, hi, false), ay = make_axis(0, (double)top, 0, NAN, true);
  Frame fr(opt.width, opt.height, ax, ay, legend);
  std::ostringstream o;
  o << fr.begin(opt.title, opt.xlabel, "count");
  for (int c : {0, 1}) {
    o << "<g class=\"series\" data-name=\"" << name[c] << "\" fill=\"" << color[c] << "\" fill-opacity=\"0.45\" stroke=\""
      << color[c] << "\" stroke-width=\"0.8\">\n";
    for (int b = 0; b < nb; ++b) {
      if (!count[c][b]) continue;
      double x0 = fr.px(lo + (hi - lo) * b / nb), x1 = fr.px(lo + (hi - lo) * (b + 1) / nb);
      double y0 = fr.py((double)count[c][b]);
      o << "<rect x=\"" << f2(x0) << "\" y=\"" << f2(y0) << "\" width=\"" << f2(x1 - x0) << "\" height=\""
        << f2(fr.py(0) - y0) << "\"/>\n";
    }
    o << "</g>\n";
  }
  if (opt.threshold && *opt.threshold >= lo && *opt.threshold <= hi) {
    double x = fr.px(*opt.threshold);
    o << "<line class=\"threshold\" x1=\"" << f2(x) << "\" y1=\"" << f2(fr.top()) << "\" x2=\"" << f2(x) << "\" y2=\""
      << f2(fr.bottom()) << "\" stroke=\"#333333\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n";
  }
  return o.str() + fr.end();
}

void write_svg(const std::string& path, const std::string& svg) { io::write_file_atomic(path, svg); }

std::vector<std::string> write_eval_artifacts(const std::string& dir, const std::string& model_name,
                                              const metrics::Report& report, const metrics::Scores& scores) {
  HistogramOptions h;
  h.threshold = report.threshold;
  h.title = "Scores of " + model_name;
  h.xlabel = report.higher_is_live ? "score (higher = live)" : "anomaly score (higher = spoof)";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"metrics.json", report.to_json()},
      {"metrics.csv", report.to_csv()},
      {"roc.csv", report.roc_csv()},
      {"roc.svg", roc_svg({{model_name, report.roc, report.auc}}, "ROC curve of " + model_name)},
      {"scores_hist.svg", histogram_svg(scores.scores, scores.labels, h)}};
  std::vector<std::string> written;
  for (auto& [name, content] : files) {
    written.push_back(dir + "/" + name);
    io::write_file_atomic(written.back(), content);
  }
  return written;
}

}  // namespace fas::plot

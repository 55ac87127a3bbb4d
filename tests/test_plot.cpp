// Plots: SVG documents are parsed by a small strict XML checker and inspected element by element;
// PNG grids are decoded again with stb_image and compared pixel by pixel.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "io/atomic_file.h"
#include "io/plot.h"
#include "testutil.h"

// A private copy of the stb reader (static functions) so this test does not depend on which
// library file provides the non-static one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include "stb_image.h"
#pragma GCC diagnostic pop

using namespace fas;
using namespace fas::plot;
namespace fs = std::filesystem;

namespace {

struct Element {
  std::string name, text;  // text: characters right after the start tag, entities decoded
  std::map<std::string, std::string> attr;
};

bool entity_ok(const std::string& s, size_t i) {
  for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
    if (s.compare(i, std::strlen(e), e) == 0) return true;
  return false;
}

std::string decode(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      r += s[i];
      continue;
    }
    static const std::pair<const char*, char> ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
                                                         {"&apos;", '\''}};
    for (auto& [e, c] : ents)
      if (s.compare(i, std::strlen(e), e) == 0) {
        r += c;
        i += std::strlen(e) - 1;
        break;
      }
  }
  return r;
}

// Strict enough for what we emit: prolog, one root, balanced tags, quoted unique attributes,
// '&' only in the five predefined entities, no '<' in text or attribute values.
::testing::AssertionResult parse_xml(const std::string& s, std::vector<Element>& out) {
  auto bad = [&](size_t at, const std::string& why) {
    return ::testing::AssertionFailure() << why << " at offset " << at << ": ..." << s.substr(at, 60);
  };
  size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) i = s.find("?>") + 2;
  std::vector<std::string> stack;
  int roots = 0;
  while (i < s.size()) {
    size_t lt = s.find('<', i);
    std::string text = s.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    for (size_t k = 0; k < text.size(); ++k)
      if (text[k] == '&' && !entity_ok(text, k)) return bad(i + k, "bare '&' in text");
    if (!out.empty() && out.back().text.empty()) out.back().text = decode(text);
    if (stack.empty() && text.find_first_not_of(" \n\t\r") != std::string::npos) return bad(i, "text outside root");
    if (lt == std::string::npos) break;
    size_t gt = s.find('>', lt);
    if (gt == std::string::npos) return bad(lt, "unterminated tag");
    std::string tag = s.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return bad(lt, "mismatched close tag");
      stack.pop_back();
      continue;
    }
    bool self_close = tag.back() == '/';
    if (self_close) tag.pop_back();
    Element e;
    size_t k = 0;
    while (k < tag.size() && (std::isalnum((unsigned char)tag[k]) || tag[k] == '-' || tag[k] == ':')) ++k;
    e.name = tag.substr(0, k);
    if (e.name.empty()) return bad(lt, "tag without a name");
    while (true) {
      while (k < tag.size() && std::isspace((unsigned char)tag[k])) ++k;
      if (k >= tag.size()) break;
      size_t eq = tag.find('=', k);
      if (eq == std::string::npos || tag[eq + 1] != '"') return bad(lt, "attribute without a quoted value");
      std::string an = tag.substr(k, eq - k);
      size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return bad(lt, "unterminated attribute value");
      std::string v = tag.substr(eq + 2, close - eq - 2);
      for (size_t q = 0; q < v.size(); ++q)
        if (v[q] == '<' || (v[q] == '&' && !entity_ok(v, q))) return bad(lt, "bad character in attribute " + an);
      if (e.attr.count(an)) return bad(lt, "duplicate attribute " + an);
      e.attr[an] = decode(v);
      k = close + 1;
    }
    if (stack.empty() && ++roots > 1) return bad(lt, "second root element");
    out.push_back(e);
    if (!self_close) stack.push_back(e.name);
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  if (out.empty() || out[0].name != "svg") return ::testing::AssertionFailure() << "root is not <svg>";
  return ::testing::AssertionSuccess();
}

std::vector<Element> parsed(const std::string& svg) {
  std::vector<Element> els;
  EXPECT_TRUE(parse_xml(svg, els)) << svg;
  return els;
}

std::vector<std::pair<double, double>> points_of(const Element& e) {
  std::vector<std::pair<double, double>> p;
  std::istringstream in(e.attr.at("points"));
  std::string xy;
  while (in >> xy) p.push_back({std::stod(xy.substr(0, xy.find(','))), std::stod(xy.substr(xy.find(',') + 1))});
  return p;
}

// Elements named `name` inside the <g class="series" data-name=series> group (document order).
std::vector<Element> in_series(const std::string& svg, const std::string& series, const std::string& name) {
  std::vector<Element> r;
  std::string key = "data-name=\"" + series + "\"";
  size_t g = svg.find(key);
  if (g == std::string::npos) return r;
  std::vector<Element> els = parsed("<svg>" + svg.substr(svg.find('>', g) + 1, svg.find("</g>", g) - svg.find('>', g) - 1) + "</svg>");
  for (auto& e : els)
    if (e.name == name) r.push_back(e);
  return r;
}

bool has_text(const std::vector<Element>& els, const std::string& t) {
  for (auto& e : els)
    if (e.name == "text" && e.text == t) return true;
  return false;
}

fs::path out_dir() {
  fs::path d = fs::path(FAS_BINARY_DIR) / "test_plot_out";
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Plot, XmlCheckerRejectsBrokenDocuments) {
  std::vector<Element> els;
  EXPECT_FALSE(parse_xml("<svg><g></svg>", els));
  els.clear();
  EXPECT_FALSE(parse_xml("<svg><text>a & b</text></svg>", els));
  els.clear();
  EXPECT_FALSE(parse_xml("<svg x=1></svg>", els));
  els.clear();
  EXPECT_FALSE(parse_xml("<svg a=\"1\" a=\"2\"></svg>", els));
  els.clear();
  EXPECT_TRUE(parse_xml("<svg a=\"&lt;\"><text>a &amp; b</text></svg>", els));
  EXPECT_EQ(els[1].text, "a & b");
}

TEST(Plot, LineChartSeriesLegendAxesAndNaNGaps) {
  const double nan = std::nan("");
  ChartOptions o;
  o.title = "Loss per epoch";
  o.xlabel = "epoch";
  o.ylabel = "loss";
  std::vector<Series> s = {epoch_series("train loss", {0.9, 0.6, 0.45, 0.4, 0.38}),
                           epoch_series("val <loss> & co", {1.0, 0.7, nan, 0.5, 0.52})};
  std::string svg = line_chart_svg(s, o);
  write_svg((out_dir() / "line.svg").string(), svg);
  std::vector<Element> els = parsed(svg);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  for (const char* t : {"Loss per epoch", "epoch", "loss", "train loss", "val <loss> & co", "1", "5"})
    EXPECT_TRUE(has_text(els, t)) << t;

  auto train = in_series(svg, "train loss", "polyline");
  ASSERT_EQ(train.size(), 1u);
  auto p = points_of(train[0]);
  ASSERT_EQ(p.size(), 5u);
  for (size_t k = 1; k < p.size(); ++k) {
    EXPECT_GT(p[k].first, p[k - 1].first);   // epochs go right
    EXPECT_GT(p[k].second, p[k - 1].second);  // falling loss goes down the page (larger y)
  }
  for (auto& q : p) {
    EXPECT_GT(q.first, 0);
    EXPECT_LT(q.first, o.width);
    EXPECT_GT(q.second, 0);
    EXPECT_LT(q.second, o.height);
  }
  // The NaN at epoch 3 splits the validation line into epochs 1-2 and 4-5.
  auto val = in_series(svg, "val &lt;loss&gt; &amp; co", "polyline");
  ASSERT_EQ(val.size(), 2u);
  EXPECT_EQ(points_of(val[0]).size(), 2u);
  EXPECT_EQ(points_of(val[1]).size(), 2u);
  EXPECT_EQ(points_of(val[0])[0].first, p[0].first);  // same x for the same epoch
  EXPECT_EQ(points_of(val[1])[0].first, p[3].first);
  EXPECT_EQ(in_series(svg, "train loss", "circle").size(), 5u);  // markers on short series
  EXPECT_EQ(in_series(svg, "val &lt;loss&gt; &amp; co", "circle").size(), 4u);
  // Different colours from the palette.
  EXPECT_NE(train[0].attr["stroke"], val[0].attr["stroke"]);
}

TEST(Plot, LonePointsAndErrors) {
  ChartOptions o;
  o.markers = false;
  std::string svg = line_chart_svg({{"one", {1, 2, 3}, {NAN, 5, INFINITY}, "", false}}, o);
  EXPECT_EQ(in_series(svg, "one", "polyline").size(), 0u);
  EXPECT_EQ(in_series(svg, "one", "circle").size(), 1u);
  // A series with no finite point still draws axes and its legend entry.
  svg = line_chart_svg({{"empty", {1}, {NAN}, "", false}}, o);
  EXPECT_TRUE(has_text(parsed(svg), "empty"));
  EXPECT_THROW(line_chart_svg({}, o), Error);
  try {
    line_chart_svg({{"bad", {1, 2}, {1}, "", false}}, o);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bad' has 2 x but 1 y"), std::string::npos) << e.what();
  }
}

TEST(Plot, TickLabelsAreRoundNumbers) {
  // y in [0, 1.5]: about six intervals -> step 0.25, printed with the two decimals it needs.
  // x = epochs 1..3: whole-number ticks only (step 0.5 is raised to 1).
  std::vector<Element> els = parsed(line_chart_svg({{"s", {1, 2, 3}, {0, 1.5, 1}, "", false}}, {}));
  for (const char* t : {"0.00", "0.25", "1.50", "1", "2", "3"}) EXPECT_TRUE(has_text(els, t)) << t;
  for (const char* t : {"1.5", "2.5", "1.75"}) EXPECT_FALSE(has_text(els, t)) << t;
  // Epochs 1..120: step 20 and the axis ends at 120 (not widened to 150).
  std::vector<double> y(120, 1.0);
  els = parsed(line_chart_svg({epoch_series("long", y)}, {}));
  EXPECT_TRUE(has_text(els, "120"));
  EXPECT_TRUE(has_text(els, "20"));
  EXPECT_FALSE(has_text(els, "140"));
}

TEST(Plot, RocChartHasCurveDiagonalAndAuc) {
  std::vector<float> s = {9, 3, 8, 2, 7, 1, 6, 4};
  std::vector<int> l = {1, 0, 1, 0, 0, 0, 1, 1};
  metrics::RocCurve r = metrics::roc_curve(s, l, true);
  std::string svg = roc_svg({{"cnn", r, metrics::auc(r)}}, "ROC test");
  write_svg((out_dir() / "roc.svg").string(), svg);
  std::vector<Element> els = parsed(svg);
  EXPECT_TRUE(has_text(els, "cnn (AUC = 0.8750)"));
  EXPECT_TRUE(has_text(els, "chance"));
  auto curve = in_series(svg, "cnn (AUC = 0.8750)", "polyline");
  ASSERT_EQ(curve.size(), 1u);
  auto p = points_of(curve[0]);
  ASSERT_EQ(p.size(), r.fpr.size());
  auto diag = points_of(in_series(svg, "chance", "polyline").at(0));
  ASSERT_EQ(diag.size(), 2u);
  // Both start at (0, 0) and end at (1, 1): the same pixels.
  EXPECT_EQ(p.front(), diag.front());
  EXPECT_EQ(p.back(), diag.back());
  EXPECT_EQ(in_series(svg, "chance", "polyline")[0].attr.count("stroke-dasharray"), 1u);
}

TEST(Plot, HistogramPerClassWithThreshold) {
  // bins = 4 over [0, 1]: live 0.3 -> bin 1, 0.8/0.85/0.9 -> bin 3; spoof 0.1/0.2 -> bin 0, 0.3 -> bin 1; NaN skipped.
  std::vector<float> s = {0.9f, 0.8f, 0.85f, 0.3f, 0.1f, 0.2f, 0.3f, NAN};
  std::vector<int> l = {1, 1, 1, 1, 0, 0, 0, 0};
  HistogramOptions o;
  o.bins = 4;
  o.threshold = 0.5;
  std::string svg = histogram_svg(s, l, o);
  write_svg((out_dir() / "hist.svg").string(), svg);
  std::vector<Element> els = parsed(svg);
  EXPECT_TRUE(has_text(els, "live (n=4)"));
  EXPECT_TRUE(has_text(els, "spoof (n=3)"));
  EXPECT_TRUE(has_text(els, "1 not shown (NaN/out of range)"));
  EXPECT_TRUE(has_text(els, "threshold 0.5"));
  auto live = in_series(svg, "live", "rect"), spoof = in_series(svg, "spoof", "rect");
  ASSERT_EQ(live.size(), 2u);
  ASSERT_EQ(spoof.size(), 2u);
  auto h = [](const Element& e) { return std::stod(e.attr.at("height")); };
  auto x = [](const Element& e) { return std::stod(e.attr.at("x")); };
  EXPECT_NEAR(h(live[1]), 3 * h(live[0]), 0.02);   // counts 1 and 3
  EXPECT_NEAR(h(spoof[0]), 2 * h(spoof[1]), 0.02);  // counts 2 and 1
  EXPECT_NEAR(x(live[0]), x(spoof[1]), 1e-9);       // both in bin 1
  // The threshold sits halfway between the bin-1 and bin-3 bars' left edges (0.25 and 0.75).
  Element thr;
  for (auto& e : els)
    if (e.name == "line" && e.attr["class"] == "threshold") thr = e;
  ASSERT_EQ(thr.name, "line");
  EXPECT_NEAR(std::stod(thr.attr["x1"]), (x(live[0]) + x(live[1])) / 2, 0.02);
  EXPECT_THROW(histogram_svg({0.1f}, {2}), Error);
  EXPECT_THROW(histogram_svg({0.1f, 0.2f}, {1}), Error);
  EXPECT_THROW(histogram_svg({}, {}), Error);
}

TEST(Plot, EvalArtifactsAreWrittenAndParse) {
  fs::path d = out_dir() / "eval";
  fs::remove_all(d);
  fs::create_directories(d);
  metrics::Scores sc{{0.9f, 0.2f, 0.8f, 0.4f, 0.6f}, {1, 0, 1, 0, 0}};
  metrics::Report r = metrics::evaluate(sc);
  auto files = write_eval_artifacts(d.string(), "tiny", r, sc);
  ASSERT_EQ(files.size(), 5u);
  for (auto& f : files) {
    std::ifstream in(f);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(content.empty()) << f;
    if (f.size() > 4 && f.substr(f.size() - 4) == ".svg") {
      std::vector<Element> els;
      EXPECT_TRUE(parse_xml(content, els)) << f;
    }
  }
  EXPECT_TRUE(fs::exists(d / "metrics.json"));
  EXPECT_TRUE(fs::exists(d / "scores_hist.svg"));
  EXPECT_THROW(write_eval_artifacts((d / "missing").string(), "tiny", r, sc), Error);
}

TEST(Plot, PngGridRoundTrip) {
  // Row 0: two RGB 5x4 images; row 1: one grey 3x2 image (centred in its 5x4 cell) and an empty cell.
  Tensor a = Tensor::zeros({3, 5, 4}), b = Tensor::zeros({3, 5, 4}), g = Tensor::zeros({1, 3, 2});
  for (int64_t i = 0; i < a.numel(); ++i) a.data()[i] = (float)i / 255.f;   // exact 8-bit levels 0..59
  for (int64_t i = 0; i < b.numel(); ++i) b.data()[i] = 1.f - (float)i / 100.f;
  for (int64_t i = 0; i < g.numel(); ++i) g.data()[i] = 0.5f;
  g.data()[0] = -0.5f;  // clamps to 0
  g.data()[1] = 1.7f;   // clamps to 255
  g.data()[2] = NAN;    // -> 0
  const int pad = 2;
  std::string path = (out_dir() / "grid.png").string();
  write_image_grid_png(path, {{a, b}, {g}}, pad, 1.f);

  int w = 0, h = 0, c = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &c, 0);
  ASSERT_NE(px, nullptr) << stbi_failure_reason();
  EXPECT_EQ(w, 2 * 4 + 3 * pad);  // 14
  EXPECT_EQ(h, 2 * 5 + 3 * pad);  // 16
  EXPECT_EQ(c, 3);
  auto at = [&](int x, int y, int k) { return (int)px[(y * w + x) * c + k]; };
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 4; ++x) {
        EXPECT_EQ(at(pad + x, pad + y, k), k * 20 + y * 4 + x);  // image a, exact levels
        int expect_b = (int)std::lround((1.f - (k * 20 + y * 4 + x) / 100.f) * 255.f);
        EXPECT_NEAR(at(pad + 4 + pad + x, pad + y, k), expect_b, 1);
      }
  // Grey image at y0 = 2 + 7 + (5 - 3) / 2 = 10, x0 = 2 + (4 - 2) / 2 = 3, repeated in R, G, B.
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(at(3, 10, k), 0);
    EXPECT_EQ(at(4, 10, k), 255);
    EXPECT_EQ(at(3, 11, k), 0);
    EXPECT_EQ(at(4, 11, k), 128);
    EXPECT_EQ(at(4, 12, k), 128);
    EXPECT_EQ(at(2, 10, k), 255);  // padding around it (pad value 1)
    EXPECT_EQ(at(8, 12, k), 255);  // the missing second cell of row 1
    EXPECT_EQ(at(0, 0, k), 255);
  }
  // And everywhere: the decoded PNG equals the in-memory grid quantised to 8 bits.
  Tensor grid = image_grid({{a, b}, {g}}, pad, 1.f);
  ASSERT_EQ(grid.shape(), (Shape{3, 16, 14}));
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float v = grid.data()[(k * h + y) * w + x];
        int q = std::isnan(v) ? 0 : (int)std::lround(std::min(1.f, std::max(0.f, v)) * 255.f);
        ASSERT_NEAR(at(x, y, k), q, 1) << x << "," << y << "," << k;
      }
  stbi_image_free(px);

  // Grey-only grids stay one channel.
  write_png(path, image_grid({{g}}, 0));
  px = stbi_load(path.c_str(), &w, &h, &c, 0);
  ASSERT_NE(px, nullptr);
  EXPECT_EQ(c, 1);
  EXPECT_EQ(w, 2);
  EXPECT_EQ(h, 3);
  EXPECT_EQ((int)px[1], 255);
  stbi_image_free(px);
}

TEST(Plot, UnbatchAndBadImages) {
  Tensor batch = Tensor::zeros({3, 1, 2, 2});
  for (int64_t i = 0; i < batch.numel(); ++i) batch.data()[i] = (float)i;
  auto v = unbatch(batch, 2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(v[1].data()[0], 4.f);
  EXPECT_EQ(unbatch(batch).size(), 3u);
  EXPECT_THROW(unbatch(Tensor::zeros({2, 2})), Error);
  try {
    image_grid({{Tensor::zeros({2, 4, 4})}});
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 4, 4]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(image_grid({}), Error);
  EXPECT_THROW(image_grid({{}}), Error);
}

TEST(Plot, AtomicWritesReplaceWholeFilesAndLeaveNoTemp) {
  fs::path d = out_dir() / "atomic";
  fs::remove_all(d);
  fs::create_directories(d);
  std::string p = (d / "x.svg").string();
  io::write_file_atomic(p, std::string("first version, longer"));
  io::write_file_atomic(p, std::string("second"));
  std::ifstream in(p);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
  try {
    write_svg((d / "no" / "such" / "dir.svg").string(), "<svg/>");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir.svg"), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
}

// Anti-spoofing metrics: hand-computed cases (arithmetic in comments) and agreement with sklearn 1.2
// (fixtures from tools/make_metrics_golden.py).
#include <cmath>
#include <limits>

#include "metrics/metrics.h"
#include "testutil.h"

using namespace fas;
using namespace fas::metrics;

namespace {

std::vector<float> negated_from(float c, const std::vector<float>& s) {
  std::vector<float> r;
  for (float v : s) r.push_back(c - v);  // exact for the small integers used here
  return r;
}

// Example A, no ties. Sorted by score: 9L 8L 7S 6L 4L 3S 2S 1S (4 live, 4 spoof).
const std::vector<float> kA = {9, 3, 8, 2, 7, 1, 6, 4};
const std::vector<int> kAl = {1, 0, 1, 0, 0, 0, 1, 1};

// Example B, with a live/spoof tie at 6: live {9, 6, 6, 2}, spoof {6, 3, 1}.
const std::vector<float> kB = {9, 6, 6, 2, 6, 3, 1};
const std::vector<int> kBl = {1, 1, 1, 1, 0, 0, 0};

}  // namespace

TEST(Metrics, ConfusionAndRatesExampleA) {
  // threshold 5, live <=> score >= 5: accepted 9L 8L 7S 6L; rejected 4L 3S 2S 1S.
  // TP 3, FP 1, FN 1, TN 3. APCER = 1/4, BPCER = 1/4, ACER = 1/4, accuracy = 6/8.
  Confusion c = confusion(kA, kAl, 5.0, true);
  EXPECT_EQ(c.tp(), 3);
  EXPECT_EQ(c.fp(), 1);
  EXPECT_EQ(c.fn(), 1);
  EXPECT_EQ(c.tn(), 3);
  EXPECT_EQ(c.m[0][1], 1);  // sklearn layout: row = true (0 spoof), col = predicted
  EXPECT_DOUBLE_EQ(apcer(c), 0.25);
  EXPECT_DOUBLE_EQ(bpcer(c), 0.25);
  EXPECT_DOUBLE_EQ(acer(c), 0.25);
  EXPECT_DOUBLE_EQ(accuracy(c), 0.75);
  // At a threshold equal to a score the sample is accepted (>=): threshold 7 accepts 9L 8L 7S.
  // TP 2, FP 1 -> APCER 1/4, BPCER 2/4.
  c = confusion(kA, kAl, 7.0, true);
  EXPECT_DOUBLE_EQ(apcer(c), 0.25);
  EXPECT_DOUBLE_EQ(bpcer(c), 0.5);
}

TEST(Metrics, RocAucEerExampleA) {
  // All points (threshold: fps, tps): inf:(0,0) 9:(0,1) 8:(0,2) 7:(1,2) 6:(1,3) 4:(1,4) 3:(2,4) 2:(3,4) 1:(4,4).
  // sklearn's drop_intermediate keeps index 0, the last, and points where the second difference of
  // fps or tps is non-zero: 9, 8, 7, 4, 1 (6, 3, 2 are collinear with their neighbours).
  RocCurve r = roc_curve(kA, kAl, true);
  EXPECT_EQ(r.fpr, (std::vector<double>{0, 0, 0, 0.25, 0.25, 1}));
  EXPECT_EQ(r.tpr, (std::vector<double>{0, 0.25, 0.5, 0.5, 1, 1}));
  EXPECT_EQ(std::vector<double>(r.thresholds.begin() + 1, r.thresholds.end()), (std::vector<double>{9, 8, 7, 4, 1}));
  EXPECT_TRUE(std::isinf(r.thresholds[0]) && r.thresholds[0] > 0);
  // Trapezoids: 0.25 * (0.5 + 0.5) / 2 + 0.75 * (1 + 1) / 2 = 0.125 + 0.75 = 0.875
  // (= Mann-Whitney: live 9 and 8 beat 4 spoofs each, 6 and 4 beat 3: 14 / 16).
  EXPECT_DOUBLE_EQ(auc(r), 0.875);
  EXPECT_EQ(roc_curve(kA, kAl, true, false).fpr.size(), 9u);
  // d = BPCER - APCER along all points: 1, .75, .5, .25 (at 7), 0 (at 6) -> i = point "6", a = .25 / .25 = 1:
  // EER = .25 + 1 * (.25 - .25) = .25, threshold = 7 + 1 * (6 - 7) = 6.
  Eer e = eer(kA, kAl, true);
  EXPECT_DOUBLE_EQ(e.eer, 0.25);
  EXPECT_DOUBLE_EQ(e.threshold, 6.0);
  Confusion c = confusion(kA, kAl, e.threshold, true);
  EXPECT_DOUBLE_EQ(apcer(c), bpcer(c));
}

TEST(Metrics, TiesInterpolatedEerExampleB) {
  // Points: inf:(0,0) 9:(0,1) 6:(1,3) 3:(2,3) 2:(2,4) 1:(3,4); fpr = fps/3, tpr = tps/4.
  // AUC = 1/3 * (1/4 + 3/4)/2 + 1/3 * 3/4 + 1/3 * 1 = 1/6 + 1/4 + 1/3 = 0.75
  // (Mann-Whitney with ties worth 1/2: 3 + 2 * (2 + 0.5) + 1 = 9 of 12 pairs).
  EXPECT_DOUBLE_EQ(roc_auc(kB, kBl, true), 0.75);
  // d: 1 (inf), .75 (at 9), 1/4 - 1/3 = -1/12 (at 6) -> a = .75 / (.75 + 1/12) = 0.9,
  // EER = 0 + 0.9 * (1/3 - 0) = 0.3 (BPCER: .75 + 0.9 * (.25 - .75) = 0.3), threshold = 9 + 0.9 * (6 - 9) = 6.3.
  Eer e = eer(kB, kBl, true);
  EXPECT_NEAR(e.eer, 0.3, 1e-12);
  EXPECT_NEAR(e.threshold, 6.3, 1e-12);
  // threshold 6: live 9, 6, 6 accepted (TP 3, FN 1), spoof 6 accepted (FP 1, TN 2):
  // APCER 1/3, BPCER 1/4, ACER 7/24, accuracy 5/7.
  Confusion c = confusion(kB, kBl, 6.0, true);
  EXPECT_DOUBLE_EQ(apcer(c), 1.0 / 3);
  EXPECT_DOUBLE_EQ(bpcer(c), 0.25);
  EXPECT_DOUBLE_EQ(acer(c), 7.0 / 24);
  EXPECT_DOUBLE_EQ(accuracy(c), 5.0 / 7);
}

TEST(Metrics, AnomalyScoresMirrorClassifierScores) {
  // Anomaly score = 10 - liveness: same ranking, thresholds map t -> 10 - t, and live <=> score <= t.
  std::vector<float> an = negated_from(10, kB);  // live {1, 4, 4, 8}, spoof {4, 7, 9}
  EXPECT_DOUBLE_EQ(roc_auc(an, kBl, false), 0.75);
  Eer e = eer(an, kBl, false);
  EXPECT_NEAR(e.eer, 0.3, 1e-12);
  EXPECT_NEAR(e.threshold, 3.7, 1e-12);  // 10 - 6.3
  Confusion c = confusion(an, kBl, 4.0, false);  // accepts score <= 4: same as liveness >= 6 above
  EXPECT_EQ(c.tp(), 3);
  EXPECT_EQ(c.fp(), 1);
  RocCurve r = roc_curve(an, kBl, false, false);
  EXPECT_TRUE(std::isinf(r.thresholds[0]) && r.thresholds[0] < 0);
  EXPECT_EQ(r.thresholds[1], 1.0);  // 10 - 9
  // Reading an anomaly score as P(live) inverts the ranking: AUC 1 - 0.75.
  EXPECT_DOUBLE_EQ(roc_auc(an, kBl, true), 0.25);
}

TEST(Metrics, EdgeCasesOfEer) {
  // Perfect separation, live {8, 9}, spoof {1, 2}: d = 1, .5 (at 9), 0 (at 8) -> a = 1, EER 0 at threshold 8.
  std::vector<float> s = {8, 9, 1, 2};
  std::vector<int> l = {1, 1, 0, 0};
  Eer e = eer(s, l, true);
  EXPECT_DOUBLE_EQ(e.eer, 0.0);
  EXPECT_DOUBLE_EQ(e.threshold, 8.0);
  EXPECT_DOUBLE_EQ(roc_auc(s, l, true), 1.0);
  // Perfectly wrong: the same scores with the labels swapped: EER 1, AUC 0.
  e = eer(s, {0, 0, 1, 1}, true);
  EXPECT_DOUBLE_EQ(e.eer, 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(s, {0, 0, 1, 1}, true), 0.0);
  // All scores tied: points inf:(0,0), 5:(1,1); d = 1, -1 -> a = .5, EER .5; the lower end is the
  // infinite "accept nothing" point, so the threshold is the score itself.
  e = eer({5, 5, 5}, {1, 1, 0}, true);
  EXPECT_DOUBLE_EQ(e.eer, 0.5);
  EXPECT_DOUBLE_EQ(e.threshold, 5.0);
  EXPECT_DOUBLE_EQ(roc_auc({5, 5, 5}, {1, 1, 0}, true), 0.5);
}

TEST(Metrics, HterUsesValidationThreshold) {
  // Validation = example B: EER threshold 6.3. Test: live {7, 5, 8}, spoof {6.5, 2}.
  // At 6.3: live 5 rejected -> BPCER 1/3; spoof 6.5 accepted -> APCER 1/2; HTER = (1/2 + 1/3) / 2 = 5/12.
  std::vector<float> ts = {7, 5, 8, 6.5f, 2};
  std::vector<int> tl = {1, 1, 1, 0, 0};
  Hter h = hter(kB, kBl, ts, tl, true);
  EXPECT_NEAR(h.threshold, 6.3, 1e-12);
  EXPECT_NEAR(h.val_eer, 0.3, 1e-12);
  EXPECT_NEAR(h.hter, 5.0 / 12, 1e-12);
}

TEST(Metrics, ReportThresholdSourcesAndFormats) {
  Scores val{kB, kBl}, test{{7, 5, 8, 6.5f, 2}, {1, 1, 1, 0, 0}};
  Report r = evaluate(test, {}, &val);
  EXPECT_EQ(r.threshold_source, "val-eer");
  EXPECT_NEAR(r.threshold, 6.3, 1e-12);
  EXPECT_NEAR(r.acer, 5.0 / 12, 1e-12);
  EXPECT_NEAR(r.hter, 5.0 / 12, 1e-12);
  EXPECT_EQ(r.n, 5);
  EXPECT_EQ(r.n_live, 3);
  EXPECT_EQ(r.n_spoof, 2);
  // Test scores sorted: 8L 7L 6.5S 5L 2S. AUC: live beat spoof in 5 of 6 pairs (5 < 6.5) -> 5/6.
  EXPECT_NEAR(r.auc, 5.0 / 6, 1e-12);

  EvalOptions o;
  o.threshold = 6.0;  // accepts 8L 7L 6.5S: APCER 1/2, BPCER 1/3, accuracy 3/5
  r = evaluate(test, o, &val);
  EXPECT_EQ(r.threshold_source, "given");
  EXPECT_DOUBLE_EQ(r.apcer, 0.5);
  EXPECT_DOUBLE_EQ(r.bpcer, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
  EXPECT_NEAR(r.hter, 5.0 / 12, 1e-12);  // HTER still at the validation threshold

  r = evaluate(Scores{kA, kAl});
  EXPECT_EQ(r.threshold_source, "test-eer");
  EXPECT_DOUBLE_EQ(r.threshold, 6.0);
  EXPECT_DOUBLE_EQ(r.acer, 0.25);
  EXPECT_FALSE(r.has_val);

  std::string js = r.to_json();
  int depth = 0, min_depth = 0;
  for (char ch : js) {
    depth += (ch == '{' || ch == '[') - (ch == '}' || ch == ']');
    min_depth = std::min(min_depth, depth);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_EQ(min_depth, 0);
  EXPECT_NE(js.find("\"acer\": 0.25"), std::string::npos) << js;
  EXPECT_NE(js.find("\"auc\": 0.875"), std::string::npos) << js;
  EXPECT_NE(js.find("\"confusion_matrix\": [[3, 1], [1, 3]]"), std::string::npos) << js;
  EXPECT_NE(js.find("\"thresholds\": [null, 9, 8, 7, 4, 1]"), std::string::npos) << js;  // inf -> null
  EXPECT_EQ(js.find("inf"), std::string::npos);
  EXPECT_EQ(js.find("hter"), std::string::npos);  // no validation set, no HTER

  std::string csv = r.to_csv();
  EXPECT_EQ(csv.rfind("metric,value\n", 0), 0u);
  EXPECT_NE(csv.find("\napcer,0.25\n"), std::string::npos) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 16);  // header + 15 scalars
  EXPECT_EQ(r.roc_csv(), "threshold,fpr,tpr\ninf,0,0\n9,0,0.25\n8,0,0.5\n7,0.25,0.5\n4,0.25,1\n1,1,1\n");

  std::string tab = r.to_table();
  for (const char* k : {"APCER", "25.00 %", "BPCER", "ACER", "EER", "AUC", "0.8750", "test-eer", "true live"})
    EXPECT_NE(tab.find(k), std::string::npos) << k << "\n" << tab;
}

TEST(Metrics, BadInputIsAClearError) {
  auto expect_error = [](auto f, const char* needle) {
    try {
      f();
      ADD_FAILURE() << "no throw, expected: " << needle;
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(m.rfind("metrics: ", 0), 0u) << m;
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_error([] { eer({}, {}, true); }, "empty");
  expect_error([] { confusion({}, {}, 0.5, true); }, "empty");
  expect_error([] { roc_curve({1, 2}, {1}, true); }, "2 scores but 1 labels");
  expect_error([&] { roc_auc({1, nan, 2}, {1, 0, 0}, true); }, "score 1 is NaN");
  expect_error([] { eer({1, INFINITY}, {1, 0}, true); }, "infinite");
  expect_error([] { eer({1, 2}, {1, 2}, true); }, "label 1 is 2");
  expect_error([] { eer({1, 2}, {1, 1}, true); }, "both classes");
  expect_error([] { roc_auc({1, 2}, {0, 0}, true); }, "both classes");
  expect_error([] { evaluate(Scores{{1, 2}, {0, 0}}); }, "both classes");
  expect_error([] { hter({1, 2}, {1, 1}, {1, 2}, {1, 0}, true); }, "validation set");
  // A confusion matrix needs no second class, but a rate of a missing class is undefined.
  Confusion c = confusion({1, 2}, {1, 1}, 1.5, true);
  EXPECT_DOUBLE_EQ(bpcer(c), 0.5);
  expect_error([&] { apcer(c); }, "APCER is undefined");
  expect_error([] { confusion({1}, {1}, std::nan(""), true); }, "threshold is NaN");
}

// ---------------------------------------------------------------- sklearn agreement

namespace {

std::vector<double> as_double(const Tensor& t) {
  std::vector<double> v;
  for (float x : t.to_vector()) v.push_back(x);
  return v;
}

// fixtures store float32: rates are compared to 1e-7 (float32 rounding of values in [0, 1]),
// thresholds exactly (they are the float32 scores themselves).
void expect_roc_matches(const RocCurve& r, const std::string& c, const std::string& suffix) {
  auto fpr = as_double(test::load_golden(c, "fpr_" + suffix));
  auto tpr = as_double(test::load_golden(c, "tpr_" + suffix));
  auto thr = as_double(test::load_golden(c, "thr_" + suffix));
  ASSERT_EQ(r.fpr.size(), fpr.size()) << c << " " << suffix;
  ASSERT_EQ(r.thresholds.size(), thr.size() + 1);
  EXPECT_TRUE(std::isinf(r.thresholds[0]));
  for (size_t i = 0; i < fpr.size(); ++i) {
    EXPECT_NEAR(r.fpr[i], fpr[i], 1e-7) << c << " " << suffix << " point " << i;
    EXPECT_NEAR(r.tpr[i], tpr[i], 1e-7) << c << " " << suffix << " point " << i;
    if (i > 0) {
      EXPECT_EQ((float)r.thresholds[i], (float)thr[i - 1]) << c << " " << suffix << " point " << i;
    }
  }
}

}  // namespace

TEST(Metrics, AgreesWithSklearn) {
  for (std::string c : {"metrics_ties", "metrics_cont"}) {
    SCOPED_TRACE(c);
    std::vector<float> s = test::load_golden(c, "scores").to_vector();
    std::vector<int> l;
    for (float v : test::load_golden(c, "labels").to_vector()) l.push_back((int)v);
    std::vector<float> thresholds = test::load_golden(c, "thresholds").to_vector();
    for (bool live : {true, false}) {
      // For anomaly scores the same values are read as "higher = spoof"; sklearn saw -score.
      std::string tag = live ? "live" : "anom";
      expect_roc_matches(roc_curve(s, l, live), c, tag);
      expect_roc_matches(roc_curve(s, l, live, false), c, tag + "_all");
      EXPECT_NEAR(roc_auc(s, l, live), test::load_golden(c, "auc_" + tag).item(), 1e-7);
      // Independent EER formulation (scipy brentq on the interpolated ROC) gives the same value.
      EXPECT_NEAR(eer(s, l, live).eer, test::load_golden(c, "eer_" + tag).item(), 1e-7);
      for (size_t k = 0; k < thresholds.size(); ++k) {
        std::string sfx = tag + "_" + std::to_string(k);
        Confusion cm = confusion(s, l, thresholds[k], live);
        std::vector<float> g = test::load_golden(c, "cm_" + sfx).to_vector();
        for (int i = 0; i < 4; ++i) EXPECT_EQ((float)cm.m[i / 2][i % 2], g[i]) << sfx << " cell " << i;
        EXPECT_NEAR(accuracy(cm), test::load_golden(c, "acc_" + sfx).item(), 1e-7) << sfx;
      }
    }
  }
}

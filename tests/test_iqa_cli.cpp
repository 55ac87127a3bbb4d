// wiqa-lda through the CLI code (cli/train.cpp -> cli/train_fit.cpp, cli/eval.cpp): the closed-form
// fit writes a checkpoint whose scores equal the shrinkage LDA fitted directly on the same
// images' features; eval reports on it; bad settings are one clear error.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io_testutil.h"
#include "iqa/iqa.h"
#include "iqa/lda.h"
#include "iqa/nss.h"
#include "metrics/groups.h"
#include "models/registry.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;
using Json = nlohmann::json;

namespace {
const std::string kTrain = std::string(FAS_SOURCE_DIR) + "/data/sample/train.txt";
const std::string kTest = std::string(FAS_SOURCE_DIR) + "/data/sample/test.txt";

cli::TrainOptions train_options(const std::string& out) {
  cli::TrainOptions o;
  o.model = "wiqa-lda";
  o.data = kTrain;
  o.limit = 48;
  o.size = 128;  // the bundled face crops, upscaled: large enough for one NIQE block
  o.common.threads = 2;
  o.common.out = out;
  o.quiet = true;
  return o;
}

// Out-of-fold NIQE and BIQI written plainly: for each fold, pristine models from the live images of
// the other folds' subjects, applied to the fold's images. Returns how many values changed.
int crossfit_reference(const Dataset& ds, const std::vector<iqa::Plane>& grey, int folds, std::vector<iqa::Features>& f) {
  int changed = 0;
  for (int k = 0; k < folds; ++k) {
    std::vector<std::vector<double>> niqe_rows, biqi_rows;
    for (size_t i = 0; i < ds.size(); ++i) {
      if (metrics::subject_fold(ds.sample(i).path, metrics::kNuaaSubject, folds) == k || ds.sample(i).label != 1) continue;
      for (const auto& b : iqa::niqe_block_features(grey[i])) niqe_rows.emplace_back(b.begin(), b.end());
      const iqa::BiqiVector v = iqa::biqi_features(grey[i]);
      biqi_rows.emplace_back(v.begin(), v.end());
    }
    const iqa::Mvg niqe = iqa::fit_mvg(niqe_rows), biqi = iqa::fit_mvg(biqi_rows);
    for (size_t i = 0; i < ds.size(); ++i) {
      if (metrics::subject_fold(ds.sample(i).path, metrics::kNuaaSubject, folds) != k) continue;
      const double n = iqa::niqe_score(niqe, iqa::niqe_block_features(grey[i]));
      const double b = iqa::biqi_score(biqi, iqa::biqi_features(grey[i]));
      changed += (std::abs(n - f[i][iqa::NIQE]) > 1e-3 * std::abs(n)) + (std::abs(b - f[i][iqa::BIQI]) > 1e-3 * std::abs(b));
      f[i][iqa::NIQE] = n;
      f[i][iqa::BIQI] = b;
    }
  }
  return changed;
}

// Trains through run_train with config overrides `set`, then checks the checkpoint's scores against
// the LDA fitted directly on the same images' metrics (columns `cols`, transformed by `tf`; with
// `crossfit` folds, NIQE and BIQI out of fold).
void expect_fit_equals_direct_lda(const std::string& out, const std::vector<std::string>& set, const std::vector<int>& cols,
                                  double (*tf)(double), int crossfit = 0) {
  cli::TrainOptions o = train_options(out);
  o.set = set;
  ASSERT_EQ(cli::run_train(o), 0);

  // The same images the run used, their features, and the LDA fitted on them directly.
  const ModelInfo& info = find_model("wiqa-lda");
  std::vector<std::string> all = set;
  all.insert(all.end(), {"height=128", "width=128"});
  const Json cfg = make_config(info, all);
  Dataset ds(limit_samples(read_samples(kTrain), o.limit, o.common.seed), image_spec(cfg), false, kTrain);  // as train.cpp load_list
  std::vector<double> X;
  std::vector<int> y;
  std::vector<iqa::Plane> grey;
  std::vector<iqa::Features> feats;
  Tensor batch = Tensor::uninit({(int64_t)ds.size(), 1, 128, 128});
  for (size_t i = 0; i < ds.size(); ++i) {
    const Tensor img = ds.load(i);
    std::copy_n(img.data(), img.numel(), batch.data() + i * img.numel());
    grey.push_back(iqa::plane_from_unit(img.data(), 128, 128));
    feats.push_back(iqa::compute_features(grey.back()));
    y.push_back(ds.sample(i).label == 1);
  }
  // The checkpoint scores any image with the committed pristine models (feats); it was fitted on
  // out-of-fold NIQE and BIQI. Most of those move, so a fit that ignored crossfit fails below.
  std::vector<iqa::Features> fit_feats = feats;
  if (crossfit) {
    EXPECT_GT(crossfit_reference(ds, grey, crossfit, fit_feats), (int)ds.size());
  }
  std::vector<double> Xfit;
  for (size_t i = 0; i < feats.size(); ++i)
    for (int k : cols) {
      X.push_back(tf(feats[i][k]));
      Xfit.push_back(tf(fit_feats[i][k]));
    }
  const int p = (int)cols.size();
  const iqa::LdaModel lda = iqa::fit_shrinkage_lda(Xfit, y, p);

  cli::LoadedModel m = cli::load_model(out + "/best.safetensors");
  const std::vector<float> scores = model_scores(*m.info, *m.module, batch);
  ASSERT_EQ(scores.size(), ds.size());
  int agree = 0;
  for (size_t i = 0; i < ds.size(); ++i) {
    const double prob = lda.probability(X.data() + i * p);
    EXPECT_NEAR(scores[i], prob, 2e-4) << "image " << i;
    agree += (prob > 0.5) == (y[i] == 1);
  }
  EXPECT_GT(agree, (int)ds.size() / 2);  // better than chance on its own training images
}

double identity(double v) { return v; }
double slog(double v) { return std::copysign(std::log1p(std::abs(v)), v); }
}  // namespace

TEST(IqaCli, FitEqualsTheDirectLdaAndEvaluates) {
  const std::string dir = scratch_dir("iqa_cli"), out = dir + "/wiqa";
  std::vector<int> all(iqa::kNumMetrics);
  for (int k = 0; k < iqa::kNumMetrics; ++k) all[k] = k;
  expect_fit_equals_direct_lda(out, {}, all, identity);

  cli::EvalOptions e;
  e.ckpts = {out + "/best.safetensors"};
  e.data = kTest;
  e.limit = 24;
  e.common.out = out + "/eval";
  e.common.threads = 2;
  ASSERT_EQ(cli::run_eval(e), 0);
  const Json metrics = Json::parse(read_bytes(out + "/eval/metrics.json"));
  EXPECT_TRUE(metrics.contains("accuracy")) << metrics.dump();
}

TEST(IqaCli, SelectedAndLogCompressedFeatures) {
  const std::string dir = scratch_dir("iqa_cli_slog");
  expect_fit_equals_direct_lda(dir + "/w", {"features=[\"vifd\",\"sme\",\"ssim\"]", "transform=slog"},
                               {iqa::VIFD, iqa::SME, iqa::SSIM}, slog);
}

TEST(IqaCli, CrossFittedNssFeatures) {
  const std::string dir = scratch_dir("iqa_cli_crossfit");
  std::vector<int> all(iqa::kNumMetrics);
  for (int k = 0; k < iqa::kNumMetrics; ++k) all[k] = k;
  expect_fit_equals_direct_lda(dir + "/w", {"crossfit=3"}, all, identity, 3);
}

TEST(IqaCli, BadSettingsAreClearErrors) {
  const std::string dir = scratch_dir("iqa_cli_bad");
  cli::TrainOptions o = train_options(dir + "/a");
  o.set = {"channels=3"};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("channels=1"), std::string::npos);
  o = train_options(dir + "/b");
  o.size = 64;
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find(">= 96"), std::string::npos);
  o = train_options(dir + "/c");
  o.set = {"features=[\"vifd\",\"nope\"]"};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("unknown metric \"nope\""), std::string::npos);
  o.set = {"transform=log2"};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("'transform'"), std::string::npos);
  o.set = {"crossfit=1"};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("'crossfit' must be 0 (off) or a fold count >= 2"), std::string::npos);
  o.set = {"crossfit=2", "group_by=\"(\""};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("not a valid regular expression"), std::string::npos);
  o.set = {"crossfit=40"};  // 9 subjects: some folds hold no image
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("holds no frame"), std::string::npos);
}

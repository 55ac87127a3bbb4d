// wiqa-lda through the CLI code (cli/train.cpp -> cli/train_fit.cpp, cli/eval.cpp): the closed-form
// fit writes a checkpoint whose scores equal the shrinkage LDA fitted directly on the same
// images' features; eval reports on it; bad settings are one clear error.
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io_testutil.h"
#include "iqa/iqa.h"
#include "iqa/lda.h"
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
}  // namespace

TEST(IqaCli, FitEqualsTheDirectLdaAndEvaluates) {
  const std::string dir = scratch_dir("iqa_cli"), out = dir + "/wiqa";
  const cli::TrainOptions o = train_options(out);
  ASSERT_EQ(cli::run_train(o), 0);

  // The same images the run used, their features, and the LDA fitted on them directly.
  const ModelInfo& info = find_model("wiqa-lda");
  const Json cfg = make_config(info, {"height=128", "width=128"});
  Dataset ds(limit_samples(read_samples(kTrain), o.limit, o.common.seed), cli::image_spec(cfg), false, kTrain);  // as train.cpp load_list
  std::vector<double> X;
  std::vector<int> y;
  Tensor batch = Tensor::uninit({(int64_t)ds.size(), 1, 128, 128});
  for (size_t i = 0; i < ds.size(); ++i) {
    const Tensor img = ds.load(i);
    std::copy_n(img.data(), img.numel(), batch.data() + i * img.numel());
    const iqa::Features f = iqa::compute_features(iqa::plane_from_unit(img.data(), 128, 128));
    X.insert(X.end(), f.begin(), f.end());
    y.push_back(ds.sample(i).label == 1);
  }
  const iqa::LdaModel lda = iqa::fit_shrinkage_lda(X, y, iqa::kNumMetrics);

  cli::LoadedModel m = cli::load_model(out + "/best.safetensors");
  const std::vector<float> scores = model_scores(*m.info, *m.module, batch);
  ASSERT_EQ(scores.size(), ds.size());
  int agree = 0;
  for (size_t i = 0; i < ds.size(); ++i) {
    const double p = lda.probability(X.data() + i * iqa::kNumMetrics);
    EXPECT_NEAR(scores[i], p, 2e-4) << "image " << i;
    agree += (p > 0.5) == (y[i] == 1);
  }
  EXPECT_GT(agree, (int)ds.size() / 2);  // better than chance on its own training images

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

TEST(IqaCli, BadSettingsAreClearErrors) {
  const std::string dir = scratch_dir("iqa_cli_bad");
  cli::TrainOptions o = train_options(dir + "/a");
  o.set = {"channels=3"};
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find("channels=1"), std::string::npos);
  o = train_options(dir + "/b");
  o.size = 64;
  EXPECT_NE(error_of([&] { cli::run_train(o); }).find(">= 96"), std::string::npos);
}

// Registry entries of spec 000 (models/stacked_ae_register.cpp): built through the registry, the
// stages chain through real checkpoint files and CNN8's init transfers the encoders. Compiled once
// the CLI (models/registry.h, io/checkpoint.h) is in the tree; empty before.
#if __has_include("models/registry.h") && __has_include("io/checkpoint.h")
#include <cstdio>
#include <unistd.h>

#include "io/checkpoint.h"
#include "layers/summary.h"
#include "models/registry.h"
#include "models/stacked_ae.h"
#include "testutil.h"

using namespace fas;

namespace {

std::shared_ptr<Module> build(const std::string& name, const std::vector<std::string>& set, uint64_t seed) {
  const ModelInfo& m = find_model(name);
  Rng rng(seed);
  return m.build(make_config(m, set), rng);
}

std::string temp_path(const std::string& tag) {
  return testing::TempDir() + "stacked_ae_" + tag + "_" + std::to_string(getpid()) + ".safetensors";
}

void save(const std::string& path, const std::string& model, const Module& m, const std::string& config = "{}") {
  CheckpointInfo info;
  info.model = model;
  info.config = config;
  save_checkpoint(path, info, m, nullptr);
}

}  // namespace

TEST(StackedAECli, SummaryCountsThroughTheRegistry) {
  auto cnn = build("cnn8", {"height=256", "width=256"}, 1);
  EXPECT_NE(summary_table(*cnn, {1, 3, 256, 256}).find("Total params: 6,295,378"), std::string::npos);
  auto deep = build("deep-ae", {"height=256", "width=256"}, 1);
  EXPECT_NE(summary_table(*deep, {1, 3, 256, 256}).find("Total params: 18,877,603"), std::string::npos);
  auto s4 = build("stacked-ae", {"stage=4", "height=256", "width=256"}, 1);  // random AE1..AE3 (warns)
  const std::string t = summary_table(*s4, {1, 3, 256, 256});
  EXPECT_NE(t.find("Trainable params: 17,697,536"), std::string::npos) << t;
  EXPECT_NE(t.find("Total params: 18,877,603"), std::string::npos) << t;
}

TEST(StackedAECli, StagesChainThroughCheckpointsAndInitTransfers) {
  const std::vector<std::string> size = {"height=32", "width=32"};
  auto s1 = build("stacked-ae", size, 1);
  const std::string p1 = temp_path("s1"), p3 = temp_path("s3");
  save(p1, "stacked-ae", *s1);
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), size.begin(), size.end());
    return extra;
  };
  auto s2 = build("stacked-ae", with({"stage=2", "from=" + p1}), 2);
  auto& st2 = dynamic_cast<GreedyStage&>(*s2);
  EXPECT_EQ(test::max_abs_diff(st2.aes[0]->enc1->weight, dynamic_cast<GreedyStage&>(*s1).aes[0]->enc1->weight), 0.f);
  EXPECT_FALSE(st2.aes[0]->enc1->weight.requires_grad());

  // A stage-4 checkpoint (here assembled directly) initialises CNN8's eight convs.
  auto s4 = std::make_shared<GreedyStage>(4, StackedAEConfig{3, 32, 32, 0.25f, Init::Keras, 9});
  save(p3, "stacked-ae", *s4);
  auto cnn = build("cnn8", with({"init=" + p3}), 3);
  auto& c = dynamic_cast<CNN8&>(*cnn);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(test::max_abs_diff(c.convs[2 * k]->weight, s4->aes[k]->enc1->weight), 0.f) << k;
    EXPECT_EQ(test::max_abs_diff(c.convs[2 * k + 1]->bias, s4->aes[k]->enc2->bias), 0.f) << k;
  }
  // freeze_convs: the transferred convs stop training, the dense layer alone is trainable.
  auto probe = build("cnn8", with({"init=" + p3, "freeze_convs=true"}), 3);
  auto& pc = dynamic_cast<CNN8&>(*probe);
  EXPECT_EQ(test::max_abs_diff(pc.convs[0]->weight, s4->aes[0]->enc1->weight), 0.f);
  for (auto& conv : pc.convs) EXPECT_FALSE(conv->weight.requires_grad());
  EXPECT_TRUE(pc.dense->weight.requires_grad());
  EXPECT_EQ(probe->count_params(true), pc.dense->weight.numel() + pc.dense->bias.numel());
  {
    Rng r(5);
    Tensor xb = test::randu({2, 3, 32, 32}, r, 0.f, 1.f);
    find_model("cnn8").loss(*probe, xb, Tensor::from({2}, {1.f, 0.f})).backward();
    for (auto& conv : pc.convs) EXPECT_FALSE(conv->weight.grad().defined());
    EXPECT_TRUE(pc.dense->weight.grad().defined());
  }
  EXPECT_TRUE(c.convs[0]->weight.requires_grad());  // the default fine-tunes everything
  EXPECT_THROW(build("cnn8", with({"freeze_convs=1"}), 3), Error);
  EXPECT_THROW(build("cnn8", with({"init=" + p1}), 3), Error);  // stage 1: no AE2..AE4
  EXPECT_THROW(build("stacked-ae", with({"stage=5"}), 3), Error);

  // Loss and scores of a batch through the registry.
  Rng rng(4);
  Tensor x = test::randu({2, 3, 32, 32}, rng, 0.f, 1.f);
  Tensor y = Tensor::from({2}, {1.f, 0.f});
  const ModelInfo& mi = find_model("cnn8");
  Tensor l = model_loss(mi, *cnn, x, y);
  EXPECT_TRUE(std::isfinite(l.item()));
  auto sc = model_scores(mi, *cnn, x);
  ASSERT_EQ(sc.size(), 2u);
  for (float v : sc) EXPECT_TRUE(v > 0.f && v < 1.f);
  auto ae_scores = model_scores(find_model("stacked-ae"), *s2, x);
  EXPECT_EQ(ae_scores.size(), 2u);
  std::remove(p1.c_str());
  std::remove(p3.c_str());
}

// The input normalisation is part of what a stage's weights mean: a later stage or CNN8 built on
// a checkpoint trained with another normalize is refused, naming both; the same one is accepted.
TEST(StackedAECli, TransferRequiresTheSameNormalisation) {
  const std::vector<std::string> size = {"height=32", "width=32"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), size.begin(), size.end());
    return extra;
  };
  auto s1 = build("stacked-ae", with({"normalize=equalize"}), 1);
  const std::string p1 = temp_path("eq1"), p4 = temp_path("eq4");
  save(p1, "stacked-ae", *s1, R"({"normalize": "equalize", "stage": 1})");
  auto s4 = std::make_shared<GreedyStage>(4, StackedAEConfig{3, 32, 32, 0.25f, Init::Keras, 9});
  save(p4, "stacked-ae", *s4, R"({"normalize": "equalize", "stage": 4})");
  try {
    build("stacked-ae", with({"stage=2", "from=" + p1}), 2);
    ADD_FAILURE() << "a unit-input stage accepted an equalize-trained AE1";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("normalize=equalize"), std::string::npos) << m;
    EXPECT_NE(m.find("normalize=unit"), std::string::npos) << m;
  }
  EXPECT_THROW(build("cnn8", with({"init=" + p4}), 3), Error);
  EXPECT_NO_THROW(build("stacked-ae", with({"stage=2", "from=" + p1, "normalize=equalize"}), 2));
  auto cnn = build("cnn8", with({"init=" + p4, "normalize=equalize"}), 3);
  EXPECT_EQ(test::max_abs_diff(dynamic_cast<CNN8&>(*cnn).convs[0]->weight, s4->aes[0]->enc1->weight), 0.f);
  std::remove(p1.c_str());
  std::remove(p4.c_str());
}
#endif

#include "cli/fusion.h"

#include <filesystem>
#include <regex>

#include "autograd/graph.h"
#include "io/checkpoint.h"
#include "metrics/groups.h"
#ifdef FAS_HAVE_DLIB
#include "detect/face_detector.h"
#endif

namespace fas::cli {

namespace fs = std::filesystem;

bool is_fusion_checkpoint(const std::string& path) {
  try {
    const SafeTensors st = load_safetensors(path);
    auto it = st.meta.find("fas_model");
    return it != st.meta.end() && it->second == kFusionModel;
  } catch (const Error&) {
    return false;  // load_model reports the file's problem
  }
}

void save_fusion_checkpoint(const std::string& path, const std::vector<std::string>& member_paths,
                            const std::vector<std::string>& member_models, const iqa::LdaModel& lda,
                            const Json& extra) {
  const fs::path dir = fs::absolute(path).parent_path();
  Json members = Json::array();
  for (size_t k = 0; k < member_paths.size(); ++k)
    members.push_back({{"ckpt", fs::relative(fs::absolute(member_paths[k]), dir).generic_string()},
                       {"model", member_models[k]}});
  // The weights in the config too, at full precision (the tensors are float32 for other readers).
  Json cfg = {{"method", "shrinkage-lda"}, {"members", members}, {"coef", lda.coef}, {"intercept", lda.intercept}};
  Tensor coef = Tensor::zeros({(int64_t)lda.coef.size()}), b = Tensor::zeros({1});
  for (size_t k = 0; k < lda.coef.size(); ++k) coef.data()[k] = (float)lda.coef[k];
  b.data()[0] = (float)lda.intercept;
  Metadata meta = {{"fas_model", kFusionModel}, {"fas_config", cfg.dump()}, {"threshold", "0.5"}};
  for (auto& [k, v] : extra.items()) meta[k] = v.is_string() ? v.get<std::string>() : v.dump();
  save_safetensors(path, {{"coef", coef}, {"intercept", b}}, meta);
}

Fusion load_fusion_checkpoint(const std::string& path) {
  const SafeTensors st = load_safetensors(path);
  auto it = st.meta.find("fas_model");
  if (it == st.meta.end() || it->second != kFusionModel) fail("'" + path + "' is not a fusion checkpoint (fas fuse)");
  const Json cfg = Json::parse(st.meta.at("fas_config"), nullptr, false);
  if (cfg.is_discarded() || !cfg.contains("members") || !cfg["members"].is_array() || cfg["members"].empty() ||
      !cfg.contains("coef") || cfg["coef"].size() != cfg["members"].size() || !cfg.contains("intercept"))
    fail("fusion checkpoint '" + path + "': bad config (members, coef, intercept)");
  Fusion f;
  const fs::path dir = fs::absolute(path).parent_path();
  f.name = "fusion (lda) of";
  for (const auto& m : cfg["members"]) {
    const std::string p = (dir / m.at("ckpt").get<std::string>()).lexically_normal().string();
    if (!fs::exists(p)) fail("fusion checkpoint '" + path + "': member checkpoint '" + p + "' not found");
    f.member_paths.push_back(p);
    f.members.push_back(load_model(p));
    const ModelInfo& info = *f.members.back().info;
    if (info.name != m.at("model").get<std::string>())
      fail("fusion checkpoint '" + path + "': member '" + p + "' is a " + info.name + ", the fusion was fitted on a " +
           m.at("model").get<std::string>());
    if (info.score != ScoreKind::LiveProbability) fail("fusion: member '" + p + "' does not give P(live)");
    f.name += (f.members.size() > 1 ? " + " : " ") + info.name;
  }
  f.lda.coef = cfg["coef"].get<std::vector<double>>();
  f.lda.intercept = cfg["intercept"].get<double>();
  return f;
}

bool member_log_odds(const std::vector<LoadedModel>& members, const Tensor& img, const Detector& det,
                     std::vector<double>* z, FaceCrop* face) {
  const FaceCrop f = find_face(img, det);
  if (face) *face = f;
  if (!f.found) return false;
  NoGradGuard ng;
  z->clear();
  for (const auto& m : members)
    z->push_back(model_logits(*m.info, *m.module, face_test_input(img, f, image_spec(m.config), m.info->whole_frame)).at(0));
  return true;
}

Detector default_detector() {
#ifdef FAS_HAVE_DLIB
  return dlib_face_detector();
#else
  return nullptr;
#endif
}

}  // namespace fas::cli

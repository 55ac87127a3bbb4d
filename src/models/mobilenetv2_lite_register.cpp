// Registers "mobilenetv2-lite" with the model registry (models/registry.h), so
// `fas train|eval|predict|summary --model mobilenetv2-lite` work; called from
// register_builtin_models() (registry.cpp).
//
// Config keys (`--set key=value`): channels, height, width (input), alpha (width multiplier),
// bn_momentum (Keras convention, 0.999), pad_layers (Keras ZeroPadding2D + valid conv; false =
// conv "same" padding, the same numbers without the padded copy), normalize, train_patch (patch
// training), eval_tiles (evaluation as the mean logit of the image's patch tiles) and mixstyle
// (probability of MixStyle in training, 0 = off), mixstyle_alpha, mixstyle_partner ("label" |
// "any": whose statistics an instance takes; "label", the default, keeps live with live).
// Recipe (spec 003 §5, Keras defaults where the thesis is silent): BCE, Adam (Keras form,
// lr 1e-3), batch 32, the §3.4 augmentation (rotation 30°, shift 10 %, zoom ±15 % per axis).
// Inputs are scaled to [0, 1] ("unit"): the thesis' normalisation is ambiguous (§3.3) and the BN
// after Conv1 makes the choice of affine input scaling immaterial for training.
#include "autograd/graph.h"
#include "models/mobilenetv2_fold.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_int8.h"
#include "models/mobilenetv2_lite.h"
#include "models/registry.h"

namespace fas {

namespace {
MobileNetV2Lite& as_mnv2(Module& m) { return module_as<MobileNetV2Lite>(m, "mobilenetv2-lite"); }

void no_tiles_in_engines(const MobileNetV2Lite& m) {
  if (m.config().eval_tiles) fail("mobilenetv2-lite: the deployment engines score whole images; eval_tiles needs --engine graph");
}
}  // namespace

void register_mobilenetv2_lite() {
  ModelInfo m;
  m.name = "mobilenetv2-lite";
  m.description = "MobileNetV2 alpha=0.1, Keras-exact (spec 003): 87,289 trainable params, output P(live)";
  m.defaults = {{"channels", 3}, {"height", 128},      {"width", 128},
                {"alpha", 0.1},  {"bn_momentum", 0.999}, {"pad_layers", true}, {"normalize", "unit"},
                {"train_patch", 0}, {"eval_tiles", false}, {"mixstyle", 0.0}, {"mixstyle_alpha", 0.1},
                {"mixstyle_partner", "label"}};
  m.recipe.epochs = 30;
  m.recipe.batch = 32;
  m.recipe.lr = 1e-3f;
  m.recipe.loss = "bce_logits";
  m.recipe.augment = "rotate=30,shift=0.1,zoom=0.15";
  m.recipe.optimizer = "adam_keras";
  m.score = ScoreKind::LiveProbability;
  m.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    MobileNetV2LiteConfig c;
    c.in_channels = cfg.at("channels").get<int64_t>();
    c.height = cfg.at("height").get<int64_t>();
    c.width = cfg.at("width").get<int64_t>();
    c.alpha = cfg.at("alpha").get<double>();
    c.bn_momentum = cfg.at("bn_momentum").get<float>();
    c.pad_layers = cfg.at("pad_layers").get<bool>();
    c.train_patch = cfg.value("train_patch", (int64_t)0);
    c.eval_tiles = cfg.value("eval_tiles", false);
    // value(): checkpoints written before these keys existed load with MixStyle off.
    for (const char* k : {"mixstyle", "mixstyle_alpha"})
      if (cfg.contains(k) && !cfg.at(k).is_number()) fail(std::string("mobilenetv2-lite: ") + k + " must be a number");
    c.mixstyle = cfg.value("mixstyle", 0.f);
    if (!(c.mixstyle >= 0.f && c.mixstyle <= 1.f)) fail("mobilenetv2-lite: mixstyle is a probability in [0, 1]");
    c.mixstyle_alpha = cfg.value("mixstyle_alpha", 0.1f);
    const std::string partner = cfg.value("mixstyle_partner", std::string("label"));
    if (partner != "label" && partner != "any")
      fail("mobilenetv2-lite: mixstyle_partner must be \"label\" or \"any\", got \"" + partner + "\"");
    c.mixstyle_by_label = partner == "label";
    if (c.eval_tiles && c.train_patch <= 0) fail("mobilenetv2-lite: eval_tiles needs train_patch > 0");
    if (c.train_patch < 0 || c.train_patch > std::min(c.height, c.width))
      fail("mobilenetv2-lite: train_patch " + std::to_string(c.train_patch) + " must be 0 (off) or at most the input size");
    // Keras' pad layers are sized for height x width; patches get the same pads only where every
    // stride-2 input is even for both (multiples of 32 = 2^5 stride-2 layers). The conv's own
    // "same" padding (pad_layers=false) is computed per input and fits any size.
    if (c.train_patch > 0 && c.pad_layers && (c.train_patch % 32 || c.height % 32 || c.width % 32))
      fail("mobilenetv2-lite: train_patch " + std::to_string(c.train_patch) +
           " with pad_layers=true needs the patch and the input size to be multiples of 32; use --set pad_layers=false");
    return std::make_shared<MobileNetV2Lite>(c, rng);
  };
  // forward() ends in the sigmoid (Keras' Logits layer); train on the logits for a stable BCE.
  m.loss = [](Module& mod, const Tensor& x, const Tensor& y) {
    const std::vector<float> labels = y.to_vector();  // MixStyle's partner groups
    Tensor z = as_mnv2(mod).forward_logits(x, &labels);
    return bce_with_logits(z.reshape({x.size(0)}), y);
  };
  m.scores = [](Module& mod, const Tensor& x) { return as_mnv2(mod).forward(x).to_vector(); };
  m.logits = [](Module& mod, const Tensor& x) { return as_mnv2(mod).forward_logits(x).to_vector(); };
  m.engines["float"] = {false, "BN folded into the convs, fused blocks, static memory plan (mobilenetv2_infer.h)",
                        [](Module& mod, const Tensor&, double) {
                          no_tiles_in_engines(as_mnv2(mod));
                          return std::make_shared<MobileNetV2Infer>(as_mnv2(mod));
                        }};
  m.engines["int8"] = {true, "post-training int8: per-channel weights, calibrated activations (mobilenetv2_int8.h)",
                       [](Module& mod, const Tensor& calib, double calib_pct) {
                         no_tiles_in_engines(as_mnv2(mod));
                         return std::make_shared<MobileNetV2Int8>(fold_mobilenetv2(as_mnv2(mod)), calib.data(),
                                                                  calib.size(0), int8_options(calib_pct));
                       }};
  register_model(std::move(m));
}

}  // namespace fas

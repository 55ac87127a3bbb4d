// Loads a checkpoint written by `fas train` (any registered model), and prints P(live) for
// images.  Usage: infer CKPT.safetensors IMAGE...
#include <cstdio>
#include <fas/fas.h>

using namespace fas;

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CKPT.safetensors IMAGE...\n", argv[0]);
    return 2;
  }
  // The checkpoint names its model and config; the registry rebuilds it (no random weights),
  // then the weights load.
  Checkpoint ck = load_checkpoint(argv[1]);
  const ModelInfo& info = find_model(ck.info.model);
  if (info.score != ScoreKind::LiveProbability) fail("model '" + info.name + "' does not give P(live)");
  const Json cfg = Json::parse(ck.info.config);
  std::shared_ptr<Module> model = build_uninitialised(info, cfg);
  model->load_state_dict(ck.model);
  model->eval();

  const ImageSpec spec = image_spec(cfg);  // size, channels and normalisation of the model
  for (int i = 2; i < argc; ++i) {
    Tensor img = load_sample({argv[i], 0, "command line"}, spec);  // [C, H, W], resized
    normalize_inplace(img, spec.norm);
    Tensor x = img.reshape({1, img.size(0), img.size(1), img.size(2)});
    const float p = model_scores(info, *model, x).at(0);
    std::printf("%s  P(live) = %.4f  %s\n", argv[i], p, p >= 0.5f ? "live" : "spoof");
  }
  return 0;
} catch (const Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}

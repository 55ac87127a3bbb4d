// libFuzzer target: the safetensors checkpoint loader (header length, JSON, dtypes, shapes,
// offsets), then the fas checkpoint metadata and a restore into a small model (shapes vs the
// model's parameters: tiny-mlp at 4x4, hidden 2, as the seed checkpoints).
#include <cstddef>
#include <cstdint>

#include "io/checkpoint.h"
#include "models/registry.h"
#include "optim/optim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fas::ModelInfo& info = fas::find_model("tiny-mlp");
  static fas::Rng rng(1);
  static std::shared_ptr<fas::Module> model = info.build(fas::make_config(info, {"height=4", "width=4", "hidden=2"}), rng);
  static fas::Adam opt(model->named_parameters());
  try {
    fas::Checkpoint ck = fas::checkpoint_from(fas::parse_safetensors(data, size, "fuzz.safetensors"), "fuzz.safetensors");
    fas::restore_checkpoint(ck, "fuzz.safetensors", *model, &opt);
  } catch (const fas::Error&) {
  }
  return 0;
}

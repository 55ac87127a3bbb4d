// libFuzzer target: model config overrides (`--set key=value`) and the input pipeline read from
// the config. Input: the first byte picks the model, then one "key=value" override per line.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "io/dataset.h"
#include "models/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> names = fas::model_names();
  if (size == 0) return 0;
  const fas::ModelInfo& m = fas::find_model(names[data[0] % names.size()]);
  std::vector<std::string> sets;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  for (std::string line; std::getline(in, line);) sets.push_back(line);
  try {
    fas::Json cfg = fas::make_config(m, sets);
    fas::image_spec(cfg);
    fas::input_shape(cfg);
  } catch (const fas::Error&) {
  }
  return 0;
}

// libFuzzer target: dataset list-file parsing ("relative/path label" lines).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    for (const fas::Sample& s : fas::parse_list(in, "lists/fuzz.txt"))
      if ((s.label != 0 && s.label != 1) || s.path.empty()) __builtin_trap();  // parse_list's contract
  } catch (const fas::Error&) {
  }
  return 0;
}

// libFuzzer target: image decoding (JPEG, PNG, BMP, PGM/PPM, TGA through stb_image, behind
// decode_image's size checks). Any input must decode or give one fas::Error.
#include <cstddef>
#include <cstdint>

#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fas::Tensor img = fas::decode_image(data, size, "fuzz", 0);
    fas::to_grey(img);  // every pixel read once: a short buffer shows up under ASan
  } catch (const fas::Error&) {
  }
  return 0;
}

// libFuzzer target: image decoding (JPEG, PNG, BMP, PGM/PPM, TGA through stb_image, behind
// decode_image's checks). Any input must decode or give one fas::Error. Images declaring more
// than 2^14 pixels (128 x 128, a face crop) only go through the checks before decoding
// (check_before_stb, stb's header read), not the decode: a tiny file can declare up to
// kMaxImagePixels (2^25), whose decode under ASan takes seconds, and the fuzzer would spend its
// time there instead of in the parsers (the limit itself is test_io_image's
// RefusesHugeDeclaredSizeAndUndocumentedFormats).
#include <stb_image.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "io/image.h"
#include "io/image_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fas::check_before_stb(data, size, "fuzz");
    int w = 0, h = 0, n = 0;
    if (size <= INT_MAX && stbi_info_from_memory(data, (int)size, &w, &h, &n) && (int64_t)w * h > (1 << 14)) return 0;
    fas::Tensor img = fas::decode_image(data, size, "fuzz", 0);
    fas::to_grey(img);  // every pixel read once: a short buffer shows up under ASan
  } catch (const fas::Error&) {
  }
  return 0;
}

// The one translation unit that compiles stb_image (the writer lives in stb_impl_write.cpp).
// A corrupt header must not make us allocate gigabytes: cap the dimensions.
#define STBI_MAX_DIMENSIONS (1 << 15)
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

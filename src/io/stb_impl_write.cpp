// The one translation unit that compiles stb_image_write (Debian libstb-dev). The reader
// (STB_IMAGE_IMPLEMENTATION) lives in stb_impl_read.cpp; never define either elsewhere.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write.h"
#pragma GCC diagnostic pop

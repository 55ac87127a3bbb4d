// The one translation unit that compiles stb_image (the writer lives in stb_impl_write.cpp).
// A corrupt header must not make us allocate gigabytes: cap the dimensions (decode_image also
// caps the pixel count before decoding, io/image.h kMaxImagePixels).
#define STBI_MAX_DIMENSIONS (1 << 15)
// Only the formats fas documents (io/image.h); stb's GIF, PSD, HDR and PIC decoders stay out, so
// untrusted input cannot reach them.
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_ONLY_TGA
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

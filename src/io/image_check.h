// Checks of untrusted image bytes made before stb_image sees them. stb is not patched: byte
// patterns on which Debian's copy (2.27) reads or writes out of bounds, overflows or reads
// uninitialised memory are refused here instead. Everything that hands bytes to stb
// (decode_image, check_image_file, the web service's header read) calls this first.
#pragma once
#include <cstddef>
#include <string>

namespace fas {

// Throws fas::Error ("image 'NAME': ...") for bytes stb must not read, even for their header
// (a JPEG Huffman table of more than 256 codes; a PNM header number stb's reader overflows on).
// Returns why the pixel data of a raw format (PGM/PPM, uncompressed TGA) is shorter than its
// header declares, "" when it is all there: the caller reports that after the declared size,
// which comes first when it is over the limit.
std::string check_before_stb(const unsigned char* bytes, size_t size, const std::string& name);

}  // namespace fas

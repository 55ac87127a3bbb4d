#include "io/image_check.h"

#include <algorithm>
#include <cstdint>

#include "base/error.h"

namespace fas {

namespace {

// A JPEG's Huffman tables (DHT segments), walked as stb walks the file: marker segments by their
// length, entropy-coded data up to the next marker (0xFF then a byte other than 0x00, 0xFF and
// the restart markers). stb 2.27 stores the code lengths of a table in a 257-byte array without
// checking that its 16 counts add up to at most 256 (upstream fixed it in 2.28): a larger total
// is refused. stb 2.27 also decodes a scan whose Huffman table no DHT defined, from its
// uninitialised (malloc'd) tables: the output depends on heap garbage. A scan naming such a table
// is refused: a DC table where the scan codes first DC bits (Ss = 0, Ah = 0), an AC table where
// it codes AC coefficients (Se > 0). A walk that loses track of stb only looks at more segments,
// never fewer: after a marker stb would reject it keeps going.
std::string jpeg_unsafe(const unsigned char* b, size_t size, size_t pos) {
  auto at = [&](size_t i) -> unsigned { return i < size ? b[i] : 0; };  // stb reads 0 past the end
  bool defined[2][4] = {};  // [DC 0 / AC 1][table id] seen in a DHT so far
  while (pos + 1 < size) {
    if (b[pos] != 0xFF) { ++pos; continue; }
    const unsigned m = b[pos + 1];
    if (m == 0x00 || m == 0xFF || m == 0x01 || (m >= 0xD0 && m <= 0xD7) || m == 0xD8) { ++pos; continue; }
    if (m == 0xD9) break;  // end of image
    const size_t len = at(pos + 2) << 8 | at(pos + 3);
    if (m == 0xC4) {
      // stb: L = len - 2; per table 1 class/id byte, 16 counts, then the counts' total of values.
      size_t p = pos + 4;
      for (int64_t left = (int64_t)len - 2; left > 0;) {
        unsigned total = 0;
        for (int i = 1; i <= 16; ++i) total += at(p + i);
        if (total > 256)
          return "corrupt JPEG (a Huffman table declares " + std::to_string(total) + " codes, at most 256 exist)";
        if (at(p) >> 4 <= 1 && (at(p) & 15) < 4) defined[at(p) >> 4][at(p) & 15] = true;
        p += 17 + total, left -= 17 + (int64_t)total;
      }
    } else if (m == 0xDA) {
      // SOS: Ns, then per component its id and (DC table << 4 | AC table), then Ss, Se, Ah << 4 | Al.
      const unsigned ns = at(pos + 4), ss = at(pos + 5 + 2 * ns), se = at(pos + 6 + 2 * ns), ah = at(pos + 7 + 2 * ns) >> 4;
      for (unsigned i = 0; i < ns; ++i) {
        const unsigned td = at(pos + 6 + 2 * i) >> 4, ta = at(pos + 6 + 2 * i) & 15;  // stb rejects ids > 3
        if ((ss == 0 && ah == 0 && td < 4 && !defined[0][td]) || (se > 0 && ta < 4 && !defined[1][ta]))
          return "corrupt JPEG (a scan uses a Huffman table that no DHT segment defines)";
      }
    }
    pos += 2 + (len < 2 ? 2 : len);  // stb rejects a shorter length; step past it all the same
  }
  return "";
}

// Raw formats whose pixel bytes stb copies without checking that they are there (PGM/PPM, and
// uncompressed 8/24/32-bit TGA): a truncated file would decode to uninitialised memory. Their
// exact data size follows from the header, so a short file is refused here. The PNM header is
// read as stb reads it (whitespace, '#' comments, one separator byte after maxval); its numbers
// are bounded first, because stb's own integer reader overflows on long digit strings.
// Returns the missing byte count's message, empty when the data is all there (the caller
// reports the declared size first when it is over the limit).
std::string raw_pixel_bytes_missing(const unsigned char* b, size_t size, const std::string& name) {
  auto truncated = [&](uint64_t have, uint64_t need) {
    return "image '" + name + "': truncated (" + std::to_string(have) + " bytes of pixel data, the header declares " +
           std::to_string(need) + ")";
  };
  if (size >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6')) {
    size_t pos = 2;
    auto get = [&]() -> char { return pos < size ? (char)b[pos++] : 0; };
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
    char c = get();
    auto skip = [&] {
      for (;;) {
        while (pos < size && space(c)) c = get();
        if (pos >= size || c != '#') break;
        while (pos < size && c != '\n' && c != '\r') c = get();
      }
    };
    auto number = [&]() -> uint64_t {
      uint64_t v = 0;
      while (pos < size && c >= '0' && c <= '9') {
        v = v * 10 + (uint64_t)(c - '0');
        if (v > 1000000) fail("image '" + name + "': PNM header number too large");
        c = get();
      }
      return v;
    };
    skip();
    const uint64_t w = number();
    skip();
    const uint64_t h = number();
    skip();
    const uint64_t maxv = number();
    const uint64_t need = w * h * (b[1] == '6' ? 3 : 1) * (maxv > 255 ? 2 : 1);
    return size - pos < need ? truncated(size - pos, need) : std::string();
  }
  // TGA: colour-map type 0, image type 2 (true colour) or 3 (grey), not RLE, 8/24/32 bits.
  if (size >= 18 && b[1] == 0 && (b[2] == 2 || b[2] == 3) && (b[16] == 8 || b[16] == 24 || b[16] == 32)) {
    const uint64_t w = b[12] | (b[13] << 8), h = b[14] | (b[15] << 8), start = 18 + (uint64_t)b[0];
    const uint64_t need = w * h * (b[16] / 8), have = size > start ? size - start : 0;
    if (have < need) return truncated(have, need);
  }
  return std::string();
}

// A PNG's chunks, walked by their lengths as stb walks them: stb 2.27 allocates its compressed
// data buffer at the first IDAT chunk with bytes in it, and an empty IDAT before that one copies
// 0 bytes to its null buffer (memcpy's pointer must not be null even then: UBSan nonnull-
// attribute). Such a file (legal, but no encoder writes it) is refused. stb also grows that
// buffer to an IDAT chunk's declared length before it reads the chunk: an 87-byte file declaring
// 1.9 GB made it allocate 2 GB (found by fuzz_image). An IDAT chunk longer than the rest of the
// file is refused.
std::string png_unsafe(const unsigned char* b, size_t size) {
  auto be32 = [&](size_t i) { return (uint64_t)b[i] << 24 | (uint64_t)b[i + 1] << 16 | (uint64_t)b[i + 2] << 8 | b[i + 3]; };
  bool data = false;  // a non-empty IDAT seen: stb has its buffer
  for (size_t pos = 8; pos + 8 <= size;) {
    const uint64_t len = be32(pos);
    const std::string type(reinterpret_cast<const char*>(b) + pos + 4, 4);
    if (type == "IDAT") {
      if (len == 0 && !data) return "corrupt PNG (an empty IDAT chunk before the image data)";
      if (len > size - pos - 8)
        return "corrupt PNG (an IDAT chunk declares " + std::to_string(len) + " bytes, the file has " +
               std::to_string(size - pos - 8) + " left)";
      data = data || len > 0;
    }
    if (type == "IEND") break;
    pos += 12 + len;  // length, type, data, CRC
  }
  return "";
}

}  // namespace

std::string check_before_stb(const unsigned char* b, size_t size, const std::string& name) {
  // stb takes a file as JPEG when it starts with 0xFF, any further 0xFF bytes, then 0xD8 (SOI).
  size_t soi = 1;
  while (soi < size && b[soi] == 0xFF) ++soi;
  if (size > 0 && b[0] == 0xFF && soi < size && b[soi] == 0xD8) {
    const std::string why = jpeg_unsafe(b, size, soi + 1);
    if (!why.empty()) fail("image '" + name + "': " + why);
  }
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::equal(png_sig, png_sig + 8, b)) {
    const std::string why = png_unsafe(b, size);
    if (!why.empty()) fail("image '" + name + "': " + why);
  }
  return raw_pixel_bytes_missing(b, size, name);
}

}  // namespace fas

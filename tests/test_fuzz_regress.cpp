// Inputs on which a fuzz target (fuzz/, tools/fuzz.sh) found a crash or a sanitizer report, kept
// in fuzz/regress/ as <target>-<what>: each must now give one clear error through every path
// that reads such input (decode_image, load_image, check_image_file, the web service).
#include <gtest/gtest.h>

#include "io/image.h"
#include "io/image_check.h"
#include "io/plot.h"
#include "io_testutil.h"
#include "serve/handler.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

std::string regress(const std::string& name) { return read_bytes(std::string(FAS_SOURCE_DIR) + "/fuzz/regress/" + name); }

const unsigned char* u8(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }
// check_before_stb's error ("" when the bytes may go to stb).
std::string unsafe(const std::string& b) {
  try {
    check_before_stb(u8(b), b.size(), "a");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The web service with one stand-in face test.
serve::Service service() {
  ImageSpec spec;
  spec.channels = 3, spec.height = 8, spec.width = 8;
  return serve::Service({serve::FaceTest{"const", spec, [](const Tensor&) { return 0.0; }}}, nullptr, serve::Options{});
}

// The image as the web service gets it.
serve::Response post_image(const std::string& bytes) {
  serve::Request r;
  r.method = "POST", r.path = "/v1/liveness", r.content_type = "image/jpeg", r.body = bytes;
  return service().handle(r);
}

// SOI, then one DHT segment holding a table whose 16 code counts are `counts` (values follow).
std::string jpeg_with_dht(const std::vector<int>& counts, const std::string& lead = "\xFF\xD8") {
  int total = 0;
  for (int c : counts) total += c;
  const int len = 2 + 17 + total;
  std::string s = lead + "\xFF\xC4" + std::string{(char)(len >> 8), (char)(len & 255), 0x10};
  for (int c : counts) s += (char)c;
  return s + std::string(total, '\x01') + "\xFF\xD9";
}

// A reproducer refused with `why` by every path that reads an image: decode, load, the header
// check of the training lists, the web service.
void expect_refused_everywhere(const std::string& reproducer, const std::string& why) {
  const std::string bytes = regress(reproducer);
  expect_error([&] { decode_image(u8(bytes), bytes.size(), "x.jpg"); }, {"image 'x.jpg'", why});
  const std::string path = scratch_dir("fuzz_regress") + "/" + reproducer;
  write_bytes(path, bytes);
  expect_error([&] { load_image(path); }, {path, why});
  expect_error([&] { check_image_file(path); }, {path, why});
  const serve::Response r = post_image(bytes);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, why)) << r.body;
}

}  // namespace

// stb 2.27 writes past its 257-byte code-length table when a DHT's counts add up to more than
// 256 (found by fuzz_image: UBSan index 257 out of bounds in stbi__build_huffman).
TEST(FuzzRegress, JpegHuffmanTableOfMoreThan256CodesIsRefusedBeforeStb) {
  expect_refused_everywhere("image-jpeg-dht-over-256-codes.jpg", "Huffman table declares");
}

// An 87-byte PNG whose second IDAT chunk declares 1,962,952,946 bytes: stb grew its buffer to
// 2 GB before reading the chunk (found by fuzz_image as an out-of-memory).
TEST(FuzzRegress, PngIdatLongerThanTheFileIsRefusedBeforeStb) {
  expect_refused_everywhere("image-png-idat-longer-than-file.png", "IDAT chunk declares 1962952946 bytes");
}

// A baseline scan whose AC table 0 no DHT defines (the fuzzer turned that DHT's marker into an
// APP4): stb 2.27 decodes it from uninitialised heap memory (found by fuzz_image as an assert in
// stbi__jpeg_huff_decode that fired only with some heap contents; MemorySanitizer shows the read
// of the fast-AC table in stbi__jpeg_decode_block).
TEST(FuzzRegress, JpegScanWithAnUndefinedHuffmanTableIsRefusedBeforeStb) {
  expect_refused_everywhere("image-jpeg-scan-undefined-huffman-table.jpg", "no DHT segment defines");
  // Real encoders' files pass: every JPEG of the bundled sample (libjpeg baseline files).
  const std::string dir = std::string(FAS_SOURCE_DIR) + "/data/sample/";
  for (const char* f : {"frame_live.jpg", "frame_spoof.jpg"}) EXPECT_EQ(unsafe(read_bytes(dir + f)), "") << f;
}

TEST(FuzzRegress, JpegHuffmanCheckFollowsStbsMarkerWalk) {
  std::vector<int> at_limit(16, 0), over(16, 0);
  at_limit[7] = 256, over[7] = 200, over[8] = 57;
  EXPECT_EQ(unsafe(jpeg_with_dht(at_limit)), "");
  EXPECT_TRUE(has(unsafe(jpeg_with_dht(over)), "257 codes"));
  // stb skips 0xFF fill bytes before SOI and before a marker: still a JPEG to it.
  const std::string padded = jpeg_with_dht(over, "\xFF\xFF\xFF\xD8\xFF");
  EXPECT_NE(unsafe(padded), "");
  // The same bytes inside an APP segment's payload are skipped by its length, as stb skips them.
  std::string inner = jpeg_with_dht(over).substr(2);
  inner.resize(inner.size() - 2);
  const int len = 2 + (int)inner.size();
  const std::string app = std::string("\xFF\xD8\xFF\xE1") + (char)(len >> 8) + (char)(len & 255) + inner + "\xFF\xD9";
  EXPECT_EQ(unsafe(app), "");
  // Not a JPEG to stb (a TGA may start with 0xFF): not looked at.
  const std::string tga = "\xFF\x02" + jpeg_with_dht(over);
  EXPECT_EQ(unsafe(tga), "");
}

// A message quoting a path or content type that is not UTF-8 made nlohmann's dump throw, so the
// answer was a 500 "internal error" instead of the 404/415 (found by fuzz_serve).
TEST(FuzzRegress, ServiceAnswersQuoteBytesThatAreNotUtf8) {
  const serve::Service s = service();
  serve::Request r;
  r.method = "POST", r.path = "/v1/\xFE\x04liveness";
  serve::Response a = s.handle(r);
  EXPECT_EQ(a.status, 404);
  EXPECT_TRUE(has(Json::parse(a.body).at("error").get<std::string>(), "no route /v1/\xEF\xBF\xBD")) << a.body;
  r.path = "/v1/liveness", r.content_type = "text/\xC3(", r.body = "x";
  a = s.handle(r);
  EXPECT_EQ(a.status, 415);
  EXPECT_TRUE(has(a.body, "text/\xEF\xBF\xBD(")) << a.body;
}

// stb's PNM header reader overflows int on a long digit string (UBSan signed overflow in
// stbi__pnm_getinteger, found by fuzz_serve): decode_image bounded the numbers, but the web
// service's and check_image_file's header reads went to stb first.
TEST(FuzzRegress, PnmHeaderNumberTooLargeIsRefusedBeforeStbReadsTheHeader) {
  const std::string bytes = "P6 24 20 2551111111111111111\n" + std::string(64, 'x');
  const serve::Response r = post_image(bytes);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "PNM header number too large")) << r.body;
  const std::string path = scratch_dir("fuzz_regress") + "/big.ppm";
  write_bytes(path, bytes);
  expect_error([&] { check_image_file(path); }, {path, "PNM header number too large"});
  expect_error([&] { decode_image(u8(bytes), bytes.size(), "x.ppm"); }, {"x.ppm", "PNM header number too large"});
}

// stb 2.27 copies an empty IDAT chunk met before any image data to its null buffer (UBSan
// nonnull-attribute in memcpy, found by fuzz_serve): refused before decoding. An empty IDAT after
// the data is harmless and still decodes.
TEST(FuzzRegress, PngEmptyIdatBeforeTheDataIsRefused) {
  const std::string bytes = regress("serve-png-empty-first-idat").substr(34);  // after fuzz_serve's request head
  ASSERT_EQ(bytes.substr(1, 3), "PNG");
  const std::string why = "empty IDAT chunk before the image data";
  expect_error([&] { decode_image(u8(bytes), bytes.size(), "x.png"); }, {"x.png", why});
  EXPECT_TRUE(has(post_image(bytes).body, why));

  Tensor img = Tensor::zeros({3, 4, 5});
  const std::string png = plot::encode_png(img), empty_idat("\0\0\0\0IDAT\0\0\0\0", 12);
  const size_t idat = png.find("IDAT") - 4, iend = png.find("IEND") - 4;
  const std::string before = png.substr(0, idat) + empty_idat + png.substr(idat);
  const std::string after = png.substr(0, iend) + empty_idat + png.substr(iend);
  EXPECT_TRUE(has(unsafe(before), why));
  EXPECT_EQ(unsafe(after), "");
  EXPECT_EQ(decode_image(u8(after), after.size(), "after.png").shape(), (Shape{3, 4, 5}));
}

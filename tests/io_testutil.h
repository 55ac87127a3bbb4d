// Helpers for the I/O and CLI tests: scratch directories and small image files on disk.
// Header-only (each test executable includes it once): the CMake glob links test_*.cpp with
// testutil.cpp only.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// The test's own static copy of the image writer (the library's is separate), so these helpers
// do not depend on the code under test.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include <unistd.h>

#include "tensor/tensor.h"

namespace fas::test {


namespace fs = std::filesystem;

inline std::string scratch_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string leaf = name + "_" + (info ? std::string(info->test_suite_name()) + "_" + info->name() : "x");
  // The pid keeps two checkouts' test runs on one machine out of each other's files.
  fs::path p = fs::path(::testing::TempDir()) / ("fas_" + leaf + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// The message of the fas::Error f throws (a test failure, and "", when it throws none).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a fas::Error";
  return "";
}
inline bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_png(const std::string& path, int w, int h, int n, const std::vector<uint8_t>& px) {
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, n, px.data(), w * n));
}
inline void write_bmp(const std::string& path, int w, int h, int n, const std::vector<uint8_t>& px) {
  ASSERT_TRUE(stbi_write_bmp(path.c_str(), w, h, n, px.data()));
}
inline void write_jpg(const std::string& path, int w, int h, int n, const std::vector<uint8_t>& px) {
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), w, h, n, px.data(), 100));
}
inline void write_pgm(const std::string& path, int w, int h, const std::vector<uint8_t>& px) {
  std::string s = "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  s.append(reinterpret_cast<const char*>(px.data()), px.size());
  write_bytes(path, s);
}

inline std::vector<uint8_t> pattern(int w, int h, int n, int seed) {
  std::vector<uint8_t> px((size_t)w * h * n);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < n; ++c) px[((size_t)y * w + x) * n + c] = (uint8_t)((x * 37 + y * 91 + c * 53 + seed * 17) % 256);
  return px;
}

}  // namespace fas::test

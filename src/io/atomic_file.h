// Atomic file writes: the target either keeps its old content or gets the complete new content,
// never a half-written file (write to a temp file in the same directory, fsync, rename, fsync dir).
#pragma once
#include <cstddef>
#include <string>

namespace fas::io {

// Throws fas::Error naming the path and the OS reason on any failure; the temp file is removed.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, content.data(), content.size());
}

}  // namespace fas::io

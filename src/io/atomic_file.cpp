#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tensor/tensor.h"

namespace fas::io {
namespace {

[[noreturn]] void fail_os(const std::string& what, const std::string& path) {
  fail("cannot write " + path + ": " + what + ": " + std::strerror(errno));
}

std::string dir_of(const std::string& path) {
  size_t p = path.find_last_of('/');
  return p == std::string::npos ? "." : (p == 0 ? "/" : path.substr(0, p));
}

}  // namespace

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  static std::atomic<unsigned> counter{0};
  // Same directory as the target so rename() stays on one file system (and is atomic).
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_os("open " + tmp, path);
  auto give_up = [&](const char* what) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    fail_os(what, path);
  };
  const char* p = static_cast<const char*>(data);
  for (size_t left = size; left > 0;) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) give_up("write");
    p += w;
    left -= (size_t)w;
  }
  if (::fsync(fd) != 0) give_up("fsync");
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) give_up("close");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) give_up("rename");
  // Persist the directory entry too; failure here is not worth an error (the data is complete).
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace fas::io

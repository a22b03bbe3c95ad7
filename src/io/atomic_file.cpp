#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace xcept {

namespace {

std::string sys_error() { return std::strerror(errno); }

}  // namespace

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("{}: cannot write: {}", path, w < 0 ? sys_error() : "no progress");
    p += w;
    n -= size_t(w);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(int fd)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("{}: cannot create temporary file {}: {}", path, tmp, sys_error());
  try {
    write(fd);
    if (::fsync(fd) != 0) fail("{}: cannot sync {} to disk: {}", path, tmp, sys_error());
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) fail("{}: cannot close {}: {}", path, tmp, sys_error());
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail("{}: cannot rename {} into place: {}", path, tmp, sys_error());
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Some file systems cannot fsync a directory (EINVAL, EROFS): the file is on disk then.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("{}: written, but its folder cannot be opened to sync: {}", path, sys_error());
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL && err != EROFS)
    fail("{}: written, but syncing its folder failed: {}", path, std::strerror(err));
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](int fd) { write_all(fd, bytes.data(), bytes.size(), path); });
}

}  // namespace xcept

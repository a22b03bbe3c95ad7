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

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("{}: cannot create temporary file {}: {}", path, tmp, sys_error());
  try {
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("{}: cannot write {}: {}", path, tmp, sys_error());
      done += size_t(n);
    }
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

}  // namespace xcept

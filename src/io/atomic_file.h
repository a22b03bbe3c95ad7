// Whole-file writes that a crash cannot leave half done: the bytes go to
// "<path>.tmp.<pid>", are fsynced, and the file is renamed over `path` (then the folder
// is synced, so the rename itself survives a power cut). Readers see the old file or the
// new one. The one implementation for everything xcept saves: checkpoints (streamed),
// ONNX models and tensors, the trainer's metrics log, experiment tables, plot scripts.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace xcept {

// Calls `write(fd)` to stream the contents into the temporary file, then syncs and
// renames. Throws xcept::Error naming `path` and the system's reason (or whatever `write`
// throws); the temporary file is removed and an existing file at `path` is left as it was.
void write_file_atomic(const std::string& path, const std::function<void(int fd)>& write);
void write_file_atomic(const std::string& path, std::string_view bytes);

// Writes all `n` bytes to `fd` (retrying short and interrupted writes); throws naming `path`.
void write_all(int fd, const void* data, size_t n, const std::string& path);

}  // namespace xcept

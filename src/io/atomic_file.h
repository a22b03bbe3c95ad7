// Whole-file writes that a crash cannot leave half done: the bytes go to
// "<path>.tmp.<pid>", are fsynced, and the file is renamed over `path` (then the folder
// is synced, so the rename itself survives a power cut). Readers see the old file or the
// new one. (Checkpoints stream their bytes and do the same in io/checkpoint.)
#pragma once

#include <string>
#include <string_view>

namespace xcept {

// Throws xcept::Error naming `path` and the system's reason; the temporary file is
// removed and an existing file at `path` is left as it was.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace xcept

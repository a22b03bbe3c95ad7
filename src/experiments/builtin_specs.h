// The built-in experiment specs, experiments/*.json of the repository, compiled in by
// cmake/embed_experiments.cmake (the definition is generated into the build tree), so
// `xcept experiment NAME` works from any directory and from an installed binary.
#pragma once

#include <vector>

namespace xcept::experiments {

struct BuiltinSpecText {
  const char* path;  // "experiments/4-width.json": where it lives in the repository
  const char* text;  // the file's JSON
};

// In file-name order (the files are numbered in the order the report lists them).
const std::vector<BuiltinSpecText>& builtin_spec_texts();

}  // namespace xcept::experiments

// Errors are values the caller can read: one exception type whose message names the
// layer, file or field and the numbers that did not fit. The library never prints.
#pragma once

#include <fmt/format.h>

#include <utility>

#include "xcept/error.h"  // the Error class itself is public

namespace xcept {

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace xcept

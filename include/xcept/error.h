// Every failure the library reports is an xcept::Error: its message names the file,
// layer, field or option and the numbers that did not fit. The library never prints.
#pragma once

#include <stdexcept>
#include <string>

#include "xcept/api.h"

namespace xcept {

class XCEPT_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what);
  ~Error() override;  // out of line: one type_info, in the library, for every catcher
};

}  // namespace xcept

#include "core/error.h"

namespace xcept {

Error::Error(const std::string& what) : std::runtime_error(what) {}
Error::~Error() = default;

}  // namespace xcept

// The public ZooOptions (strings a user or a command line gives) as the models' own
// options: the one place "dw-pw", "relu" and friends are parsed.
#pragma once

#include "models/models.h"
#include "xcept/network.h"

namespace xcept {

// Throws xcept::Error naming the option for a value it does not know.
models::ModelOptions to_model_options(const ZooOptions& options);

}  // namespace xcept

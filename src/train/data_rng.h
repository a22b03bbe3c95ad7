// The random numbers of the data pipeline (shuffles and augmentation): the project's
// SplitMix64 (core/rng.h), so a resumed or replayed run sees the same batches wherever
// it runs.
#pragma once

#include "core/rng.h"

namespace xcept {

using DataRng = SplitMix64;

}  // namespace xcept

// Rewrites a Program for inference speed without changing what it computes (beyond
// float rounding): fold ChannelAffine (batch norm) into the preceding convolution or
// dense layer, fuse activations into their producer, fuse a residual Add into the
// convolution that produces one of its operands. Front-end independent.
#pragma once

#include "runtime/program.h"

namespace xcept {

struct OptimizeOptions {
  bool fold_batch_norm = true;
  bool fuse_activations = true;
  bool fuse_residual_add = true;
};

void optimize(Program& program, const OptimizeOptions& options = {});

}  // namespace xcept

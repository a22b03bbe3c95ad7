// Architecture flags that every command building a zoo model takes (train, summary,
// bench): the options the experiments vary beyond width, order and activations.
#pragma once

#include <CLI/CLI.hpp>

#include "models/models.h"

namespace xcept::cli {

inline void add_architecture_flags(CLI::App* cmd, models::ModelOptions& o) {
  cmd->add_flag("--full-conv{false}", o.separable,
                "full 3x3 convolutions in place of the depthwise separable ones");
  cmd->add_option("--groups", o.groups,
                  "MobileNet family: each block one 3x3 convolution of this many groups "
                  "(0: depthwise separable, 1: full)");
  cmd->add_flag("--channel-shuffle", o.channel_shuffle,
                "with --groups >= 2: shuffle channels after each grouped block (ShuffleNet)");
}

}  // namespace xcept::cli

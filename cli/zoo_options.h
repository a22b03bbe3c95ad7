// The zoo model options as command-line flags, one definition for every subcommand that
// builds a zoo model (summary, bench, train, export).
#pragma once

#include <CLI/CLI.hpp>

#include "xcept/network.h"

namespace xcept::cli {

// What a model is built from: --alpha --mid-activation --order --no-residual
// --middle-repeats --dropout --module --full-conv --groups --channel-shuffle. `xcept
// train` takes these alone (the data sets input and classes; its --seed is the run's).
// `prefix` starts each description (e.g. "(--model) ").
void add_architecture_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix = "");

// --input-size --input-channels --classes, the architecture options, and --seed (weights).
void add_zoo_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix = "");

}  // namespace xcept::cli

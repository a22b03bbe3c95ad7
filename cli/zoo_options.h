// The zoo model options as command-line flags, one definition for every subcommand that
// builds a zoo model (summary, bench, train, export).
#pragma once

#include <CLI/CLI.hpp>

#include "xcept/network.h"

namespace xcept::cli {

// --input-size --input-channels --classes --alpha --mid-activation --order --no-residual
// --middle-repeats --dropout --module --groups --seed; `prefix` starts each description (e.g.
// "(--model) ").
void add_zoo_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix = "");

}  // namespace xcept::cli

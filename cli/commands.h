// One file per subcommand; each adds itself to the app and sets its own callback.
#pragma once

#include <CLI/CLI.hpp>

namespace xcept::cli {

void add_convs_command(CLI::App& app);
void add_models_commands(CLI::App& app);  // models, summary
void add_train_commands(CLI::App& app);   // train, eval
void add_export_command(CLI::App& app);   // export (ONNX)
void add_bench_commands(CLI::App& app);   // bench, peak
void add_run_command(CLI::App& app);      // run (ONNX)
void add_experiment_command(CLI::App& app);  // experiment

}  // namespace xcept::cli

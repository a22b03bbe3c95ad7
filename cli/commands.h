// One file per subcommand or small family of them (cmd_<name>.cpp: cmd_train.cpp adds
// train and eval, cmd_models.cpp models and summary; `bench --train` has
// cmd_bench_train.cpp beside cmd_bench.cpp); each adds itself to the app and sets its
// own callback.
#pragma once

#include <CLI/CLI.hpp>

#include "xcept/measure.h"

namespace xcept::cli {

// --batch --repeats --warmup of a subcommand's --bench (cmd_convs.cpp).
void add_measure_options(CLI::App& cmd, MeasureOptions& m);

void add_convs_command(CLI::App& app);
void add_models_commands(CLI::App& app);  // models, summary
void add_train_commands(CLI::App& app);   // train, eval
void add_export_command(CLI::App& app);   // export (ONNX)
void add_bench_commands(CLI::App& app);   // bench, peak
void add_run_command(CLI::App& app);      // run (ONNX)
void add_bench_allreduce_command(CLI::App& app);  // bench-allreduce (under mpirun)
void add_predict_command(CLI::App& app);  // predict (images)
void add_plot_command(CLI::App& app);     // plot (training curves)
void add_quantize_command(CLI::App& app);  // quantize (int8 calibration)
void add_prune_command(CLI::App& app);    // prune (structured pruning)
void add_experiment_command(CLI::App& app);  // experiment (the papers' claims)

}  // namespace xcept::cli

// The xcept command-line program: parses, calls the library, prints. Library errors
// arrive as xcept::Error and are printed here, never inside the library.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"
#include "core/threadpool.h"

int main(int argc, char** argv) {
  CLI::App app{"xcept: lightweight convolutional networks (Xception, MobileNet) in C++"};
  app.require_subcommand(1);
  app.fallthrough();  // --threads may follow the subcommand
  // A repeated option takes its last value, so scripts can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  int threads = 0;
  app.add_option("--threads", threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.parse_complete_callback([&] {
    if (threads > 0) xcept::set_num_threads(threads);
  });
  xcept::cli::add_convs_command(app);
  xcept::cli::add_models_commands(app);
  xcept::cli::add_train_commands(app);
  xcept::cli::add_export_command(app);
  xcept::cli::add_bench_commands(app);
  xcept::cli::add_run_command(app);
  xcept::cli::add_bench_allreduce_command(app);
  xcept::cli::add_predict_command(app);
  xcept::cli::add_plot_command(app);
  xcept::cli::add_quantize_command(app);
  xcept::cli::add_prune_command(app);
  xcept::cli::add_experiment_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const xcept::Error& e) {
    std::fprintf(stderr, "xcept: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xcept: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}

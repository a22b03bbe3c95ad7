// Runs an experiment: every variant of a spec trained once per seed, each run in its own
// folder, then costs measured and the tables and plots written.
//
//   OUT/experiment.json              the spec and settings as run
//   OUT/<variant>/seed-<s>/          one trainer run: last.ckpt, best.ckpt, metrics.jsonl,
//                                    run.json (its configuration), result.json (done)
//   OUT/results.csv, summary.csv, curves.csv, report.md, *.png, plots.gp
//
// Crash-safe and resumable: the trainer writes checkpoints atomically (at epoch ends and
// every checkpoint_minutes), so after a kill (even -9) the same call continues: finished
// runs (result.json) are reused, an interrupted one resumes from its last.ckpt, the rest
// start. A run folder made with a
// different configuration (epochs, data, options...) is refused rather than mixed in.
// The library prints nothing: progress and notes arrive through callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "experiments/results.h"
#include "experiments/spec.h"

namespace xcept::experiments {

struct RunOptions {
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir;       // empty: runs/experiments/<name> (<name>-quick with quick)
  int64_t epochs = 0;        // 0: the spec's
  int repeats = 0;           // 0: the spec's
  int64_t limit_train = -1;  // -1: the spec's; 0: every training image
  // A smoke run: 1 epoch, 1 seed, at most 512 training and 512 test images, 3 timed
  // latency runs. What CI runs to keep the machinery tested.
  bool quick = false;
  int latency_runs = 30;           // timed runs at batch 1 (a third as many at batch 32)
  // A run also writes last.ckpt mid-epoch when this many minutes have passed since the
  // last write (0: at epoch ends only), so a kill loses at most about this much training.
  // Resuming mid-epoch gives the same weights as an unbroken run (train/trainer.h).
  double checkpoint_minutes = 2;
  std::string gnuplot = "gnuplot";  // looked up on PATH; empty: no plots
  std::string command;             // how the caller was invoked, for report.md
};

// The settings a spec runs with under `options` (overrides and --quick applied).
TrainSettings effective_settings(const ExperimentSpec& spec, const RunOptions& options);
int effective_repeats(const ExperimentSpec& spec, const RunOptions& options);
std::string effective_out_dir(const ExperimentSpec& spec, const RunOptions& options);

struct ExperimentProgress {
  int run = 0, runs = 0;  // 1-based index of the run in training, of all runs
  std::string variant;
  uint64_t seed = 0;
  int64_t epoch = 0, epochs = 0;    // 0-based epoch in progress, of
  int64_t batch = 0, batches = 0;   // batches done in this epoch, of
  double elapsed_s = 0;             // since this call started
  double eta_s = -1;                // whole experiment; -1 until an epoch has been timed
};

struct ExperimentCallbacks {
  std::function<void(const ExperimentProgress&)> on_progress;
  std::function<void(const std::string&)> on_note;  // "reusing ...", "resumed ...", status
};

struct ExperimentResult {
  std::string out_dir;
  std::vector<RunRecord> runs;
  std::vector<VariantSummary> summaries;
  int runs_trained = 0, runs_reused = 0;
  double wall_seconds = 0;
  std::vector<std::string> files;  // written into out_dir
  bool plotted = false;
  std::string plot_status;
};

ExperimentResult run_experiment(const ExperimentSpec& spec, const RunOptions& options,
                                const ExperimentCallbacks& callbacks = {});

}  // namespace xcept::experiments

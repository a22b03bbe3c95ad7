// The experiment's tables: results.csv (one row per variant and seed), summary.csv (mean
// and std per variant, costs, latency), curves.csv (per variant and epoch) and report.md
// (the tables for a reader, with the plots). Accuracies are in percent.
#pragma once

#include <string>
#include <vector>

#include "experiments/results.h"
#include "experiments/spec.h"

namespace xcept::experiments {

std::string results_csv(const std::vector<RunRecord>& runs, const ExperimentSpec& spec);
std::string summary_csv(const std::vector<VariantSummary>& summaries);
std::string curves_csv(const std::vector<VariantSummary>& summaries);

// What report.md says about how the numbers were made.
struct ReportContext {
  std::string data_dir;
  int64_t train_images = 0, test_images = 0;
  TrainSettings train;  // as run (overrides applied)
  int repeats = 0;
  int threads = 0;
  double wall_seconds = 0;  // of the invocation that wrote the report
  int runs_trained = 0, runs_reused = 0;
  std::string command;      // how to reproduce, when the caller knows it
  std::string plot_status;
  std::vector<std::string> plots;  // image files in the folder
};

std::string report_markdown(const ExperimentSpec& spec, const std::vector<VariantSummary>& summaries,
                            const ReportContext& context);

}  // namespace xcept::experiments

// What an experiment measured: one record per (variant, seed) run, read back from the
// run's metrics.jsonl (train/metrics_log), and per-variant aggregates over the seeds
// (mean and sample standard deviation; curves per epoch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/metrics_log.h"  // EpochResult, read_metrics

namespace xcept::experiments {

struct RunRecord {
  std::string variant;
  uint64_t seed = 0;
  std::vector<EpochResult> epochs;
  double final_accuracy = 0;  // test accuracy after the last epoch
  double best_accuracy = 0;   // highest test accuracy after any epoch
  int64_t best_epoch = 0;
  double final_test_loss = 0, final_train_loss = 0;
  double train_seconds = 0;   // sum over epochs
};

// Finals and bests from the epochs (which must not be empty).
RunRecord make_run_record(std::string variant, uint64_t seed, std::vector<EpochResult> epochs);

struct MeanStd {
  double mean = 0, std = 0;  // std: sample standard deviation (0 for one value)
};
MeanStd mean_std(const std::vector<double>& values);

// What a variant costs: counted on its graph, and measured through the runtime.
struct VariantCost {
  int64_t params = 0, params_trainable = 0, macs = 0;  // per image
  double latency_batch1_ms = 0, latency_batch32_ms = 0;  // median
};

struct CurvePoint {
  int64_t epoch = 0;
  int runs = 0;  // seeds that reached this epoch
  MeanStd test_accuracy, test_loss, train_loss, train_accuracy;
};

struct VariantSummary {
  std::string variant, model;
  int runs = 0;
  MeanStd final_accuracy, best_accuracy, train_seconds;
  VariantCost cost;
  std::vector<CurvePoint> curve;
  // Against the reference variant: difference of mean final accuracies, its standard
  // error sqrt(s_a^2/n_a + s_b^2/n_b), and whether |delta| > 2 standard errors (needs
  // at least two seeds on each side; a rough test at n = 3, said so in the report).
  double delta_final = 0, delta_se = 0;
  bool beyond_spread = false;
};

struct VariantInfo {
  std::string name, model;
  VariantCost cost;
};

// One summary per variant with runs (in the order of `variants`), from the runs bearing
// its name; deltas are against variants[reference] when it has runs.
std::vector<VariantSummary> summarize_variants(const std::vector<VariantInfo>& variants,
                                               const std::vector<RunRecord>& runs,
                                               size_t reference);

}  // namespace xcept::experiments

// Options of `xcept bench`, shared by its inference (cmd_bench.cpp) and training
// (cmd_bench_train.cpp) halves.
#pragma once

#include <string>

#include "core/stats.h"
#include "models/models.h"
#include "train/optimizer.h"

namespace xcept::cli {

struct BenchOptions {
  std::string model;
  models::ModelOptions model_options;
  int64_t batch = 1;
  std::string precision = "f32";
  bool bf16_even_if_slower = false;
  int warmup = 2, repeats = 10;
  bool json = false, no_fuse = false, no_dw_pw_fusion = false;
  // --train: a full training step instead of inference.
  bool train = false;
  std::string optimizer = "sgd";
  OptimizerOptions optimizer_options{.momentum = 0.9};
  double lr = 0.01;
};

void run_bench_train(const BenchOptions& o);

}  // namespace xcept::cli

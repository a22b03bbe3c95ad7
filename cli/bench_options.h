// Options of `xcept bench`, shared by its inference (cmd_bench.cpp) and training
// (cmd_bench_train.cpp) halves.
#pragma once

#include <string>

#include "cli/format.h"
#include "core/stats.h"  // median
#include "train/optimizer.h"
#include "xcept/network.h"

namespace xcept::cli {

struct BenchOptions {
  std::string model;  // zoo name, checkpoint or .onnx file
  ZooOptions zoo;
  std::vector<std::string> input_dims;  // ONNX files
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

// --input-dims values ("1x3x224x224") as dims.
inline std::vector<Dims> parse_input_dims(const std::vector<std::string>& texts) {
  std::vector<Dims> r;
  for (const std::string& t : texts) r.push_back(parse_dims(t, 0, "--input-dims"));
  return r;
}

void run_bench_train(const BenchOptions& o);

}  // namespace xcept::cli

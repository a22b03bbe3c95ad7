// A small trained checkpoint for tests that need one: mini-mobilenet (alpha 0.25) after
// one epoch on the synthetic quadrant images (8x8x1, 4 classes); well under a second.
#pragma once

#include <filesystem>
#include <string>

#include "quadrant_data_support.h"
#include "train/trainer.h"

namespace xcept::test {

// Writes the dataset to DIR/data and the run to DIR/run; returns DIR/run/last.ckpt.
inline std::string train_small_checkpoint(const std::string& dir, int64_t epochs = 1) {
  const std::string data = dir + "/data";
  std::filesystem::create_directories(data);
  write_quadrant_idx(data, "train", 128, 1);
  write_quadrant_idx(data, "t10k", 32, 2);
  TrainConfig c;
  c.model = "mini-mobilenet";
  c.model_options.alpha = 0.25;
  c.data_dir = data;
  c.out_dir = dir + "/run";
  c.epochs = epochs;
  c.batch_size = 16;
  c.schedule.base_lr = 3e-3;
  c.seed = 3;
  train(c);
  return c.out_dir + "/last.ckpt";
}

}  // namespace xcept::test

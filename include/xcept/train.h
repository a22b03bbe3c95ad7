// Training a zoo model on a dataset folder (IDX files of the MNIST family, CIFAR-10
// binary batches, or train/ and test/ folders of JPEG/PNG images, one sub-folder per
// class), with an evaluation on the test split after every epoch. Into `out_dir` go
// best.ckpt, last.ckpt (load either with Model::from_checkpoint) and metrics.jsonl (one
// JSON line per epoch). Progress reaches the caller through callbacks; the library
// prints nothing. Runs are reproducible: the same seed and thread count give the same
// weights, also after `resume` from a killed run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/network.h"

namespace xcept {

struct TrainOptions {
  std::string model = "mini-mobilenet";  // a zoo model
  ZooOptions model_options;  // classes and input size come from the data
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 10;
  int64_t batch_size = 64;
  std::string optimizer = "adam";     // sgd|rmsprop|adam|adamw
  double lr = 1e-3;
  std::string schedule = "constant";  // constant|step|cosine
  double warmup_epochs = 0;
  double momentum = 0;                // sgd, rmsprop
  bool nesterov = false;              // sgd
  double weight_decay = -1;           // < 0: the optimizer's default
  float label_smoothing = 0;
  int crop_padding = 0;               // random crops with this zero padding
  bool horizontal_flip = false;
  bool normalize = true;              // per-channel mean/std of the training set
  uint64_t seed = 0;
  std::string out_dir = "runs/default";
  bool resume = false;                // continue from out_dir/last.ckpt
  int64_t limit_train = 0, limit_test = 0;  // first N images only (0: all)
  // Knowledge distillation from this checkpoint (empty: none): Hinton's loss,
  // (1 - alpha) CE + alpha T^2 KL(teacher/T || student/T).
  std::string teacher;
  float distill_temperature = 4;
  float distill_alpha = 0.9f;
};

struct BatchProgress {
  int64_t epoch = 0, epochs = 0;   // 0-based epoch
  int64_t batch = 0, batches = 0;  // batches done in this epoch, of
  double loss = 0, accuracy = 0;   // running means over the epoch so far
  double lr = 0, images_per_s = 0, eta_s = 0;
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based: epochs completed
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double lr = 0, seconds = 0, images_per_s = 0;
  bool best = false;  // test accuracy improved: best.ckpt was written
};

struct TrainEvents {
  std::function<void(const BatchProgress&)> on_batch;
  std::function<void(const EpochMetrics&)> on_epoch;
  std::function<void(const std::string&)> on_note;  // "resumed from ... after epoch 3"
};

struct TrainRun {
  std::vector<EpochMetrics> epochs;  // the epochs this call ran
  double best_accuracy = 0;
  int64_t start_epoch = 0;           // > 0 when resumed
  std::string best_checkpoint, last_checkpoint, metrics_log;  // paths
};

// Throws xcept::Error naming the option or file that does not fit; checkpoints already
// written stay intact.
XCEPT_API TrainRun train(const TrainOptions& options, const TrainEvents& events = {});

}  // namespace xcept

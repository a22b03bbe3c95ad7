// The training loop: a model from the zoo, a dataset folder, an optimizer and a schedule;
// evaluation after every epoch; best and last checkpoints; resumption after a crash.
//
// Reproducibility: everything random is a function of the seed, the epoch and the batch
// (batch order, augmentation, dropout masks, initial weights from the seed alone), and
// checkpoints hold the optimizer state and the position in the run: epochs done, and
// with --checkpoint-every / --checkpoint-minutes the batches done in the epoch after
// them, with that epoch's running metrics. So a run killed at any moment and resumed
// from last.ckpt ends with the same weights as an unbroken run, given the same seed and
// thread count (kernels are deterministic for a thread count).
//
// The library prints nothing: progress and results arrive through callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/models.h"
#include "train/augment.h"
#include "train/distill.h"
#include "train/metrics_log.h"  // EpochResult
#include "train/mpi_comm.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace xcept {

struct TrainConfig {
  std::string model = "mini-xception";
  models::ModelOptions model_options;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 10;
  int64_t batch_size = 64;
  std::string optimizer = "adam";
  OptimizerOptions optimizer_options;
  LrSchedule schedule;  // base_lr is the learning rate
  float label_smoothing = 0.f;
  int crop_padding = 0;        // random crop with this zero padding (0: off)
  bool horizontal_flip = false;
  bool normalize = true;       // per-channel mean/std of the training set
  uint64_t seed = 0;
  std::string out_dir = "runs/default";
  bool resume = false;         // continue from out_dir/last.ckpt
  int64_t limit_train = 0;     // use only the first N training images (0: all)
  int64_t limit_test = 0;      // use only the first N test images (0: all)
  // Mid-epoch last.ckpt every this many optimizer steps, and/or when this many minutes
  // have passed since the last write (0: off; epoch ends always write).
  int64_t checkpoint_every = 0;
  double checkpoint_minutes = 0;
  // Data-parallel training (train(..., comm)): batch_size is the global batch, split over
  // the ranks; sync_bn takes batch-norm statistics over it; gradients are summed in
  // buckets of this many bytes (train/data_parallel.h).
  bool sync_bn = false;
  int64_t bucket_bytes = int64_t{4} << 20;
  // A teacher checkpoint: knowledge distillation (train/distill.h).
  DistillOptions distill;
  // Start from this checkpoint's weights and input normalization instead of a fresh
  // initialization (fine-tuning; its model must be `model` with `model_options`, and
  // model_options' classes, input size and channels the data's).
  std::string init_from;
};

struct TrainProgress {
  int64_t epoch = 0, epochs = 0;      // 0-based epoch
  int64_t batch = 0, batches = 0;     // batches done in this epoch, of
  double loss = 0, accuracy = 0;      // running means over the epoch so far
  double lr = 0;
  double images_per_s = 0;
  double elapsed_s = 0, eta_s = 0;    // this epoch
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_batch;
  std::function<void(const EpochResult&)> on_epoch;
  std::function<void(const std::string&)> on_note;  // "resumed from ... after epoch 3"
};

struct TrainResult {
  std::vector<EpochResult> epochs;  // the epochs this call ran
  double best_accuracy = 0;
  int64_t start_epoch = 0;  // > 0 when resumed
  int64_t start_batch = 0;  // > 0 when resumed from a mid-epoch checkpoint
  int64_t checkpoints = 0;  // last.ckpt writes, mid-epoch ones included
  int64_t train_images = 0, test_images = 0;  // used, after the limits
};

// With `comm` (an MPI job, train/mpi_comm.h) every rank calls train() with the same
// config: each trains on its shard of every global batch, and rank 0 alone evaluates,
// writes checkpoints and metrics, and calls `callbacks` (with every rank's images counted).
// A resumed run may have another number of ranks than the run that wrote the checkpoint.
TrainResult train(const TrainConfig& config, const TrainCallbacks& callbacks = {},
                  MpiComm* comm = nullptr);

struct EvalResult {
  double accuracy = 0;
  double loss = 0;
  int64_t images = 0;
};

// Evaluates a checkpoint (model rebuilt from its own record, normalization as trained)
// on the test split of `data_dir`.
EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& data_dir,
                               int64_t batch_size = 256, int64_t limit = 0);

}  // namespace xcept

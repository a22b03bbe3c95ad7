// One training step: forward in training mode, a loss (softmax cross-entropy unless the
// caller passes another, as distillation does), backward, one optimizer update. The
// trainer's loop and `xcept bench --train` both run this, so the benchmark times exactly
// what training does.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "autograd/graph.h"
#include "core/tensor.h"
#include "train/optimizer.h"

namespace xcept {

struct StepResult {
  double loss = 0;          // mean over the batch
  int64_t correct = 0;      // top-1 hits in the batch
};

class DataParallel;

// The loss of a batch: returns its mean over the batch and writes dL/dlogits.
using LossFn = std::function<double(const Tensor& logits, Tensor& dlogits)>;

// `dlogits` is the caller's buffer for dL/dlogits, reused across steps. Throws
// xcept::Error (before the update) when the loss is not finite or above 1e6 (diverged).
// With `dp` (data-parallel training, train/data_parallel.h) the batch is this rank's
// shard of a global batch of `global_batch` images: dL/dlogits is scaled by its share and
// the gradients are summed over the ranks during backward.
StepResult train_step(Graph& graph, Optimizer& optimizer, const Tensor& images,
                      std::span<const int32_t> labels, double lr, const LossFn& loss,
                      Tensor& dlogits, DataParallel* dp = nullptr, int64_t global_batch = 0);
// With softmax cross-entropy (train/loss.h).
StepResult train_step(Graph& graph, Optimizer& optimizer, const Tensor& images,
                      std::span<const int32_t> labels, double lr, float label_smoothing,
                      Tensor& dlogits, DataParallel* dp = nullptr, int64_t global_batch = 0);

}  // namespace xcept

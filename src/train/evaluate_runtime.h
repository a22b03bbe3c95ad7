// Evaluation of a checkpoint through the inference runtime (lower_graph + optimize +
// Executor) instead of the training graph's forward: what `xcept eval --precision` runs.
// With a precision other than f32 the same images also go through an f32 program, so
// the accuracy cost of the cheaper arithmetic is measured on the very same inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/executor.h"
#include "train/trainer.h"

namespace xcept {

struct RuntimeEvalResult {
  Precision precision = Precision::f32;      // asked for
  Precision precision_run = Precision::f32;  // what ran (bf16 falls back to f32 without AVX512_BF16)
  EvalResult result;                         // at `precision`
  // Set when `precision` is not f32: the f32 program on the same images, and how the two
  // compare: the fraction of images with the same top-1 class, and 100 * (accuracy -
  // f32 accuracy) in percentage points.
  std::optional<EvalResult> f32;
  double top1_agreement = 1;
  double accuracy_delta_points = 0;
};

// Like evaluate_checkpoint (model rebuilt from the checkpoint's record, normalization as
// trained, the test split of `data_dir`, its first `limit` images when > 0), but through
// the runtime compiled for batches of `batch_size`.
RuntimeEvalResult evaluate_checkpoint_runtime(const std::string& checkpoint,
                                              const std::string& data_dir, Precision precision,
                                              int64_t batch_size = 256, int64_t limit = 0);

}  // namespace xcept

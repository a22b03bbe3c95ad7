// Evaluation of a checkpoint through the inference runtime (lower_graph + optimize +
// Executor) instead of the training graph's forward: what `xcept eval --precision` runs.
// With a precision other than f32 the same images also go through an f32 program, so
// the accuracy cost of the cheaper arithmetic is measured on the very same inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/executor.h"
#include "runtime/layer_error.h"
#include "train/quantize_checkpoint.h"
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

struct Int8EvalResult {
  RuntimeEvalResult eval;  // `result`: the int8 program; `f32`: its float program
  QuantizationRecord record;  // the ranges used
  bool calibrated_now = false;  // the checkpoint had none: calibrated on the training split
  int int8_steps = 0;
  std::vector<FloatStep> float_steps;  // steps with weights that ran in float, and why
  std::vector<LayerError> layers;      // each step's output against f32
};

// The int8 evaluation keeps a batch of every float layer output for the per-layer
// report (runtime/layer_error.h), so it runs batches of at most this many images.
inline constexpr int64_t kInt8EvalMaxBatch = 64;

// The checkpoint's int8 program (from its `xcept quantize` record; without one,
// calibrated now on 512 training images of `data_dir` by min-max) against the float
// program it was made from, on the same test images: both accuracies, top-1 agreement,
// the change in points, and the per-layer error report.
Int8EvalResult evaluate_checkpoint_int8(const std::string& checkpoint, const std::string& data_dir,
                                        int64_t batch_size = 256, int64_t limit = 0);

}  // namespace xcept

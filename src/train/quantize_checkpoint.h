// Post-training quantization of a trained checkpoint (`xcept quantize`): calibrate the
// model's activation ranges on N training images of a data folder and keep them, with
// how they were found, in the checkpoint (CheckpointMeta::extra["quantization"]). The
// weights stay float32: they are quantized when an int8 program is built
// (runtime/quantize.h, deterministic), so one file serves f32, bf16 and int8.
//
// extra["quantization"] = {"version": 1, "method": "minmax"|"percentile"|"entropy",
//   "percentile": 99.99, "bins": 2048, "images": N, "data": "DIR",
//   "keep_f32": ["@depthwise", "block1_*", ...],
//   "ranges": {"<value name>": [lo, hi], ...}}
// Value names are those of the model's program lowered and optimized for quantization
// (quantization_program below).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/graph.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "runtime/calibrate.h"
#include "runtime/quantize.h"
#include "xcept/types.h"

namespace xcept {

// What calibration found and how: enough to rebuild the int8 program.
struct QuantizationRecord {
  CalibrationOptions calibration;
  int64_t images = 0;     // calibration images used
  std::string data;       // the folder they came from ("" for other sources)
  QuantizeOptions quantize;  // mixed precision: steps kept in float
  ActivationRanges ranges;
};

nlohmann::json quantization_to_json(const QuantizationRecord& r);
// Throws xcept::Error naming `source` and the field that does not fit.
QuantizationRecord quantization_from_json(const nlohmann::json& j, std::string_view source);
// The record in a checkpoint's metadata, or nullopt when it has none.
std::optional<QuantizationRecord> checkpoint_quantization(const CheckpointMeta& meta,
                                                          std::string_view source);

// The float program an int8 program is made from: lowered for `batch` images and
// optimized with quantization_optimize_options(). Calibration runs it; its value names
// are the record's keys.
Program quantization_program(Graph& graph, int64_t batch);

// The int8 program of `graph` for `batch` images, from a record's ranges and options.
QuantizedProgram quantize_graph(Graph& graph, int64_t batch, const QuantizationRecord& record);

struct CalibrationSet {
  const Dataset* images = nullptr;  // NHWC in [0, 1]
  Normalization normalization;      // applied as in training
  int64_t count = 512;              // images to use (at most the set's size)
  uint64_t seed = 0;                // which ones: the first `count` of a seeded shuffle
};

// Calibrates `graph` on the set: the record's ranges, method and image count (data and
// keep_f32 are the caller's to fill).
QuantizationRecord calibrate_graph(Graph& graph, const CalibrationSet& set,
                                   const CalibrationOptions& options);

struct QuantizeCheckpointOptions {
  std::string checkpoint, data_dir, out;
  int64_t calibration_images = 512;
  uint64_t seed = 0;
  CalibrationOptions calibration;
  std::vector<std::string> keep_f32;
};

struct QuantizeCheckpointResult {
  QuantizationRecord record;
  int int8_steps = 0;  // of the program at batch 1
  std::vector<FloatStep> float_steps;
};

// Reads `checkpoint`, calibrates on the training split of `data_dir` and writes `out`
// (atomically; it may be `checkpoint` itself): the model, its weights and metadata with
// the record added. The optimizer state is not kept: the file is for inference.
QuantizeCheckpointResult quantize_checkpoint(const QuantizeCheckpointOptions& options);

}  // namespace xcept

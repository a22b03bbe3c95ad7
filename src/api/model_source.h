// What a model name on the command line or in the API stands for, loaded: a zoo model,
// a checkpoint or an ONNX file, and everything the facade and the tools need from it to
// compile, run, summarize and measure it. The Model facade (include/xcept/model.h),
// summarize, `xcept summary|bench|predict` and the Python module all load through here,
// so a name means the same everywhere.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "io/onnx/onnx_fwd.h"
#include "io/onnx/onnx_import.h"
#include "runtime/executor.h"
#include "runtime/optimize.h"
#include "train/quantize_checkpoint.h"
#include "xcept/network.h"
#include "xcept/types.h"

namespace xcept {

enum class SourceKind { zoo, checkpoint, onnx };
const char* source_kind_name(SourceKind kind);  // "zoo model", "checkpoint", "ONNX file"

// ".onnx" (any case): an ONNX file; an existing file: a checkpoint; anything else a zoo
// name. Throws xcept::Error for a path (a '/' or a .ckpt ending) that does not exist.
SourceKind source_kind(const std::string& name_or_path);

struct ModelSource {
  std::string name;  // the path, or the zoo name
  SourceKind kind = SourceKind::zoo;
  // An xcept network (NHWC), shared with the Network it came from...
  std::shared_ptr<Graph> graph;
  // ...or an ONNX model (NCHW) with the dims of its runtime inputs, batch first.
  std::shared_ptr<const onnx::ModelProto> onnx;
  std::string onnx_base_dir;
  std::vector<Dims> onnx_dims;
  int64_t fixed_batch = 0;  // > 0: the ONNX file fixes the batch (no symbolic first axis)
  Normalization normalization;  // what the model expects applied to [0, 1] pixels
  std::vector<std::string> class_names;
  std::vector<std::string> input_names, output_names;
  // A checkpoint's `xcept quantize` record (activation ranges), when it has one.
  std::optional<QuantizationRecord> quantization;

  Layout layout() const { return graph ? Layout::nhwc : Layout::nchw; }
  // Dims of every input for `batch` images.
  std::vector<Dims> input_dims(int64_t batch) const;
  // The unoptimized program for `batch` images (ONNX: `report` gets one entry per node,
  // `ranges` the encodings of a QDQ model's quantized values).
  Program program(int64_t batch, std::vector<OnnxNodeReport>* report = nullptr,
                  OnnxValueRanges* ranges = nullptr) const;
};

// zoo: the options of a zoo model; onnx_dims: an ONNX file's input dims (empty: as
// declared, a symbolic batch set to onnx_batch, or 1 when that is 0).
ModelSource load_model_source(const std::string& name_or_path, const ZooOptions& zoo = {},
                              const std::vector<Dims>& onnx_dims = {}, int64_t onnx_batch = 0);
ModelSource model_source_of(std::shared_ptr<Graph> graph);

struct CompileOptions {
  ExecutorOptions executor;
  bool optimize = true;
  OptimizeOptions optimize_options;
  Normalization normalization;  // prepended as a per-channel affine step when not empty
};

// The program for `batch` images, with the normalization as its first step, optimized
// and planned.
Executor compile(const ModelSource& source, int64_t batch, const CompileOptions& options);

// The int8 form of the program for `batch` images (runtime/quantize.h; no normalization
// step: inputs are given as the model takes them): with the checkpoint's `xcept
// quantize` record when the source has one, a QDQ ONNX model's own encodings, else with
// ranges calibrated on
// `calibration` (batches of `batch` inputs) by `method`. Throws when it has neither.
QuantizedProgram quantize_source(const ModelSource& source, int64_t batch,
                                 const CalibrationBatches& calibration = {},
                                 const CalibrationOptions& method = {});

}  // namespace xcept

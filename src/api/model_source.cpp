#include "api/model_source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/zoo.h"
#include "core/error.h"
#include "io/onnx/onnx_export.h"
#include "io/onnx/onnx_model.h"
#include "runtime/lower_graph.h"
#include "runtime/ops/core_ops.h"
#include "train/checkpoint_model.h"
#include "onnx/onnx_pb.h"

namespace xcept {

namespace fs = std::filesystem;

const char* source_kind_name(SourceKind kind) {
  switch (kind) {
    case SourceKind::zoo: return "zoo model";
    case SourceKind::checkpoint: return "checkpoint";
    case SourceKind::onnx: return "ONNX file";
  }
  return "?";
}

namespace {

bool ends_with_ci(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - std::ptrdiff_t(suffix.size()),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

// Names a graph's input and output nodes.
void name_graph_io(ModelSource& s) {
  s.input_names = {s.graph->node_name(0)};
  s.output_names = {s.graph->node_name(s.graph->output())};
}

ModelSource onnx_source(const std::string& path, const std::vector<Dims>& dims, int64_t batch) {
  ModelSource s;
  s.name = path;
  s.kind = SourceKind::onnx;
  auto model = std::make_shared<onnx::ModelProto>(load_onnx_model(path));
  const fs::path dir = fs::path(path).parent_path();
  s.onnx_base_dir = (dir.empty() ? fs::path(".") : dir).string();
  s.input_names = onnx_graph_input_names(*model);
  s.output_names = onnx_graph_output_names(*model);
  if (dims.empty()) {
    // Batch 0 marks a symbolic batch axis; a file with a number there takes only that batch.
    s.onnx_dims = onnx_declared_input_dims(*model, 0, path);
    if (!s.onnx_dims.empty() && !s.onnx_dims[0].empty() && s.onnx_dims[0][0] > 0)
      s.fixed_batch = s.onnx_dims[0][0];
    for (Dims& d : s.onnx_dims)
      if (!d.empty() && d[0] == 0) d[0] = batch > 0 ? batch : 1;
  } else {
    s.onnx_dims = dims;
  }
  if (s.onnx_dims.size() != s.input_names.size())
    fail("{}: the model has {} input(s), dims for {} given", path, s.input_names.size(),
         s.onnx_dims.size());
  // What `xcept export` recorded about the model's training.
  if (std::string j = onnx_metadata(*model, kOnnxNormalizeKey); !j.empty())
    s.normalization = normalization_from_json(nlohmann::json::parse(j, nullptr, false),
                                              fmt::format("{}: metadata {}", path, kOnnxNormalizeKey));
  if (std::string j = onnx_metadata(*model, kOnnxClassNamesKey); !j.empty()) {
    const auto names = nlohmann::json::parse(j, nullptr, false);
    if (names.is_array())
      for (const auto& n : names)
        if (n.is_string()) s.class_names.push_back(n.get<std::string>());
  }
  s.onnx = std::move(model);
  return s;
}

// The first step: x' = (x - mean) / std on the channel axis, as one affine.
void prepend_normalization(Program& p, const Normalization& n, Layout layout) {
  if (n.empty()) return;
  if (p.inputs().size() != 1) fail("input normalization needs a model with one input");
  const ValueId x = p.inputs()[0];
  const Dims& d = p.value(x).dims;
  const int axis = layout == Layout::nhwc ? 3 : 1;
  if (d.size() != 4 || d[size_t(axis)] != int64_t(n.mean.size()))
    fail("the input normalization has {} channels; the model's input is {} ({})", n.mean.size(),
         dims_to_string(d), layout == Layout::nhwc ? "NHWC" : "NCHW");
  Tensor scale({int64_t(n.mean.size())}), shift({int64_t(n.mean.size())});
  for (size_t c = 0; c < n.mean.size(); ++c) {
    scale[int64_t(c)] = 1.f / n.std[c];
    shift[int64_t(c)] = -n.mean[c] / n.std[c];
  }
  p.prepend_input_step("input_normalization",
                       std::make_unique<ChannelAffineOp>(std::move(scale), std::move(shift), axis));
}

}  // namespace

SourceKind source_kind(const std::string& name_or_path) {
  if (ends_with_ci(name_or_path, ".onnx")) return SourceKind::onnx;
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return SourceKind::checkpoint;
  if (name_or_path.find('/') != std::string::npos || ends_with_ci(name_or_path, ".ckpt"))
    fail("{}: no such file", name_or_path);
  return SourceKind::zoo;
}

std::vector<Dims> ModelSource::input_dims(int64_t batch) const {
  if (graph) {
    Dims d{batch};
    const Dims& per_image = graph->node_dims(0);
    d.insert(d.end(), per_image.begin(), per_image.end());
    return {d};
  }
  std::vector<Dims> r = onnx_dims;
  for (Dims& d : r)
    if (!d.empty()) d[0] = batch;
  return r;
}

Program ModelSource::program(int64_t batch, std::vector<OnnxNodeReport>* report,
                             OnnxValueRanges* ranges) const {
  if (batch <= 0) fail("{}: batch must be positive, got {}", name, batch);
  if (graph) return lower_graph(*graph, batch);
  std::vector<OnnxInput> in;
  const std::vector<Dims> dims = input_dims(batch);
  for (const Dims& d : dims) in.push_back({d, nullptr});
  OnnxImportOptions o;
  o.model_name = name;
  o.base_dir = onnx_base_dir;
  o.node_report = report;
  o.value_ranges = ranges;
  return import_onnx(*onnx, in, o);
}

ModelSource model_source_of(std::shared_ptr<Graph> graph) {
  ModelSource s;
  s.name = graph->name();
  s.graph = std::move(graph);
  name_graph_io(s);
  return s;
}

ModelSource load_model_source(const std::string& name_or_path, const ZooOptions& zoo,
                              const std::vector<Dims>& onnx_dims, int64_t onnx_batch) {
  switch (source_kind(name_or_path)) {
    case SourceKind::onnx: return onnx_source(name_or_path, onnx_dims, onnx_batch);
    case SourceKind::checkpoint: {
      CheckpointModel m = load_checkpoint_model(name_or_path);
      ModelSource s = model_source_of(std::make_shared<Graph>(std::move(m.graph)));
      s.name = name_or_path;
      s.kind = SourceKind::checkpoint;
      s.normalization = std::move(m.normalization);
      s.class_names = std::move(m.class_names);
      s.quantization = checkpoint_quantization(m.meta, name_or_path);
      return s;
    }
    case SourceKind::zoo: break;
  }
  return model_source_of(
      std::make_shared<Graph>(models::build_model(name_or_path, to_model_options(zoo))));
}

Executor compile(const ModelSource& source, int64_t batch, const CompileOptions& options) {
  Program p = source.program(batch);
  prepend_normalization(p, options.normalization, source.layout());
  if (options.optimize) optimize(p, options.optimize_options);
  return Executor(std::move(p), options.executor);
}

QuantizedProgram quantize_source(const ModelSource& source, int64_t batch,
                                 const CalibrationBatches& calibration,
                                 const CalibrationOptions& method) {
  auto program = [&] {
    Program p = source.program(batch);
    optimize(p, quantization_optimize_options());
    return p;
  };
  if (source.quantization)
    return quantize_program(program(), source.quantization->ranges,
                            source.quantization->quantize);
  if (source.onnx && onnx_has_qdq(*source.onnx)) {
    OnnxValueRanges by_id;
    Program p = source.program(batch, nullptr, &by_id);
    optimize(p, quantization_optimize_options());
    ActivationRanges ranges = named_ranges(p, by_id);
    return quantize_program(std::move(p), ranges);
  }
  if (!calibration)
    fail("{}: no activation ranges to quantize with (run `xcept quantize` on it, or give "
         "calibration data)",
         source.name);
  Executor f32(program());
  return quantize_program(program(), calibrate(f32, calibration, method));
}

}  // namespace xcept

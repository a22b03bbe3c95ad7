// `xcept export`: a trained checkpoint, or a zoo model with random weights, as an ONNX
// file (NCHW input, dynamic batch; see io/onnx/onnx_export.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/model_source.h"
#include "api/zoo.h"
#include "cli/commands.h"
#include "cli/zoo_options.h"
#include "core/error.h"
#include "io/onnx/onnx_export.h"
#include "models/models.h"
#include "runtime/profile.h"
#include "train/checkpoint_model.h"
#include "train/model_config.h"
#include "onnx/onnx_pb.h"

namespace xcept::cli {

namespace {

struct ExportOptions {
  std::string checkpoint, model, output, precision = "f32";
  ZooOptions zoo;
};

// --precision int8: the int8 program (the checkpoint's `xcept quantize` ranges; a zoo
// model or an unquantized checkpoint is calibrated min-max on one seeded random input,
// which serves speed comparisons, not accuracy) as QDQ ONNX.
onnx::ModelProto export_int8(const ExportOptions& o, const OnnxExportOptions& eo,
                             std::string& note) {
  const ModelSource source =
      load_model_source(o.checkpoint.empty() ? o.model : o.checkpoint, o.zoo);
  if (!source.quantization)
    note = " (int8 ranges: min-max of one random input; `xcept quantize` calibrates on data)";
  const std::vector<Tensor> xs = random_inputs(source.input_dims(1), uint32_t(o.zoo.seed));
  QuantizedProgram q = quantize_source(source, 1, [&](const auto& use) { use(xs[0]); });
  return export_onnx_qdq(q.program, eo);
}

void run_export(ExportOptions& o) {
  if (o.checkpoint.empty() == o.model.empty())
    throw CLI::ValidationError("export", "give exactly one of --checkpoint and --model");
  OnnxExportOptions eo;
  std::string model_name;
  nlohmann::json config;
  Graph graph("");
  if (!o.checkpoint.empty()) {
    CheckpointModel ck = load_checkpoint_model(o.checkpoint);
    model_name = ck.meta.model;
    config = ck.meta.model_config;
    graph = std::move(ck.graph);
    // The model expects inputs normalized as in training, and its outputs are the
    // dataset's classes: both travel with the file (Model::from_onnx reads them back).
    if (!ck.normalization.empty())
      eo.metadata.emplace_back(kOnnxNormalizeKey, normalization_to_json(ck.normalization).dump());
    if (!ck.class_names.empty())
      eo.metadata.emplace_back(kOnnxClassNamesKey, nlohmann::json(ck.class_names).dump());
    eo.doc = fmt::format("{} from checkpoint {} (epoch {})", model_name, o.checkpoint,
                         ck.meta.epoch);
  } else {
    const models::ModelOptions mo = to_model_options(o.zoo);
    model_name = o.model;
    config = model_options_to_json(mo);
    graph = models::build_model(model_name, mo);
    eo.doc = fmt::format("{} with random weights (seed {})", model_name, mo.seed);
  }
  eo.metadata.emplace_back("xcept.model", model_name);
  eo.metadata.emplace_back("xcept.model_config", config.dump());
  eo.metadata.emplace_back("xcept.input_layout", "NCHW");
  std::string note;
  if (o.precision != "f32" && o.precision != "int8")
    throw CLI::ValidationError("--precision", "f32 or int8, got " + o.precision);
  eo.metadata.emplace_back("xcept.precision", o.precision);
  onnx::ModelProto model = o.precision == "int8" ? export_int8(o, eo, note) : export_onnx(graph, eo);
  save_onnx(model, o.output);
  const Dims& in = graph.node_dims(0);
  fmt::print("{}: {} ({} nodes, {} initializers), input {} [batch, {}, {}, {}], opset {}{}\n",
             o.output, model_name, model.graph().node_size(), model.graph().initializer_size(),
             eo.input_name, in.size() == 3 ? in[2] : in[0], in.size() == 3 ? in[0] : 1,
             in.size() == 3 ? in[1] : 1, kOnnxExportOpset, note);
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand("export", "write a checkpoint or a zoo model as ONNX (NCHW)");
  cmd->add_option("--checkpoint,-c", o->checkpoint, "checkpoint file to export");
  cmd->add_option("--model,-m", o->model, "zoo model to export with random weights");
  cmd->add_option("--output,-o", o->output, "the .onnx file to write")->required();
  cmd->add_option("--precision", o->precision,
                  "f32, or int8: the quantized model as QDQ ONNX (a checkpoint's `xcept "
                  "quantize` ranges, else min-max of a random input)")
      ->capture_default_str();
  add_zoo_options(*cmd, o->zoo, "(--model) ");
  cmd->callback([o] { run_export(*o); });
}

}  // namespace xcept::cli

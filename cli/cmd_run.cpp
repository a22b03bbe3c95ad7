// `xcept run MODEL.onnx --input FILE ... --output FILE ...`: imports an ONNX model for the
// shapes of the given inputs, optimizes it and runs it once. Tensor files are ONNX
// TensorProto (.pb) or NumPy (.npy), chosen by extension; outputs are written atomically.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "io/onnx/onnx_import.h"
#include "io/onnx/onnx_model.h"
#include "io/onnx/onnx_tensor.h"
#include "runtime/executor.h"
#include "runtime/optimize.h"
#include "onnx/onnx_pb.h"

namespace xcept::cli {

namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs, outputs;
  bool quiet = false;
};

void run_model(const RunOptions& o) {
  using clock = std::chrono::steady_clock;
  onnx::ModelProto model = load_onnx_model(o.model);
  const std::vector<std::string> names = onnx_graph_input_names(model);
  if (o.inputs.size() != names.size())
    fail("{}: the model has {} input(s) ({}), {} --input file(s) given", o.model, names.size(),
         fmt::join(names, ", "), o.inputs.size());
  const int outs = model.graph().output_size();
  if (static_cast<int>(o.outputs.size()) != outs)
    fail("{}: the model has {} output(s), {} --output file(s) given", o.model, outs,
         o.outputs.size());
  std::vector<HostTensor> inputs;
  for (const std::string& f : o.inputs) inputs.push_back(read_tensor_file(f));

  // Every input's value is given, so inputs feeding weight slots can be constants.
  OnnxImportOptions opt;
  opt.model_name = o.model;
  opt.base_dir = std::filesystem::path(o.model).parent_path().string();
  if (opt.base_dir.empty()) opt.base_dir = ".";
  const auto t0 = clock::now();
  Program program = import_onnx(model, inputs, opt);
  optimize(program);
  Executor ex(std::move(program));
  const auto t1 = clock::now();
  std::vector<const Tensor*> args;
  for (const HostTensor& t : inputs)
    if (t.is_f32()) args.push_back(&t.f32);
  std::vector<Tensor> out = ex.run(args);
  const auto t2 = clock::now();
  for (size_t i = 0; i < out.size(); ++i)
    write_tensor_file(o.outputs[i], out[i], model.graph().output(static_cast<int>(i)).name());
  if (o.quiet) return;
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  fmt::print("{}: {} steps, {:.1f} MB weights, {:.1f} MB activations; import {:.0f} ms, run {:.1f} ms\n",
             o.model, ex.program().steps().size(), ex.weight_bytes() / 1e6,
             ex.planned_bytes() / 1e6, ms(t0, t1), ms(t1, t2));
  for (size_t i = 0; i < out.size(); ++i)
    fmt::print("  {} {} -> {}\n", model.graph().output(static_cast<int>(i)).name(),
               dims_to_string(out[i].dims()), o.outputs[i]);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "run an ONNX model on tensor files (.pb or .npy)");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("--input", o->inputs, "input tensor file, one per graph input, in order")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--output", o->outputs, "output tensor file, one per graph output")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--quiet", o->quiet, "print nothing");
  cmd->callback([o] { run_model(*o); });
}

}  // namespace xcept::cli

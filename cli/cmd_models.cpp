// `xcept models` and `xcept summary MODEL`: what exists, and what one model costs.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "api/json.h"
#include "cli/bench_options.h"  // parse_input_dims
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/zoo_options.h"
#include "models/models.h"
#include "xcept/summary.h"

namespace xcept::cli {

namespace {

struct SummaryOptions {
  std::string model;
  ZooOptions zoo;
  std::vector<std::string> input_dims;  // ONNX files: NCHW dims per input
  bool json = false;
};

void print_models() {
  fmt::print("{:<16} {:<11} {}\n", "model", "input", "description");
  for (const auto& m : models::model_list())
    fmt::print("{:<16} {:<11} {}\n", m.name, m.default_input, m.description);
}

void print_summary(SummaryOptions& o) {
  const ModelSummary s = summarize(o.model, o.zoo, parse_input_dims(o.input_dims));
  if (o.json) {
    std::puts(to_json(s).dump(2).c_str());
    return;
  }
  fmt::print("{} on {}\n\n", s.model, dims_to_string(s.input));
  fmt::print("{:<28} {:<18} {:<14} {:>12} {:>15} {:>12}\n", "layer", "type", "output", "params",
             "MACs", "act. bytes");
  for (const auto& l : s.layers)
    fmt::print("{:<28} {:<18} {:<14} {:>12} {:>15} {:>12}\n", l.name, l.type,
               dims_to_string(l.output), with_commas(l.params), with_commas(l.macs),
               with_commas(l.activation_bytes));
  fmt::print("\nparams total      {:>15}  (batch-norm moving mean/variance included, as Keras)\n",
             with_commas(s.params_total));
  fmt::print("params trainable  {:>15}\n", with_commas(s.params_trainable));
  fmt::print("MACs per image    {:>15}  ({:.3f} G; FLOPs = 2 x MACs)\n", with_commas(s.macs),
             double(s.macs) * 1e-9);
  fmt::print("activations       {:>15}  bytes per image, all layers\n",
             with_commas(s.activation_bytes));
}

}  // namespace

void add_models_commands(CLI::App& app) {
  app.add_subcommand("models", "list the models xcept builds")->callback(print_models);

  auto o = std::make_shared<SummaryOptions>();
  auto* cmd = app.add_subcommand("summary", "per-layer output shapes, parameters and MACs");
  cmd->add_option("model", o->model, "zoo model (see `xcept models`), checkpoint or .onnx file")
      ->required();
  add_zoo_options(*cmd, o->zoo);
  cmd->add_option("--input-dims", o->input_dims,
                  "ONNX files: NxCxHxW of each input (default: as declared, batch 1)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] { print_summary(*o); });
}

}  // namespace xcept::cli

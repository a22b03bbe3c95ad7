// `xcept models` and `xcept summary MODEL`: what exists, and what one model costs.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/model_summary.h"
#include "cli/commands.h"
#include "cli/model_flags.h"
#include "cli/format.h"
#include "models/models.h"

namespace xcept::cli {

namespace {

struct SummaryOptions {
  std::string model;
  models::ModelOptions model_options;
  std::string mid_activation = "none";
  bool json = false;
};

void print_models() {
  fmt::print("{:<16} {:<11} {}\n", "model", "input", "description");
  for (const auto& m : models::model_list())
    fmt::print("{:<16} {:<11} {}\n", m.name, m.default_input, m.description);
}

void print_summary(SummaryOptions& o) {
  o.model_options.mid_activation = parse_activation(o.mid_activation);
  Graph g = models::build_model(o.model, o.model_options);
  ModelSummary s = summarize(g);
  if (o.json) {
    nlohmann::json j;
    j["model"] = s.model;
    j["input"] = s.input;
    j["params_total"] = s.params_total;
    j["params_trainable"] = s.params_trainable;
    j["params_non_trainable"] = s.params_total - s.params_trainable;
    j["macs"] = s.macs;
    j["activation_bytes"] = s.activation_bytes;
    for (const auto& l : s.layers)
      j["layers"].push_back({{"name", l.name},
                             {"type", l.type},
                             {"output", l.output},
                             {"params", l.params},
                             {"params_trainable", l.params_trainable},
                             {"macs", l.macs},
                             {"activation_bytes", l.activation_bytes}});
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("{} on {}\n\n", s.model, dims_to_string(s.input));
  fmt::print("{:<28} {:<16} {:<14} {:>12} {:>15} {:>12}\n", "layer", "type", "output", "params",
             "MACs", "act. bytes");
  for (const auto& l : s.layers)
    fmt::print("{:<28} {:<16} {:<14} {:>12} {:>15} {:>12}\n", l.name, l.type,
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
  cmd->add_option("model", o->model, "model name (see `xcept models`)")->required();
  cmd->add_option("--input-size", o->model_options.input_size, "input height and width");
  cmd->add_option("--input-channels", o->model_options.input_channels, "input channels");
  cmd->add_option("--classes", o->model_options.classes, "number of classes");
  cmd->add_option("--alpha", o->model_options.alpha, "width multiplier")->capture_default_str();
  cmd->add_option("--mid-activation", o->mid_activation,
                  "activation between depthwise and pointwise: none|relu|elu")
      ->capture_default_str();
  cmd->add_option("--middle-repeats", o->model_options.middle_repeats,
                  "Xception middle-flow blocks");
  cmd->add_flag("--no-residual{false}", o->model_options.residual,
                "leave out residual connections (Xception Figure 9)");
  cmd->add_option("--module", o->model_options.inception_module,
                  "mini-inception module: v3|simplified|extreme");
  add_architecture_flags(cmd, o->model_options);
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] { print_summary(*o); });
}

}  // namespace xcept::cli

// `xcept models` and `xcept summary MODEL`: what exists, and what one model costs.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "api/json.h"
#include "cli/bench_options.h"  // parse_input_dims
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/measured_format.h"
#include "cli/zoo_options.h"
#include "models/models.h"
#include "xcept/summary.h"

namespace xcept::cli {

namespace {

struct SummaryOptions {
  std::string model;
  ZooOptions zoo;
  std::vector<std::string> input_dims;  // ONNX files: NCHW dims per input
  bool json = false, bench = false;
  MeasureOptions measure;
};

// Where the time goes, step by step, beside where the MACs are.
void print_measured(const std::vector<MeasuredCost>& steps, const Roofline& r,
                    const MeasureOptions& o) {
  double total_ms = 0;
  int64_t total_macs = 0;
  for (const MeasuredCost& c : steps) total_ms += c.ms, total_macs += c.macs;
  fmt::print("\n{}(steps as they run: batch norms folded, activations fused)\n\n",
             roofline_line(r, o));
  fmt::print("{:<34} {:<26} {:>7} {:>7} {}\n", "step", "op", "% MACs", "% time", measured_header());
  for (const MeasuredCost& c : steps)
    fmt::print("{:<34} {:<26} {:>6.1f}% {:>6.1f}% {}\n", c.name, c.op,
               total_macs ? 100.0 * double(c.macs) / double(total_macs) : 0.0,
               total_ms > 0 ? 100.0 * c.ms / total_ms : 0.0, measured_cells(c));
  fmt::print("\ntotal {:.3f} ms for {} MACs\n", total_ms, with_commas(total_macs));
}

void print_models() {
  fmt::print("{:<19} {:<11} {}\n", "model", "input", "description");
  for (const auto& m : models::model_list())
    fmt::print("{:<19} {:<11} {}\n", m.name, m.default_input, m.description);
}

void print_summary(SummaryOptions& o) {
  const std::vector<Dims> dims = parse_input_dims(o.input_dims);
  const ModelSummary s = summarize(o.model, o.zoo, dims);
  std::vector<MeasuredCost> steps;
  Roofline roofline;
  if (o.bench) {
    roofline = measure_roofline();
    steps = measure_model(o.model, o.measure, roofline, o.zoo, dims);
  }
  if (o.json) {
    const nlohmann::json j = o.bench ? to_json(s, steps, o.measure, roofline) : to_json(s);
    std::puts(j.dump(2).c_str());
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
  if (o.bench) print_measured(steps, roofline, o.measure);
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
  cmd->add_flag("--bench", o->bench,
                "also time every step here: % of time beside % of MACs, GFLOP/s, bytes moved, "
                "compute- or memory-bound and how close to the bound");
  add_measure_options(*cmd, o->measure);
  cmd->callback([o] { print_summary(*o); });
}

}  // namespace xcept::cli

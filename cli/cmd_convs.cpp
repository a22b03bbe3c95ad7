// `xcept convs`: params and MACs of every convolution type for one layer shape; with
// --bench also what each takes on this machine (time, GFLOP/s, bytes, roofline).
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "api/json.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/measured_format.h"
#include "core/error.h"
#include "xcept/measure.h"
#include "xcept/summary.h"

namespace xcept::cli {

namespace {

struct ConvsOptions {
  std::string in = "19x19x728";
  ConvQuery q;
  bool json = false, bench = false;
  MeasureOptions measure;
};

void print_measured(const std::vector<ConvTypeCost>& rows, const std::vector<MeasuredCost>& m,
                    const Roofline& r, const MeasureOptions& o) {
  fmt::print("\n{}\n", roofline_line(r, o));
  fmt::print("{:<24} {:>11} {:>11} {}  {}\n", "type", "MACs/normal", "time/normal", measured_header(),
             "ran as");
  for (size_t i = 0; i < rows.size(); ++i)
    fmt::print("{:<24} {:>11.4f} {:>11.4f} {}  {}\n", rows[i].type, rows[i].macs_ratio,
               m[0].ms > 0 ? m[i].ms / m[0].ms : 0.0, measured_cells(m[i]), m[i].op);
}

void run_convs(ConvsOptions& o) {
  ConvQuery& q = o.q;
  const Dims in = parse_dims(o.in, 3, "--in (HxWxC)");
  q.height = in[0], q.width = in[1], q.channels = in[2];
  if (q.padding != "same" && q.padding != "valid")
    fail("--padding must be 'same' or 'valid', got '{}'", q.padding);
  const std::vector<ConvTypeCost> rows = conv_family_costs(q);
  std::vector<MeasuredCost> measured;
  Roofline roofline;
  if (o.bench) {
    roofline = measure_roofline();
    measured = measure_conv_family(q, o.measure, roofline);
  }
  if (o.json) {
    const nlohmann::json j =
        o.bench ? to_json(q, rows, measured, o.measure, roofline) : to_json(q, rows);
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("input {}x{}x{}, {} outputs, kernel {}x{}, stride {}, padding {}{}\n\n", q.height,
             q.width, q.channels, q.filters, q.kernel, q.kernel, q.stride, q.padding,
             q.bias ? ", with bias" : "");
  fmt::print("{:<24} {:<14} {:>14} {:>16} {:>16} {:>12}\n", "type", "output", "params",
             "params formula", "MACs", "MACs/normal");
  for (const auto& r : rows)
    fmt::print("{:<24} {:<14} {:>14} {:>16} {:>16} {:>12.4f}\n", r.type, dims_to_string(r.output),
               with_commas(r.params), r.formula, with_commas(r.macs), r.macs_ratio);
  fmt::print("\nseparable / normal by the formula 1/M + 1/K^2 = {:.4f}\n",
             1.0 / double(q.filters) + 1.0 / double(q.kernel * q.kernel));
  if (o.bench) print_measured(rows, measured, roofline, o.measure);
}

}  // namespace

void add_measure_options(CLI::App& cmd, MeasureOptions& m) {
  cmd.add_option("--batch", m.batch, "with --bench: images per run")->capture_default_str();
  cmd.add_option("--repeats", m.repeats, "with --bench: timed runs (median)")->capture_default_str();
  cmd.add_option("--warmup", m.warmup, "with --bench: untimed runs first")->capture_default_str();
}

void add_convs_command(CLI::App& app) {
  auto opts = std::make_shared<ConvsOptions>();
  ConvQuery& q = opts->q;
  auto* cmd = app.add_subcommand(
      "convs", "params and MACs of normal, grouped, depthwise, pointwise and separable "
               "convolution for one layer; --bench: measured time and roofline");
  cmd->add_option("--in", opts->in, "input size HxWxC")->capture_default_str();
  cmd->add_option("--out", q.filters, "output channels M")->capture_default_str();
  cmd->add_option("--kernel,-k", q.kernel, "kernel size K")->capture_default_str();
  cmd->add_option("--groups,-g", q.groups,
                  "groups of the grouped row (default: 2 when it divides C and M)");
  cmd->add_option("--stride,-s", q.stride, "stride")->capture_default_str();
  cmd->add_option("--multiplier,-d", q.multiplier, "depthwise channel multiplier")
      ->capture_default_str();
  cmd->add_option("--padding", q.padding, "same|valid")->capture_default_str();
  cmd->add_flag("--bias", q.bias, "count a bias per output channel");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->add_flag("--bench", opts->bench,
                "time each type at this shape here: time ratio beside the MAC ratio, GFLOP/s, "
                "bytes moved, compute- or memory-bound and how close to the bound");
  add_measure_options(*cmd, opts->measure);
  cmd->callback([opts] { run_convs(*opts); });
}

}  // namespace xcept::cli

// `xcept quantize`: post-training int8 quantization of a checkpoint (calibration on
// training images; train/quantize_checkpoint.h). `xcept eval --precision int8` and
// `xcept bench Q.ckpt --precision int8` then run the int8 program it describes.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "train/quantize_checkpoint.h"

namespace xcept::cli {

namespace {

struct QuantizeCliOptions {
  QuantizeCheckpointOptions q;
  std::string method = "minmax";
  bool json = false;
};

void run_quantize(QuantizeCliOptions& o) {
  o.q.calibration.method = parse_calibration_method(o.method);  // before any loading
  const QuantizeCheckpointResult r = quantize_checkpoint(o.q);
  if (o.json) {
    nlohmann::json float_steps = nlohmann::json::array();
    for (const FloatStep& f : r.float_steps)
      float_steps.push_back({{"step", f.step}, {"reason", f.reason}});
    nlohmann::json j = {{"out", o.q.out},
                        {"method", o.method},
                        {"images", r.record.images},
                        {"values", r.record.ranges.size()},
                        {"int8_steps", r.int8_steps},
                        {"float_steps", float_steps}};
    std::puts(j.dump().c_str());
    return;
  }
  fmt::print("{}: {} ranges calibrated by {} on {} training images of {}\n", o.q.out,
             r.record.ranges.size(), o.method, r.record.images, o.q.data_dir);
  fmt::print("int8 program: {} steps on uint8 codes", r.int8_steps);
  if (r.float_steps.empty()) fmt::print(", every layer with weights in int8\n");
  else fmt::print("; in float32:\n");
  for (const FloatStep& f : r.float_steps) fmt::print("  {} ({})\n", f.step, f.reason);
  fmt::print("evaluate it: xcept eval --checkpoint {} --data {} --precision int8\n", o.q.out,
             o.q.data_dir);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeCliOptions>();
  auto* q = app.add_subcommand(
      "quantize",
      "post-training int8 quantization: calibrate activation ranges on training images and "
      "write them into a checkpoint (docs/quantization.md)");
  q->add_option("--checkpoint,-c", o->q.checkpoint, "trained checkpoint")->required();
  q->add_option("--data,-d", o->q.data_dir, "dataset folder; its training split calibrates")
      ->required();
  q->add_option("--out,-o", o->q.out, "quantized checkpoint to write")->required();
  q->add_option("--calibration", o->q.calibration_images, "calibration images")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  q->add_option("--method", o->method, "minmax|percentile|entropy")->capture_default_str();
  q->add_option("--percentile", o->q.calibration.percentile,
                "with --method percentile: clip |x| at this percentile")
      ->capture_default_str();
  q->add_option("--keep-f32", o->q.keep_f32,
                "keep steps in float32: a step-name glob, or @depthwise, @first, @last "
                "(repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  q->add_option("--seed", o->q.seed, "which training images calibrate (a seeded sample)")
      ->capture_default_str();
  q->add_flag("--json", o->json, "print JSON");
  q->callback([o] { run_quantize(*o); });
}

}  // namespace xcept::cli

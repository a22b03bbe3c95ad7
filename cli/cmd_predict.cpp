// `xcept predict --checkpoint CKPT | --onnx M.onnx [--top K] [--json] IMAGE...`: what a
// trained model sees in JPEG/PNG images. Images are decoded to [0, 1], converted to the
// model's channels and resized to its input (or, with --no-resize, checked against it),
// then normalized as training did (the checkpoint's record, or an exported file's
// metadata); all of them run as one batch. Class names are the dataset's, as the
// checkpoint stores them; checkpoints older than that print class indices.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "xcept/image.h"
#include "xcept/model.h"

namespace xcept::cli {

namespace {

struct PredictOptions {
  std::string checkpoint, onnx, labels;
  std::vector<std::string> images;
  std::vector<float> mean, std;
  int64_t top = 5;
  bool json = false, no_resize = false;
};

std::vector<std::string> read_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the labels file", path);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) names.push_back(line);
  return names;
}

void run_predict(const PredictOptions& o) {
  if (o.checkpoint.empty() == o.onnx.empty())
    throw CLI::ValidationError("predict", "give exactly one of --checkpoint and --onnx");
  if (o.mean.size() != o.std.size())
    throw CLI::ValidationError("--mean/--std", "give as many means as standard deviations");
  LoadOptions lo;
  lo.normalization = {o.mean, o.std};
  Model m = o.checkpoint.empty() ? Model::from_onnx(o.onnx, {}, lo) : Model::from_checkpoint(o.checkpoint, lo);
  std::vector<std::string> names = o.labels.empty() ? m.class_names() : read_labels(o.labels);

  const int64_t n = int64_t(o.images.size()), per_image = m.input_numel();
  std::vector<float> x;
  x.reserve(size_t(n * per_image));
  for (const std::string& path : o.images) {
    const std::vector<float> one = image_input(m, path, !o.no_resize);
    x.insert(x.end(), one.begin(), one.end());
  }
  std::vector<float> y(size_t(n * m.output_numel()));
  m.run(x, y);

  const int64_t classes = m.output_numel();
  if (!names.empty() && int64_t(names.size()) != classes)
    fail("{} class names for {} model outputs", names.size(), classes);
  if (names.empty() && !o.json)
    fmt::print(stderr, "note: {} has no class names{}; showing class indices\n", m.name(),
               o.checkpoint.empty() ? " (give --labels FILE, one name per line)"
                                    : " (checkpoints written before xcept stored them)");
  auto name_of = [&](int64_t k) { return names.empty() ? fmt::format("class {}", k) : names[size_t(k)]; };
  nlohmann::json all = nlohmann::json::array();
  for (int64_t i = 0; i < n; ++i) {
    const auto top = top_k(std::span<const float>(y.data() + i * classes, size_t(classes)), o.top);
    if (o.json) {
      nlohmann::json j = {{"image", o.images[size_t(i)]},
                          {"class_index", top[0].index},
                          {"class_name", names.empty() ? nlohmann::json() : nlohmann::json(names[size_t(top[0].index)])},
                          {"probability", top[0].probability},
                          {"top", nlohmann::json::array()}};
      for (const ClassScore& s : top)
        j["top"].push_back({{"class_index", s.index},
                            {"class_name", names.empty() ? nlohmann::json() : nlohmann::json(names[size_t(s.index)])},
                            {"probability", s.probability}});
      all.push_back(std::move(j));
      continue;
    }
    fmt::print("{}\n", o.images[size_t(i)]);
    for (const ClassScore& s : top)
      fmt::print("  {:6.2f}%  {:>3}  {}\n", 100 * s.probability, s.index, name_of(s.index));
  }
  if (o.json) std::puts(all.dump(2).c_str());
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  auto* cmd = app.add_subcommand("predict", "classify JPEG/PNG images with a checkpoint or ONNX model");
  cmd->add_option("--checkpoint,-c", o->checkpoint, "checkpoint file");
  cmd->add_option("--onnx", o->onnx, "ONNX model file (NCHW input)");
  cmd->add_option("--top,-k", o->top, "classes to show per image")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json,
                "print a list with one object per image: class_index, class_name, probability, top");
  cmd->add_flag("--no-resize", o->no_resize, "refuse images whose size differs from the model's input");
  cmd->add_option("--labels", o->labels, "class names, one per line (instead of the model's)");
  cmd->add_option("--mean", o->mean, "per-channel mean to subtract (instead of the model's normalization)")
      ->delimiter(',');
  cmd->add_option("--std", o->std, "per-channel standard deviation to divide by")->delimiter(',');
  cmd->add_option("images", o->images, "JPEG or PNG files")->required();
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace xcept::cli

#include "train/checkpoint_model.h"

#include <algorithm>

#include "core/error.h"
#include "models/models.h"
#include "train/model_config.h"

namespace xcept {

nlohmann::json normalization_to_json(const Normalization& n) {
  if (n.empty()) return nullptr;
  return {{"mean", n.mean}, {"std", n.std}};
}

Normalization normalization_from_json(const nlohmann::json& j, std::string_view source) {
  Normalization n;
  if (j.is_null()) return n;
  try {
    n.mean = j.at("mean").get<std::vector<float>>();
    n.std = j.at("std").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: input normalization: {}", source, e.what());
  }
  if (n.mean.size() != n.std.size() || n.mean.empty())
    fail("{}: input normalization has {} means and {} standard deviations", source,
         n.mean.size(), n.std.size());
  for (float s : n.std)
    if (!(s > 0)) fail("{}: input normalization has a standard deviation of {}", source, s);
  return n;
}

Normalization checkpoint_normalization(const CheckpointMeta& meta, std::string_view source) {
  return normalization_from_json(meta.extra.value("normalize", nlohmann::json()), source);
}

std::vector<std::string> checkpoint_class_names(const CheckpointMeta& meta,
                                                std::string_view source) {
  const auto it = meta.extra.find("class_names");
  if (it == meta.extra.end() || it->is_null()) return {};
  try {
    return it->get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: class names: {}", source, e.what());
  }
}

CheckpointModel load_checkpoint_model(const std::string& path) {
  Checkpoint ck = read_checkpoint(path);
  CheckpointModel m;
  m.graph = models::build_model(ck.meta.model, model_options_from_json(ck.meta.model_config));
  load_params(ck.params, m.graph.params(), path);
  m.normalization = checkpoint_normalization(ck.meta, path);
  m.class_names = checkpoint_class_names(ck.meta, path);
  const int64_t channels = m.graph.node_dims(0).back();
  if (!m.normalization.empty() && int64_t(m.normalization.mean.size()) != channels)
    fail("{}: the input normalization has {} channels, the model takes {}", path,
         m.normalization.mean.size(), channels);
  m.meta = std::move(ck.meta);
  return m;
}

void check_images_fit(const Dataset& data, const Graph& graph, std::string_view data_dir,
                      std::string_view checkpoint) {
  const Dims& in = graph.node_dims(0);
  const Dims& got = data.images.dims();
  if (got.size() != 4 || in.size() != 3 || !std::equal(in.begin(), in.end(), got.begin() + 1))
    fail("{}: images are {}, the model in {} takes {}", data_dir, dims_to_string(got), checkpoint,
         dims_to_string(in));
}

}  // namespace xcept

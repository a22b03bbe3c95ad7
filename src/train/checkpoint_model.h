// A trained model as its checkpoint holds it: the network rebuilt from the checkpoint's
// record with the saved weights, the input normalization training applied, and the
// class names of the dataset it learned. The one reader of these fields, for the trainer
// (resume, evaluation), the runtime evaluation, ONNX export, the Model facade and
// `xcept predict`.
//
// Where they live in CheckpointMeta::extra: "normalize" ({"mean": [...], "std": [...]}
// or null) and "class_names" (a list; checkpoints written before it was stored have none).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/graph.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "xcept/types.h"

namespace xcept {

// {"mean": [...], "std": [...]}, or null when empty.
nlohmann::json normalization_to_json(const Normalization& n);
// Inverse; null or absent gives an empty normalization. Throws xcept::Error naming
// `source` when the fields are not two equally long lists of numbers, a std is <= 0.
Normalization normalization_from_json(const nlohmann::json& j, std::string_view source);

// The fields of a checkpoint's metadata; `source` (the file) names it in errors.
Normalization checkpoint_normalization(const CheckpointMeta& meta, std::string_view source);
std::vector<std::string> checkpoint_class_names(const CheckpointMeta& meta,
                                                std::string_view source);

struct CheckpointModel {
  CheckpointMeta meta;
  Graph graph{""};
  Normalization normalization;
  std::vector<std::string> class_names;  // empty: the checkpoint predates them
};

// Reads `path`, rebuilds its model and loads the weights. Throws xcept::Error naming the
// file for anything that does not fit.
CheckpointModel load_checkpoint_model(const std::string& path);

// Throws xcept::Error naming both unless `data`'s images have the input size of the
// model loaded from `checkpoint`.
void check_images_fit(const Dataset& data, const Graph& graph, std::string_view data_dir,
                      std::string_view checkpoint);

}  // namespace xcept

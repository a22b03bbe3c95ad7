// An experiment: a set of model variants trained the same way, each over several seeds.
// Specs are JSON files; the six built-in ones (experiments/*.json in the repository) are
// compiled into the library, so the program finds them from any working directory.
//
//   {
//     "name": "width",                        // also the default output folder's name
//     "title": "...", "claim": "...",         // what the report says is being tested
//     "model": "mini-mobilenet",              // default model of the variants
//     "repeats": 3,                           // seeds per variant: seed, seed+1, ...
//     "train": {"epochs": 4, "batch_size": 128, "optimizer": "adam", "lr": 0.002,
//               "schedule": "cosine", "limit_train": 20000, "seed": 1},
//     "reference": "alpha-1.0",               // differences are taken against it (default:
//                                             // the first variant)
//     "variants": [
//       {"name": "alpha-1.0", "options": {"alpha": 1.0}},
//       {"name": "alpha-0.5", "model": "mini-mobilenet", "options": {"alpha": 0.5}}]
//   }
//
// Variant options use the names and values of a checkpoint's model record
// (train/model_config): alpha, mid_activation (none|relu|relu6|elu), order
// (depthwise_pointwise|pointwise_depthwise), residual, middle_repeats, dropout,
// inception_module, separable, groups, channel_shuffle. classes, input size and channels
// come from the data, and the weight seed from the repeat.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/models.h"

namespace xcept::experiments {

// How every run of an experiment trains (a subset of TrainConfig; the rest keeps the
// trainer's defaults).
struct TrainSettings {
  int64_t epochs = 3;
  int64_t batch_size = 128;
  std::string optimizer = "adam";
  double lr = 1e-3;
  std::string schedule = "cosine";  // constant|step|cosine
  double weight_decay = -1;  // < 0: the optimizer's default
  float label_smoothing = 0.f;
  int64_t limit_train = 0;  // first N training images (0: all)
  int64_t limit_test = 0;   // first N test images (0: all)
  uint64_t seed = 1;        // repeat r trains with seed + r
};

struct Variant {
  std::string name;  // [A-Za-z0-9._-]+: it names the variant's folder
  std::string model;
  models::ModelOptions options;
  nlohmann::json options_json = nlohmann::json::object();  // as written in the spec
};

struct ExperimentSpec {
  std::string name, title, claim;
  TrainSettings train;
  int repeats = 3;
  std::vector<Variant> variants;
  size_t reference = 0;  // index into variants
};

// Throws xcept::Error naming `source` (the file) and the field: unknown keys, wrong
// types, unknown models or option values, duplicate variant names, options a model
// rejects (every variant is built once to check).
ExperimentSpec parse_spec(const nlohmann::json& j, const std::string& source);
ExperimentSpec load_spec_file(const std::string& path);

// A JSON file (a spec, a run's record); throws xcept::Error naming the file and `what`.
nlohmann::json read_json_file(const std::string& path, const char* what);

// The built-in experiments, in the order the report lists them.
std::vector<std::string> builtin_spec_names();
// Throws xcept::Error listing the known names when `name` is not one of them.
ExperimentSpec builtin_spec(const std::string& name);

}  // namespace xcept::experiments

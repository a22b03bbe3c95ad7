#include "experiments/spec.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "experiments/builtin_specs.h"
#include "train/model_config.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace xcept::experiments {

namespace {

using json = nlohmann::json;

// Every key of `j` must be in `known`; names the first that is not.
void expect_keys(const json& j, std::initializer_list<const char*> known, const std::string& where) {
  if (!j.is_object()) fail("{}: must be an object, got {}", where, j.type_name());
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (const char* k : known) ok |= key == k;
    if (ok) continue;
    std::string list;
    for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    fail("{}: unknown key '{}' (known: {})", where, key, list);
  }
}

template <typename T>
void read(const json& j, const char* key, T& out, const std::string& where) {
  if (!j.contains(key)) return;
  try {
    out = j.at(key).get<T>();
  } catch (const json::exception&) {
    fail("{}.{}: expected {}, got {}", where, key,
         std::is_same_v<T, std::string> ? "a string"
         : std::is_same_v<T, bool>      ? "true or false"
                                        : "a number",
         j.at(key).dump());
  }
}

TrainSettings parse_train(const json& j, const std::string& where) {
  expect_keys(j,
              {"epochs", "batch_size", "optimizer", "lr", "schedule", "weight_decay",
               "label_smoothing", "limit_train", "limit_test", "seed"},
              where);
  TrainSettings t;
  read(j, "epochs", t.epochs, where);
  read(j, "batch_size", t.batch_size, where);
  read(j, "optimizer", t.optimizer, where);
  read(j, "lr", t.lr, where);
  read(j, "schedule", t.schedule, where);
  read(j, "weight_decay", t.weight_decay, where);
  read(j, "label_smoothing", t.label_smoothing, where);
  read(j, "limit_train", t.limit_train, where);
  read(j, "limit_test", t.limit_test, where);
  read(j, "seed", t.seed, where);
  if (t.epochs <= 0) fail("{}.epochs: must be positive, got {}", where, t.epochs);
  if (t.batch_size <= 0) fail("{}.batch_size: must be positive, got {}", where, t.batch_size);
  if (t.lr <= 0) fail("{}.lr: must be positive, got {}", where, t.lr);
  if (t.limit_train < 0 || t.limit_test < 0) fail("{}: limits must be >= 0", where);
  try {
    make_optimizer(t.optimizer);
    parse_schedule_kind(t.schedule);
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  return t;
}

// The spec's options laid over the defaults' record and read back through the same
// parser as a checkpoint's, so a spec and a checkpoint name options the same way.
models::ModelOptions parse_options(const json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: must be an object, got {}", where, j.type_name());
  json record = model_options_to_json(models::ModelOptions{});
  for (const auto& [key, value] : j.items()) {
    if (key == "classes" || key == "input_size" || key == "input_channels")
      fail("{}.{}: set by the data, not by the spec", where, key);
    if (key == "seed") fail("{}.seed: weight seeds come from the repeats (train.seed)", where);
    if (!record.contains(key)) {
      std::string list;
      for (const auto& [k, v] : record.items())
        if (k != "classes" && k != "input_size" && k != "input_channels" && k != "seed")
          list += (list.empty() ? "" : ", ") + k;
      fail("{}: unknown option '{}' (known: {})", where, key, list);
    }
    record[key] = value;
  }
  try {
    return model_options_from_json(record);
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
}

bool valid_name(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

ExperimentSpec parse_spec(const json& j, const std::string& source) {
  expect_keys(j, {"name", "title", "claim", "model", "repeats", "train", "reference", "variants"},
              source);
  ExperimentSpec s;
  std::string model, reference;
  read(j, "name", s.name, source);
  read(j, "title", s.title, source);
  read(j, "claim", s.claim, source);
  read(j, "model", model, source);
  read(j, "repeats", s.repeats, source);
  read(j, "reference", reference, source);
  if (!valid_name(s.name))
    fail("{}.name: '{}' must be a non-empty name of letters, digits, '-', '_' and '.'", source,
         s.name);
  if (s.repeats <= 0) fail("{}.repeats: must be positive, got {}", source, s.repeats);
  if (j.contains("train")) s.train = parse_train(j.at("train"), source + ".train");
  if (!j.contains("variants") || !j.at("variants").is_array() || j.at("variants").empty())
    fail("{}.variants: must be a non-empty array", source);

  std::set<std::string> names;
  const json& vs = j.at("variants");
  for (size_t i = 0; i < vs.size(); ++i) {
    const std::string where = fmt::format("{}.variants[{}]", source, i);
    expect_keys(vs[i], {"name", "model", "options"}, where);
    Variant v;
    v.model = model;
    read(vs[i], "name", v.name, where);
    read(vs[i], "model", v.model, where);
    if (!valid_name(v.name))
      fail("{}.name: '{}' must be a non-empty name of letters, digits, '-', '_' and '.'", where,
           v.name);
    if (!names.insert(v.name).second) fail("{}.name: '{}' appears twice", where, v.name);
    if (v.model.empty()) fail("{}: no model (set \"model\" here or at the top)", where);
    if (vs[i].contains("options")) v.options_json = vs[i].at("options");
    v.options = parse_options(v.options_json, where + ".options");
    try {
      models::build_model(v.model, v.options);  // unknown model, options it rejects
    } catch (const Error& e) {
      fail("{}: {}", where, e.what());
    }
    s.variants.push_back(std::move(v));
  }
  if (!reference.empty()) {
    s.reference = s.variants.size();
    for (size_t i = 0; i < s.variants.size(); ++i)
      if (s.variants[i].name == reference) s.reference = i;
    if (s.reference == s.variants.size())
      fail("{}.reference: no variant is named '{}'", source, reference);
  }
  return s;
}

json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the {}", path, what);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (!in || j.is_discarded()) fail("{}: the {} is not valid JSON", path, what);
  return j;
}

ExperimentSpec load_spec_file(const std::string& path) {
  return parse_spec(read_json_file(path, "experiment spec"), path);
}

std::vector<std::string> builtin_spec_names() {
  std::vector<std::string> names;
  for (const BuiltinSpecText& t : builtin_spec_texts())
    names.push_back(json::parse(t.text).at("name").get<std::string>());
  return names;
}

ExperimentSpec builtin_spec(const std::string& name) {
  std::string known;
  for (const BuiltinSpecText& t : builtin_spec_texts()) {
    const json j = json::parse(t.text);
    if (j.value("name", "") == name) return parse_spec(j, t.path);
    known += (known.empty() ? "" : ", ") + j.value("name", "");
  }
  fail("unknown experiment '{}' (built in: {}; or --spec FILE)", name, known);
}

}  // namespace xcept::experiments

#include "api/json.h"

namespace xcept {

nlohmann::json to_json(const ModelSummary& s) {
  nlohmann::json j;
  j["model"] = s.model;
  j["input"] = s.input;
  j["params_total"] = s.params_total;
  j["params_trainable"] = s.params_trainable;
  j["params_non_trainable"] = s.params_total - s.params_trainable;
  j["macs"] = s.macs;
  j["activation_bytes"] = s.activation_bytes;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : s.layers)
    j["layers"].push_back({{"name", l.name},
                           {"type", l.type},
                           {"output", l.output},
                           {"params", l.params},
                           {"params_trainable", l.params_trainable},
                           {"macs", l.macs},
                           {"activation_bytes", l.activation_bytes}});
  return j;
}

nlohmann::json to_json(const ConvQuery& q, const std::vector<ConvTypeCost>& rows) {
  nlohmann::json j;
  j["input"] = {q.height, q.width, q.channels};
  j["out_channels"] = q.filters;
  j["kernel"] = q.kernel;
  j["stride"] = q.stride;
  j["types"] = nlohmann::json::array();
  for (const auto& r : rows)
    j["types"].push_back({{"type", r.type},
                          {"formula", r.formula},
                          {"output", r.output},
                          {"params", r.params},
                          {"macs", r.macs},
                          {"macs_ratio_to_normal", r.macs_ratio}});
  return j;
}

}  // namespace xcept

// The JSON the tools print (`xcept summary --json`, `xcept convs --json`) and the Python
// module returns as dicts: one writer for both.
#pragma once

#include <nlohmann/json.hpp>

#include "xcept/summary.h"

namespace xcept {

nlohmann::json to_json(const ModelSummary& s);
nlohmann::json to_json(const ConvQuery& q, const std::vector<ConvTypeCost>& rows);

}  // namespace xcept

// The JSON the tools print (`xcept summary --json`, `xcept convs --json`) and the Python
// module returns as dicts: one writer for both.
#pragma once

#include <nlohmann/json.hpp>

#include "xcept/measure.h"
#include "xcept/summary.h"
#include "xcept/train.h"

namespace xcept {

nlohmann::json to_json(const ModelSummary& s);
nlohmann::json to_json(const ConvQuery& q, const std::vector<ConvTypeCost>& rows);
nlohmann::json to_json(const Roofline& r);
// The keys of metrics.jsonl's lines.
nlohmann::json to_json(const EpochMetrics& e);
nlohmann::json to_json(const TrainRun& r);
nlohmann::json to_json(const MeasuredCost& c);

// With measurements: "bench" (the roofline, the options, every step) beside the summary,
// and each convolution type's "measured" costs beside its formula's, with its time ratio
// to the normal convolution.
nlohmann::json to_json(const ModelSummary& s, const std::vector<MeasuredCost>& steps,
                       const MeasureOptions& o, const Roofline& r);
nlohmann::json to_json(const ConvQuery& q, const std::vector<ConvTypeCost>& rows,
                       const std::vector<MeasuredCost>& measured, const MeasureOptions& o,
                       const Roofline& r);

}  // namespace xcept

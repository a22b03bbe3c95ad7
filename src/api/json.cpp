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

nlohmann::json to_json(const EpochMetrics& e) {
  return {{"epoch", e.epoch},
          {"train_loss", e.train_loss},
          {"train_accuracy", e.train_accuracy},
          {"test_loss", e.test_loss},
          {"test_accuracy", e.test_accuracy},
          {"lr", e.lr},
          {"seconds", e.seconds},
          {"images_per_s", e.images_per_s},
          {"best", e.best}};
}

nlohmann::json to_json(const TrainRun& r) {
  nlohmann::json j = {{"epochs", nlohmann::json::array()},
                      {"best_accuracy", r.best_accuracy},
                      {"start_epoch", r.start_epoch},
                      {"best_checkpoint", r.best_checkpoint},
                      {"last_checkpoint", r.last_checkpoint},
                      {"metrics", r.metrics_log}};
  for (const EpochMetrics& e : r.epochs) j["epochs"].push_back(to_json(e));
  return j;
}

nlohmann::json to_json(const Roofline& r) {
  nlohmann::json j = {{"threads", r.threads}, {"peak_gflops", r.peak_gflops}};
  j["memory"] = nlohmann::json::array();
  for (const MemoryLevel& l : r.memory)
    j["memory"].push_back({{"level", l.name},
                           {"capacity_bytes", l.capacity_bytes},
                           {"bandwidth_gbs", l.bandwidth_gbs},
                           {"ridge_flops_per_byte", r.ridge(l)}});
  return j;
}

nlohmann::json to_json(const MeasuredCost& c) {
  return {{"name", c.name},
          {"op", c.op},
          {"output", c.output},
          {"macs", c.macs},
          {"ms", c.ms},
          {"gflops", c.gflops},
          {"bytes", c.bytes},
          {"flops_per_byte", c.flops_per_byte},
          {"memory_level", c.memory_level},
          {"bound", c.memory_bound ? "memory" : "compute"},
          {"fraction_of_bound", c.fraction_of_bound}};
}

namespace {

nlohmann::json bench_header(const MeasureOptions& o, const Roofline& r) {
  nlohmann::json j = to_json(r);
  j["batch"] = o.batch;
  j["repeats"] = o.repeats;
  return j;
}

}  // namespace

nlohmann::json to_json(const ModelSummary& s, const std::vector<MeasuredCost>& steps,
                       const MeasureOptions& o, const Roofline& r) {
  nlohmann::json j = to_json(s);
  nlohmann::json b = bench_header(o, r);
  double total = 0;
  b["steps"] = nlohmann::json::array();
  for (const MeasuredCost& c : steps) {
    b["steps"].push_back(to_json(c));
    total += c.ms;
  }
  b["total_ms"] = total;
  j["bench"] = std::move(b);
  return j;
}

nlohmann::json to_json(const ConvQuery& q, const std::vector<ConvTypeCost>& rows,
                       const std::vector<MeasuredCost>& measured, const MeasureOptions& o,
                       const Roofline& r) {
  nlohmann::json j = to_json(q, rows);
  j["bench"] = bench_header(o, r);
  for (size_t i = 0; i < rows.size() && i < measured.size(); ++i) {
    nlohmann::json m = to_json(measured[i]);
    m["time_ratio_to_normal"] = measured[0].ms > 0 ? measured[i].ms / measured[0].ms : 0.0;
    j["types"][i]["measured"] = std::move(m);
  }
  return j;
}

}  // namespace xcept

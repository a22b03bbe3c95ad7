#include "train/quantize_checkpoint.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/data_dir.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "train/batcher.h"
#include "train/checkpoint_model.h"

namespace xcept {

namespace {

constexpr int kRecordVersion = 1;

// Calibration batches: the largest divisor of the image count up to this, so that every
// batch is full (a padded batch would add its zeros to the ranges).
constexpr int64_t kMaxCalibrationBatch = 32;

template <typename T>
T field(const nlohmann::json& j, const char* key, std::string_view source) {
  if (!j.contains(key)) fail("{}: quantization record has no '{}'", source, key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: quantization record field '{}' has the wrong type ({})", source, key,
         j.at(key).dump());
  }
}

}  // namespace

nlohmann::json quantization_to_json(const QuantizationRecord& r) {
  nlohmann::json ranges = nlohmann::json::object();
  for (const auto& [name, range] : r.ranges) ranges[name] = {range.lo, range.hi};
  return {{"version", kRecordVersion},
          {"method", calibration_method_name(r.calibration.method)},
          {"percentile", r.calibration.percentile},
          {"bins", r.calibration.bins},
          {"images", r.images},
          {"data", r.data},
          {"keep_f32", r.quantize.keep_f32},
          {"ranges", ranges}};
}

QuantizationRecord quantization_from_json(const nlohmann::json& j, std::string_view source) {
  if (!j.is_object()) fail("{}: quantization record is not an object", source);
  const int version = field<int>(j, "version", source);
  if (version != kRecordVersion)
    fail("{}: quantization record version {} (this build reads {})", source, version,
         kRecordVersion);
  QuantizationRecord r;
  r.calibration.method = parse_calibration_method(field<std::string>(j, "method", source));
  r.calibration.percentile = field<double>(j, "percentile", source);
  r.calibration.bins = field<int>(j, "bins", source);
  r.images = field<int64_t>(j, "images", source);
  r.data = field<std::string>(j, "data", source);
  r.quantize.keep_f32 = field<std::vector<std::string>>(j, "keep_f32", source);
  validate_quantize_options(r.quantize);
  const nlohmann::json& ranges = j.contains("ranges") ? j.at("ranges") : nlohmann::json();
  if (!ranges.is_object()) fail("{}: quantization record has no 'ranges' object", source);
  for (const auto& [name, v] : ranges.items()) {
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
      fail("{}: quantization range of '{}' is not [lo, hi]: {}", source, name, v.dump());
    const ActivationRange range{v[0].get<float>(), v[1].get<float>()};
    if (!std::isfinite(range.lo) || !std::isfinite(range.hi) || range.lo > range.hi)
      fail("{}: quantization range of '{}' is not a finite interval: {}", source, name, v.dump());
    r.ranges[name] = range;
  }
  return r;
}

std::optional<QuantizationRecord> checkpoint_quantization(const CheckpointMeta& meta,
                                                          std::string_view source) {
  if (!meta.extra.contains("quantization")) return std::nullopt;
  return quantization_from_json(meta.extra.at("quantization"), source);
}

Program quantization_program(Graph& graph, int64_t batch) {
  Program p = lower_graph(graph, batch);
  optimize(p, quantization_optimize_options());
  return p;
}

QuantizedProgram quantize_graph(Graph& graph, int64_t batch, const QuantizationRecord& record) {
  return quantize_program(quantization_program(graph, batch), record.ranges, record.quantize);
}

QuantizationRecord calibrate_graph(Graph& graph, const CalibrationSet& set,
                                   const CalibrationOptions& options) {
  if (!set.images || set.images->size() == 0) fail("calibration needs images; the set is empty");
  if (set.count <= 0) fail("calibration needs a positive number of images, got {}", set.count);
  const int64_t n = std::min(set.count, set.images->size());
  int64_t batch = std::min(n, kMaxCalibrationBatch);
  while (n % batch != 0) --batch;

  BatchLoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = true;
  lo.seed = set.seed;
  lo.prefetch = 0;
  if (!set.normalization.empty())
    lo.augment = AugmentConfig{0, false, set.normalization.mean, set.normalization.std};
  BatchLoader loader(*set.images, lo);
  Executor f32(quantization_program(graph, batch));
  const CalibrationBatches batches = [&](const std::function<void(const Tensor&)>& use) {
    loader.start_epoch(0);  // the same images, in the same order, on every pass
    for (int64_t seen = 0; seen < n; seen += batch) use(loader.next().value().images);
  };
  QuantizationRecord r;
  r.calibration = options;
  r.images = n;
  r.ranges = calibrate(f32, batches, options);
  return r;
}

QuantizeCheckpointResult quantize_checkpoint(const QuantizeCheckpointOptions& o) {
  if (o.out.empty()) fail("quantize: no output file given");
  QuantizeOptions qo;
  qo.keep_f32 = o.keep_f32;
  validate_quantize_options(qo);  // before any loading
  CheckpointModel m = load_checkpoint_model(o.checkpoint);
  const Dataset train = load_dataset(o.data_dir, "train");
  check_images_fit(train, m.graph, o.data_dir, o.checkpoint);

  CalibrationSet set;
  set.images = &train;
  set.normalization = m.normalization;
  set.count = o.calibration_images;
  set.seed = o.seed;
  QuantizeCheckpointResult result;
  result.record = calibrate_graph(m.graph, set, o.calibration);
  result.record.data = o.data_dir;
  result.record.quantize = qo;
  QuantizedProgram q = quantize_graph(m.graph, 1, result.record);
  result.int8_steps = q.int8_steps;
  result.float_steps = std::move(q.float_steps);

  m.meta.extra["quantization"] = quantization_to_json(result.record);
  write_checkpoint(o.out, m.meta, m.graph.params(), {});
  return result;
}

}  // namespace xcept

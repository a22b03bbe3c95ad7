#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/data_dir.h"
#include "train/batcher.h"
#include "train/loss.h"
#include "train/model_config.h"
#include "train/train_step.h"

namespace xcept {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLastCheckpoint = "last.ckpt";
constexpr const char* kBestCheckpoint = "best.ckpt";
constexpr const char* kMetricsLog = "metrics.jsonl";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Dataset first_n(Dataset d, int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  Dims dims = d.images.dims();
  dims[0] = n;
  Tensor head(dims);
  std::memcpy(head.data(), d.images.data(), size_t(head.numel()) * sizeof(float));
  d.images = std::move(head);
  d.labels.resize(size_t(n));
  return d;
}

struct Normalization {
  std::vector<float> mean, std;
  nlohmann::json to_json() const { return {{"mean", mean}, {"std", std}}; }
  static Normalization from_json(const nlohmann::json& j) {
    Normalization n;
    if (j.is_object()) {
      n.mean = j.at("mean").get<std::vector<float>>();
      n.std = j.at("std").get<std::vector<float>>();
    }
    return n;
  }
};

// Model options completed from the data: classes, input size and channels.
models::ModelOptions options_for(const Dataset& data, models::ModelOptions o,
                                 const std::string& dir) {
  if (data.images.dim(1) != data.images.dim(2))
    fail("{}: images are {}x{}; the models take square images", dir, data.images.dim(1),
         data.images.dim(2));
  o.classes = data.num_classes;
  o.input_size = data.images.dim(1);
  o.input_channels = data.images.dim(3);
  return o;
}

EvalResult evaluate(Graph& g, const Dataset& data, int64_t batch_size, const Normalization& norm) {
  BatchLoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  if (!norm.mean.empty()) lo.augment = AugmentConfig{0, false, norm.mean, norm.std};
  BatchLoader loader(data, lo);
  loader.start_epoch(0);
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  while (auto b = loader.next()) {
    const Tensor& logits = g.forward(b->images, false);
    const int64_t n = int64_t(b->labels.size());
    loss_sum += softmax_cross_entropy(logits, b->labels, nullptr) * double(n);
    correct += count_top1_correct(logits, b->labels);
    r.images += n;
  }
  if (r.images > 0) {
    r.loss = loss_sum / double(r.images);
    r.accuracy = double(correct) / double(r.images);
  }
  return r;
}

// The metrics log keeps one JSON line per completed epoch. On resume, lines past the
// checkpoint's epoch (written after it by the run that died) are dropped.
void truncate_metrics(const fs::path& path, int64_t epochs_kept) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("epoch", int64_t(0)) <= epochs_kept) kept += line + "\n";
  }
  in.close();
  fs::path tmp = path;
  tmp += ".tmp";
  std::ofstream(tmp, std::ios::trunc) << kept;
  fs::rename(tmp, path);
}

void append_metrics(const fs::path& path, const EpochResult& e) {
  nlohmann::json j = {{"epoch", e.epoch},           {"train_loss", e.train_loss},
                      {"train_accuracy", e.train_accuracy}, {"test_loss", e.test_loss},
                      {"test_accuracy", e.test_accuracy},   {"lr", e.lr},
                      {"seconds", e.seconds},       {"images_per_s", e.images_per_s}};
  std::ofstream out(path, std::ios::app);
  out << j.dump() << "\n";
  if (!out) fail("cannot append to the metrics log {}", path.string());
}

}  // namespace

TrainResult train(const TrainConfig& config, const TrainCallbacks& cb) {
  if (config.epochs <= 0) fail("--epochs must be positive, got {}", config.epochs);
  if (config.batch_size <= 0) fail("--batch-size must be positive, got {}", config.batch_size);
  auto note = [&](const std::string& s) {
    if (cb.on_note) cb.on_note(s);
  };
  const fs::path out(config.out_dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail("cannot create the output folder {}: {}", out.string(), ec.message());

  Dataset train_data = first_n(load_dataset(config.data_dir, "train"), config.limit_train);
  Dataset test_data = first_n(load_dataset(config.data_dir, "test"), config.limit_test);
  if (train_data.size() == 0) fail("{}: the training set is empty", config.data_dir);
  if (test_data.images.dims().size() != 4 ||
      !std::equal(test_data.images.dims().begin() + 1, test_data.images.dims().end(),
                  train_data.images.dims().begin() + 1))
    fail("{}: test images are {}, training images {}", config.data_dir,
         dims_to_string(test_data.images.dims()), dims_to_string(train_data.images.dims()));
  note(fmt::format("data {}: {} training and {} test images of {}, {} classes", config.data_dir,
                   train_data.size(), test_data.size(),
                   dims_to_string({train_data.images.dim(1), train_data.images.dim(2),
                                   train_data.images.dim(3)}),
                   train_data.num_classes));

  // A resumed run rebuilds exactly what its checkpoint records, so read it first.
  const fs::path last = out / kLastCheckpoint;
  std::optional<Checkpoint> resumed;
  if (config.resume) {
    if (!fs::exists(last)) fail("--resume: there is no {} to resume from", last.string());
    resumed = read_checkpoint(last.string());
    if (resumed->meta.model != config.model)
      fail("--resume: {} holds a {} model, not {}", last.string(), resumed->meta.model,
           config.model);
  }
  const models::ModelOptions model_options =
      resumed ? model_options_from_json(resumed->meta.model_config)
              : options_for(train_data, config.model_options, config.data_dir);
  Graph graph = models::build_model(config.model, model_options);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(
      resumed ? resumed->meta.optimizer : config.optimizer, config.optimizer_options);
  LrSchedule schedule = config.schedule;
  if (schedule.kind == ScheduleKind::cosine && schedule.total_epochs <= 0)
    schedule.total_epochs = double(config.epochs);
  schedule.validate();

  Normalization norm;
  // Draws one seed per epoch for dropout; its state is saved with each checkpoint.
  std::mt19937_64 run_rng(config.seed ^ 0x5851f42d4c957f2dull);
  TrainResult result;
  result.train_images = train_data.size();
  result.test_images = test_data.size();
  double best = -1;

  if (resumed) {
    const Checkpoint& ck = *resumed;
    load_params(ck.params, graph.params(), last.string());
    optimizer->import_state(ck.optimizer_state, graph.params());
    graph.restore_step(ck.meta.step);  // batch norm's count of moving-average updates
    rng_state_from_text(ck.meta.rng_state, run_rng);
    norm = Normalization::from_json(ck.meta.extra.value("normalize", nlohmann::json()));
    result.start_epoch = ck.meta.epoch;
    best = ck.meta.best_metric.value_or(-1);
    truncate_metrics(out / kMetricsLog, ck.meta.epoch);
    note(fmt::format("resumed from {} after epoch {}", last.string(), ck.meta.epoch));
  } else {
    if (config.normalize) channel_mean_std(train_data.images, norm.mean, norm.std);
    fs::remove(out / kMetricsLog, ec);
  }

  BatchLoaderOptions lo;
  lo.batch_size = config.batch_size;
  lo.seed = config.seed;
  AugmentConfig aug{config.crop_padding, config.horizontal_flip, norm.mean, norm.std};
  if (aug.random() || !aug.mean.empty()) lo.augment = aug;
  BatchLoader loader(train_data, lo);
  const int64_t batches = loader.batches_per_epoch();

  CheckpointMeta meta;
  meta.model = config.model;
  meta.model_config = model_options_to_json(model_options);
  meta.optimizer = optimizer->name();
  meta.extra = {{"normalize", norm.mean.empty() ? nlohmann::json() : norm.to_json()},
                {"data_dir", config.data_dir},
                {"batch_size", config.batch_size},
                {"seed", config.seed},
                {"epochs", config.epochs},
                {"lr", schedule.base_lr},
                {"schedule", to_string(schedule.kind)}};

  Tensor dlogits;
  for (int64_t epoch = result.start_epoch; epoch < config.epochs; ++epoch) {
    graph.reseed(run_rng());
    loader.start_epoch(epoch);
    const auto t0 = Clock::now();
    double loss_sum = 0, lr = 0;
    int64_t correct = 0, seen = 0, b = 0;
    while (auto batch = loader.next()) {
      lr = schedule.at(epoch, b, batches);
      StepResult step;
      try {
        step = train_step(graph, *optimizer, batch->images, batch->labels, lr,
                          config.label_smoothing, dlogits);
      } catch (const Error& e) {
        fail("epoch {} batch {}: {}. Checkpoints already in {} are intact", epoch + 1, b + 1,
             e.what(), out.string());
      }
      const int64_t n = int64_t(batch->labels.size());
      correct += step.correct;
      loss_sum += step.loss * double(n);
      seen += n;
      ++b;
      if (cb.on_batch) {
        TrainProgress p;
        p.epoch = epoch, p.epochs = config.epochs, p.batch = b, p.batches = batches;
        p.loss = loss_sum / double(seen);
        p.accuracy = double(correct) / double(seen);
        p.lr = lr;
        p.elapsed_s = seconds_since(t0);
        p.images_per_s = double(seen) / std::max(p.elapsed_s, 1e-9);
        p.eta_s = p.elapsed_s / double(b) * double(batches - b);
        cb.on_batch(p);
      }
    }
    EpochResult e;
    e.epoch = epoch + 1;
    e.seconds = seconds_since(t0);
    e.train_loss = loss_sum / double(std::max<int64_t>(seen, 1));
    e.train_accuracy = double(correct) / double(std::max<int64_t>(seen, 1));
    e.images_per_s = double(seen) / std::max(e.seconds, 1e-9);
    e.lr = lr;
    EvalResult test = evaluate(graph, test_data, 256, norm);
    e.test_loss = test.loss;
    e.test_accuracy = test.accuracy;
    e.best = test.accuracy > best;
    if (e.best) best = test.accuracy;

    meta.epoch = epoch + 1;
    meta.step = optimizer->steps();
    meta.best_metric = best;
    meta.rng_state = rng_state_to_text(run_rng);
    const NamedTensors opt_state = optimizer->export_state();
    // best.ckpt and the metrics line first, last.ckpt last: if the run dies in between,
    // last.ckpt still points at the previous epoch, and the resumed run drops the line
    // (truncate_metrics) and redoes this epoch, rewriting all three. (Metrics after
    // last.ckpt would lose the epoch's line for good when the run died between them.)
    if (e.best) write_checkpoint((out / kBestCheckpoint).string(), meta, graph.params(), opt_state);
    append_metrics(out / kMetricsLog, e);
    write_checkpoint((out / kLastCheckpoint).string(), meta, graph.params(), opt_state);
    result.epochs.push_back(e);
    if (cb.on_epoch) cb.on_epoch(e);
  }
  result.best_accuracy = std::max(best, 0.0);
  return result;
}

EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& data_dir,
                               int64_t batch_size, int64_t limit) {
  Checkpoint ck = read_checkpoint(checkpoint);
  Graph graph = models::build_model(ck.meta.model, model_options_from_json(ck.meta.model_config));
  load_params(ck.params, graph.params(), checkpoint);
  Dataset test = first_n(load_dataset(data_dir, "test"), limit);
  const Dims& in = graph.node_dims(0);
  if (test.images.dim(1) != in[0] || test.images.dim(2) != in[1] || test.images.dim(3) != in[2])
    fail("{}: test images are {}x{}x{}, the model in {} takes {}", data_dir, test.images.dim(1),
         test.images.dim(2), test.images.dim(3), checkpoint, dims_to_string(in));
  Normalization norm = Normalization::from_json(ck.meta.extra.value("normalize", nlohmann::json()));
  return evaluate(graph, test, batch_size, norm);
}

}  // namespace xcept

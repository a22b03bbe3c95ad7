#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/data_dir.h"
#include "train/batcher.h"
#include "train/checkpoint_model.h"
#include "train/data_parallel.h"
#include "train/data_rng.h"
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

// `tick` runs after every batch (rank 0 of a distributed run keeps the others waiting).
EvalResult evaluate(Graph& g, const Dataset& data, int64_t batch_size, const Normalization& norm,
                    const std::function<void()>& tick = {}) {
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
    if (tick) tick();
  }
  if (r.images > 0) {
    r.loss = loss_sum / double(r.images);
    r.accuracy = double(correct) / double(r.images);
  }
  return r;
}

// The running metrics of an epoch, saved with a mid-epoch checkpoint so the resumed
// epoch reports what the unbroken one would have.
struct EpochSums {
  double loss_sum = 0;  // sum of per-image losses
  int64_t correct = 0, seen = 0;
  double seconds = 0;   // training time in this epoch so far

  void add(double losses, int64_t hits, int64_t n) {
    loss_sum += losses;
    correct += hits;
    seen += n;
  }
  double mean_loss() const { return loss_sum / double(std::max<int64_t>(seen, 1)); }
  double accuracy() const { return double(correct) / double(std::max<int64_t>(seen, 1)); }
  nlohmann::json to_json() const {
    return {{"loss_sum", loss_sum}, {"correct", correct}, {"seen", seen}, {"seconds", seconds}};
  }
  static EpochSums from_json(const nlohmann::json& j) {
    EpochSums s;
    if (!j.is_object()) return s;
    s.loss_sum = j.value("loss_sum", 0.0);
    s.correct = j.value("correct", int64_t(0));
    s.seen = j.value("seen", int64_t(0));
    s.seconds = j.value("seconds", 0.0);
    return s;
  }
};

// When a mid-epoch checkpoint is due: every `every` optimizer steps and/or `minutes`
// after the last write.
class StepCheckpointClock {
 public:
  StepCheckpointClock(int64_t every, double minutes) : every_(every), minutes_(minutes) {
    if (every < 0) fail("checkpoint_every must be >= 0, got {}", every);
    if (!(minutes >= 0)) fail("checkpoint_minutes must be >= 0, got {}", minutes);
  }
  bool due(int64_t steps) const {
    return (every_ > 0 && steps % every_ == 0) ||
           (minutes_ > 0 && seconds_since(last_) >= 60 * minutes_);
  }
  void written() { last_ = Clock::now(); }

 private:
  int64_t every_;
  double minutes_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace

TrainResult train(const TrainConfig& config, const TrainCallbacks& callbacks, MpiComm* comm) {
  if (config.epochs <= 0) fail("epochs must be positive, got {}", config.epochs);
  if (config.batch_size <= 0) fail("batch_size must be positive, got {}", config.batch_size);
  StepCheckpointClock step_clock(config.checkpoint_every, config.checkpoint_minutes);
  const int rank = comm ? comm->rank() : 0, ranks = comm ? comm->size() : 1;
  const bool lead = rank == 0;  // evaluates, writes and reports
  const TrainCallbacks cb = lead ? callbacks : TrainCallbacks{};
  if (!config.distill.teacher.empty())
    check_distill_settings(config.distill.temperature, config.distill.alpha);
  auto note = [&](const std::string& s) {
    if (cb.on_note) cb.on_note(s);
  };
  auto keepalive = [&] {
    if (comm) comm->keepalive();
  };
  const fs::path out(config.out_dir);
  std::error_code ec;
  if (lead) fs::create_directories(out, ec);
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
    if (lead) {
      if (!fs::exists(last)) fail("resume: there is no {} to resume from", last.string());
      resumed = read_checkpoint(last.string());
    }
    if (comm) {  // the other ranks get the metadata; the tensors follow once the model exists
      const std::string meta =
          broadcast_string(*comm, lead ? checkpoint_meta_to_json(resumed->meta).dump() : "",
                           "the checkpoint's metadata");
      if (!lead)
        resumed = Checkpoint{
            checkpoint_meta_from_json(nlohmann::json::parse(meta), last.string()), {}, {}};
    }
    if (resumed->meta.model != config.model)
      fail("resume: {} holds a {} model, not {}", last.string(), resumed->meta.model,
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
  // Draws one seed per epoch, from which every step's dropout seed is derived; its state
  // as of the epoch's start is saved with each checkpoint.
  std::mt19937_64 run_rng(config.seed ^ 0x5851f42d4c957f2dull);
  TrainResult result;
  result.train_images = train_data.size();
  result.test_images = test_data.size();
  double best = -1;
  EpochSums resumed_sums;

  if (resumed) {
    const Checkpoint& ck = *resumed;
    if (lead) {
      load_params(ck.params, graph.params(), last.string());
      optimizer->import_state(ck.optimizer_state, graph.params());
    }
    graph.restore_step(ck.meta.step);  // batch norm's count of moving-average updates
    rng_state_from_text(ck.meta.rng_state, run_rng);
    norm = checkpoint_normalization(ck.meta, last.string());
    result.start_epoch = ck.meta.epoch;
    result.start_batch = ck.meta.extra.value("batch", int64_t(0));
    if (result.start_batch > 0) {
      const int64_t saved_batch = ck.meta.extra.value("batch_size", int64_t(0));
      if (saved_batch != config.batch_size)
        fail("resume: {} stopped mid-epoch with batch size {}; resume it with the same "
             "batch size, not {}", last.string(), saved_batch, config.batch_size);
      resumed_sums = EpochSums::from_json(ck.meta.extra.value("epoch_sums", nlohmann::json()));
    }
    best = ck.meta.best_metric.value_or(-1);
    if (lead) truncate_metrics((out / kMetricsLog).string(), ck.meta.epoch);
    note(result.start_batch > 0
             ? fmt::format("resumed from {} at epoch {}, batch {}", last.string(),
                           ck.meta.epoch + 1, result.start_batch)
             : fmt::format("resumed from {} after epoch {}", last.string(), ck.meta.epoch));
  } else {
    if (!config.init_from.empty()) {  // fine-tuning: its weights, and the inputs they expect
      const Checkpoint init = read_checkpoint(config.init_from);
      if (init.meta.model != config.model)
        fail("init_from: {} holds a {} model, not {}", config.init_from, init.meta.model,
             config.model);
      load_params(init.params, graph.params(), config.init_from);
      norm = checkpoint_normalization(init.meta, config.init_from);
      note(fmt::format("starting from the weights of {}", config.init_from));
    } else if (config.normalize) {
      channel_mean_std(train_data.images, norm.mean, norm.std);
    }
    if (lead) fs::remove(out / kMetricsLog, ec);
  }
  // Every rank starts from rank 0's weights (and optimizer state, when resumed).
  std::unique_ptr<DataParallel> dp;
  if (comm) {
    dp = std::make_unique<DataParallel>(*comm, graph, config.bucket_bytes, config.sync_bn);
    dp->broadcast_params();
    if (resumed) dp->broadcast_optimizer(*optimizer);
    note(fmt::format("data-parallel on {} ranks: {} images of each batch of {} per rank, "
                     "gradients in {} buckets{}", ranks, config.batch_size / ranks,
                     config.batch_size, dp->buckets(), config.sync_bn ? ", sync batch norm" : ""));
  }

  BatchLoaderOptions lo;
  lo.batch_size = config.batch_size;
  lo.seed = config.seed;
  lo.shard = rank;
  lo.shards = ranks;
  AugmentConfig aug{config.crop_padding, config.horizontal_flip, norm.mean, norm.std};
  if (aug.random() || !aug.mean.empty()) lo.augment = aug;
  BatchLoader loader(train_data, lo);
  const int64_t batches = loader.batches_per_epoch();
  if (result.start_batch >= batches)
    fail("resume: {} stopped at batch {} of an epoch that has {}", last.string(),
         result.start_batch, batches);

  CheckpointMeta meta;
  meta.model = config.model;
  meta.model_config = model_options_to_json(model_options);
  meta.optimizer = optimizer->name();
  meta.extra = {{"normalize", normalization_to_json(norm)},
                {"class_names", train_data.class_names},
                {"data_dir", config.data_dir},
                {"batch_size", config.batch_size},
                {"seed", config.seed},
                {"epochs", config.epochs},
                {"lr", schedule.base_lr},
                {"schedule", to_string(schedule.kind)}};
  std::optional<Teacher> teacher;
  if (!config.distill.teacher.empty()) {
    teacher.emplace(config.distill.teacher, graph.node_dims(0), model_options.classes, norm);
    meta.extra["distill"] = {{"teacher", config.distill.teacher},
                             {"temperature", config.distill.temperature},
                             {"alpha", config.distill.alpha}};
    note(fmt::format("distilling from {} ({}), temperature {}, alpha {}", config.distill.teacher,
                     teacher->model(), config.distill.temperature, config.distill.alpha));
  }

  // The position a checkpoint records: `epochs_done` whole epochs and `batch` batches of
  // the next (with its running sums), and the run generator as of that epoch's start.
  auto position = [&](int64_t epochs_done, int64_t batch, const EpochSums& sums,
                      const std::string& rng_state) {
    meta.epoch = epochs_done;
    meta.step = optimizer->steps();
    meta.best_metric = best;
    meta.rng_state = rng_state;
    meta.extra["batch"] = batch;
    if (batch > 0) meta.extra["epoch_sums"] = sums.to_json();
    else meta.extra.erase("epoch_sums");
  };
  auto write = [&](const char* name) {
    keepalive();
    write_checkpoint((out / name).string(), meta, graph.params(), optimizer->export_state());
    keepalive();
  };
  auto write_last = [&] {
    write(kLastCheckpoint);
    ++result.checkpoints;
  };
  Tensor dlogits;
  for (int64_t epoch = result.start_epoch; epoch < config.epochs; ++epoch) {
    const std::string rng_at_start = rng_state_to_text(run_rng);
    const uint64_t epoch_seed = run_rng();
    const int64_t first = epoch == result.start_epoch ? result.start_batch : 0;
    loader.start_epoch(epoch, first);
    EpochSums sums = first > 0 ? resumed_sums : EpochSums{};
    const EpochSums at_start = sums;
    const auto t0 = Clock::now();
    double lr = 0;
    int64_t b = first;
    while (auto batch = loader.next()) {
      lr = schedule.at(epoch, b, batches);
      // Dropout masks keyed by (epoch, batch[, rank]), so a run resumed mid-epoch draws
      // the same, and ranks draw different ones.
      graph.reseed(ranks == 1 ? derive_seed(epoch_seed, {uint64_t(b)})
                              : derive_seed(epoch_seed, {uint64_t(b), uint64_t(rank)}));
      StepResult step;
      const int64_t n = int64_t(batch->labels.size());
      try {
        if (teacher) {
          const Tensor soft = teacher->logits(batch->images);
          auto loss = [&](const Tensor& logits, Tensor& d) {
            return distillation_loss(logits, soft, batch->labels, config.distill.temperature,
                                     config.distill.alpha, &d, config.label_smoothing)
                .total;
          };
          step = train_step(graph, *optimizer, batch->images, batch->labels, lr, loss, dlogits,
                            dp.get(), batch->global_size);
        } else {
          step = train_step(graph, *optimizer, batch->images, batch->labels, lr,
                            config.label_smoothing, dlogits, dp.get(), batch->global_size);
        }
      } catch (const Error& e) {
        fail("epoch {} batch {}: {}. Checkpoints already in {} are intact", epoch + 1, b + 1,
             e.what(), out.string());
      }
      double step_sums[3] = {step.loss * double(n), double(step.correct), double(n)};
      if (comm) comm->allreduce_sum(step_sums, 3, "the step's loss and accuracy");
      sums.add(step_sums[0], int64_t(step_sums[1]), int64_t(step_sums[2]));
      ++b;
      sums.seconds = at_start.seconds + seconds_since(t0);
      if (cb.on_batch) {
        TrainProgress p;
        p.epoch = epoch, p.epochs = config.epochs, p.batch = b, p.batches = batches;
        p.loss = sums.mean_loss();
        p.accuracy = sums.accuracy();
        p.lr = lr;
        p.elapsed_s = sums.seconds;
        p.images_per_s = double(sums.seen - at_start.seen) / std::max(seconds_since(t0), 1e-9);
        p.eta_s = seconds_since(t0) / double(b - first) * double(batches - b);
        cb.on_batch(p);
      }
      if (lead && b < batches && step_clock.due(optimizer->steps())) {
        position(epoch, b, sums, rng_at_start);
        write_last();
        step_clock.written();
      }
    }
    EpochResult e;
    e.epoch = epoch + 1;
    e.seconds = sums.seconds;
    e.train_loss = sums.mean_loss();
    e.train_accuracy = sums.accuracy();
    e.images_per_s = double(sums.seen) / std::max(e.seconds, 1e-9);
    e.lr = lr;
    if (!lead) {  // rank 0 evaluates and writes; the others go on to the next epoch
      result.epochs.push_back(e);
      continue;
    }
    EvalResult test = evaluate(graph, test_data, 256, norm, keepalive);
    e.test_loss = test.loss;
    e.test_accuracy = test.accuracy;
    e.best = test.accuracy > best;
    if (e.best) best = test.accuracy;

    position(epoch + 1, 0, sums, rng_state_to_text(run_rng));
    // best.ckpt and the metrics line first, last.ckpt last: if the run dies in between,
    // last.ckpt still points at the previous position, and the resumed run drops the line
    // (truncate_metrics) and redoes this epoch, rewriting all three. (Metrics after
    // last.ckpt would lose the epoch's line for good when the run died between them.)
    if (e.best) write(kBestCheckpoint);
    append_metrics((out / kMetricsLog).string(), e);
    write_last();
    step_clock.written();
    result.epochs.push_back(e);
    if (cb.on_epoch) cb.on_epoch(e);
  }
  result.best_accuracy = std::max(best, 0.0);
  return result;
}

EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& data_dir,
                               int64_t batch_size, int64_t limit) {
  CheckpointModel m = load_checkpoint_model(checkpoint);
  Dataset test = first_n(load_dataset(data_dir, "test"), limit);
  check_images_fit(test, m.graph, data_dir, checkpoint);
  return evaluate(m.graph, test, batch_size, m.normalization);
}

}  // namespace xcept

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

// One call of train(), phase by phase: data, the model (fresh, fine-tuned or resumed),
// the ranks, the loader and the checkpoint record, then the epochs. Members hold what
// the phases hand each other.
class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, const TrainCallbacks& callbacks, MpiComm* comm)
      : config_(config),
        comm_(comm),
        rank_(comm ? comm->rank() : 0),
        ranks_(comm ? comm->size() : 1),
        lead_(rank_ == 0),
        cb_(lead_ ? callbacks : TrainCallbacks{}),
        out_(config.out_dir),
        step_clock_(config.checkpoint_every, config.checkpoint_minutes),
        // Draws one seed per epoch, from which every step's dropout seed is derived; its
        // state as of the epoch's start is saved with each checkpoint.
        run_rng_(config.seed ^ 0x5851f42d4c957f2dull) {
    if (config.epochs <= 0) fail("epochs must be positive, got {}", config.epochs);
    if (config.batch_size <= 0) fail("batch_size must be positive, got {}", config.batch_size);
    if (!config.distill.teacher.empty())
      check_distill_settings(config.distill.temperature, config.distill.alpha);
  }

  TrainResult run() {
    std::error_code ec;
    if (lead_) fs::create_directories(out_, ec);
    if (ec) fail("cannot create the output folder {}: {}", out_.string(), ec.message());
    load_data();
    // A resumed run rebuilds exactly what its checkpoint records, so read it first.
    const std::optional<Checkpoint> resumed = read_resume_checkpoint();
    build_model(resumed);
    if (resumed) restore(*resumed);
    else start_fresh();
    connect_ranks(resumed.has_value());
    make_loader();
    make_meta();
    for (int64_t epoch = result_.start_epoch; epoch < config_.epochs; ++epoch) train_epoch(epoch);
    result_.best_accuracy = std::max(best_, 0.0);
    return result_;
  }

 private:
  void note(const std::string& s) const {
    if (cb_.on_note) cb_.on_note(s);
  }
  void keepalive() const {
    if (comm_) comm_->keepalive();
  }
  fs::path last() const { return out_ / kLastCheckpoint; }

  void load_data() {
    train_data_ = first_n(load_dataset(config_.data_dir, "train"), config_.limit_train);
    test_data_ = first_n(load_dataset(config_.data_dir, "test"), config_.limit_test);
    if (train_data_.size() == 0) fail("{}: the training set is empty", config_.data_dir);
    if (test_data_.images.dims().size() != 4 ||
        !std::equal(test_data_.images.dims().begin() + 1, test_data_.images.dims().end(),
                    train_data_.images.dims().begin() + 1))
      fail("{}: test images are {}, training images {}", config_.data_dir,
           dims_to_string(test_data_.images.dims()), dims_to_string(train_data_.images.dims()));
    note(fmt::format("data {}: {} training and {} test images of {}, {} classes",
                     config_.data_dir, train_data_.size(), test_data_.size(),
                     dims_to_string({train_data_.images.dim(1), train_data_.images.dim(2),
                                     train_data_.images.dim(3)}),
                     train_data_.num_classes));
    result_.train_images = train_data_.size();
    result_.test_images = test_data_.size();
  }

  // Rank 0 reads last.ckpt; the other ranks get its metadata (the tensors follow once
  // the model exists).
  std::optional<Checkpoint> read_resume_checkpoint() {
    if (!config_.resume) return std::nullopt;
    std::optional<Checkpoint> resumed;
    if (lead_) {
      if (!fs::exists(last())) fail("resume: there is no {} to resume from", last().string());
      resumed = read_checkpoint(last().string());
    }
    if (comm_) {
      const std::string meta =
          broadcast_string(*comm_, lead_ ? checkpoint_meta_to_json(resumed->meta).dump() : "",
                           "the checkpoint's metadata");
      if (!lead_)
        resumed = Checkpoint{
            checkpoint_meta_from_json(nlohmann::json::parse(meta), last().string()), {}, {}};
    }
    if (resumed->meta.model != config_.model)
      fail("resume: {} holds a {} model, not {}", last().string(), resumed->meta.model,
           config_.model);
    return resumed;
  }

  void build_model(const std::optional<Checkpoint>& resumed) {
    model_options_ = resumed ? model_options_from_json(resumed->meta.model_config)
                             : options_for(train_data_, config_.model_options, config_.data_dir);
    graph_ = models::build_model(config_.model, model_options_);
    optimizer_ = make_optimizer(resumed ? resumed->meta.optimizer : config_.optimizer,
                                config_.optimizer_options);
    schedule_ = config_.schedule;
    if (schedule_.kind == ScheduleKind::cosine && schedule_.total_epochs <= 0)
      schedule_.total_epochs = double(config_.epochs);
    schedule_.validate();
  }

  // The weights, optimizer state, step count, generator and position of a checkpoint.
  void restore(const Checkpoint& ck) {
    if (lead_) {
      load_params(ck.params, graph_.params(), last().string());
      optimizer_->import_state(ck.optimizer_state, graph_.params());
    }
    graph_.restore_step(ck.meta.step);  // batch norm's count of moving-average updates
    rng_state_from_text(ck.meta.rng_state, run_rng_);
    norm_ = checkpoint_normalization(ck.meta, last().string());
    result_.start_epoch = ck.meta.epoch;
    result_.start_batch = ck.meta.extra.value("batch", int64_t(0));
    if (result_.start_batch > 0) {
      const int64_t saved_batch = ck.meta.extra.value("batch_size", int64_t(0));
      if (saved_batch != config_.batch_size)
        fail("resume: {} stopped mid-epoch with batch size {}; resume it with the same "
             "batch size, not {}", last().string(), saved_batch, config_.batch_size);
      resumed_sums_ = EpochSums::from_json(ck.meta.extra.value("epoch_sums", nlohmann::json()));
    }
    best_ = ck.meta.best_metric.value_or(-1);
    if (lead_) truncate_metrics((out_ / kMetricsLog).string(), ck.meta.epoch);
    note(result_.start_batch > 0
             ? fmt::format("resumed from {} at epoch {}, batch {}", last().string(),
                           ck.meta.epoch + 1, result_.start_batch)
             : fmt::format("resumed from {} after epoch {}", last().string(), ck.meta.epoch));
  }

  // A new run: fine-tuned from init_from's weights (and the inputs they expect), or from
  // the model's initial weights with the training set's normalization.
  void start_fresh() {
    if (!config_.init_from.empty()) {
      const Checkpoint init = read_checkpoint(config_.init_from);
      if (init.meta.model != config_.model)
        fail("init_from: {} holds a {} model, not {}", config_.init_from, init.meta.model,
             config_.model);
      load_params(init.params, graph_.params(), config_.init_from);
      norm_ = checkpoint_normalization(init.meta, config_.init_from);
      note(fmt::format("starting from the weights of {}", config_.init_from));
    } else if (config_.normalize) {
      channel_mean_std(train_data_.images, norm_.mean, norm_.std);
    }
    std::error_code ec;
    if (lead_) fs::remove(out_ / kMetricsLog, ec);
  }

  // Every rank starts from rank 0's weights (and optimizer state, when resumed).
  void connect_ranks(bool resumed) {
    if (!comm_) return;
    dp_ = std::make_unique<DataParallel>(*comm_, graph_, config_.bucket_bytes, config_.sync_bn);
    dp_->broadcast_params();
    if (resumed) dp_->broadcast_optimizer(*optimizer_);
    note(fmt::format("data-parallel on {} ranks: {} images of each batch of {} per rank, "
                     "gradients in {} buckets{}", ranks_, config_.batch_size / ranks_,
                     config_.batch_size, dp_->buckets(), config_.sync_bn ? ", sync batch norm" : ""));
  }

  void make_loader() {
    BatchLoaderOptions lo;
    lo.batch_size = config_.batch_size;
    lo.seed = config_.seed;
    lo.shard = rank_;
    lo.shards = ranks_;
    AugmentConfig aug{config_.crop_padding, config_.horizontal_flip, norm_.mean, norm_.std};
    if (aug.random() || !aug.mean.empty()) lo.augment = aug;
    loader_ = std::make_unique<BatchLoader>(train_data_, lo);
    batches_ = loader_->batches_per_epoch();
    if (result_.start_batch >= batches_)
      fail("resume: {} stopped at batch {} of an epoch that has {}", last().string(),
           result_.start_batch, batches_);
  }

  // What every checkpoint of the run records beside its position; the teacher, when
  // distilling.
  void make_meta() {
    meta_.model = config_.model;
    meta_.model_config = model_options_to_json(model_options_);
    meta_.optimizer = optimizer_->name();
    meta_.extra = {{"normalize", normalization_to_json(norm_)},
                   {"class_names", train_data_.class_names},
                   {"data_dir", config_.data_dir},
                   {"batch_size", config_.batch_size},
                   {"seed", config_.seed},
                   {"epochs", config_.epochs},
                   {"lr", schedule_.base_lr},
                   {"schedule", to_string(schedule_.kind)}};
    if (config_.distill.teacher.empty()) return;
    teacher_.emplace(config_.distill.teacher, graph_.node_dims(0), model_options_.classes, norm_);
    meta_.extra["distill"] = {{"teacher", config_.distill.teacher},
                              {"temperature", config_.distill.temperature},
                              {"alpha", config_.distill.alpha}};
    note(fmt::format("distilling from {} ({}), temperature {}, alpha {}",
                     config_.distill.teacher, teacher_->model(), config_.distill.temperature,
                     config_.distill.alpha));
  }

  // The position a checkpoint records: `epochs_done` whole epochs and `batch` batches of
  // the next (with its running sums), and the run generator as of that epoch's start.
  void position(int64_t epochs_done, int64_t batch, const EpochSums& sums,
                const std::string& rng_state) {
    meta_.epoch = epochs_done;
    meta_.step = optimizer_->steps();
    meta_.best_metric = best_;
    meta_.rng_state = rng_state;
    meta_.extra["batch"] = batch;
    if (batch > 0) meta_.extra["epoch_sums"] = sums.to_json();
    else meta_.extra.erase("epoch_sums");
  }
  void write(const char* name) {
    keepalive();
    write_checkpoint((out_ / name).string(), meta_, graph_.params(), optimizer_->export_state());
    keepalive();
  }
  void write_last() {
    write(kLastCheckpoint);
    ++result_.checkpoints;
  }

  // One optimizer step on `batch`; the error names the epoch and batch.
  StepResult step(const Batch& batch, double lr, int64_t epoch, int64_t b) {
    try {
      if (!teacher_)
        return train_step(graph_, *optimizer_, batch.images, batch.labels, lr,
                          config_.label_smoothing, dlogits_, dp_.get(), batch.global_size);
      const Tensor soft = teacher_->logits(batch.images);
      auto loss = [&](const Tensor& logits, Tensor& d) {
        return distillation_loss(logits, soft, batch.labels, config_.distill.temperature,
                                 config_.distill.alpha, &d, config_.label_smoothing)
            .total;
      };
      return train_step(graph_, *optimizer_, batch.images, batch.labels, lr, loss, dlogits_,
                        dp_.get(), batch.global_size);
    } catch (const Error& e) {
      fail("epoch {} batch {}: {}. Checkpoints already in {} are intact", epoch + 1, b + 1,
           e.what(), out_.string());
    }
  }

  void train_epoch(int64_t epoch) {
    const std::string rng_at_start = rng_state_to_text(run_rng_);
    const uint64_t epoch_seed = run_rng_();
    const int64_t first = epoch == result_.start_epoch ? result_.start_batch : 0;
    loader_->start_epoch(epoch, first);
    EpochSums sums = first > 0 ? resumed_sums_ : EpochSums{};
    const EpochSums at_start = sums;
    const auto t0 = Clock::now();
    double lr = 0;
    int64_t b = first;
    while (auto batch = loader_->next()) {
      lr = schedule_.at(epoch, b, batches_);
      // Dropout masks keyed by (epoch, batch[, rank]), so a run resumed mid-epoch draws
      // the same, and ranks draw different ones.
      graph_.reseed(ranks_ == 1 ? derive_seed(epoch_seed, {uint64_t(b)})
                                : derive_seed(epoch_seed, {uint64_t(b), uint64_t(rank_)}));
      const StepResult st = step(*batch, lr, epoch, b);
      const int64_t n = int64_t(batch->labels.size());
      double step_sums[3] = {st.loss * double(n), double(st.correct), double(n)};
      if (comm_) comm_->allreduce_sum(step_sums, 3, "the step's loss and accuracy");
      sums.add(step_sums[0], int64_t(step_sums[1]), int64_t(step_sums[2]));
      ++b;
      sums.seconds = at_start.seconds + seconds_since(t0);
      if (cb_.on_batch) {
        TrainProgress p;
        p.epoch = epoch, p.epochs = config_.epochs, p.batch = b, p.batches = batches_;
        p.loss = sums.mean_loss();
        p.accuracy = sums.accuracy();
        p.lr = lr;
        p.elapsed_s = sums.seconds;
        p.images_per_s = double(sums.seen - at_start.seen) / std::max(seconds_since(t0), 1e-9);
        p.eta_s = seconds_since(t0) / double(b - first) * double(batches_ - b);
        cb_.on_batch(p);
      }
      if (lead_ && b < batches_ && step_clock_.due(optimizer_->steps())) {
        position(epoch, b, sums, rng_at_start);
        write_last();
        step_clock_.written();
      }
    }
    end_epoch(epoch, sums, lr);
  }

  // Rank 0 evaluates, writes best.ckpt, the metrics line and last.ckpt; the other ranks
  // go on to the next epoch.
  void end_epoch(int64_t epoch, const EpochSums& sums, double lr) {
    EpochResult e;
    e.epoch = epoch + 1;
    e.seconds = sums.seconds;
    e.train_loss = sums.mean_loss();
    e.train_accuracy = sums.accuracy();
    e.images_per_s = double(sums.seen) / std::max(e.seconds, 1e-9);
    e.lr = lr;
    if (!lead_) {
      result_.epochs.push_back(e);
      return;
    }
    EvalResult test = evaluate(graph_, test_data_, 256, norm_, [this] { keepalive(); });
    e.test_loss = test.loss;
    e.test_accuracy = test.accuracy;
    e.best = test.accuracy > best_;
    if (e.best) best_ = test.accuracy;

    position(epoch + 1, 0, sums, rng_state_to_text(run_rng_));
    // best.ckpt and the metrics line first, last.ckpt last: if the run dies in between,
    // last.ckpt still points at the previous position, and the resumed run drops the line
    // (truncate_metrics) and redoes this epoch, rewriting all three. (Metrics after
    // last.ckpt would lose the epoch's line for good when the run died between them.)
    if (e.best) write(kBestCheckpoint);
    append_metrics((out_ / kMetricsLog).string(), e);
    write_last();
    step_clock_.written();
    result_.epochs.push_back(e);
    if (cb_.on_epoch) cb_.on_epoch(e);
  }

  const TrainConfig& config_;
  MpiComm* comm_;
  const int rank_, ranks_;
  const bool lead_;  // evaluates, writes and reports
  const TrainCallbacks cb_;
  const fs::path out_;
  StepCheckpointClock step_clock_;
  std::mt19937_64 run_rng_;

  Dataset train_data_, test_data_;
  models::ModelOptions model_options_;
  Graph graph_{""};
  std::unique_ptr<Optimizer> optimizer_;
  LrSchedule schedule_;
  Normalization norm_;
  std::unique_ptr<DataParallel> dp_;
  std::unique_ptr<BatchLoader> loader_;
  int64_t batches_ = 0;
  CheckpointMeta meta_;
  std::optional<Teacher> teacher_;
  Tensor dlogits_;

  TrainResult result_;
  double best_ = -1;
  EpochSums resumed_sums_;
};

}  // namespace

TrainResult train(const TrainConfig& config, const TrainCallbacks& callbacks, MpiComm* comm) {
  return TrainingRun(config, callbacks, comm).run();
}

EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& data_dir,
                               int64_t batch_size, int64_t limit) {
  CheckpointModel m = load_checkpoint_model(checkpoint);
  Dataset test = first_n(load_dataset(data_dir, "test"), limit);
  check_images_fit(test, m.graph, data_dir, checkpoint);
  return evaluate(m.graph, test, batch_size, m.normalization);
}

}  // namespace xcept

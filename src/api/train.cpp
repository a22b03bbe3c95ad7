// The public train(): TrainOptions onto the trainer's TrainConfig, its results back.
#include <filesystem>

#include "api/zoo.h"
#include "train/trainer.h"
#include "xcept/train.h"

namespace xcept {

namespace {

TrainConfig to_config(const TrainOptions& o) {
  TrainConfig c;
  c.model = o.model;
  c.model_options = to_model_options(o.model_options);
  c.data_dir = o.data_dir;
  c.epochs = o.epochs;
  c.batch_size = o.batch_size;
  c.optimizer = o.optimizer;
  c.schedule.kind = parse_schedule_kind(o.schedule);
  c.schedule.base_lr = o.lr;
  c.schedule.warmup_epochs = o.warmup_epochs;
  c.optimizer_options.momentum = o.momentum;
  c.optimizer_options.nesterov = o.nesterov;
  if (o.weight_decay >= 0) c.optimizer_options.weight_decay = o.weight_decay;
  c.label_smoothing = o.label_smoothing;
  c.crop_padding = o.crop_padding;
  c.horizontal_flip = o.horizontal_flip;
  c.normalize = o.normalize;
  c.seed = o.seed;
  c.out_dir = o.out_dir;
  c.resume = o.resume;
  c.limit_train = o.limit_train;
  c.limit_test = o.limit_test;
  c.distill = {o.teacher, o.distill_temperature, o.distill_alpha};
  return c;
}

EpochMetrics to_metrics(const EpochResult& e) {
  return {e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy,
          e.lr,    e.seconds,    e.images_per_s,   e.best};
}

}  // namespace

TrainRun train(const TrainOptions& options, const TrainEvents& events) {
  TrainCallbacks cb;
  if (events.on_batch)
    cb.on_batch = [&](const TrainProgress& p) {
      events.on_batch({p.epoch, p.epochs, p.batch, p.batches, p.loss, p.accuracy, p.lr,
                       p.images_per_s, p.eta_s});
    };
  if (events.on_epoch) cb.on_epoch = [&](const EpochResult& e) { events.on_epoch(to_metrics(e)); };
  cb.on_note = events.on_note;
  const TrainResult r = train(to_config(options), cb);
  TrainRun run;
  for (const EpochResult& e : r.epochs) run.epochs.push_back(to_metrics(e));
  run.best_accuracy = r.best_accuracy;
  run.start_epoch = r.start_epoch;
  const std::filesystem::path out(options.out_dir);
  run.best_checkpoint = (out / "best.ckpt").string();
  run.last_checkpoint = (out / "last.ckpt").string();
  run.metrics_log = (out / "metrics.jsonl").string();
  return run;
}

}  // namespace xcept

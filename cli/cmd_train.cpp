// `xcept train` and `xcept eval`: the training loop with a progress bar, and evaluation
// of a saved checkpoint.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/zoo.h"
#include "cli/commands.h"
#include "cli/curve_plotter.h"
#include "cli/format.h"
#include "cli/train_console.h"
#include "cli/zoo_options.h"
#include "io/checkpoint.h"
#include "train/evaluate_runtime.h"
#include "train/model_config.h"
#include "train/mpi_comm.h"
#include "train/trainer.h"

namespace xcept::cli {

namespace {

struct TrainOptions {
  TrainConfig config;
  ZooOptions zoo;  // the architecture; the data sets input size and classes
  std::string schedule = "constant";
  std::string plot = "png";
  double lr = 1e-3, weight_decay = -1, epsilon = -1;
  bool distributed = false;
  double bucket_mb = 4, collective_timeout = 30;
  bool model_given = false;  // --model on the command line
};

// Runs train() on every rank of an MPI job. An error on any rank is printed by that rank
// and ends the whole job (MPI_Abort), so no rank is left waiting for it.
TrainResult train_distributed(MpiComm& comm, const TrainConfig& c, const TrainCallbacks& cb) {
  TrainResult r;
  try {
    r = train(c, cb, &comm);
  } catch (const std::exception& e) {
    fmt::print(stderr, "xcept: error on rank {} of {}: {}\n", comm.rank(), comm.size(), e.what());
    std::fflush(stderr);
    comm.abort(1);
  }
  comm.finish();
  return r;
}

void run_train(TrainOptions& o) {
  TrainConfig& c = o.config;
  c.schedule.kind = parse_schedule_kind(o.schedule);
  c.schedule.base_lr = o.lr;
  if (o.weight_decay >= 0) c.optimizer_options.weight_decay = o.weight_decay;
  if (o.epsilon >= 0) c.optimizer_options.epsilon = o.epsilon;
  c.model_options = to_model_options(o.zoo);
  if (!c.init_from.empty()) {
    // Fine-tuning: the checkpoint's architecture (model, options, pruned widths), so that
    // its weights fit; a different --model is refused by the trainer, naming both.
    const Checkpoint init = read_checkpoint(c.init_from);
    if (!o.model_given) c.model = init.meta.model;
    c.model_options = model_options_from_json(init.meta.model_config);
  }

  c.bucket_bytes = int64_t(o.bucket_mb * double(1 << 20));
  std::unique_ptr<MpiComm> comm;
  if (o.distributed) comm = std::make_unique<MpiComm>(o.collective_timeout);
  const bool lead = !comm || comm->rank() == 0;  // rank 0 alone reports
  ProgressBar bar;
  CurvePlotter curves(c.out_dir, o.plot);
  TrainCallbacks cb = console_callbacks(bar, [&] { curves.epoch_done(); });
  if (lead)
    fmt::print("training {} with {} (lr {}, {} schedule), {} epochs, batch {}, seed {}, into {}\n",
               c.model, c.optimizer, o.lr, o.schedule, c.epochs, c.batch_size, c.seed, c.out_dir);
  TrainResult r = comm ? train_distributed(*comm, c, cb) : train(c, cb);
  if (lead)
    fmt::print("best test accuracy {:.2f}%; checkpoints {}/best.ckpt and {}/last.ckpt, metrics "
             "{}/metrics.jsonl\n",
             100 * r.best_accuracy, c.out_dir, c.out_dir, c.out_dir);
}

struct EvalOptions {
  std::string checkpoint, data = "/usr/share/datasets/fashion-mnist";
  std::string precision;  // empty: the training graph's forward; else through the runtime
  int64_t batch_size = 256, limit = 0;
  bool json = false;
};

void run_eval_runtime(const EvalOptions& o) {
  const Precision precision = parse_precision(o.precision);  // before any loading
  RuntimeEvalResult r =
      evaluate_checkpoint_runtime(o.checkpoint, o.data, precision, o.batch_size, o.limit);
  if (o.json) {
    nlohmann::json j = {{"accuracy", r.result.accuracy},
                        {"loss", r.result.loss},
                        {"images", r.result.images},
                        {"precision", precision_name(r.precision)},
                        {"precision_run", precision_name(r.precision_run)}};
    if (r.f32) {
      j["accuracy_f32"] = r.f32->accuracy;
      j["loss_f32"] = r.f32->loss;
      j["top1_agreement"] = r.top1_agreement;
      j["accuracy_delta_points"] = r.accuracy_delta_points;
    }
    std::puts(j.dump().c_str());
    return;
  }
  fmt::print("{}: accuracy {:.2f}%  loss {:.4f}  on {} test images of {} (runtime, {}{})\n",
             o.checkpoint, 100 * r.result.accuracy, r.result.loss, r.result.images, o.data,
             precision_name(r.precision),
             r.precision_run != r.precision
                 ? fmt::format(" ran as {}: no AVX512_BF16", precision_name(r.precision_run))
                 : "");
  if (r.f32)
    fmt::print("f32 runtime: accuracy {:.2f}%  loss {:.4f}; same top-1 class on {:.2f}% of the "
               "images; accuracy moves {:+.2f} points\n",
               100 * r.f32->accuracy, r.f32->loss, 100 * r.top1_agreement,
               r.accuracy_delta_points);
}

// The per-layer report and the steps left in float: what a user reads to decide which
// layers to keep in f32 (xcept quantize --keep-f32).
void print_int8_layers(const Int8EvalResult& r) {
  fmt::print("\n{:<34} {:<16} {:>6} {:>12} {:>12}\n", "step", "op", "int8", "rel. L2 err",
             "max rel err");
  for (const LayerError& l : r.layers)
    fmt::print("{:<34} {:<16} {:>6} {:>12.4g} {:>12.4g}\n", l.step, l.op, l.int8 ? "yes" : "no",
               l.rel_l2, l.max_rel);
  for (const FloatStep& f : r.float_steps) fmt::print("float32: {} ({})\n", f.step, f.reason);
}

void run_eval_int8(const EvalOptions& o) {
  const Int8EvalResult r = evaluate_checkpoint_int8(o.checkpoint, o.data, o.batch_size, o.limit);
  const RuntimeEvalResult& e = r.eval;
  if (o.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerError& l : r.layers)
      layers.push_back({{"step", l.step},
                        {"op", l.op},
                        {"int8", l.int8},
                        {"rel_l2_error", l.rel_l2},
                        {"max_rel_error", l.max_rel}});
    nlohmann::json float_steps = nlohmann::json::array();
    for (const FloatStep& f : r.float_steps)
      float_steps.push_back({{"step", f.step}, {"reason", f.reason}});
    nlohmann::json j = {{"accuracy", e.result.accuracy},
                        {"loss", e.result.loss},
                        {"images", e.result.images},
                        {"precision", "int8"},
                        {"precision_run", "int8"},
                        {"accuracy_f32", e.f32->accuracy},
                        {"loss_f32", e.f32->loss},
                        {"top1_agreement", e.top1_agreement},
                        {"accuracy_delta_points", e.accuracy_delta_points},
                        {"calibration",
                         {{"method", calibration_method_name(r.record.calibration.method)},
                          {"images", r.record.images},
                          {"data", r.record.data},
                          {"keep_f32", r.record.quantize.keep_f32},
                          {"from_checkpoint", !r.calibrated_now}}},
                        {"int8_steps", r.int8_steps},
                        {"float_steps", float_steps},
                        {"layers", layers}};
    std::puts(j.dump().c_str());
    return;
  }
  fmt::print("{}: accuracy {:.2f}%  loss {:.4f}  on {} test images of {} (runtime, int8)\n",
             o.checkpoint, 100 * e.result.accuracy, e.result.loss, e.result.images, o.data);
  fmt::print("f32 runtime: accuracy {:.2f}%  loss {:.4f}; same top-1 class on {:.2f}% of the "
             "images; accuracy moves {:+.2f} points\n",
             100 * e.f32->accuracy, e.f32->loss, 100 * e.top1_agreement, e.accuracy_delta_points);
  fmt::print("calibration: {} on {} images of {}{}\n",
             calibration_method_name(r.record.calibration.method), r.record.images,
             r.record.data,
             r.calibrated_now ? " (now: the checkpoint has no `xcept quantize` record)" : "");
  print_int8_layers(r);
}

void run_eval(const EvalOptions& o) {
  if (!o.precision.empty() && precision_is_int8(o.precision)) return run_eval_int8(o);
  if (!o.precision.empty()) return run_eval_runtime(o);
  EvalResult r = evaluate_checkpoint(o.checkpoint, o.data, o.batch_size, o.limit);
  if (o.json) {
    nlohmann::json j = {{"accuracy", r.accuracy}, {"loss", r.loss}, {"images", r.images}};
    std::puts(j.dump().c_str());
  } else {
    fmt::print("{}: accuracy {:.2f}%  loss {:.4f}  on {} test images of {}\n", o.checkpoint,
               100 * r.accuracy, r.loss, r.images, o.data);
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  TrainConfig& c = o->config;
  auto* t = app.add_subcommand("train", "train a model on a dataset folder");
  auto* model = t->add_option("--model,-m", c.model, "model name (see `xcept models`)")
                    ->capture_default_str();
  t->add_option("--data,-d", c.data_dir, "dataset folder (IDX, CIFAR-10 binary, image folders)")
      ->capture_default_str();
  t->add_option("--epochs,-e", c.epochs)->capture_default_str()->check(CLI::PositiveNumber);
  t->add_option("--batch-size,-b", c.batch_size)->capture_default_str()->check(CLI::PositiveNumber);
  t->add_option("--optimizer", c.optimizer, "sgd|rmsprop|adam|adamw|lars")->capture_default_str();
  t->add_option("--lr", o->lr, "base learning rate")->capture_default_str();
  t->add_option("--schedule", o->schedule, "constant|step|cosine")->capture_default_str();
  t->add_option("--decay-factor", c.schedule.decay_factor, "step schedule factor")
      ->capture_default_str();
  t->add_option("--decay-every", c.schedule.decay_every_epochs, "step schedule period (epochs)")
      ->capture_default_str();
  t->add_option("--warmup-epochs", c.schedule.warmup_epochs, "linear warm-up length");
  t->add_option("--momentum", c.optimizer_options.momentum, "sgd/rmsprop momentum");
  t->add_flag("--nesterov", c.optimizer_options.nesterov, "Nesterov momentum (sgd)");
  t->add_option("--rho", c.optimizer_options.rho, "rmsprop decay");
  t->add_option("--lars-eta", c.optimizer_options.trust_coefficient, "lars trust coefficient")
      ->capture_default_str();
  t->add_option("--epsilon", o->epsilon, "rmsprop/adam epsilon");
  t->add_option("--weight-decay", o->weight_decay, "L2 (decoupled for adamw)");
  t->add_option("--label-smoothing", c.label_smoothing);
  t->add_option("--crop-padding", c.crop_padding, "random crop with this zero padding");
  t->add_flag("--flip", c.horizontal_flip, "random horizontal flips");
  t->add_option("--seed", c.seed)->capture_default_str();
  t->add_option("--out,-o", c.out_dir, "folder for checkpoints and metrics")->capture_default_str();
  t->add_flag("--resume", c.resume, "continue from OUT/last.ckpt");
  t->add_option("--checkpoint-every", c.checkpoint_every,
                "also write last.ckpt mid-epoch every N steps (0: epoch ends only)");
  t->add_option("--checkpoint-minutes", c.checkpoint_minutes,
                "also write last.ckpt mid-epoch when M minutes have passed since the last");
  auto* dist = t->add_flag("--distributed", o->distributed,
                           "data-parallel over the ranks of an MPI job (mpirun -np N xcept "
                           "train ...); --batch-size is the global batch");
  t->add_flag("--sync-bn", c.sync_bn, "batch-norm statistics over the global batch")->needs(dist);
  t->add_option("--bucket-mb", o->bucket_mb, "gradient all-reduce bucket size")
      ->capture_default_str()
      ->needs(dist);
  t->add_option("--collective-timeout", o->collective_timeout,
                "seconds a rank may keep the others waiting before the job ends naming it")
      ->capture_default_str()
      ->needs(dist);
  t->add_option("--plot", o->plot, "loss/accuracy curves drawn into OUT after every epoch: png|svg|none")
      ->capture_default_str();
  add_architecture_options(*t, o->zoo);
  t->add_option("--limit-train", c.limit_train, "train on the first N images only");
  t->add_option("--limit-test", c.limit_test, "evaluate on the first N images only");
  t->add_option("--teacher", c.distill.teacher,
                "distil from this checkpoint (Hinton's loss; the teacher runs in the runtime)");
  t->add_option("--distill-temperature", c.distill.temperature, "softmax temperature T")
      ->capture_default_str();
  t->add_option("--distill-alpha", c.distill.alpha, "weight of the soft targets (x T^2)")
      ->capture_default_str();
  t->add_option("--init-from", c.init_from,
                "start from this checkpoint's weights (fine-tuning): its model, options and "
                "input normalization, with a fresh optimizer and schedule");
  t->callback([o, model] {
    o->model_given = model->count() > 0;
    run_train(*o);
  });

  auto e = std::make_shared<EvalOptions>();
  auto* ev = app.add_subcommand("eval", "evaluate a checkpoint on a dataset's test split");
  ev->add_option("--checkpoint,-c", e->checkpoint, "checkpoint file")->required();
  ev->add_option("--data,-d", e->data, "dataset folder")->capture_default_str();
  ev->add_option("--batch-size,-b", e->batch_size)->capture_default_str()->check(CLI::PositiveNumber);
  ev->add_option("--limit", e->limit, "first N test images only");
  ev->add_option("--precision", e->precision,
                 "f32|bf16|int8: evaluate through the inference runtime (bf16 and int8 also "
                 "run f32 and report top-1 agreement and the accuracy change; int8 also the "
                 "error of every layer)");
  ev->add_flag("--json", e->json, "print {\"accuracy\", \"loss\", \"images\", ...}");
  ev->callback([e] { run_eval(*e); });
}

}  // namespace xcept::cli

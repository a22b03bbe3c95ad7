#include "experiments/runner.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/clock.h"
#include "core/error.h"
#include "core/stats.h"
#include "core/threadpool.h"
#include "experiments/cost.h"
#include "experiments/plots.h"
#include "experiments/report.h"
#include "io/atomic_file.h"
#include "io/data_dir.h"
#include "train/checkpoint_model.h"
#include "train/model_config.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace xcept::experiments {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int64_t kQuickImages = 512;

json settings_json(const TrainSettings& t) {
  return {{"epochs", t.epochs},           {"batch_size", t.batch_size},
          {"optimizer", t.optimizer},     {"lr", t.lr},
          {"schedule", t.schedule},       {"weight_decay", t.weight_decay},
          {"label_smoothing", t.label_smoothing}, {"limit_train", t.limit_train},
          {"limit_test", t.limit_test},   {"seed", t.seed}};
}

// One (variant, seed) run: where it lives and what it must have been made with.
struct PlannedRun {
  const Variant* variant;
  uint64_t seed;
  fs::path dir;
  json record;  // run.json
};

TrainConfig train_config(const PlannedRun& r, const TrainSettings& t, const RunOptions& o) {
  TrainConfig c;
  c.model = r.variant->model;
  c.model_options = r.variant->options;
  c.model_options.seed = r.seed;  // the trainer leaves weight seeds to the caller
  c.data_dir = o.data_dir;
  c.checkpoint_minutes = o.checkpoint_minutes;
  c.epochs = t.epochs;
  c.batch_size = t.batch_size;
  c.optimizer = t.optimizer;
  if (t.weight_decay >= 0) c.optimizer_options.weight_decay = t.weight_decay;
  c.schedule.kind = parse_schedule_kind(t.schedule);
  c.schedule.base_lr = t.lr;
  c.label_smoothing = t.label_smoothing;
  c.seed = r.seed;
  c.out_dir = r.dir.string();
  c.limit_train = t.limit_train;
  c.limit_test = t.limit_test;
  return c;
}

// A run folder already there must have been made with this run's configuration.
void check_record(const PlannedRun& r) {
  const fs::path path = r.dir / "run.json";
  if (!fs::exists(path)) return;
  const json old = read_json_file(path.string(), "run record");
  if (old == r.record) return;
  std::string diff;
  for (const auto& [key, value] : r.record.items())
    if (!old.contains(key) || old.at(key) != value)
      diff += fmt::format(" {}: {} there, {} now;", key, old.contains(key) ? old.at(key).dump() : "-",
                          value.dump());
  fail("{} was made with another configuration ({}): use another --out, or delete that folder "
       "to redo it",
       r.dir.string(), diff.empty() ? " fields differ" : diff.substr(1, diff.size() - 2));
}

// Estimated seconds per epoch of each variant: measured wall time of epochs in this call,
// else the training time recorded by finished runs, else the mean over all variants.
class EtaModel {
 public:
  void add(const std::string& variant, double seconds) { samples_[variant].push_back(seconds); }
  double per_epoch(const std::string& variant) const {
    auto it = samples_.find(variant);
    if (it != samples_.end() && !it->second.empty()) return mean(it->second);
    std::vector<double> all;
    for (const auto& [v, s] : samples_) all.insert(all.end(), s.begin(), s.end());
    return all.empty() ? -1 : mean(all);
  }

 private:
  std::map<std::string, std::vector<double>> samples_;
};

// Costs of each variant, counted and timed on its first seed's trained model.
std::vector<VariantInfo> variant_costs(const ExperimentSpec& spec, const fs::path& out,
                                       uint64_t first_seed, int latency_runs) {
  std::vector<VariantInfo> infos;
  for (const Variant& v : spec.variants) {
    const fs::path ckpt = out / v.name / fmt::format("seed-{}", first_seed) / "best.ckpt";
    CheckpointModel m = load_checkpoint_model(ckpt.string());
    infos.push_back({v.name, v.model, measure_cost(m.graph, latency_runs)});
  }
  return infos;
}

}  // namespace

TrainSettings effective_settings(const ExperimentSpec& spec, const RunOptions& o) {
  TrainSettings t = spec.train;
  if (o.epochs > 0) t.epochs = o.epochs;
  if (o.limit_train >= 0) t.limit_train = o.limit_train;
  if (o.quick) {
    t.epochs = 1;
    t.limit_train = t.limit_train > 0 ? std::min(t.limit_train, kQuickImages) : kQuickImages;
    t.limit_test = t.limit_test > 0 ? std::min(t.limit_test, kQuickImages) : kQuickImages;
  }
  return t;
}

int effective_repeats(const ExperimentSpec& spec, const RunOptions& o) {
  if (o.quick) return 1;
  return o.repeats > 0 ? o.repeats : spec.repeats;
}

std::string effective_out_dir(const ExperimentSpec& spec, const RunOptions& o) {
  if (!o.out_dir.empty()) return o.out_dir;
  return (fs::path("runs") / "experiments" / (spec.name + (o.quick ? "-quick" : ""))).string();
}

ExperimentResult run_experiment(const ExperimentSpec& spec, const RunOptions& options,
                                const ExperimentCallbacks& cb) {
  const auto started = Clock::now();
  auto note = [&](const std::string& s) {
    if (cb.on_note) cb.on_note(s);
  };
  const TrainSettings settings = effective_settings(spec, options);
  const int repeats = effective_repeats(spec, options);
  ExperimentResult result;
  result.out_dir = effective_out_dir(spec, options);
  const fs::path out(result.out_dir);
  fs::create_directories(out);

  // A wrong data folder fails here, before any training (detection reads no images).
  detect_data_format(options.data_dir);
  ReportContext ctx;
  const std::string data = fs::weakly_canonical(options.data_dir).string();
  std::vector<PlannedRun> plan;
  for (const Variant& v : spec.variants)
    for (int r = 0; r < repeats; ++r) {
      const uint64_t seed = settings.seed + uint64_t(r);
      PlannedRun p{&v, seed, out / v.name / fmt::format("seed-{}", seed), {}};
      models::ModelOptions o = v.options;
      o.seed = p.seed;
      p.record = {{"variant", v.name},   {"model", v.model},
                  {"model_options", model_options_to_json(o)},
                  {"train", settings_json(settings)}, {"data", data}};
      plan.push_back(std::move(p));
    }

  // Every existing run folder must match before anything is written.
  for (const PlannedRun& run : plan) check_record(run);
  json spec_record = {{"name", spec.name}, {"train", settings_json(settings)},
                      {"repeats", repeats}, {"data", data}, {"variants", json::array()}};
  for (const Variant& v : spec.variants)
    spec_record["variants"].push_back(
        {{"name", v.name}, {"model", v.model}, {"options", v.options_json}});
  write_file_atomic((out / "experiment.json").string(), spec_record.dump(2) + "\n");

  // Epochs left per run, and the epoch times already on disk, for the time-left estimate.
  // (An interrupted run resumes after the epochs its metrics log holds.)
  EtaModel eta;
  std::vector<int64_t> epochs_left(plan.size(), settings.epochs);
  for (size_t i = 0; i < plan.size(); ++i) {
    const fs::path metrics = plan[i].dir / "metrics.jsonl";
    if (!fs::exists(metrics) || !fs::exists(plan[i].dir / "last.ckpt")) continue;
    for (const EpochResult& e : read_metrics(metrics.string())) {
      eta.add(plan[i].variant->name, e.seconds);
      epochs_left[i] = std::max<int64_t>(0, epochs_left[i] - 1);
    }
    if (fs::exists(plan[i].dir / "result.json")) epochs_left[i] = 0;
  }
  auto time_left = [&](size_t current, double current_epoch_fraction) {
    double total = 0;
    for (size_t i = current; i < plan.size(); ++i) {
      const double per = eta.per_epoch(plan[i].variant->name);
      if (per < 0) return -1.0;
      total += per * (double(epochs_left[i]) - (i == current ? current_epoch_fraction : 0.0));
    }
    return total;
  };

  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedRun& run = plan[i];
    const std::string label = fmt::format("{} seed {}", run.variant->name, run.seed);
    if (fs::exists(run.dir / "result.json")) {
      note(fmt::format("run {}/{} {}: finished earlier, reused", i + 1, plan.size(), label));
      ++result.runs_reused;
    } else {
      fs::create_directories(run.dir);
      if (!fs::exists(run.dir / "run.json"))
        write_file_atomic((run.dir / "run.json").string(), run.record.dump(2) + "\n");
      TrainConfig config = train_config(run, settings, options);
      config.resume = fs::exists(run.dir / "last.ckpt");
      auto epoch_start = Clock::now();
      TrainCallbacks tcb;
      tcb.on_note = [&](const std::string& s) {
        if (s.rfind("resumed", 0) == 0)
          note(fmt::format("run {}/{} {}: {}", i + 1, plan.size(), label, s));
      };
      tcb.on_batch = [&](const TrainProgress& p) {
        if (!cb.on_progress) return;
        ExperimentProgress e;
        e.run = int(i) + 1, e.runs = int(plan.size());
        e.variant = run.variant->name, e.seed = run.seed;
        e.epoch = p.epoch, e.epochs = p.epochs, e.batch = p.batch, e.batches = p.batches;
        e.elapsed_s = ms_since(started) * 1e-3;
        const double fraction = double(p.batch) / double(std::max<int64_t>(p.batches, 1));
        e.eta_s = time_left(i, fraction);
        if (e.eta_s < 0 && p.batch > 0)  // nothing timed yet: extrapolate this epoch
          e.eta_s = p.elapsed_s / fraction * (double(epochs_left[i]) - fraction) *
                    double(plan.size() - i);
        cb.on_progress(e);
      };
      tcb.on_epoch = [&](const EpochResult&) {
        eta.add(run.variant->name, ms_since(epoch_start) * 1e-3);
        epoch_start = Clock::now();
        --epochs_left[i];
      };
      const TrainResult tr = train(config, tcb);
      ++result.runs_trained;
      ctx.train_images = tr.train_images;
      ctx.test_images = tr.test_images;
    }
    const std::vector<EpochResult> epochs = read_metrics((run.dir / "metrics.jsonl").string());
    if (int64_t(epochs.size()) != settings.epochs)
      fail("{}: metrics.jsonl holds {} epochs, the run has {}", run.dir.string(), epochs.size(),
           settings.epochs);
    RunRecord rec = make_run_record(run.variant->name, run.seed, epochs);
    const fs::path done = run.dir / "result.json";
    if (!fs::exists(done))
      write_file_atomic(done.string(), json{{"final_test_accuracy", rec.final_accuracy},
                                            {"best_test_accuracy", rec.best_accuracy},
                                            {"best_epoch", rec.best_epoch},
                                            {"train_seconds", rec.train_seconds},
                                            {"train_images", ctx.train_images},
                                            {"test_images", ctx.test_images}}
                                           .dump(2) + "\n");
    const json finished = read_json_file(done.string(), "run result");
    ctx.train_images = finished.value("train_images", int64_t(0));
    ctx.test_images = finished.value("test_images", int64_t(0));
    epochs_left[i] = 0;
    result.runs.push_back(std::move(rec));
  }

  note("measuring every variant: parameters, MACs, latency at batch 1 and 32");
  const std::vector<VariantInfo> infos =
      variant_costs(spec, out, settings.seed, options.quick ? 3 : options.latency_runs);
  result.summaries = summarize_variants(infos, result.runs, spec.reference);

  auto write = [&](const std::string& name, const std::string& text) {
    write_file_atomic((out / name).string(), text);
    result.files.push_back(name);
  };
  write("results.csv", results_csv(result.runs, spec));
  write("summary.csv", summary_csv(result.summaries));
  write("curves.csv", curves_csv(result.summaries));
  const PlotResult plots = draw_plots(out.string(), result.summaries, spec.name, options.gnuplot);
  result.plotted = plots.drawn;
  result.plot_status = plots.status;
  for (const std::string& p : plots.images) result.files.push_back(p);

  result.wall_seconds = ms_since(started) * 1e-3;
  ctx.data_dir = options.data_dir;
  ctx.train = settings;
  ctx.repeats = repeats;
  ctx.threads = num_threads();
  ctx.wall_seconds = result.wall_seconds;
  ctx.runs_trained = result.runs_trained;
  ctx.runs_reused = result.runs_reused;
  ctx.command = options.command;
  ctx.plot_status = plots.status;
  ctx.plots = plots.images;
  write("report.md", report_markdown(spec, result.summaries, ctx));
  return result;
}

}  // namespace xcept::experiments

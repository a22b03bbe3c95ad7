// `xcept experiment NAME | --spec FILE`: the papers' claims rerun, every variant over
// several seeds, with one progress line for the whole experiment; `--list` shows the
// built-in experiments.
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/status_line.h"
#include "core/clock.h"
#include "core/threadpool.h"
#include "experiments/runner.h"

namespace xcept::cli {

namespace {

struct ExperimentOptions {
  std::string name, spec_file;
  experiments::RunOptions run;
  bool list = false, no_plots = false;
};

// One line for the whole experiment: redrawn on a terminal (at most 5 times a second),
// elsewhere (logs) printed at every epoch end and at most every 30 seconds between.
class ExperimentLine {
 public:
  void update(const experiments::ExperimentProgress& p) {
    const bool epoch_end = p.batch == p.batches;
    if (!epoch_end && line_.ms_since_shown() < (line_.tty() ? 200 : 30'000)) return;
    line_.show(fmt::format(
        "run {}/{} {} seed {}  epoch {}/{} {:>3}%  elapsed {}  left {}", p.run, p.runs, p.variant,
        p.seed, p.epoch + 1, p.epochs, p.batch * 100 / std::max<int64_t>(p.batches, 1),
        clock_text(p.elapsed_s), p.eta_s < 0 ? std::string("?") : clock_text(p.eta_s)));
  }

  // Before other output: a terminal's line is erased first.
  void break_line() { line_.finish(false); }

 private:
  StatusLine line_;
};

// The command line that reproduces this run, for report.md.
std::string reproduce(const ExperimentOptions& o) {
  std::string c = "xcept experiment " + (o.spec_file.empty() ? o.name : "--spec " + o.spec_file);
  const experiments::RunOptions& r = o.run;
  c += " --data " + r.data_dir;
  if (r.epochs > 0) c += fmt::format(" --epochs {}", r.epochs);
  if (r.repeats > 0) c += fmt::format(" --repeats {}", r.repeats);
  if (r.limit_train >= 0) c += fmt::format(" --limit-train {}", r.limit_train);
  if (r.quick) c += " --quick";
  return c + fmt::format(" --threads {}", num_threads());
}

void list_experiments() {
  for (const std::string& name : experiments::builtin_spec_names()) {
    const experiments::ExperimentSpec s = experiments::builtin_spec(name);
    std::string variants;
    for (const auto& v : s.variants) variants += (variants.empty() ? "" : ", ") + v.name;
    fmt::print("{:<24} {}\n{:<24} {} variants x {} seeds, {} epochs: {}\n\n", s.name, s.title, "",
               s.variants.size(), s.repeats, s.train.epochs, variants);
  }
}

void run(ExperimentOptions& o) {
  if (o.list) return list_experiments();
  if (o.name.empty() == o.spec_file.empty())
    throw CLI::ValidationError("experiment", "give a built-in NAME (see --list) or --spec FILE");
  const experiments::ExperimentSpec spec = o.spec_file.empty()
                                               ? experiments::builtin_spec(o.name)
                                               : experiments::load_spec_file(o.spec_file);
  if (o.no_plots) o.run.gnuplot.clear();
  o.run.command = reproduce(o);
  const experiments::TrainSettings t = experiments::effective_settings(spec, o.run);
  const int repeats = experiments::effective_repeats(spec, o.run);
  fmt::print("experiment {}: {} variants x {} seeds = {} runs of {} epoch(s), batch {}, into {}\n",
             spec.name, spec.variants.size(), repeats, spec.variants.size() * size_t(repeats),
             t.epochs, t.batch_size, experiments::effective_out_dir(spec, o.run));
  std::fflush(stdout);

  ExperimentLine line;
  experiments::ExperimentCallbacks cb;
  cb.on_progress = [&](const experiments::ExperimentProgress& p) { line.update(p); };
  cb.on_note = [&](const std::string& s) {
    line.break_line();
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  const experiments::ExperimentResult r = experiments::run_experiment(spec, o.run, cb);
  line.break_line();

  fmt::print("\n{:<24} {:>10} {:>12} {:>16} {:>16} {:>10} {:>10}\n", "variant", "params", "MACs",
             "final acc %", "best acc %", "b1 ms", "b32 ms");
  for (const auto& v : r.summaries)
    fmt::print("{:<24} {:>10} {:>12} {:>7.2f} ± {:<6.2f} {:>7.2f} ± {:<6.2f} {:>10.2f} {:>10.1f}\n",
               v.variant, with_commas(v.cost.params), with_commas(v.cost.macs),
               100 * v.final_accuracy.mean, 100 * v.final_accuracy.std, 100 * v.best_accuracy.mean,
               100 * v.best_accuracy.std, v.cost.latency_batch1_ms, v.cost.latency_batch32_ms);
  std::string files;
  for (const std::string& f : r.files) files += (files.empty() ? "" : ", ") + f;
  fmt::print("\n{} run(s) trained, {} reused, {} wall; {}\nwrote into {}: {}\n", r.runs_trained,
             r.runs_reused, clock_text(r.wall_seconds), r.plot_status, r.out_dir, files);
}

}  // namespace

void add_experiment_command(CLI::App& app) {
  auto o = std::make_shared<ExperimentOptions>();
  auto* cmd = app.add_subcommand(
      "experiment", "rerun a paper's claim: train every variant of an experiment over seeds, "
                    "then tables and plots (resumable: rerun the same command after a crash)");
  cmd->add_option("name", o->name, "built-in experiment (see --list)");
  cmd->add_option("--spec", o->spec_file, "a JSON experiment spec of your own");
  cmd->add_flag("--list", o->list, "list the built-in experiments");
  cmd->add_option("--data,-d", o->run.data_dir, "dataset folder")->capture_default_str();
  cmd->add_option("--epochs,-e", o->run.epochs, "epochs per run (default: the spec's)");
  cmd->add_option("--repeats,-r", o->run.repeats, "seeds per variant (default: the spec's)");
  cmd->add_option("--limit-train", o->run.limit_train,
                  "first N training images (default: the spec's; 0: all)");
  cmd->add_option("--out,-o", o->run.out_dir, "output folder (default: runs/experiments/NAME)");
  cmd->add_flag("--quick", o->run.quick,
                "smoke run: 1 epoch, 1 seed, 512 training and 512 test images");
  cmd->add_option("--latency-runs", o->run.latency_runs, "timed inference runs at batch 1")
      ->capture_default_str();
  cmd->add_option("--checkpoint-minutes", o->run.checkpoint_minutes,
                  "also write a run's last.ckpt mid-epoch this often (0: epoch ends only)")
      ->capture_default_str();
  cmd->add_flag("--no-plots", o->no_plots, "write the tables only");
  cmd->callback([o] { run(*o); });
}

}  // namespace xcept::cli

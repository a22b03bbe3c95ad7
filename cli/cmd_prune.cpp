// `xcept prune`: structured pruning of a checkpoint into a smaller checkpoint, with
// optional fine-tuning, and a table of what each prunable layer kept.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/train_console.h"
#include "train/prune.h"

namespace xcept::cli {

namespace {

struct PruneCliOptions {
  PruneCheckpointOptions job;
  std::string criterion = "l1";
  double lr = 1e-4;
  bool json = false;
};

void run_prune(PruneCliOptions& o) {
  o.job.criterion = parse_prune_criterion(o.criterion);
  o.job.fine_tune.schedule.base_lr = o.lr;
  ProgressBar bar;
  const PruneReport r = prune_checkpoint(o.job, o.json ? TrainCallbacks{} : console_callbacks(bar));
  if (o.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const PrunedLayer& l : r.layers)
      layers.push_back({{"name", l.name}, {"before", l.before}, {"after", l.after}});
    nlohmann::json j = {{"out", o.job.out},           {"layers", layers},
                        {"params_before", r.params_before}, {"params_after", r.params_after},
                        {"macs_before", r.macs_before},     {"macs_after", r.macs_after}};
    if (!r.fine_tune.empty()) j["fine_tune_test_accuracy"] = r.fine_tune.back().test_accuracy;
    std::puts(j.dump().c_str());
    return;
  }
  fmt::print("{:<36} {:>8} {:>8}\n", "prunable layer", "before", "after");
  for (const PrunedLayer& l : r.layers) fmt::print("{:<36} {:>8} {:>8}\n", l.name, l.before, l.after);
  fmt::print("parameters {} -> {}, MACs per image {} -> {}; wrote {}\n", with_commas(r.params_before),
             with_commas(r.params_after), with_commas(r.macs_before), with_commas(r.macs_after),
             o.job.out);
}

}  // namespace

void add_prune_command(CLI::App& app) {
  auto o = std::make_shared<PruneCliOptions>();
  auto* cmd = app.add_subcommand(
      "prune", "remove whole channels of a checkpoint's network: a smaller checkpoint");
  cmd->add_option("--checkpoint,-c", o->job.checkpoint, "checkpoint to prune")->required();
  cmd->add_option("--ratio,-r", o->job.ratio,
                  "fraction of each prunable layer's output channels to remove, in [0, 1)")
      ->required();
  cmd->add_option("--criterion", o->criterion,
                  "l1 (filter L1 norm) | bn-gamma (|gamma| of the batch norm that follows)")
      ->capture_default_str();
  cmd->add_option("--out,-o", o->job.out, "the pruned checkpoint to write")->required();
  TrainConfig& t = o->job.fine_tune;
  cmd->add_option("--data,-d", t.data_dir, "dataset folder for fine-tuning")->capture_default_str();
  cmd->add_option("--fine-tune-epochs", t.epochs,
                  "train the pruned network this many epochs (in OUT.fine-tune/)")
      ->capture_default_str();
  cmd->add_option("--batch-size,-b", t.batch_size, "fine-tuning batch size")->capture_default_str();
  cmd->add_option("--optimizer", t.optimizer, "fine-tuning optimizer")->capture_default_str();
  cmd->add_option("--lr", o->lr, "fine-tuning learning rate (constant)")->capture_default_str();
  cmd->add_option("--seed", t.seed, "fine-tuning seed")->capture_default_str();
  cmd->add_option("--limit-train", t.limit_train, "fine-tune on the first N images only");
  cmd->add_option("--limit-test", t.limit_test, "evaluate on the first N images only");
  cmd->add_flag("--json", o->json, "print the layers and totals as JSON");
  cmd->callback([o] { run_prune(*o); });
}

}  // namespace xcept::cli

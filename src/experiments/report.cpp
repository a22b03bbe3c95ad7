#include "experiments/report.h"

#include <fmt/format.h>

#include "core/clock.h"

namespace xcept::experiments {

namespace {

std::string pct(double fraction) { return fmt::format("{:.4f}", 100 * fraction); }

// "91.23 ± 0.41" in percent.
std::string pm(const MeanStd& m) { return fmt::format("{:.2f} ± {:.2f}", 100 * m.mean, 100 * m.std); }

// 12.3M, 1.23M, 456.7k, 999: counts short enough for a table.
std::string count_text(int64_t v) {
  if (v >= 10'000'000) return fmt::format("{:.1f}M", double(v) * 1e-6);
  if (v >= 1'000'000) return fmt::format("{:.2f}M", double(v) * 1e-6);
  if (v >= 1'000) return fmt::format("{:.1f}k", double(v) * 1e-3);
  return std::to_string(v);
}

std::string model_of(const ExperimentSpec& spec, const std::string& variant) {
  for (const Variant& v : spec.variants)
    if (v.name == variant) return v.model;
  return "";
}

}  // namespace

std::string results_csv(const std::vector<RunRecord>& runs, const ExperimentSpec& spec) {
  std::string s =
      "variant,model,seed,epochs,final_test_accuracy_pct,best_test_accuracy_pct,best_epoch,"
      "final_test_loss,final_train_loss,train_seconds\n";
  for (const RunRecord& r : runs)
    s += fmt::format("{},{},{},{},{},{},{},{:.6f},{:.6f},{:.2f}\n", r.variant,
                     model_of(spec, r.variant), r.seed, r.epochs.size(), pct(r.final_accuracy),
                     pct(r.best_accuracy), r.best_epoch, r.final_test_loss, r.final_train_loss,
                     r.train_seconds);
  return s;
}

std::string summary_csv(const std::vector<VariantSummary>& summaries) {
  std::string s =
      "variant,model,runs,params,params_trainable,macs,final_acc_mean_pct,final_acc_std_pct,"
      "best_acc_mean_pct,best_acc_std_pct,train_seconds_mean,train_seconds_std,"
      "latency_batch1_ms,latency_batch32_ms,delta_final_pct,delta_final_se_pct,"
      "beyond_two_se\n";
  for (const VariantSummary& v : summaries)
    s += fmt::format("{},{},{},{},{},{},{},{},{},{},{:.2f},{:.2f},{:.4f},{:.4f},{},{},{}\n",
                     v.variant, v.model, v.runs, v.cost.params, v.cost.params_trainable,
                     v.cost.macs, pct(v.final_accuracy.mean), pct(v.final_accuracy.std),
                     pct(v.best_accuracy.mean), pct(v.best_accuracy.std), v.train_seconds.mean,
                     v.train_seconds.std, v.cost.latency_batch1_ms, v.cost.latency_batch32_ms,
                     pct(v.delta_final), pct(v.delta_se), v.beyond_spread ? 1 : 0);
  return s;
}

std::string curves_csv(const std::vector<VariantSummary>& summaries) {
  std::string s =
      "variant,epoch,runs,test_acc_mean_pct,test_acc_std_pct,test_loss_mean,test_loss_std,"
      "train_loss_mean,train_loss_std,train_acc_mean_pct,train_acc_std_pct\n";
  for (const VariantSummary& v : summaries)
    for (const CurvePoint& p : v.curve)
      s += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{},{}\n", v.variant, p.epoch,
                       p.runs, pct(p.test_accuracy.mean), pct(p.test_accuracy.std),
                       p.test_loss.mean, p.test_loss.std, p.train_loss.mean, p.train_loss.std,
                       pct(p.train_accuracy.mean), pct(p.train_accuracy.std));
  return s;
}

std::string report_markdown(const ExperimentSpec& spec, const std::vector<VariantSummary>& summaries,
                            const ReportContext& c) {
  std::string md = fmt::format("# {}\n\n", spec.title.empty() ? spec.name : spec.title);
  md += fmt::format("Experiment `{}`.", spec.name);
  if (!spec.claim.empty()) md += fmt::format(" Claim under test: {}", spec.claim);
  md += "\n\n## Setup\n\n";
  const TrainSettings& t = c.train;
  md += fmt::format(
      "- data: `{}`, {} training and {} test images\n"
      "- training: {} epoch(s), batch {}, {} at lr {} ({} schedule){}{}\n"
      "- {} seed(s) per variant ({}..{}: weights, batch order and dropout), {} thread(s)\n"
      "- this invocation: {} run(s) trained, {} reused from earlier invocations, wall time "
      "{}\n",
      c.data_dir, c.train_images, c.test_images, t.epochs, t.batch_size, t.optimizer, t.lr,
      t.schedule, t.weight_decay > 0 ? fmt::format(", weight decay {}", t.weight_decay) : "",
      t.label_smoothing > 0 ? fmt::format(", label smoothing {}", t.label_smoothing) : "",
      c.repeats, t.seed, t.seed + uint64_t(c.repeats) - 1, c.threads, c.runs_trained,
      c.runs_reused, clock_text(c.wall_seconds));
  if (!c.command.empty()) md += fmt::format("- command: `{}`\n", c.command);

  const std::string ref = spec.variants.at(spec.reference).name;
  md += fmt::format(
      "\n## Results\n\n"
      "Test accuracy in %, mean ± sample standard deviation over the seeds; *final* is after "
      "the last epoch, *best* the highest after any epoch (chosen on the test set, so "
      "optimistic). Δ is the final accuracy's difference from `{}` ± its standard error; "
      "**bold** when |Δ| exceeds two standard errors (a rough test with few seeds). "
      "Latency: median of runs through the inference runtime.\n\n",
      ref);
  md += "| variant | model | params | MACs | final acc | best acc | Δ final | train time/run "
        "| latency b1 | latency b32 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const VariantSummary& v : summaries) {
    std::string delta = v.variant == ref ? "(reference)"
                                         : fmt::format("{:+.2f} ± {:.2f}", 100 * v.delta_final,
                                                       100 * v.delta_se);
    if (v.beyond_spread) delta = "**" + delta + "**";
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {:.2f} ms | {:.1f} ms |\n",
                      v.variant, v.model, count_text(v.cost.params), count_text(v.cost.macs),
                      pm(v.final_accuracy), pm(v.best_accuracy), delta,
                      clock_text(v.train_seconds.mean), v.cost.latency_batch1_ms,
                      v.cost.latency_batch32_ms);
  }
  md += "\nPer run: `results.csv`; per variant: `summary.csv`; per epoch: `curves.csv`.\n";

  md += "\n## Plots\n\n";
  if (c.plots.empty()) md += c.plot_status + "\n";
  for (const std::string& p : c.plots) md += fmt::format("![{}]({})\n\n", p, p);
  return md;
}

}  // namespace xcept::experiments

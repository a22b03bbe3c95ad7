#include "experiments/results.h"

#include <cmath>

#include "core/error.h"
#include "core/stats.h"

namespace xcept::experiments {

RunRecord make_run_record(std::string variant, uint64_t seed, std::vector<EpochResult> epochs) {
  if (epochs.empty()) fail("{} seed {}: no epochs recorded", variant, seed);
  RunRecord r;
  r.variant = std::move(variant);
  r.seed = seed;
  r.best_accuracy = -1;
  for (const EpochResult& e : epochs) {
    r.train_seconds += e.seconds;
    if (e.test_accuracy > r.best_accuracy) r.best_accuracy = e.test_accuracy, r.best_epoch = e.epoch;
  }
  r.final_accuracy = epochs.back().test_accuracy;
  r.final_test_loss = epochs.back().test_loss;
  r.final_train_loss = epochs.back().train_loss;
  r.epochs = std::move(epochs);
  return r;
}

MeanStd mean_std(const std::vector<double>& values) { return {mean(values), sample_std(values)}; }

namespace {

std::vector<CurvePoint> mean_curve(const std::vector<const RunRecord*>& runs) {
  size_t longest = 0;
  for (const RunRecord* r : runs) longest = std::max(longest, r->epochs.size());
  std::vector<CurvePoint> curve;
  for (size_t e = 0; e < longest; ++e) {
    std::vector<double> acc, loss, train_loss, train_acc;
    for (const RunRecord* r : runs) {
      if (e >= r->epochs.size()) continue;
      acc.push_back(r->epochs[e].test_accuracy);
      loss.push_back(r->epochs[e].test_loss);
      train_loss.push_back(r->epochs[e].train_loss);
      train_acc.push_back(r->epochs[e].train_accuracy);
    }
    curve.push_back({int64_t(e) + 1, int(acc.size()), mean_std(acc), mean_std(loss),
                     mean_std(train_loss), mean_std(train_acc)});
  }
  return curve;
}

}  // namespace

std::vector<VariantSummary> summarize_variants(const std::vector<VariantInfo>& variants,
                                               const std::vector<RunRecord>& runs,
                                               size_t reference) {
  std::vector<VariantSummary> out;
  for (size_t v = 0; v < variants.size(); ++v) {
    std::vector<const RunRecord*> mine;
    std::vector<double> final_acc, best_acc, seconds;
    for (const RunRecord& r : runs) {
      if (r.variant != variants[v].name) continue;
      mine.push_back(&r);
      final_acc.push_back(r.final_accuracy);
      best_acc.push_back(r.best_accuracy);
      seconds.push_back(r.train_seconds);
    }
    if (mine.empty()) continue;
    VariantSummary s;
    s.variant = variants[v].name;
    s.model = variants[v].model;
    s.runs = int(mine.size());
    s.final_accuracy = mean_std(final_acc);
    s.best_accuracy = mean_std(best_acc);
    s.train_seconds = mean_std(seconds);
    s.cost = variants[v].cost;
    s.curve = mean_curve(mine);
    out.push_back(std::move(s));
  }
  const VariantSummary* ref = nullptr;
  for (const VariantSummary& s : out)
    if (reference < variants.size() && s.variant == variants[reference].name) ref = &s;
  if (!ref) return out;
  for (VariantSummary& s : out) {
    s.delta_final = s.final_accuracy.mean - ref->final_accuracy.mean;
    s.delta_se = std::sqrt(s.final_accuracy.std * s.final_accuracy.std / s.runs +
                           ref->final_accuracy.std * ref->final_accuracy.std / ref->runs);
    s.beyond_spread = &s != ref && s.runs >= 2 && ref->runs >= 2 &&
                      std::fabs(s.delta_final) > 2 * s.delta_se;
  }
  return out;
}

}  // namespace xcept::experiments

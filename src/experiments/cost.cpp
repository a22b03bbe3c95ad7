#include "experiments/cost.h"

#include <random>

#include "analysis/model_summary.h"
#include "core/clock.h"
#include "core/stats.h"
#include "runtime/executor.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"

namespace xcept::experiments {

double measure_latency_ms(Graph& graph, int64_t batch, int timed_runs, int warmup) {
  Program program = lower_graph(graph, batch);
  optimize(program);
  Executor ex(std::move(program));
  Tensor x(ex.program().value(ex.program().inputs().at(0)).dims);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = u(rng);
  for (int i = 0; i < warmup; ++i) ex.run({&x});
  std::vector<double> ms;
  for (int i = 0; i < std::max(timed_runs, 1); ++i) {
    const auto t0 = Clock::now();
    ex.run({&x});
    ms.push_back(ms_since(t0));
  }
  return median(ms);
}

VariantCost measure_cost(Graph& graph, int timed_runs) {
  const ModelSummary s = summarize(graph);
  VariantCost c;
  c.params = s.params_total;
  c.params_trainable = s.params_trainable;
  c.macs = s.macs;
  c.latency_batch1_ms = measure_latency_ms(graph, 1, timed_runs);
  c.latency_batch32_ms = measure_latency_ms(graph, 32, std::max(1, timed_runs / 3));
  return c;
}

}  // namespace xcept::experiments

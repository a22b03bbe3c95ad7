#include "experiments/cost.h"

#include <algorithm>

#include "analysis/model_summary.h"
#include "runtime/executor.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "runtime/profile.h"

namespace xcept::experiments {

double measure_latency_ms(Graph& graph, int64_t batch, int timed_runs, int warmup) {
  Program program = lower_graph(graph, batch);
  optimize(program);
  Executor ex(std::move(program));
  const std::vector<Tensor> xs = random_inputs(ex.program());
  std::vector<const Tensor*> inputs;
  for (const Tensor& x : xs) inputs.push_back(&x);
  return time_program(ex, inputs, warmup, std::max(timed_runs, 1)).median_ms;
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

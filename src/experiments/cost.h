// What one variant costs: parameters and MACs counted on its graph (analysis/), and
// inference latency measured through the runtime as `xcept bench` runs it (lower_graph,
// optimize, Executor; timed by runtime/profile on its random inputs): the median of timed
// runs after warm-up, at batch 1 and 32.
#pragma once

#include "autograd/graph.h"
#include "experiments/results.h"

namespace xcept::experiments {

// `timed_runs` per batch size (at least 1), after 2 warm-up runs. Uses the process's
// thread count (set_num_threads).
VariantCost measure_cost(Graph& graph, int timed_runs);

// Median milliseconds of running `graph` compiled for `batch` images.
double measure_latency_ms(Graph& graph, int64_t batch, int timed_runs, int warmup = 2);

}  // namespace xcept::experiments

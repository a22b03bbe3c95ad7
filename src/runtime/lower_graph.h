// An xcept Graph as an inference Program for a given batch size: every layer becomes
// the runtime op(s) computing its inference-mode forward (dropout is dropped, batch norm
// uses its moving statistics). The program's one input is [batch, h, w, c] NHWC, its one
// output the graph output. Unoptimized: call optimize() after.
#pragma once

#include "autograd/graph.h"
#include "runtime/program.h"

namespace xcept {

// Non-const: layers hand out their weights through non-const accessors; the graph is
// not changed (weights are copied into the ops).
Program lower_graph(Graph& graph, int64_t batch);

}  // namespace xcept

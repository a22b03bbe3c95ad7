// Per-layer cost of a network: output shape, parameters, MACs, activation bytes.
// Parameters count every tensor a layer holds, batch-norm moving mean and variance
// included (as Keras' "Total params"); trainable ones exclude them. MACs and activation
// bytes are per image.
#pragma once

#include <string>
#include <vector>

#include "autograd/graph.h"
#include "xcept/summary.h"  // LayerSummary, ModelSummary

namespace xcept {

ModelSummary summarize(Graph& graph);

// Appends a layer and adds it to the totals (every summarizer builds summaries this way).
void add_layer(ModelSummary& s, LayerSummary layer);

}  // namespace xcept

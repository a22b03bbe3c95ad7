#include "analysis/model_summary.h"

namespace xcept {

static int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

ModelSummary summarize(Graph& graph) {
  ModelSummary s;
  s.model = graph.name();
  for (NodeId id = 0; id < graph.num_nodes(); ++id) {
    Layer* layer = graph.layer(id);
    if (!layer) {
      s.input = graph.node_dims(id);
      continue;
    }
    LayerSummary l;
    l.name = layer->name();
    l.type = layer->type();
    l.output = graph.node_dims(id);
    for (const ParamRef& p : layer->params()) {
      l.params += p.value->numel();
      if (p.trainable()) l.params_trainable += p.value->numel();
    }
    l.macs = layer->macs();
    l.activation_bytes = numel(l.output) * int64_t(sizeof(float));
    add_layer(s, std::move(l));
  }
  return s;
}

void add_layer(ModelSummary& s, LayerSummary l) {
  s.params_total += l.params;
  s.params_trainable += l.params_trainable;
  s.macs += l.macs;
  s.activation_bytes += l.activation_bytes;
  s.layers.push_back(std::move(l));
}

}  // namespace xcept

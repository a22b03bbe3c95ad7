// summarize() for every kind of model, and the convolution family's costs.
#include "analysis/conv_cost.h"
#include "analysis/model_summary.h"
#include "api/model_source.h"
#include "api/network_impl.h"
#include "core/error.h"
#include "layers/layer_checks.h"  // dims_numel
#include "xcept/summary.h"

namespace xcept {

namespace {

Dims without_batch(const Dims& d) { return d.empty() ? d : Dims(d.begin() + 1, d.end()); }

// An ONNX file per node: the float initializers it reads, what its steps compute, the
// dims ONNX gives its output; batch 1, so the MACs are per image.
ModelSummary summarize_onnx(const ModelSource& source) {
  std::vector<OnnxNodeReport> nodes;
  const Program p = source.program(1, &nodes);
  ModelSummary s;
  s.model = source.name;
  s.input = without_batch(source.input_dims(1).at(0));
  for (const OnnxNodeReport& n : nodes) {
    if (n.folded) continue;  // import-time arithmetic (Shape, Constant, Cast...), not a layer
    LayerSummary l;
    l.name = n.name;
    l.type = n.op_type;
    l.output = without_batch(n.output);
    l.params = n.params;
    l.params_trainable = n.params_trainable;
    for (size_t k = n.first_step; k < n.end_step; ++k) l.macs += p.steps()[k].op->macs();
    l.activation_bytes = dims_numel(l.output) * int64_t(sizeof(float));
    add_layer(s, std::move(l));
  }
  return s;
}

}  // namespace

ModelSummary summarize(const std::string& name_or_path, const ZooOptions& zoo,
                       const std::vector<Dims>& onnx_input_dims) {
  const ModelSource source = load_model_source(name_or_path, zoo, onnx_input_dims);
  if (source.onnx) return summarize_onnx(source);
  ModelSummary s = summarize(*source.graph);
  if (source.kind == SourceKind::checkpoint) s.model = source.name;
  return s;
}

ModelSummary summarize(Network& network) { return summarize(*network.impl().graph); }

std::vector<ConvTypeCost> conv_family_costs(const ConvQuery& q) {
  FamilyQuery f;
  f.h = q.height, f.w = q.width, f.c = q.channels, f.m = q.filters, f.k = q.kernel;
  f.groups = q.groups, f.stride = q.stride, f.multiplier = q.multiplier, f.bias = q.bias;
  if (q.padding == "same") f.padding = Padding::same();
  else if (q.padding == "valid") f.padding = Padding::valid();
  else fail("padding must be 'same' or 'valid', got '{}'", q.padding);
  std::vector<ConvTypeCost> r;
  const std::vector<FamilyRow> rows = convolution_family_costs(f);
  for (const FamilyRow& row : rows)
    r.push_back({row.type, row.formula, {row.ho, row.wo, row.out_channels}, row.cost.params,
                 row.cost.macs, double(row.cost.macs) / double(rows[0].cost.macs)});
  return r;
}

}  // namespace xcept

#include "train/prune.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>

#include "analysis/model_summary.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "train/checkpoint_model.h"
#include "train/model_config.h"

namespace xcept {

PruneCriterion parse_prune_criterion(const std::string& s) {
  if (s == "l1") return PruneCriterion::l1;
  if (s == "bn-gamma") return PruneCriterion::bn_gamma;
  fail("unknown pruning criterion '{}' (known: l1, bn-gamma)", s);
}

const char* prune_criterion_name(PruneCriterion c) {
  return c == PruneCriterion::l1 ? "l1" : "bn-gamma";
}

namespace {

using Indices = std::vector<int64_t>;  // kept channels, ascending; empty: all of them

bool is_depthwise(Conv2dLayer& c) {
  const Conv2d& conv = c.conv();
  return conv.config.groups > 1 && conv.config.groups == conv.in_channels;
}

// A layer that passes channel k of its input on as channel k of its output (a flatten
// does when its input is a vector or 1x1 map: global pooling's output).
bool passes_channels(Graph& g, NodeId n) {
  Layer* l = g.layer(n);
  if (auto* c = dynamic_cast<Conv2dLayer*>(l))
    return is_depthwise(*c) && c->conv().config.out_channels == c->conv().in_channels;
  if (dynamic_cast<Flatten*>(l)) {
    const Dims& in = g.node_dims(g.node_inputs(n).at(0));
    return in.size() == 1 || (in.size() == 3 && in[0] == 1 && in[1] == 1);
  }
  return dynamic_cast<BatchNorm*>(l) || dynamic_cast<ActivationLayer*>(l) ||
         dynamic_cast<Dropout*>(l) || dynamic_cast<Pool2D*>(l) ||
         dynamic_cast<GlobalAvgPool2D*>(l);
}

// A layer whose input channels can be dropped (their weight rows go with them).
bool reads_prunable(Layer* l) {
  if (auto* c = dynamic_cast<Conv2dLayer*>(l)) return c->conv().config.groups == 1;
  if (auto* s = dynamic_cast<SeparableConv2dLayer*>(l))
    return s->separable().options.depth_multiplier == 1;
  return dynamic_cast<Dense*>(l) != nullptr;
}

// The weight tensor whose last axis makes the layer's output channels (for the L1 score);
// null for layers whose output channels cannot be chosen one by one (grouped and
// depthwise convolutions). A separable convolution's are its pointwise step's (a
// pointwise-first one has multiplier 1).
const Tensor* output_filters(Layer* l) {
  if (auto* c = dynamic_cast<Conv2dLayer*>(l))
    return c->conv().config.groups == 1 ? &c->conv().weight : nullptr;
  if (auto* s = dynamic_cast<SeparableConv2dLayer*>(l)) return &s->separable().pointwise.weight;
  if (auto* d = dynamic_cast<Dense*>(l)) return &d->weight;
  return nullptr;
}

// The per-channel layers after `producer`, when every path from it ends in a layer that
// can drop input channels; nullopt otherwise.
std::optional<ChannelGroup> trace(Graph& g, NodeId producer,
                                  const std::vector<std::vector<NodeId>>& readers) {
  ChannelGroup c{producer, {}};
  std::vector<NodeId> todo = {producer};
  while (!todo.empty()) {
    const NodeId v = todo.back();
    todo.pop_back();
    if (v == g.output() || readers[size_t(v)].empty()) return std::nullopt;
    for (NodeId r : readers[size_t(v)]) {
      if (passes_channels(g, r)) {
        c.members.push_back(r);
        todo.push_back(r);
      } else if (!reads_prunable(g.layer(r)) || g.node_inputs(r).size() != 1) {
        return std::nullopt;
      }
    }
  }
  return c;
}

std::vector<double> scores(Graph& g, const ChannelGroup& c, PruneCriterion criterion) {
  if (criterion == PruneCriterion::bn_gamma)
    for (NodeId m : c.members)
      if (auto* bn = dynamic_cast<BatchNorm*>(g.layer(m)); bn && g.node_inputs(m)[0] == c.producer) {
        std::vector<double> s(static_cast<size_t>(bn->channels()));
        for (size_t k = 0; k < s.size(); ++k) s[k] = std::fabs(bn->gamma[int64_t(k)]);
        return s;
      }
  const Tensor& w = *output_filters(g.layer(c.producer));
  const int64_t m = w.dims().back(), rows = w.numel() / m;
  std::vector<double> s(static_cast<size_t>(m), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < m; ++k) s[size_t(k)] += std::fabs(w[r * m + k]);
  return s;
}

Indices keep_best(const std::vector<double>& score, double ratio) {
  const int64_t n = int64_t(score.size());
  const int64_t keep = std::max<int64_t>(1, n - int64_t(std::floor(ratio * double(n))));
  Indices order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // Highest scores first; on ties the earlier channel stays.
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
  order.resize(size_t(keep));
  std::sort(order.begin(), order.end());
  return order;
}

// dst = src gathered along each axis by its index list (null: every index).
using AxisMaps = std::array<const Indices*, 4>;
void gather(const Tensor& src, Tensor& dst, const AxisMaps& maps, const std::string& name) {
  const int64_t rank = int64_t(src.rank());
  if (rank > 4 || int64_t(dst.rank()) != rank)
    fail("{}: cannot copy {} into {}", name, dims_to_string(src.dims()), dims_to_string(dst.dims()));
  std::array<int64_t, 4> sd{1, 1, 1, 1}, dd{1, 1, 1, 1};
  for (int64_t a = 0; a < rank; ++a) {
    sd[size_t(4 - rank + a)] = src.dim(a);
    dd[size_t(4 - rank + a)] = dst.dim(a);
  }
  std::array<const Indices*, 4> m{};
  for (int64_t a = 0; a < rank; ++a) {
    const Indices* ix = maps[size_t(a)] && !maps[size_t(a)]->empty() ? maps[size_t(a)] : nullptr;
    m[size_t(4 - rank + a)] = ix;
    const int64_t want = ix ? int64_t(ix->size()) : src.dim(a);
    if (dst.dim(a) != want)
      fail("{}: pruned to {} but kept {} of axis {} of {}", name, dims_to_string(dst.dims()), want,
           a, dims_to_string(src.dims()));
  }
  auto at = [&](size_t axis, int64_t i) { return m[axis] ? (*m[axis])[size_t(i)] : i; };
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < dd[0]; ++i0)
    for (int64_t i1 = 0; i1 < dd[1]; ++i1)
      for (int64_t i2 = 0; i2 < dd[2]; ++i2)
        for (int64_t i3 = 0; i3 < dd[3]; ++i3)
          dst[o++] = src[((at(0, i0) * sd[1] + at(1, i1)) * sd[2] + at(2, i2)) * sd[3] + at(3, i3)];
}

// A convolution's weight [kh][kw][c/g][m] keeps input rows `rows` and output columns
// `cols`; its bias, if any, `cols`.
std::vector<AxisMaps> conv_axes(const Conv2d& c, const Indices* rows, const Indices* cols) {
  std::vector<AxisMaps> r = {{nullptr, nullptr, rows, cols}};
  if (c.has_bias) r.push_back({cols, nullptr, nullptr, nullptr});
  return r;
}

// For each parameter of `l` (in params() order), which axes lose channels: input
// channels by `in`, output channels by `out`.
std::vector<AxisMaps> param_axes(Layer* l, const Indices* in, const Indices* out) {
  if (auto* c = dynamic_cast<Conv2dLayer*>(l))  // a depthwise one has no input rows to drop
    return conv_axes(c->conv(), is_depthwise(*c) ? nullptr : in, out);
  if (auto* s = dynamic_cast<SeparableConv2dLayer*>(l)) {
    SeparableConv2d& sep = s->separable();
    // The depthwise step's channels: depthwise first, the input's (multiplier 1 when the
    // input lost channels: reads_prunable); pointwise first, the output's.
    const bool dw_first = sep.options.order == SeparableOrder::depthwise_pointwise;
    std::vector<AxisMaps> dw = conv_axes(sep.depthwise, nullptr, dw_first ? in : out);
    std::vector<AxisMaps> pw = conv_axes(sep.pointwise, in, out);
    std::vector<AxisMaps>& first = dw_first ? dw : pw;
    const std::vector<AxisMaps>& second = dw_first ? pw : dw;
    first.insert(first.end(), second.begin(), second.end());
    return first;
  }
  if (auto* d = dynamic_cast<Dense*>(l)) {  // [N][M], [M]
    std::vector<AxisMaps> r = {{in, out, nullptr, nullptr}};
    if (!d->bias.empty()) r.push_back({out, nullptr, nullptr, nullptr});
    return r;
  }
  if (auto* bn = dynamic_cast<BatchNorm*>(l))  // gamma, beta and the statistics: all [C]
    return std::vector<AxisMaps>(bn->params().size(), {out, nullptr, nullptr, nullptr});
  return {};
}

}  // namespace

std::vector<ChannelGroup> prunable_channels(Graph& g) {
  const int nodes = g.num_nodes();
  std::vector<std::vector<NodeId>> readers(static_cast<size_t>(nodes));
  for (NodeId n = 0; n < nodes; ++n)
    for (NodeId i : g.node_inputs(n)) readers[size_t(i)].push_back(n);
  std::vector<ChannelGroup> groups;
  for (NodeId n = 0; n < nodes; ++n)
    if (Layer* l = g.layer(n); l && output_filters(l))
      if (std::optional<ChannelGroup> c = trace(g, n, readers)) groups.push_back(std::move(*c));
  return groups;
}

PruneResult prune_channels(Graph& g, const std::string& model, const models::ModelOptions& options,
                           double ratio, PruneCriterion criterion) {
  if (!(ratio >= 0 && ratio < 1)) fail("pruning ratio must be in [0, 1), got {}", ratio);
  const int nodes = g.num_nodes();
  std::vector<Indices> kept(static_cast<size_t>(nodes));  // per node, of its output
  models::ModelOptions pruned = options;
  std::vector<PrunedLayer> layers;
  const std::vector<ChannelGroup> groups = prunable_channels(g);
  if (groups.empty() && ratio > 0)
    fail("{}: no layer has channels that can be removed (each one's output reaches a sum, "
         "a concatenation, a grouped convolution or the output)", model);
  for (const ChannelGroup& c : groups) {
    const Indices& k = kept[size_t(c.producer)] = keep_best(scores(g, c, criterion), ratio);
    for (NodeId m : c.members) kept[size_t(m)] = k;
    const std::string& name = g.layer(c.producer)->name();
    const int64_t before = g.node_dims(c.producer).back(), after = int64_t(k.size());
    layers.push_back({name, before, after});
    if (after != before) pruned.widths[name] = after;
  }

  // The same architecture with the new widths, then the kept slices of every parameter.
  Graph out = models::build_model(model, pruned);
  if (out.num_nodes() != nodes) fail("{}: the pruned network has another structure", model);
  for (NodeId n = 0; n < nodes; ++n) {
    Layer* old_layer = g.layer(n);
    if (!old_layer) continue;
    if (out.node_name(n) != g.node_name(n))
      fail("{}: node {} is {} before pruning, {} after", model, n, g.node_name(n),
           out.node_name(n));
    const Indices* in = &kept[size_t(g.node_inputs(n).at(0))];
    const std::vector<AxisMaps> axes = param_axes(old_layer, in, &kept[size_t(n)]);
    ParamList from = old_layer->params(), to = out.layer(n)->params();
    if (from.size() != to.size() || (!axes.empty() && axes.size() != from.size()))
      fail("{}: {} parameters before pruning, {} after", old_layer->name(), from.size(), to.size());
    for (size_t p = 0; p < from.size(); ++p)
      gather(*from[p].value, *to[p].value, axes.empty() ? AxisMaps{} : axes[p], to[p].name);
  }
  return {std::move(pruned), std::move(out), std::move(layers)};
}

PruneReport prune_checkpoint(const PruneCheckpointOptions& o, const TrainCallbacks& cb) {
  if (o.out.empty()) fail("prune: no output file given");
  CheckpointModel source = load_checkpoint_model(o.checkpoint);
  const models::ModelOptions options = model_options_from_json(source.meta.model_config);
  PruneResult pruned =
      prune_channels(source.graph, source.meta.model, options, o.ratio, o.criterion);
  PruneReport report;
  report.layers = pruned.layers;
  const ModelSummary before = summarize(source.graph), after = summarize(pruned.graph);
  report.params_before = before.params_total, report.params_after = after.params_total;
  report.macs_before = before.macs, report.macs_after = after.macs;

  CheckpointMeta meta = source.meta;
  meta.model_config = model_options_to_json(pruned.options);
  meta.extra.erase("batch");  // a new model, no position in a run
  meta.extra.erase("epoch_sums");
  meta.extra["pruned"] = {{"source", o.checkpoint},
                          {"ratio", o.ratio},
                          {"criterion", prune_criterion_name(o.criterion)},
                          {"params_before", report.params_before}};
  if (o.fine_tune.epochs <= 0) {
    write_checkpoint(o.out, meta, pruned.graph.params(), {});  // no optimizer state
    return report;
  }

  // Fine-tuning starts from the pruned weights, saved in the run's folder; `out` is
  // written once, at the end.
  TrainConfig t = o.fine_tune;
  t.model = source.meta.model;
  t.model_options = pruned.options;
  t.out_dir = o.out + ".fine-tune";
  t.init_from = t.out_dir + "/pruned.ckpt";
  t.resume = false;
  std::error_code ec;
  std::filesystem::create_directories(t.out_dir, ec);
  if (ec) fail("cannot create the fine-tuning folder {}: {}", t.out_dir, ec.message());
  write_checkpoint(t.init_from, meta, pruned.graph.params(), {});
  report.fine_tune = train(t, cb).epochs;
  Checkpoint tuned = read_checkpoint(t.out_dir + "/last.ckpt");
  tuned.meta.extra["pruned"] = meta.extra["pruned"];
  tuned.meta.extra["pruned"]["fine_tune_epochs"] = t.epochs;
  write_checkpoint(o.out, tuned);
  return report;
}

}  // namespace xcept

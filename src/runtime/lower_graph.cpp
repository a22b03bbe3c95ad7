// Lowering: one switch over the layer types of src/layers, each becoming the op(s) that
// compute its inference forward. Weights are copied, so the graph may keep training.
#include "runtime/lower_graph.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "runtime/ops/channel_shuffle_op.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/tensor_ops.h"

namespace xcept {

namespace {

Dims with_batch(int64_t batch, const Dims& per_image) {
  Dims d{batch};
  d.insert(d.end(), per_image.begin(), per_image.end());
  return d;
}

std::unique_ptr<Conv2dOp> conv_op(const std::string& name, int64_t batch, const Dims& in,
                                  const Conv2d& conv, Act act) {
  if (in.size() != 3) fail("{}: convolution input must be HxWxC, got {}", name, dims_to_string(in));
  const ConvShape s = make_conv_shape(name, batch, in[0], in[1], in[2], conv.config);
  return std::make_unique<Conv2dOp>(s, conv.weight, conv.has_bias ? conv.bias : Tensor(), act);
}

}  // namespace

Program lower_graph(Graph& g, int64_t batch) {
  if (batch <= 0) fail("{}: batch must be positive, got {}", g.name(), batch);
  Program p;
  const NodeId last = g.output();
  std::vector<ValueId> value(static_cast<size_t>(g.num_nodes()), -1);
  for (NodeId node = 0; node <= last; ++node) {
    const std::string& name = g.node_name(node);
    Layer* layer = g.layer(node);
    if (!layer) {
      value[size_t(node)] = p.add_input(name, with_batch(batch, g.node_dims(node)));
      continue;
    }
    std::vector<ValueId> in;
    for (NodeId i : g.node_inputs(node)) in.push_back(value.at(size_t(i)));
    const Dims& in_dims = g.node_dims(g.node_inputs(node).at(0));
    ValueId out = -1;
    if (auto* c = dynamic_cast<Conv2dLayer*>(layer)) {
      out = p.add_step(name, conv_op(name, batch, in_dims, c->conv(), Act::none()), in);
    } else if (auto* sc = dynamic_cast<SeparableConv2dLayer*>(layer)) {
      // Two convolutions; the mid activation rides on the first one's output.
      SeparableConv2d& sep = sc->separable();
      const Act mid = sep.options.mid_activation;
      const Conv2d& first = sep.first_step();
      const Conv2d& second = sep.second_step();
      const ValueId m = p.add_step(first.name, conv_op(first.name, batch, in_dims, first, mid), in);
      const Dims& mid_dims = p.value(m).dims;
      out = p.add_step(name, conv_op(name, batch, {mid_dims[1], mid_dims[2], mid_dims[3]}, second,
                                     Act::none()),
                       {m});
    } else if (auto* bn = dynamic_cast<BatchNorm*>(layer)) {
      out = p.add_step(name,
                       make_batch_norm_op(bn->gamma, bn->beta, bn->moving_mean,
                                          bn->moving_variance, bn->options().epsilon),
                       in);
    } else if (auto* a = dynamic_cast<ActivationLayer*>(layer)) {
      if (a->act().is_none())
        out = in.at(0);
      else
        out = p.add_step(name, std::make_unique<ActivationOp>(a->act()), in);
    } else if (dynamic_cast<Dropout*>(layer)) {
      out = in.at(0);  // the identity at inference
    } else if (auto* mp = dynamic_cast<MaxPool2D*>(layer)) {
      out = p.add_step(name,
                       std::make_unique<Pool2dOp>(PoolMode::max,
                                                  mp->window_shape(batch)),
                       in);
    } else if (auto* ap = dynamic_cast<AvgPool2D*>(layer)) {
      out = p.add_step(name,
                       std::make_unique<Pool2dOp>(PoolMode::avg_exclude_pad,
                                                  ap->window_shape(batch)),
                       in);
    } else if (dynamic_cast<GlobalAvgPool2D*>(layer)) {
      out = p.add_step(name, std::make_unique<GlobalAvgPoolOp>(false), in);
    } else if (auto* d = dynamic_cast<Dense*>(layer)) {
      out = p.add_step(name, std::make_unique<DenseOp>(d->weight, d->bias), in);
    } else if (dynamic_cast<Add*>(layer)) {
      // n inputs: a chain of binary additions, the last one named after the layer.
      out = in.at(0);
      for (size_t k = 1; k < in.size(); ++k)
        out = p.add_step(k + 1 == in.size() ? name : name + "." + std::to_string(k),
                         std::make_unique<BinaryOp>(BinaryKind::add), {out, in[k]});
    } else if (dynamic_cast<Concat*>(layer)) {
      out = p.add_step(name, std::make_unique<ConcatOp>(-1), in);
    } else if (dynamic_cast<Flatten*>(layer)) {
      // NHWC rows are already in Flatten's order: a reshape, free when run in place.
      out = p.add_step(name, std::make_unique<ReshapeOp>(with_batch(batch, g.node_dims(node))),
                       in);
    } else if (auto* cs = dynamic_cast<ChannelShuffle*>(layer)) {
      out = p.add_step(name, std::make_unique<ChannelShuffleOp>(cs->groups()), in);
    } else if (auto* sl = dynamic_cast<ChannelSlice*>(layer)) {
      const Dims out_dims = with_batch(batch, g.node_dims(node));
      std::vector<int64_t> starts(out_dims.size(), 0), steps(out_dims.size(), 1);
      starts.back() = sl->begin();
      out = p.add_step(name, std::make_unique<SliceOp>(starts, steps, out_dims), in);
    } else {
      fail("{}: layer type {} has no inference lowering", name, layer->type());
    }
    if (p.value(out).dims != with_batch(batch, g.node_dims(node)))
      fail("{}: lowered to {}, the graph says {}", name, dims_to_string(p.value(out).dims),
           dims_to_string(with_batch(batch, g.node_dims(node))));
    value[size_t(node)] = out;
  }
  p.mark_output(value[size_t(last)]);
  return p;
}

}  // namespace xcept

#include "models/widths.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"

namespace xcept::models {

namespace {

// The layer `l`, rebuilt to read `in_channels` channels; `width` (0: keep) replaces its
// output channels. `resized` tells whether its input differs from the original's.
std::unique_ptr<Layer> copy_layer(Layer& l, int64_t in_channels, bool resized, int64_t width) {
  const std::string& name = l.name();
  auto keep_or = [&](int64_t original) { return width > 0 ? width : original; };
  if (auto* c = dynamic_cast<Conv2dLayer*>(&l)) {
    const Conv2d& conv = c->conv();
    ConvParams p = conv.config;
    const bool depthwise = p.groups > 1 && p.groups == conv.in_channels;
    if (depthwise) {
      if (width > 0) fail("{}: a depthwise convolution follows its input; it has no width to set", name);
      p.out_channels = p.out_channels / conv.in_channels * in_channels;
      p.groups = in_channels;
    } else {
      if (p.groups > 1 && (resized || width > 0))
        fail("{}: a grouped convolution ({} groups) cannot change its channels", name, p.groups);
      p.out_channels = keep_or(p.out_channels);
    }
    return std::make_unique<Conv2dLayer>(name, p, conv.has_bias);
  }
  if (auto* s = dynamic_cast<SeparableConv2dLayer*>(&l)) {
    SeparableConv2dOptions o = s->separable().options;
    o.out_channels = keep_or(o.out_channels);
    return std::make_unique<SeparableConv2dLayer>(name, o);
  }
  if (auto* d = dynamic_cast<Dense*>(&l))
    return std::make_unique<Dense>(name, keep_or(d->units()), !d->bias.empty());
  if (width > 0) fail("{}: a {} layer has no output channels to set", name, l.type());
  if (auto* bn = dynamic_cast<BatchNorm*>(&l)) return std::make_unique<BatchNorm>(name, bn->options());
  if (auto* a = dynamic_cast<ActivationLayer*>(&l))
    return std::make_unique<ActivationLayer>(name, a->act());
  if (auto* d = dynamic_cast<Dropout*>(&l)) return std::make_unique<Dropout>(name, d->rate(), 0);
  if (auto* p = dynamic_cast<MaxPool2D*>(&l)) return std::make_unique<MaxPool2D>(name, p->window());
  if (auto* p = dynamic_cast<AvgPool2D*>(&l)) return std::make_unique<AvgPool2D>(name, p->window());
  if (dynamic_cast<GlobalAvgPool2D*>(&l)) return std::make_unique<GlobalAvgPool2D>(name);
  if (dynamic_cast<Add*>(&l)) return std::make_unique<Add>(name);
  if (dynamic_cast<Concat*>(&l)) return std::make_unique<Concat>(name);
  if (dynamic_cast<Flatten*>(&l)) return std::make_unique<Flatten>(name);
  if (auto* s = dynamic_cast<ChannelShuffle*>(&l))
    return std::make_unique<ChannelShuffle>(name, s->groups());
  if (auto* s = dynamic_cast<ChannelSlice*>(&l)) {
    if (resized) fail("{}: a channel slice cannot follow a resized input", name);
    return std::make_unique<ChannelSlice>(name, s->begin(), s->count());
  }
  fail("{}: layer type {} cannot be rebuilt with other widths", name, l.type());
}

}  // namespace

Graph with_widths(Graph& g, const std::map<std::string, int64_t>& widths, uint64_t seed) {
  std::map<std::string, int64_t> unused = widths;
  Graph out(g.name(), seed);
  for (NodeId n = 0; n < g.num_nodes(); ++n) {
    Layer* l = g.layer(n);
    if (!l) {
      out.input(g.node_dims(n), g.node_name(n));
      continue;
    }
    const std::vector<NodeId>& in = g.node_inputs(n);
    bool resized = false;
    for (NodeId i : in) resized |= out.node_dims(i) != g.node_dims(i);
    int64_t width = 0;
    if (auto it = unused.find(l->name()); it != unused.end()) {
      width = it->second;
      // Only narrower: a width from a file can then never ask for a huge layer.
      const int64_t designed = g.node_dims(n).back();
      if (width <= 0 || width > designed)
        fail("{}: width {} is not in [1, {}] (the architecture's)", l->name(), width, designed);
      unused.erase(it);
    }
    out.add(copy_layer(*l, out.node_dims(in.at(0)).back(), resized, width), in);
  }
  if (!unused.empty())
    fail("{}: no layer named '{}' to set the width of", g.name(), unused.begin()->first);
  out.set_output(g.output());
  return out;
}

}  // namespace xcept::models

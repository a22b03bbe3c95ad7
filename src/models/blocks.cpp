#include "models/blocks.h"

#include <algorithm>

#include "layers/activation.h"
#include "layers/conv_layers.h"

namespace xcept::models {

int64_t scale_channels(int64_t filters, double alpha) {
  return std::max<int64_t>(1, int64_t(double(filters) * alpha));
}

NodeId batch_norm(Graph& g, NodeId x, const std::string& name) {
  return g.add<BatchNorm>({x}, name);
}

NodeId activation(Graph& g, NodeId x, const std::string& name, Act act) {
  if (act == Act::none()) return x;
  return g.add<ActivationLayer>({x}, name, act);
}

NodeId conv_bn_act(Graph& g, NodeId x, const std::string& name, const ConvParams& conv,
                   Act act, const std::string& bn_name, const std::string& act_name) {
  x = g.add<Conv2dLayer>({x}, name, conv, false);
  x = batch_norm(g, x, bn_name);
  return activation(g, x, act_name, act);
}

NodeId sepconv(Graph& g, NodeId x, const std::string& name, int64_t filters,
               const SeparableStyle& style, int64_t stride) {
  if (!style.separable)
    return g.add<Conv2dLayer>({x}, name, conv_params(filters, 3, stride, Padding::same()), false);
  SeparableConv2dOptions o;
  o.out_channels = filters;
  o.window = ConvWindow::square(3, stride, Padding::same());
  o.order = style.order;
  o.mid_activation = style.mid_activation;
  o.has_bias = false;
  return g.add<SeparableConv2dLayer>({x}, name, o);
}

}  // namespace xcept::models

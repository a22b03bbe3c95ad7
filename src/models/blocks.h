// Building blocks the models share: a convolution with its batch norm and activation,
// separable convolutions, and Keras-style names for each node.
#pragma once

#include <string>

#include "autograd/graph.h"
#include "kernels/activation_f32.h"
#include "layers/batch_norm.h"
#include "layers/separable_conv2d.h"

namespace xcept::models {

// int(filters * alpha), as Keras applies MobileNet's width multiplier; never below 1.
int64_t scale_channels(int64_t filters, double alpha);


// Conv (no bias) -> BatchNorm "<bn_name>" -> activation "<act_name>" (skipped for none).
NodeId conv_bn_act(Graph& g, NodeId x, const std::string& name, const ConvParams& conv,
                   Act act, const std::string& bn_name, const std::string& act_name);

NodeId batch_norm(Graph& g, NodeId x, const std::string& name);
NodeId activation(Graph& g, NodeId x, const std::string& name, Act act);

// What every separable convolution of one model shares.
struct SeparableStyle {
  SeparableOrder order = SeparableOrder::depthwise_pointwise;
  Act mid_activation = Act::none();
  bool separable = true;  // false: a full 3x3 convolution instead (ModelOptions::separable)
};

// 3x3 'same' separable convolution without bias, as Xception uses it (or, in a model
// built with separable = false, a full 3x3 convolution of the same name and filters).
NodeId sepconv(Graph& g, NodeId x, const std::string& name, int64_t filters,
               const SeparableStyle& style, int64_t stride = 1);

}  // namespace xcept::models

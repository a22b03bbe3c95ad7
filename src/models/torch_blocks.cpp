#include "models/torch_blocks.h"

#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pooling.h"
#include "models/blocks.h"

namespace xcept::models {

ZooInput zoo_input(const ModelOptions& o, bool mini) {
  return {o.input_size ? o.input_size : (mini ? 28 : 224),
          o.input_channels ? o.input_channels : (mini ? 1 : 3),
          o.classes ? o.classes : (mini ? 10 : 1000)};
}

ConvParams torch_conv(int64_t filters, int64_t kernel, int64_t stride, int64_t pad,
                      int64_t groups) {
  return conv_params(filters, kernel, stride, Padding::explicit_(pad, pad, pad, pad), groups);
}

NodeId torch_batch_norm(Graph& g, NodeId x, const std::string& name) {
  BatchNormOptions bn;
  bn.momentum = 0.9f;
  bn.epsilon = 1e-5f;
  return g.add<BatchNorm>({x}, name, bn);
}

NodeId conv_norm_act(Graph& g, NodeId x, const std::string& prefix, int64_t filters,
                     int64_t kernel, int64_t stride, Act act, int64_t groups) {
  x = g.add<Conv2dLayer>({x}, prefix + ".0",
                         torch_conv(filters, kernel, stride, (kernel - 1) / 2, groups), false);
  x = torch_batch_norm(g, x, prefix + ".1");
  return activation(g, x, prefix + ".2", act);
}

void pooled_classifier(Graph& g, NodeId x, const std::string& pool_name,
                       const std::string& dropout_name, const std::string& dense_name,
                       int64_t classes, float dropout, uint64_t seed) {
  x = g.add<GlobalAvgPool2D>({x}, pool_name);
  if (dropout > 0) x = g.add<Dropout>({x}, dropout_name, dropout, seed);
  g.add<Dense>({x}, dense_name, classes);
}

}  // namespace xcept::models

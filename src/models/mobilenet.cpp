// MobileNet v1 (Howard et al. 2017) in the Keras Applications layout, and its
// full-convolution twin (and, for the groups study, twins whose blocks are grouped 3x3
// convolutions). Keras names: conv1, conv_dw_N, conv_pw_N (+ _bn, _relu).
// Keras pads stride-2 depthwise inputs by one pixel at the bottom and right, then runs a
// 'valid' convolution; the explicit pads below do exactly that.
#include <span>

#include "core/error.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "models/blocks.h"
#include "models/models.h"

namespace xcept::models {

namespace {

struct Stage {
  int64_t filters;
  int64_t stride;
};

// The 13 depthwise separable blocks of Table 1.
constexpr Stage kMobileNetStages[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},
                                      {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
                                      {512, 1}, {1024, 2}, {1024, 1}};

Padding block_padding(int64_t stride) {
  return stride == 1 ? Padding::same() : Padding::explicit_(0, 0, 1, 1);
}

// Groups of a block's 3x3 convolution: 0 for the depthwise separable block, else one
// 3x3 convolution of that many groups (1 for the full-convolution twin).
int64_t block_groups(const ModelOptions& o, bool full_convolution) {
  if (full_convolution && o.groups > 1)
    fail("conv-mobilenet: full convolutions have 1 group, not {}", o.groups);
  return full_convolution || !o.separable ? 1 : o.groups;
}

// One depthwise separable block, or one 3x3 convolution of `groups` groups (then shuffled
// when `shuffle`: without it a stack of grouped convolutions is `groups` separate narrow
// networks up to the classifier).
NodeId mobilenet_block(Graph& g, NodeId x, int id, int64_t filters, int64_t stride,
                       int64_t groups, bool shuffle) {
  const std::string n = std::to_string(id);
  const Padding pad = block_padding(stride);
  if (groups > 0) {
    x = conv_bn_act(g, x, "conv_" + n, conv_params(filters, 3, stride, pad, groups),
                    Act::relu6(), "conv_" + n + "_bn", "conv_" + n + "_relu");
    if (shuffle) x = g.add<ChannelShuffle>({x}, "conv_" + n + "_shuffle", groups);
    return x;
  }
  const int64_t channels = g.node_dims(x)[2];
  x = conv_bn_act(g, x, "conv_dw_" + n, conv_params(channels, 3, stride, pad, channels),
                  Act::relu6(), "conv_dw_" + n + "_bn", "conv_dw_" + n + "_relu");
  return conv_bn_act(g, x, "conv_pw_" + n, conv_params(filters, 1, 1, Padding::valid()),
                     Act::relu6(), "conv_pw_" + n + "_bn", "conv_pw_" + n + "_relu");
}

// GlobalAvgPool -> Dropout -> classifier. Keras' classifier is a 1x1 convolution with
// bias on the pooled 1x1 map ("conv_preds"); a Dense layer is the same computation with
// the same parameters.
void classifier(Graph& g, NodeId x, int64_t classes, float dropout, uint64_t seed) {
  x = g.add<GlobalAvgPool2D>({x}, "global_average_pooling2d");
  if (dropout > 0) x = g.add<Dropout>({x}, "dropout", dropout, seed);
  g.add<Dense>({x}, "conv_preds", classes);
}

// Stem, blocks and classifier, shared by MobileNet and its mini variant; the model's
// defaults fill in what the options leave at 0.
struct MobileNetLayout {
  const char* name;
  int64_t size, channels, classes, stem_stride;
  std::span<const Stage> stages;
  float dropout;
};

Graph mobilenet_graph(const ModelOptions& o, const MobileNetLayout& l, bool full_convolution) {
  const int64_t size = o.input_size ? o.input_size : l.size;
  const int64_t channels = o.input_channels ? o.input_channels : l.channels;
  Graph g(l.name, o.seed);
  NodeId x = g.input({size, size, channels});
  x = conv_bn_act(g, x, "conv1",
                  conv_params(scale_channels(32, o.alpha), 3, l.stem_stride, Padding::same()),
                  Act::relu6(), "conv1_bn", "conv1_relu");
  const int64_t groups = block_groups(o, full_convolution);
  int id = 1;
  for (const Stage& s : l.stages)
    x = mobilenet_block(g, x, id++, scale_channels(s.filters, o.alpha), s.stride, groups,
                        o.channel_shuffle);
  classifier(g, x, o.classes ? o.classes : l.classes, o.dropout >= 0 ? o.dropout : l.dropout,
             o.seed + 1);
  return g;
}

}  // namespace

Graph build_mobilenet(const ModelOptions& o, bool full_convolution) {
  return mobilenet_graph(o,
                         {full_convolution ? "conv-mobilenet" : "mobilenet", 224, 3, 1000, 2,
                          kMobileNetStages, 1e-3f},
                         full_convolution);
}

Graph build_mini_mobilenet(const ModelOptions& o) {
  // Stride 1 at the stem: a 28x28 image cannot lose resolution as early as a 224x224 one.
  static constexpr Stage stages[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2},
                                     {256, 1}, {512, 2}, {512, 1}};
  return mobilenet_graph(o, {"mini-mobilenet", 28, 1, 10, 1, stages, 0.2f}, false);
}

}  // namespace xcept::models

// ShuffleNet v2 (Ma et al. 2018) exactly as torchvision 0.14 builds it. A unit of stride
// 1 splits its channels in halves (x.chunk(2)): the first passes through untouched, the
// second goes through 1x1 -> BN -> ReLU -> depthwise 3x3 -> BN -> 1x1 -> BN -> ReLU; the
// halves are concatenated in that order and shuffled with 2 groups. A unit of stride 2
// feeds the whole input to both branches (the first: depthwise 3x3 stride 2 -> BN -> 1x1
// -> BN -> ReLU) and so doubles the channels. Stem: 3x3 stride-2 convolution of 24 and a
// 3x3 stride-2 max pool with padding 1; stages of 4, 8 and 4 units; a 1x1 convolution to
// 1024 (2048 at 2.0x), global average pooling and a dense classifier.
//
// --alpha picks one of torchvision's four widths (0.5, 1.0, 1.5, 2.0). The mini variant
// (28x28x1 / 32x32x3) has a stride-1 stem and no max pool: stages at 14, 7 and 4 pixels.
#include <array>

#include "core/error.h"
#include "layers/conv_layers.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "models/blocks.h"
#include "models/torch_blocks.h"

namespace xcept::models {

namespace {

// torchvision's _stage_out_channels: stem, stage2, stage3, stage4, conv5.
std::array<int64_t, 5> stage_channels(const std::string& name, double alpha) {
  if (alpha == 0.5) return {24, 48, 96, 192, 1024};
  if (alpha == 1.0) return {24, 116, 232, 464, 1024};
  if (alpha == 1.5) return {24, 176, 352, 704, 1024};
  if (alpha == 2.0) return {24, 244, 488, 976, 2048};
  fail("{}: width multiplier alpha must be 0.5, 1.0, 1.5 or 2.0 (torchvision's widths), got {}",
       name, alpha);
}

NodeId depthwise_bn(Graph& g, NodeId x, const std::string& p, int conv_index, int64_t stride) {
  const int64_t c = g.node_dims(x)[2];
  x = g.add<Conv2dLayer>({x}, p + "." + std::to_string(conv_index), torch_conv(c, 3, stride, 1, c),
                         false);
  return torch_batch_norm(g, x, p + "." + std::to_string(conv_index + 1));
}

// 1x1 -> BN -> ReLU, as conv `index`, BN `index + 1`, ReLU `index + 2` of a branch.
NodeId pointwise_bn_relu(Graph& g, NodeId x, const std::string& p, int index, int64_t filters) {
  x = g.add<Conv2dLayer>({x}, p + "." + std::to_string(index), torch_conv(filters, 1, 1, 0), false);
  x = torch_batch_norm(g, x, p + "." + std::to_string(index + 1));
  return activation(g, x, p + "." + std::to_string(index + 2), Act::relu());
}

NodeId unit(Graph& g, NodeId x, const std::string& p, int64_t out, int64_t stride) {
  const int64_t branch = out / 2;
  NodeId keep = x, main = x;
  if (stride == 1) {
    const int64_t c = g.node_dims(x)[2];
    keep = g.add<ChannelSlice>({x}, p + ".split1", 0, c / 2);
    main = g.add<ChannelSlice>({x}, p + ".split2", c / 2, c - c / 2);
  } else {
    keep = depthwise_bn(g, x, p + ".branch1", 0, stride);
    keep = pointwise_bn_relu(g, keep, p + ".branch1", 2, branch);
  }
  main = pointwise_bn_relu(g, main, p + ".branch2", 0, branch);
  main = depthwise_bn(g, main, p + ".branch2", 3, stride);
  main = pointwise_bn_relu(g, main, p + ".branch2", 5, branch);
  NodeId cat = g.add<Concat>({keep, main}, p + ".cat");
  return g.add<ChannelShuffle>({cat}, p, 2);
}

Graph build(const std::string& name, const ModelOptions& o, bool mini) {
  const ZooInput in = zoo_input(o, mini);
  const std::array<int64_t, 5> ch = stage_channels(name, o.alpha);
  Graph g(name, o.seed);
  NodeId x = g.input({in.size, in.size, in.channels});
  x = conv_norm_act(g, x, "conv1", ch[0], 3, mini ? 1 : 2, Act::relu());
  if (!mini) x = g.add<MaxPool2D>({x}, "maxpool", PoolWindow::torch(3, 2, 1));
  constexpr int kRepeats[] = {4, 8, 4};
  for (int s = 0; s < 3; ++s)
    for (int i = 0; i < kRepeats[s]; ++i)
      x = unit(g, x, "stage" + std::to_string(s + 2) + "." + std::to_string(i), ch[size_t(s) + 1],
               i == 0 ? 2 : 1);
  x = conv_norm_act(g, x, "conv5", ch[4], 1, 1, Act::relu());
  pooled_classifier(g, x, "mean", "dropout", "fc", in.classes, o.dropout > 0 ? o.dropout : 0.f,
                    o.seed + 1);
  return g;
}

}  // namespace

Graph build_shufflenet_v2(const ModelOptions& o, bool mini) {
  return build(mini ? "mini-shufflenet-v2" : "shufflenet-v2", o, mini);
}

}  // namespace xcept::models

// ShuffleNet v1 (Zhang et al. 2017), Table 1 of the paper. A unit is a grouped 1x1
// convolution to a quarter of the stage's width -> BN -> ReLU -> channel shuffle ->
// depthwise 3x3 -> BN -> grouped 1x1 convolution -> BN. At stride 1 it is added to the
// input, then ReLU; at stride 2 (the first unit of a stage) the ReLU'd branch is
// concatenated after a 3x3 stride-2 average pool of the input, so the branch makes
// only the channels the stage adds. (The paper applies the ReLU after the concatenation;
// the pooled input is a pool of ReLU outputs, never negative, so it is the same, and a
// ReLU on the branch folds into its batch norm.) Stage 2's first 1x1 convolution is not
// grouped: 24 input channels are too few (the paper's own exception). Stem: 3x3
// stride-2 convolution of 24 and a 3x3 stride-2 max pool; stages of 4, 8 and 4 units;
// global average pooling and a dense classifier. ShuffleNet is not in torchvision; it is
// built in the same PyTorch style as the torchvision models (symmetric padding, PyTorch
// batch norm; node names follow Megvii's reference code).
//
// --groups g (1, 2, 3, 4 or 8; default 3) picks the stage widths of Table 1 (g = 3:
// 240, 480, 960), each multiplied by --alpha (the paper's "ShuffleNet s x") and rounded
// to a multiple of 4g so that the bottleneck divides into the groups. The mini variant
// (28x28x1 / 32x32x3) has a stride-1 stem and no max pool: stages at 14, 7 and 4 pixels.
#include <cmath>

#include "core/error.h"
#include "layers/conv_layers.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "models/blocks.h"
#include "models/torch_blocks.h"

namespace xcept::models {

namespace {

constexpr int64_t kStem = 24;

// Stage 2's width at 1x (Table 1); stages 3 and 4 double it twice.
int64_t stage2_width(const std::string& name, int64_t groups) {
  switch (groups) {
    case 1: return 144;
    case 2: return 200;
    case 3: return 240;
    case 4: return 272;
    case 8: return 384;
    default:
      fail("{}: groups must be 1, 2, 3, 4 or 8 (the paper's Table 1), got {}", name, groups);
  }
}

NodeId unit(Graph& g, NodeId x, const std::string& p, int64_t width, int64_t stride,
            int64_t groups, bool first_group) {
  const int64_t in = g.node_dims(x)[2];
  const int64_t branch_out = stride == 2 ? width - in : width;
  const std::string m1 = p + ".branch_main_1", m2 = p + ".branch_main_2";
  NodeId y = g.add<Conv2dLayer>({x}, m1 + ".0", torch_conv(width / 4, 1, 1, 0, first_group ? 1 : groups),
                                false);
  y = torch_batch_norm(g, y, m1 + ".1");
  y = activation(g, y, m1 + ".2", Act::relu());
  if (groups > 1) y = g.add<ChannelShuffle>({y}, p + ".shuffle", groups);
  y = g.add<Conv2dLayer>({y}, m2 + ".0", torch_conv(width / 4, 3, stride, 1, width / 4), false);
  y = torch_batch_norm(g, y, m2 + ".1");
  y = g.add<Conv2dLayer>({y}, m2 + ".2", torch_conv(branch_out, 1, 1, 0, groups), false);
  y = torch_batch_norm(g, y, m2 + ".3");
  if (stride == 1) {
    y = g.add<Add>({x, y}, p + ".add");
    return activation(g, y, p, Act::relu());
  }
  y = activation(g, y, p + ".relu", Act::relu());
  NodeId shortcut = g.add<AvgPool2D>({x}, p + ".branch_proj", PoolWindow::torch(3, 2, 1));
  return g.add<Concat>({shortcut, y}, p);
}

Graph build(const std::string& name, const ModelOptions& o, bool mini) {
  const ZooInput in = zoo_input(o, mini);
  const int64_t groups = o.groups ? o.groups : 3;
  const int64_t quantum = 4 * groups;
  auto width = [&](int64_t stage2_multiple) {
    const double w = double(stage2_width(name, groups) * stage2_multiple) * o.alpha;
    return std::max<int64_t>(quantum, std::llround(w / double(quantum)) * quantum);
  };
  Graph g(name, o.seed);
  NodeId x = g.input({in.size, in.size, in.channels});
  x = conv_norm_act(g, x, "first_conv", kStem, 3, mini ? 1 : 2, Act::relu());
  if (!mini) x = g.add<MaxPool2D>({x}, "maxpool", PoolWindow::torch(3, 2, 1));
  constexpr int kRepeats[] = {4, 8, 4};
  for (int s = 0; s < 3; ++s)
    for (int i = 0; i < kRepeats[s]; ++i)
      x = unit(g, x, "stage" + std::to_string(s + 2) + "." + std::to_string(i), width(1 << s),
               i == 0 ? 2 : 1, groups, s == 0 && i == 0);
  pooled_classifier(g, x, "globalpool", "dropout", "fc", in.classes,
                    o.dropout > 0 ? o.dropout : 0.f, o.seed + 1);
  return g;
}

}  // namespace

Graph build_shufflenet(const ModelOptions& o, bool mini) {
  return build(mini ? "mini-shufflenet" : "shufflenet", o, mini);
}

}  // namespace xcept::models

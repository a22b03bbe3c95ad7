// SqueezeNet (Iandola et al. 2016) exactly as torchvision 0.14 builds it: fire modules
// (a 1x1 "squeeze" convolution to few channels, then 1x1 and 3x3 "expand" convolutions
// side by side, concatenated), every convolution with a bias and a ReLU, no batch norm,
// 3x3 stride-2 max pools with ceil_mode, and no dense layer: the classifier is a 1x1
// convolution to the classes (after dropout 0.5), a ReLU and global average pooling.
// Version 1.1 starts with a 3x3 stride-2 convolution of 64 filters instead of 7x7 of 96
// and pools earlier: the paper's accuracy for 2.4x less computation.
//
// The mini variant (28x28x1 / 32x32x3) is 1.1 with a stride-1 stem and without the
// first pool, so a 28x28 image reaches the last fire modules at 7x7.
//
// Initialization is torchvision's too: without batch norm, Glorot's variance (xcept's
// default) halves the signal at every ReLU, and 10+ layers on, the ReLU'd logits start
// dead (a Fashion-MNIST run stayed at ln 10 for a whole epoch). Kaiming-uniform weights
// (bound sqrt(6 / fan_in)) keep the signal's scale; the classifier starts near zero,
// N(0, 0.01), as torchvision's does.
#include <cmath>
#include <span>
#include <vector>

#include "core/rng.h"
#include "layers/conv_layers.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "models/blocks.h"
#include "models/torch_blocks.h"

namespace xcept::models {

namespace {

// One entry of torchvision's `features`: a max pool, or a fire module (squeeze, expand
// 1x1, expand 3x3 channels), at its index (the node names).
struct Feature {
  int index;
  int64_t squeeze = 0, expand1 = 0, expand3 = 0;  // all 0: a max pool
};

constexpr Feature kFeatures10[] = {{2},
                                   {3, 16, 64, 64},
                                   {4, 16, 64, 64},
                                   {5, 32, 128, 128},
                                   {6},
                                   {7, 32, 128, 128},
                                   {8, 48, 192, 192},
                                   {9, 48, 192, 192},
                                   {10, 64, 256, 256},
                                   {11},
                                   {12, 64, 256, 256}};
constexpr Feature kFeatures11[] = {{2},
                                   {3, 16, 64, 64},
                                   {4, 16, 64, 64},
                                   {5},
                                   {6, 32, 128, 128},
                                   {7, 32, 128, 128},
                                   {8},
                                   {9, 48, 192, 192},
                                   {10, 48, 192, 192},
                                   {11, 64, 256, 256},
                                   {12, 64, 256, 256}};

NodeId conv_relu(Graph& g, NodeId x, const std::string& conv_name, const std::string& relu_name,
                 const ConvParams& p) {
  x = g.add<Conv2dLayer>({x}, conv_name, p, true);
  return activation(g, x, relu_name, Act::relu());
}

NodeId fire(Graph& g, NodeId x, const std::string& p, int64_t squeeze, int64_t expand1,
            int64_t expand3) {
  x = conv_relu(g, x, p + ".squeeze", p + ".squeeze_activation", torch_conv(squeeze, 1, 1, 0));
  NodeId a = conv_relu(g, x, p + ".expand1x1", p + ".expand1x1_activation",
                       torch_conv(expand1, 1, 1, 0));
  NodeId b = conv_relu(g, x, p + ".expand3x3", p + ".expand3x3_activation",
                       torch_conv(expand3, 3, 1, 1));
  return g.add<Concat>({a, b}, p);  // torch.cat([expand1x1, expand3x3], 1)
}

Graph build(const std::string& name, const ModelOptions& o, bool v11, bool mini) {
  const ZooInput in = zoo_input(o, mini);
  auto ch = [&](int64_t f) { return scale_channels(f, o.alpha); };
  Graph g(name, o.seed);
  NodeId x = g.input({in.size, in.size, in.channels});
  const ConvParams stem = v11 ? torch_conv(ch(64), 3, mini ? 1 : 2, mini ? 1 : 0)
                              : torch_conv(ch(96), 7, 2, 0);
  x = conv_relu(g, x, "features.0", "features.1", stem);
  for (const Feature& f : v11 ? std::span<const Feature>(kFeatures11)
                              : std::span<const Feature>(kFeatures10)) {
    const std::string p = "features." + std::to_string(f.index);
    if (f.squeeze == 0) {
      if (!(mini && f.index == 2))
        x = g.add<MaxPool2D>({x}, p, PoolWindow::torch(3, 2, 0, /*ceil_mode=*/true));
    } else {
      x = fire(g, x, p, ch(f.squeeze), ch(f.expand1), ch(f.expand3));
    }
  }
  const float dropout = o.dropout >= 0 ? o.dropout : 0.5f;
  if (dropout > 0) x = g.add<Dropout>({x}, "classifier.0", dropout, o.seed + 1);
  x = conv_relu(g, x, "classifier.1", "classifier.2", torch_conv(in.classes, 1, 1, 0));
  g.add<GlobalAvgPool2D>({x}, "classifier.3");
  SplitMix64 rng(derive_seed(uint64_t(o.seed), {0x5157u}));
  for (ParamRef& p : g.params()) {
    Tensor& w = *p.value;
    if (w.rank() != 4) continue;  // biases stay zero
    const bool classifier = p.name == "classifier.1.weight";
    const double fan_in = double(w.dim(0) * w.dim(1) * w.dim(2)), bound = std::sqrt(6 / fan_in);
    for (int64_t i = 0; i < w.numel(); ++i)
      w[i] = float(classifier ? 0.01 * rng.normal() : rng.uniform(-bound, bound));
  }
  return g;
}

}  // namespace

Graph build_squeezenet(const ModelOptions& o, bool v11, bool mini) {
  return build(mini ? "mini-squeezenet" : v11 ? "squeezenet-1.1" : "squeezenet-1.0", o, v11, mini);
}

}  // namespace xcept::models

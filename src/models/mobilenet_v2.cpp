// MobileNet v2 (Sandler et al. 2018) exactly as torchvision 0.14 builds it: inverted
// residual blocks, a 1x1 expansion by t (ReLU6), a 3x3 depthwise convolution (ReLU6)
// and a 1x1 projection back to a narrow bottleneck with NO activation (the linear
// bottleneck: Xception's Figure 10 lesson, no non-linearity on a narrow space, made a
// design rule), plus the input when the stride is 1 and the widths agree. Channel counts
// are alpha times the paper's, rounded to multiples of 8 as torchvision's _make_divisible
// does (never below 8, never more than 10% down); the last 1x1 convolution keeps 1280
// channels for alpha <= 1. Classifier: global average pooling, dropout 0.2, dense.
//
// The mini variant (28x28x1 / 32x32x3) has a stride-1 stem and a stride-1 second stage
// (as CIFAR ports of MobileNet v2 do): blocks at 28, 14, 7 and 4 pixels.
#include "layers/conv_layers.h"
#include "layers/merge.h"
#include "models/torch_blocks.h"

namespace xcept::models {

namespace {

int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t r = std::max<int64_t>(divisor, int64_t(v + double(divisor) / 2) / divisor * divisor);
  if (double(r) < 0.9 * v) r += divisor;
  return r;
}

struct Setting {
  int64_t expand, channels, repeats, stride;  // t, c, n, s of the paper's Table 2
};

constexpr Setting kSettings[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};

NodeId inverted_residual(Graph& g, NodeId x, const std::string& p, int64_t out, int64_t stride,
                         int64_t expand) {
  const int64_t in = g.node_dims(x)[2];
  const int64_t hidden = in * expand;
  NodeId y = x;
  int i = 0;
  if (expand != 1) y = conv_norm_act(g, y, p + ".conv.0", hidden, 1, 1, Act::relu6()), i = 1;
  y = conv_norm_act(g, y, p + ".conv." + std::to_string(i), hidden, 3, stride, Act::relu6(),
                    hidden);
  y = g.add<Conv2dLayer>({y}, p + ".conv." + std::to_string(i + 1), torch_conv(out, 1, 1, 0),
                         false);
  y = torch_batch_norm(g, y, p + ".conv." + std::to_string(i + 2));  // linear: no activation
  if (stride == 1 && in == out) y = g.add<Add>({x, y}, p);
  return y;
}

Graph build(const std::string& name, const ModelOptions& o, bool mini) {
  const ZooInput in = zoo_input(o, mini);
  Graph g(name, o.seed);
  NodeId x = g.input({in.size, in.size, in.channels});
  x = conv_norm_act(g, x, "features.0", make_divisible(32 * o.alpha), 3, mini ? 1 : 2,
                    Act::relu6());
  int index = 1;
  for (const Setting& s : kSettings) {
    const int64_t out = make_divisible(double(s.channels) * o.alpha);
    const int64_t stride = mini && s.channels == 24 ? 1 : s.stride;
    for (int64_t r = 0; r < s.repeats; ++r)
      x = inverted_residual(g, x, "features." + std::to_string(index++), out, r == 0 ? stride : 1,
                            s.expand);
  }
  x = conv_norm_act(g, x, "features." + std::to_string(index),
                    make_divisible(1280 * std::max(1.0, o.alpha)), 1, 1, Act::relu6());
  pooled_classifier(g, x, "avgpool", "classifier.0", "classifier.1", in.classes,
                    o.dropout >= 0 ? o.dropout : 0.2f, o.seed + 1);
  return g;
}

}  // namespace

Graph build_mobilenet_v2(const ModelOptions& o, bool mini) {
  return build(mini ? "mini-mobilenet-v2" : "mobilenet-v2", o, mini);
}

}  // namespace xcept::models

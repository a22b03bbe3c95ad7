// Xception (Chollet, CVPR 2017) as Keras Applications defines it; layer names follow
// Keras (block1_conv1, block4_sepconv2_bn, ...). Keras leaves the shortcut convolutions
// unnamed; here they are <block>_residual_conv / _residual_bn.
#include "core/error.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "models/xception_blocks.h"

namespace xcept::models {

SeparableStyle separable_style(const ModelOptions& o) {
  return {o.order, o.mid_activation, o.separable};
}

NodeId xception_downsample_block(Graph& g, NodeId x, const std::string& prefix, int64_t f1,
                                 int64_t f2, bool relu_first, const ModelOptions& o) {
  const SeparableStyle style = separable_style(o);
  NodeId shortcut = -1;
  if (o.residual) {
    shortcut = g.add<Conv2dLayer>({x}, prefix + "_residual_conv",
                                  conv_params(f2, 1, 2, Padding::same()), false);
    shortcut = batch_norm(g, shortcut, prefix + "_residual_bn");
  }
  if (relu_first) x = activation(g, x, prefix + "_sepconv1_act", Act::relu());
  x = sepconv(g, x, prefix + "_sepconv1", f1, style);
  x = batch_norm(g, x, prefix + "_sepconv1_bn");
  x = activation(g, x, prefix + "_sepconv2_act", Act::relu());
  x = sepconv(g, x, prefix + "_sepconv2", f2, style);
  x = batch_norm(g, x, prefix + "_sepconv2_bn");
  x = g.add<MaxPool2D>({x}, prefix + "_pool", PoolWindow::square(3, 2, PadMode::same));
  if (o.residual) x = g.add<Add>({x, shortcut}, prefix + "_add");
  return x;
}

NodeId xception_middle_block(Graph& g, NodeId x, const std::string& prefix, int64_t f,
                             const ModelOptions& o) {
  const SeparableStyle style = separable_style(o);
  NodeId shortcut = x;
  for (int i = 1; i <= 3; ++i) {
    std::string step = prefix + "_sepconv" + std::to_string(i);
    x = activation(g, x, step + "_act", Act::relu());
    x = sepconv(g, x, step, f, style);
    x = batch_norm(g, x, step + "_bn");
  }
  if (o.residual) x = g.add<Add>({x, shortcut}, prefix + "_add");
  return x;
}

Graph build_xception(const ModelOptions& o) {
  const int64_t size = o.input_size ? o.input_size : 299;
  const int64_t channels = o.input_channels ? o.input_channels : 3;
  const int64_t classes = o.classes ? o.classes : 1000;
  const int repeats = o.middle_repeats >= 0 ? o.middle_repeats : 8;
  auto ch = [&](int64_t f) { return scale_channels(f, o.alpha); };

  Graph g("xception", o.seed);
  NodeId x = g.input({size, size, channels});
  // Entry flow.
  x = conv_bn_act(g, x, "block1_conv1", conv_params(ch(32), 3, 2, Padding::valid()),
                  Act::relu(), "block1_conv1_bn", "block1_conv1_act");
  x = conv_bn_act(g, x, "block1_conv2", conv_params(ch(64), 3, 1, Padding::valid()),
                  Act::relu(), "block1_conv2_bn", "block1_conv2_act");
  x = xception_downsample_block(g, x, "block2", ch(128), ch(128), false, o);
  x = xception_downsample_block(g, x, "block3", ch(256), ch(256), true, o);
  x = xception_downsample_block(g, x, "block4", ch(728), ch(728), true, o);
  // Middle flow.
  for (int i = 0; i < repeats; ++i)
    x = xception_middle_block(g, x, "block" + std::to_string(i + 5), ch(728), o);
  // Exit flow.
  const std::string exit = "block" + std::to_string(repeats + 5);
  const std::string last = "block" + std::to_string(repeats + 6);
  x = xception_downsample_block(g, x, exit, ch(728), ch(1024), true, o);
  x = sepconv(g, x, last + "_sepconv1", ch(1536), separable_style(o));
  x = batch_norm(g, x, last + "_sepconv1_bn");
  x = activation(g, x, last + "_sepconv1_act", Act::relu());
  x = sepconv(g, x, last + "_sepconv2", ch(2048), separable_style(o));
  x = batch_norm(g, x, last + "_sepconv2_bn");
  x = activation(g, x, last + "_sepconv2_act", Act::relu());
  x = g.add<GlobalAvgPool2D>({x}, "avg_pool");
  // The paper puts dropout 0.5 before the classifier for ImageNet; Keras has none.
  const float dropout = o.dropout >= 0 ? o.dropout : 0.f;
  if (dropout > 0) x = g.add<Dropout>({x}, "dropout", dropout, o.seed + 1);
  g.add<Dense>({x}, "predictions", classes);
  return g;
}

}  // namespace xcept::models

// Xception's three flows sized for 28x28x1 (Fashion-MNIST) and 32x32x3 (CIFAR-10):
// a stride-1 stem, two downsampling entry blocks (128, 256), a short middle flow of
// 256-channel blocks and a 512-channel separable exit. Every option of xception applies.
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pooling.h"
#include "models/xception_blocks.h"

namespace xcept::models {

Graph build_mini_xception(const ModelOptions& o) {
  const int64_t size = o.input_size ? o.input_size : 28;
  const int64_t channels = o.input_channels ? o.input_channels : 1;
  const int64_t classes = o.classes ? o.classes : 10;
  const int repeats = o.middle_repeats >= 0 ? o.middle_repeats : 2;
  auto ch = [&](int64_t f) { return scale_channels(f, o.alpha); };

  Graph g("mini-xception", o.seed);
  NodeId x = g.input({size, size, channels});
  x = conv_bn_act(g, x, "block1_conv1", conv_params(ch(32), 3, 1, Padding::same()),
                  Act::relu(), "block1_conv1_bn", "block1_conv1_act");
  x = conv_bn_act(g, x, "block1_conv2", conv_params(ch(64), 3, 1, Padding::same()),
                  Act::relu(), "block1_conv2_bn", "block1_conv2_act");
  x = xception_downsample_block(g, x, "block2", ch(128), ch(128), false, o);
  x = xception_downsample_block(g, x, "block3", ch(256), ch(256), true, o);
  for (int i = 0; i < repeats; ++i)
    x = xception_middle_block(g, x, "block" + std::to_string(i + 4), ch(256), o);
  const std::string last = "block" + std::to_string(repeats + 4);
  x = sepconv(g, x, last + "_sepconv1", ch(512), separable_style(o));
  x = batch_norm(g, x, last + "_sepconv1_bn");
  x = activation(g, x, last + "_sepconv1_act", Act::relu());
  x = g.add<GlobalAvgPool2D>({x}, "avg_pool");
  const float dropout = o.dropout >= 0 ? o.dropout : 0.2f;
  if (dropout > 0) x = g.add<Dropout>({x}, "dropout", dropout, o.seed + 1);
  g.add<Dense>({x}, "predictions", classes);
  return g;
}

}  // namespace xcept::models

#include "core/error.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "models/inception_blocks.h"
#include "models/models.h"

namespace xcept::models {

static NodeId conv_bn_relu(Graph& g, NodeId x, const std::string& name, int64_t filters,
                           int64_t kernel) {
  return conv_bn_act(g, x, name, conv_params(filters, kernel, 1, Padding::same()),
                     Act::relu(), name + "_bn", name + "_relu");
}

NodeId inception_v3_module(Graph& g, NodeId x, const std::string& p, const InceptionV3Filters& f) {
  NodeId a = conv_bn_relu(g, x, p + "_1x1", f.b1x1, 1);
  NodeId b = conv_bn_relu(g, x, p + "_3x3_reduce", f.b3x3_reduce, 1);
  b = conv_bn_relu(g, b, p + "_3x3", f.b3x3, 3);
  NodeId c = conv_bn_relu(g, x, p + "_dbl3x3_reduce", f.dbl_reduce, 1);
  c = conv_bn_relu(g, c, p + "_dbl3x3a", f.dbl3x3, 3);
  c = conv_bn_relu(g, c, p + "_dbl3x3b", f.dbl3x3, 3);
  NodeId d = g.add<AvgPool2D>({x}, p + "_pool", PoolWindow::square(3, 1, PadMode::same));
  d = conv_bn_relu(g, d, p + "_pool_proj", f.pool_proj, 1);
  return g.add<Concat>({a, b, c, d}, p + "_concat");
}

NodeId simplified_inception_module(Graph& g, NodeId x, const std::string& p, int branches,
                                   int64_t reduce, int64_t filters) {
  if (branches < 1) fail("{}: a simplified Inception module needs at least one branch", p);
  std::vector<NodeId> outs;
  for (int i = 1; i <= branches; ++i) {
    std::string b = p + "_branch" + std::to_string(i);
    NodeId y = conv_bn_relu(g, x, b + "_1x1", reduce, 1);
    outs.push_back(conv_bn_relu(g, y, b + "_3x3", filters, 3));
  }
  return outs.size() == 1 ? outs[0] : g.add<Concat>(std::move(outs), p + "_concat");
}

NodeId extreme_inception_module(Graph& g, NodeId x, const std::string& p, int64_t filters,
                                Act mid) {
  x = sepconv(g, x, p + "_sepconv", filters, {SeparableOrder::pointwise_depthwise, mid});
  x = batch_norm(g, x, p + "_bn");
  return activation(g, x, p + "_relu", Act::relu());
}

Graph build_mini_inception(const ModelOptions& o) {
  const int64_t size = o.input_size ? o.input_size : 28;
  const int64_t channels = o.input_channels ? o.input_channels : 1;
  const int64_t classes = o.classes ? o.classes : 10;
  auto ch = [&](int64_t f) { return scale_channels(f, o.alpha); };

  Graph g("mini-inception", o.seed);
  NodeId x = g.input({size, size, channels});
  x = conv_bn_relu(g, x, "stem_conv", ch(32), 3);
  // Three modules of 64, 128 and 256 output channels, halving resolution between them.
  const int64_t widths[] = {64, 128, 256};
  for (int i = 0; i < 3; ++i) {
    const std::string name = "mixed" + std::to_string(i + 1);
    const int64_t w = widths[i];
    if (o.inception_module == "v3") {
      x = inception_v3_module(g, x, name, {ch(w / 4), ch(w / 4), ch(w * 3 / 8), ch(w / 8),
                                           ch(w * 3 / 16), ch(w * 3 / 16)});
    } else if (o.inception_module == "simplified") {
      x = simplified_inception_module(g, x, name, 3, ch(w / 4), ch(w / 3));
    } else if (o.inception_module == "extreme") {
      x = extreme_inception_module(g, x, name, ch(w), Act::relu());
    } else {
      fail("mini-inception: unknown module '{}' (v3, simplified or extreme)", o.inception_module);
    }
    if (i < 2)
      x = g.add<MaxPool2D>({x}, name + "_downsample", PoolWindow::square(3, 2, PadMode::same));
  }
  x = g.add<GlobalAvgPool2D>({x}, "avg_pool");
  const float dropout = o.dropout >= 0 ? o.dropout : 0.2f;
  if (dropout > 0) x = g.add<Dropout>({x}, "dropout", dropout, o.seed + 1);
  g.add<Dense>({x}, "predictions", classes);
  return g;
}

}  // namespace xcept::models

// A whole small network through autograd::Graph: branches joined by Concat, a residual
// Add whose input node feeds three consumers (gradient accumulation), BN, pooling,
// Dense, dropout, the loss. The gradient of the loss w.r.t. every trainable parameter
// from graph.backward is checked against finite differences of graph.forward + loss.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "autograd/graph.h"
#include "core/error.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "train/loss.h"

namespace xcept {
namespace {

constexpr uint64_t kDropSeed = 99;

struct TinyNet {
  Graph g{"tiny", 11};
  Dropout* drop = nullptr;
  NodeId act1 = -1;

  TinyNet() {
    NodeId in = g.input({6, 6, 4});
    NodeId bn1 = g.add<BatchNorm>({in}, "bn1");
    // ELU rather than relu: no kink for the finite differences to straddle.
    act1 = g.add<ActivationLayer>({bn1}, "act1", Act::elu());
    // act1 feeds pool_a, pool_b and res_add.
    NodeId pa = g.add<MaxPool2D>({act1}, "pool_a", PoolWindow::square(3, 1, PadMode::same));
    NodeId pb = g.add<AvgPool2D>({act1}, "pool_b", PoolWindow::square(3, 1, PadMode::same));
    NodeId res = g.add<Add>({pb, act1}, "res_add");
    NodeId cat = g.add<Concat>({pa, res}, "concat");  // 6x6x8
    NodeId shuf = g.add<ChannelShuffle>({cat}, "shuffle", 2);
    NodeId pool = g.add<AvgPool2D>({shuf}, "pool2", PoolWindow::square(2, 2));  // 3x3x8
    NodeId bn2 = g.add<BatchNorm>({pool}, "bn2");
    // bn2 feeds two vector branches, joined again.
    NodeId gap = g.add<GlobalAvgPool2D>({bn2}, "gap");      // 8
    NodeId flat = g.add<Flatten>({bn2}, "flatten");         // 72
    NodeId vec = g.add<Concat>({gap, flat}, "concat_vec");  // 80
    NodeId fc1 = g.add<Dense>({vec}, "fc1", 6);
    NodeId act2 = g.add<ActivationLayer>({fc1}, "act2", Act::elu());
    auto d = std::make_unique<Dropout>("drop", 0.25f, kDropSeed);
    drop = d.get();
    NodeId dr = g.add(std::move(d), {act2});
    g.add<Dense>({dr}, "fc2", 4);
  }
};

Tensor random_tensor(Dims dims, uint32_t seed, float lo, float hi) {
  Tensor t(std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
  return t;
}

TEST(Graph, ParamNamesAreNodeDotParam) {
  TinyNet net;
  std::vector<std::string> names;
  for (const ParamRef& p : net.g.params()) names.push_back(p.name);
  const std::vector<std::string> want = {
      "bn1.gamma",  "bn1.beta", "bn1.moving_mean", "bn1.moving_variance",
      "bn2.gamma",  "bn2.beta", "bn2.moving_mean", "bn2.moving_variance",
      "fc1.weight", "fc1.bias", "fc2.weight",      "fc2.bias"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(net.g.node_dims(net.g.output()), (Dims{4}));
  EXPECT_EQ(net.g.layer(net.g.output())->macs(), 6 * 4);
}

TEST(Graph, GradientOfLossMatchesFiniteDifferences) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "inference");
    TinyNet net;
    Graph& g = net.g;
    ParamList params = g.params();
    // Non-default BN values so their gradients matter; moving stats for inference.
    std::mt19937 rng(4);
    std::uniform_real_distribution<float> pos(0.5f, 1.5f), sym(-0.5f, 0.5f);
    for (ParamRef& p : params) {
      const bool positive = p.name.ends_with("gamma") || p.name.ends_with("variance");
      if (p.name.starts_with("bn"))
        for (int64_t i = 0; i < p.value->numel(); ++i)
          (*p.value)[i] = positive ? pos(rng) : sym(rng);
      if (p.name.ends_with("bias"))
        for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] = sym(rng);
    }
    const int64_t batch = 3;
    Tensor x = random_tensor({batch, 6, 6, 4}, 21, -2.f, 2.f);
    std::vector<int32_t> labels = {3, 0, 1};
    auto loss = [&](Tensor* dlogits) {
      net.drop->reseed(kDropSeed);  // the same mask for every evaluation
      return softmax_cross_entropy(g.forward(x, training), labels, dlogits, 0.1f);
    };

    Tensor dlogits;
    g.zero_grad();
    loss(&dlogits);
    g.backward(dlogits);

    // Finite differences in float; eps 1e-2 as in tests/layer_gradcheck.h.
    const double eps = 1e-2;
    double worst = 0;
    std::string worst_name;
    for (ParamRef& p : params) {
      if (!p.trainable()) continue;
      double diff = 0, scale = 1e-30;
      for (int64_t i = 0; i < p.value->numel(); ++i) {
        float& v = (*p.value)[i];
        const float saved = v, up = float(saved + eps), down = float(saved - eps);
        v = up;
        const double lp = loss(nullptr);
        v = down;
        const double lm = loss(nullptr);
        v = saved;
        const double fd = (lp - lm) / (double(up) - double(down));
        const double an = (*p.grad)[i];
        diff = std::max(diff, std::fabs(fd - an));
        scale = std::max({scale, std::fabs(fd), std::fabs(an)});
      }
      EXPECT_GT(scale, 1e-6) << p.name << " gets no gradient";
      if (diff / scale > worst) worst = diff / scale, worst_name = p.name;
    }
    EXPECT_LT(worst, 1e-2) << "worst: " << worst_name;

    // backward accumulates: a second pass doubles every gradient.
    std::map<std::string, Tensor> first;
    for (ParamRef& p : params)
      if (p.trainable()) first.emplace(p.name, *p.grad);
    loss(&dlogits);
    g.backward(dlogits);
    for (ParamRef& p : params) {
      if (!p.trainable()) continue;
      const Tensor& g1 = first.at(p.name);
      for (int64_t i = 0; i < p.grad->numel(); ++i)
        ASSERT_NEAR((*p.grad)[i], 2 * g1[i], 1e-5f * (1 + std::fabs(g1[i]))) << p.name;
    }
  }
}

TEST(Graph, RejectsDuplicateNamesAndMismatchedShapes) {
  Graph g("bad");
  NodeId in = g.input({8, 8, 3});
  NodeId a = g.add<BatchNorm>({in}, "bn");
  try {
    g.add<BatchNorm>({a}, "bn");
    FAIL() << "duplicate name accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "graph bad: two layers are named 'bn'");
  }
  NodeId p = g.add<MaxPool2D>({a}, "pool", PoolWindow::square(2, 2));
  try {
    g.add<Add>({a, p}, "block1_add");
    FAIL() << "mismatched Add accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "block1_add: input 1 is 4x4x3, input 0 is 8x8x3");
  }
  try {
    g.add<Concat>({a, p}, "mix");
    FAIL() << "mismatched Concat accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mix: input 1 is 4x4x3, input 0 is 8x8x3"),
              std::string::npos);
  }
  // Failed additions leave the graph as it was.
  EXPECT_EQ(g.num_nodes(), 3);
}

}  // namespace
}  // namespace xcept

namespace xcept {
namespace {

// conv -> bn -> relu (fusable), conv -> bn -> relu6 (fusable, read twice downstream),
// bn -> relu where the bn has a second reader (not fusable), and a residual Add.
Graph fusion_net(bool fusion) {
  Graph g("fusion", 5);
  NodeId in = g.input({6, 6, 3});
  NodeId c1 = g.add<Conv2dLayer>({in}, "c1", ConvParams{8, 3, 3, 1, 1, 1, 1, Padding::same(), 1},
                                 false);
  NodeId b1 = g.add<BatchNorm>({c1}, "b1");
  NodeId a1 = g.add<ActivationLayer>({b1}, "a1", Act::relu());
  NodeId c2 = g.add<Conv2dLayer>({a1}, "c2", ConvParams{8, 1, 1, 1, 1, 1, 1, Padding::valid(), 1},
                                 false);
  NodeId b2 = g.add<BatchNorm>({c2}, "b2");
  NodeId a2 = g.add<ActivationLayer>({b2}, "a2", Act::relu6());
  NodeId b3 = g.add<BatchNorm>({a2}, "b3");
  NodeId a3 = g.add<ActivationLayer>({b3}, "a3", Act::relu());
  NodeId sum = g.add<Add>({a3, b3}, "sum");  // b3 read twice: a3 stays a node of its own
  NodeId add = g.add<Add>({sum, a2}, "res");
  NodeId gap = g.add<GlobalAvgPool2D>({add}, "gap");
  g.add<Dense>({gap}, "fc", 4);
  g.set_fusion(fusion);
  return g;
}

TEST(Graph, FusedBatchNormActivationMatchesTheUnfusedGraph) {
  Graph fused = fusion_net(true), plain = fusion_net(false);
  const Tensor x = random_tensor({3, 6, 6, 3}, 21, -1.f, 1.f);
  const std::vector<int32_t> labels = {0, 2, 3};
  for (int step = 0; step < 2; ++step) {  // the second step reuses every buffer
    Tensor d1, d2;
    fused.zero_grad();
    plain.zero_grad();
    const Tensor y1 = fused.forward(x, true);
    const Tensor y2 = plain.forward(x, true);
    ASSERT_EQ(y1.dims(), y2.dims());
    for (int64_t i = 0; i < y1.numel(); ++i) ASSERT_NEAR(y1[i], y2[i], 1e-5) << i;
    softmax_cross_entropy(y1, labels, &d1);
    softmax_cross_entropy(y2, labels, &d2);
    fused.backward(d1);
    plain.backward(d2);
    const ParamList p1 = fused.params(), p2 = plain.params();
    ASSERT_EQ(p1.size(), p2.size());
    for (size_t k = 0; k < p1.size(); ++k) {
      const Tensor& a = p1[k].grad ? *p1[k].grad : *p1[k].value;
      const Tensor& b = p2[k].grad ? *p2[k].grad : *p2[k].value;
      double scale = 1e-6;
      for (int64_t i = 0; i < b.numel(); ++i) scale = std::max(scale, double(std::fabs(b[i])));
      for (int64_t i = 0; i < a.numel(); ++i)
        ASSERT_NEAR(a[i], b[i], 1e-4 * scale) << p1[k].name << " element " << i;
    }
  }
  // a1 and a2 were folded into b1 and b2; a3 was not (b3 has two readers).
  auto fused_act = [&](const char* name) {
    for (NodeId n = 0; n < fused.num_nodes(); ++n)
      if (fused.node_name(n) == name)
        return dynamic_cast<const BatchNorm*>(fused.layer(n))->fused_activation();
    return Act::elu();
  };
  EXPECT_EQ(fused_act("b1"), Act::relu());
  EXPECT_EQ(fused_act("b2"), Act::relu6());
  EXPECT_EQ(fused_act("b3"), Act::none());
  // b1 and b2 took their statistics from c1 and c2 (the sinks were filled, and used);
  // b3's input is read twice, so it took its own; the unfused graph's took none.
  auto sink_filled = [](Graph& g, const char* name) {
    for (NodeId n = 0; n < g.num_nodes(); ++n)
      if (g.node_name(n) == name) return !g.layer(n)->input_stats_sink()->mean.empty();
    return false;
  };
  EXPECT_TRUE(sink_filled(fused, "b1"));
  EXPECT_TRUE(sink_filled(fused, "b2"));
  EXPECT_FALSE(sink_filled(fused, "b3"));
  EXPECT_FALSE(sink_filled(plain, "b1"));
  // Adding a reader to b1 undoes its fusion at the next forward.
  NodeId b1 = 2;
  ASSERT_EQ(fused.node_name(b1), "b1");
  fused.add<GlobalAvgPool2D>({b1}, "extra_reader");
  fused.forward(x, false);
  EXPECT_EQ(fused_act("b1"), Act::none());
  EXPECT_EQ(fused_act("b2"), Act::relu6());
}

}  // namespace
}  // namespace xcept

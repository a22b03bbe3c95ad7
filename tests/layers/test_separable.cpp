// SeparableConv2d in both orders x every mid activation: forward against a composition
// of double-precision reference kernels, finite-difference gradients, member shapes and
// names, the Xception cost figure, and errors that name the layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>

#include "core/error.h"
#include "kernels/reference/activation_ref.h"
#include "kernels/reference/conv2d_ref.h"
#include "layer_test_support.h"
#include "layers/separable_conv2d.h"

using namespace xcept;

namespace {

constexpr double kForwardTol = 1e-4;
constexpr double kGradTol = 1e-3;

struct Config {
  int64_t n, h, w, c;
  SeparableConv2dOptions opt;
};

// Stride, dilation, padding and multiplier differ between the two orders' configs so
// each order's step gets the window it should.
Config config_for(SeparableOrder order, Act act) {
  SeparableConv2dOptions o;
  o.order = order;
  o.mid_activation = act.kind == ActKind::elu ? Act::elu(0.8f) : act;
  if (order == SeparableOrder::depthwise_pointwise) {
    o.out_channels = 5;
    o.depth_multiplier = 2;
    o.window = ConvWindow::square(3, 2, Padding::same());
    return {2, 6, 5, 3, o};
  }
  o.out_channels = 6;
  o.window = ConvWindow{3, 3, 1, 2, 2, 1, Padding::explicit_(2, 1, 1, 1)};
  return {1, 6, 7, 4, o};
}

// The two steps' shapes, derived from the options alone (not from the layer).
std::pair<ConvShape, ConvShape> twin_shapes(const Config& k) {
  const auto& o = k.opt;
  if (o.order == SeparableOrder::depthwise_pointwise) {
    ConvShape dw = make_conv_shape("dw", k.n, k.h, k.w, k.c,
                                   o.window.with(k.c * o.depth_multiplier, k.c));
    ConvShape pw = make_conv_shape("pw", k.n, dw.ho, dw.wo, dw.m,
                                   ConvWindow{}.with(o.out_channels, 1));
    return {dw, pw};
  }
  ConvShape pw = make_conv_shape("pw", k.n, k.h, k.w, k.c, ConvWindow{}.with(o.out_channels, 1));
  ConvShape dw = make_conv_shape("dw", k.n, k.h, k.w, o.out_channels,
                                 o.window.with(o.out_channels, o.out_channels));
  return {pw, dw};
}

using Param = std::tuple<SeparableOrder, Act, bool>;

class SeparableGrad : public ::testing::TestWithParam<Param> {};

TEST_P(SeparableGrad, ForwardMatchesReferenceAndGradientsMatchFiniteDifferences) {
  auto [order, act, bias] = GetParam();
  Config k = config_for(order, act);
  k.opt.has_bias = bias;
  SeparableConv2d layer("sep", k.c, k.opt, 77);
  Conv2d& first = layer.first_step();
  Conv2d& second = layer.second_step();
  if (bias) second.bias = test::random_tensor(second.bias.dims(), 41);
  // Wide enough inputs that some relu6 pre-activations pass the cap at 6.
  const float range = act == Act::relu6() ? 16.0f : 1.0f;
  Tensor x = test::random_tensor({k.n, k.h, k.w, k.c}, 42, -range, range);
  Tensor y = layer.forward(x);
  auto [s1, s2] = twin_shapes(k);
  ASSERT_EQ(y.dims(), (Dims{s2.n, s2.ho, s2.wo, s2.m}));
  Tensor r = test::random_tensor(y.dims(), 43);
  Tensor dx = layer.backward(r);
  ASSERT_EQ(dx.dims(), x.dims());

  std::vector<double> xd = test::to_double(x), w1 = test::to_double(first.weight),
                      w2 = test::to_double(second.weight), b2 = test::to_double(second.bias);
  std::vector<double> mid(size_t(s1.output_numel())), yd(size_t(s2.output_numel()));
  double min_pre = INFINITY;  // closest pre-activation to a relu/relu6 kink
  auto run = [&] {
    ref::conv2d_fwd<double>(s1, xd.data(), w1.data(), nullptr, mid.data());
    for (double& v : mid) {
      min_pre = std::min({min_pre, std::fabs(v), std::fabs(v - 6.0)});
      v = ref::activation_fwd<double>(k.opt.mid_activation, v);
    }
    ref::conv2d_fwd<double>(s2, mid.data(), w2.data(), bias ? b2.data() : nullptr, yd.data());
    return test::dot(r, yd);
  };
  run();
  // Central differences across a kink, or a float/double disagreement on which side of
  // it a value lies, would make the check meaningless; these seeds stay clear of it.
  if (act == Act::relu() || act == Act::relu6()) {
    ASSERT_GT(min_pre, 1e-4);
  }
  if (act == Act::relu6()) {
    EXPECT_GT(std::count_if(mid.begin(), mid.end(), [](double v) { return v == 6.0; }), 0);
  }
  SCOPED_TRACE(s1.to_string() + " then " + s2.to_string());
  EXPECT_LT(test::rel_error(y, yd), kForwardTol);
  EXPECT_LT(test::gradient_check(xd, test::to_double(dx), run), kGradTol);
  EXPECT_LT(test::gradient_check(w1, test::to_double(first.grad_weight), run), kGradTol);
  EXPECT_LT(test::gradient_check(w2, test::to_double(second.grad_weight), run), kGradTol);
  if (bias) {
    EXPECT_LT(test::gradient_check(b2, test::to_double(second.grad_bias), run), kGradTol);
  }
  EXPECT_TRUE(first.bias.empty());  // the first step never has a bias
}

INSTANTIATE_TEST_SUITE_P(
    OrdersByActivation, SeparableGrad,
    ::testing::Combine(::testing::Values(SeparableOrder::depthwise_pointwise,
                                         SeparableOrder::pointwise_depthwise),
                       ::testing::Values(Act::none(), Act::relu(), Act::elu(),
                                         Act::relu6()),
                       ::testing::Bool()),
    [](const auto& info) {
      return std::string(separable_order_name(std::get<0>(info.param))) + "_" +
             act_name(std::get<1>(info.param)) +
             (std::get<2>(info.param) ? "_bias" : "_nobias");
    });

void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no xcept::Error thrown";
  } catch (const Error& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

}  // namespace

TEST(SeparableConv2d, MembersHaveTheShapesAndNamesOfTheirOrder) {
  SeparableConv2dOptions o;
  o.out_channels = 16;
  o.window = ConvWindow::square(3, 2, Padding::same());
  o.depth_multiplier = 2;
  o.has_bias = true;
  SeparableConv2d dp("block4_sepconv2", 8, o, 1);
  EXPECT_EQ(dp.depthwise.name, "block4_sepconv2.depthwise");
  EXPECT_EQ(dp.depthwise.weight.dims(), (Dims{3, 3, 1, 16}));
  EXPECT_EQ(dp.pointwise.weight.dims(), (Dims{1, 1, 16, 16}));
  EXPECT_EQ(&dp.first_step(), &dp.depthwise);
  ParamList p = dp.params();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].name, "block4_sepconv2.depthwise.weight");
  EXPECT_EQ(p[1].name, "block4_sepconv2.pointwise.weight");
  EXPECT_EQ(p[2].name, "block4_sepconv2.pointwise.bias");
  EXPECT_EQ(p[1].grad, &dp.pointwise.grad_weight);
  EXPECT_EQ(dp.forward(Tensor({1, 9, 9, 8})).dims(), (Dims{1, 5, 5, 16}));

  o.order = SeparableOrder::pointwise_depthwise;
  o.depth_multiplier = 1;
  SeparableConv2d pd("xblock", 8, o, 1);
  EXPECT_EQ(pd.pointwise.weight.dims(), (Dims{1, 1, 8, 16}));
  EXPECT_EQ(pd.depthwise.weight.dims(), (Dims{3, 3, 1, 16}));
  EXPECT_EQ(&pd.first_step(), &pd.pointwise);
  p = pd.params();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].name, "xblock.pointwise.weight");
  EXPECT_EQ(p[2].name, "xblock.depthwise.bias");
  EXPECT_EQ(pd.forward(Tensor({1, 9, 9, 8})).dims(), (Dims{1, 5, 5, 16}));

  // Members draw from different, reproducible seeds.
  Conv2d alone = depthwise_conv2d("d", 8, 2, o.window, false, separable_member_seed(1, 0));
  EXPECT_EQ(test::to_double(alone.weight), test::to_double(dp.depthwise.weight));
  EXPECT_NE(separable_member_seed(1, 1), separable_member_seed(2, 0));
}

// Xception's middle flow: SeparableConv2D(728, 3, padding="same", use_bias=False) on
// 19x19x728 has 3*3*728 depthwise + 728*728 pointwise weights (Chollet 2017, Keras).
TEST(SeparableConv2d, XceptionMiddleFlowWeightCount) {
  SeparableConv2dOptions o;
  o.out_channels = 728;
  o.window = ConvWindow::square(3, 1, Padding::same());
  o.has_bias = false;
  SeparableConv2d l("block5_sepconv1", 728, o, 5);
  int64_t count = 0;
  for (const ParamRef& p : l.params()) count += p.value->numel();
  EXPECT_EQ(count, 728 * 9 + 728 * 728);
  EXPECT_EQ(l.forward(Tensor({1, 19, 19, 728})).dims(), (Dims{1, 19, 19, 728}));
}

TEST(SeparableConv2d, BackwardAccumulatesIntoBothMembers) {
  SeparableConv2dOptions o;
  o.out_channels = 4;
  o.mid_activation = Act::elu();
  SeparableConv2d l("acc", 3, o, 2);
  Tensor x = test::random_tensor({1, 5, 5, 3}, 3);
  Tensor dy = test::random_tensor({1, 3, 3, 4}, 4);
  l.forward(x);
  l.backward(dy);
  Tensor g1 = l.depthwise.grad_weight, g2 = l.pointwise.grad_weight, gb = l.pointwise.grad_bias;
  l.backward(dy);
  for (int64_t i = 0; i < g1.numel(); ++i) EXPECT_FLOAT_EQ(l.depthwise.grad_weight[i], 2 * g1[i]);
  for (int64_t i = 0; i < g2.numel(); ++i) EXPECT_FLOAT_EQ(l.pointwise.grad_weight[i], 2 * g2[i]);
  for (int64_t i = 0; i < gb.numel(); ++i) EXPECT_FLOAT_EQ(l.pointwise.grad_bias[i], 2 * gb[i]);
  l.zero_grad();
  for (const ParamRef& p : l.params())
    for (int64_t i = 0; i < p.grad->numel(); ++i) EXPECT_EQ((*p.grad)[i], 0.0f) << p.name;
}

TEST(SeparableConv2d, BadInputsAndOptionsNameTheLayer) {
  SeparableConv2dOptions o;
  o.out_channels = 8;
  o.window = ConvWindow::square(3, 1, Padding::same());
  SeparableConv2d l("block3_sepconv1", 4, o, 1);
  expect_error([&] { l.forward(Tensor({1, 5, 5, 3})); }, {"block3_sepconv1", "1x5x5x3", "4"});
  expect_error([&] { l.forward(Tensor({5, 5, 4})); }, {"block3_sepconv1", "5x5x4", "4-D"});
  expect_error([&] { l.backward(Tensor({1, 5, 5, 8})); }, {"block3_sepconv1", "before forward"});
  l.forward(Tensor({1, 5, 5, 4}));
  expect_error([&] { l.backward(Tensor({1, 5, 5, 7})); }, {"block3_sepconv1", "1x5x5x7"});

  SeparableConv2dOptions bad = o;
  bad.order = SeparableOrder::pointwise_depthwise;
  bad.depth_multiplier = 2;
  expect_error([&] { SeparableConv2d("xmod", 4, bad, 1); }, {"xmod", "multiplier"});
  bad = o;
  bad.mid_activation = Act::elu(0.0f);
  expect_error([&] { SeparableConv2d("elu_sep", 4, bad, 1); }, {"elu_sep", "alpha"});
  bad = o;
  bad.out_channels = 0;
  expect_error([&] { SeparableConv2d("zero_out", 4, bad, 1); }, {"zero_out", "output channels"});
}

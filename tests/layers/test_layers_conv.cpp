// Conv2d layer: what each factory builds, forward against the double-precision
// reference kernel, finite-difference gradients (input, weight, bias) for every kind of
// convolution, gradient accumulation, initialization, and errors that name the layer.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/error.h"
#include "kernels/reference/conv2d_ref.h"
#include "layer_test_support.h"
#include "layers/conv2d.h"

using namespace xcept;

namespace {

constexpr double kForwardTol = 1e-4;
constexpr double kGradTol = 1e-3;  // relative to max|grad|: float analytic vs double numeric

struct LayerCase {
  std::string label;
  std::function<Conv2d()> make;
  Dims input;  // NHWC
};

void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.label; }

std::vector<LayerCase> layer_cases() {
  using W = ConvWindow;
  const Padding same = Padding::same();
  // 3x1 window, stride 2x1, dilation 2x1, asymmetric explicit padding.
  const W tall{3, 1, 2, 1, 2, 1, Padding::explicit_(1, 0, 2, 0)};
  return {
      {"normal_k3_same",
       [=] { return normal_conv2d("conv_a", 3, 5, W::square(3, 1, same), true, 1); },
       {2, 5, 6, 3}},
      {"normal_k3x1_s2_dil", [=] { return normal_conv2d("conv_b", 2, 4, tall, true, 2); },
       {1, 7, 5, 2}},
      {"grouped_g2_s2_valid",
       [=] { return grouped_conv2d("conv_g", 4, 6, 2, W::square(3, 2), true, 3); },
       {1, 7, 6, 4}},
      {"grouped_g3_nobias",
       [=] { return grouped_conv2d("conv_g3", 6, 3, 3, W::square(2, 1, same), false, 4); },
       {2, 4, 5, 6}},
      {"depthwise_m1_same",
       [=] { return depthwise_conv2d("dw1", 5, 1, W::square(3, 1, same), true, 5); },
       {2, 6, 6, 5}},
      {"depthwise_m3_s2_d2",
       [=] { return depthwise_conv2d("dw3", 3, 3, W::square(3, 2, same, 2), true, 6); },
       {1, 7, 8, 3}},
      {"pointwise", [] { return pointwise_conv2d("pw", 6, 7, true, 7); }, {2, 4, 5, 6}},
      {"pointwise_nobias", [] { return pointwise_conv2d("pw_nb", 3, 2, false, 8); }, {1, 3, 3, 3}},
  };
}

class Conv2dLayer : public ::testing::TestWithParam<LayerCase> {};

// The float layer is differentiated analytically; its double twin, built from
// ref::conv2d_fwd<double> on the same (float-valued) weights, numerically.
TEST_P(Conv2dLayer, ForwardMatchesReferenceAndGradientsMatchFiniteDifferences) {
  Conv2d layer = GetParam().make();
  layer.bias = layer.has_bias ? test::random_tensor({layer.config.out_channels}, 31) : Tensor();
  Tensor x = test::random_tensor(GetParam().input, 32);
  Tensor y = layer.forward(x);
  const ConvShape s = make_conv_shape("twin", x.dim(0), x.dim(1), x.dim(2), x.dim(3), layer.config);
  ASSERT_EQ(y.dims(), (Dims{s.n, s.ho, s.wo, s.m}));
  Tensor r = test::random_tensor(y.dims(), 33);
  Tensor dx = layer.backward(r);
  ASSERT_EQ(dx.dims(), x.dims());

  std::vector<double> xd = test::to_double(x), wd = test::to_double(layer.weight),
                      bd = test::to_double(layer.bias), yd(size_t(s.output_numel()));
  auto run = [&] {
    ref::conv2d_fwd<double>(s, xd.data(), wd.data(), layer.has_bias ? bd.data() : nullptr,
                            yd.data());
    return test::dot(r, yd);
  };
  run();
  SCOPED_TRACE(s.to_string());
  EXPECT_LT(test::rel_error(y, yd), kForwardTol);
  EXPECT_LT(test::gradient_check(xd, test::to_double(dx), run), kGradTol);
  EXPECT_LT(test::gradient_check(wd, test::to_double(layer.grad_weight), run), kGradTol);
  if (layer.has_bias) {
    EXPECT_LT(test::gradient_check(bd, test::to_double(layer.grad_bias), run), kGradTol);
  }
}

INSTANTIATE_TEST_SUITE_P(Factories, Conv2dLayer, ::testing::ValuesIn(layer_cases()),
                         [](const auto& info) { return info.param.label; });

}  // namespace

TEST(Conv2dFactories, BuildTheConvolutionTheirNameSays) {
  Conv2d n = normal_conv2d("n", 3, 8, ConvWindow::square(3, 2, Padding::same()), true, 1);
  EXPECT_EQ(n.weight.dims(), (Dims{3, 3, 3, 8}));
  EXPECT_EQ(n.bias.dims(), (Dims{8}));
  EXPECT_EQ(n.config.groups, 1);
  EXPECT_EQ(n.config.stride_h, 2);

  Conv2d g = grouped_conv2d("g", 8, 12, 4, ConvWindow::square(3), false, 1);
  EXPECT_EQ(g.weight.dims(), (Dims{3, 3, 2, 12}));
  EXPECT_TRUE(g.bias.empty());
  EXPECT_EQ(g.config.groups, 4);

  Conv2d d = depthwise_conv2d("d", 5, 2, ConvWindow::square(5), false, 1);
  EXPECT_EQ(d.weight.dims(), (Dims{5, 5, 1, 10}));
  EXPECT_EQ(d.config.groups, 5);
  EXPECT_EQ(d.config.out_channels, 10);

  Conv2d p = pointwise_conv2d("p", 7, 9, true, 1);
  EXPECT_EQ(p.weight.dims(), (Dims{1, 1, 7, 9}));
  EXPECT_EQ(p.config.kernel_h, 1);
  EXPECT_EQ(p.config.padding.mode, PadMode::valid);
}

TEST(Conv2dInit, GlorotUniformWithPerGroupFansSeededAndZeroBias) {
  // Normal 3x3, 16 -> 32: limit sqrt(6 / (9*16 + 9*32)).
  Conv2d a = normal_conv2d("a", 16, 32, ConvWindow::square(3), true, 42);
  const double limit = std::sqrt(6.0 / (9 * 16 + 9 * 32));
  double max_abs = 0, sum = 0;
  for (int64_t i = 0; i < a.weight.numel(); ++i) {
    max_abs = std::max(max_abs, double(std::fabs(a.weight[i])));
    sum += a.weight[i];
  }
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.98 * limit);  // 4608 draws reach the edge of the interval
  EXPECT_LT(std::fabs(sum / double(a.weight.numel())), 0.05 * limit);
  for (int64_t i = 0; i < a.bias.numel(); ++i) EXPECT_EQ(a.bias[i], 0.0f);

  // Depthwise 3x3 x2 on 64 channels: fans 9*1 and 9*2 (per group), not 9*64.
  Conv2d d = depthwise_conv2d("d", 64, 2, ConvWindow::square(3), false, 42);
  const double dlimit = std::sqrt(6.0 / (9 + 18));
  double dmax = 0;
  for (int64_t i = 0; i < d.weight.numel(); ++i)
    dmax = std::max(dmax, double(std::fabs(d.weight[i])));
  EXPECT_LE(dmax, dlimit);
  EXPECT_GT(dmax, 0.95 * dlimit);

  Conv2d same = normal_conv2d("b", 16, 32, ConvWindow::square(3), true, 42);
  Conv2d other = normal_conv2d("a", 16, 32, ConvWindow::square(3), true, 43);
  EXPECT_EQ(test::to_double(same.weight), test::to_double(a.weight));
  EXPECT_NE(test::to_double(other.weight), test::to_double(a.weight));
}

TEST(Conv2dLayerState, BackwardAccumulatesAndZeroGradResets) {
  Conv2d l = normal_conv2d("acc", 3, 4, ConvWindow::square(3, 1, Padding::same()), true, 9);
  Tensor x = test::random_tensor({2, 5, 5, 3}, 1);
  Tensor dy = test::random_tensor({2, 5, 5, 4}, 2);
  l.forward(x);
  Tensor dx1 = l.backward(dy);
  Tensor gw1 = l.grad_weight, gb1 = l.grad_bias;
  Tensor dx2 = l.backward(dy);
  EXPECT_EQ(test::to_double(dx1), test::to_double(dx2));  // dx is returned, not accumulated
  for (int64_t i = 0; i < gw1.numel(); ++i) EXPECT_FLOAT_EQ(l.grad_weight[i], 2 * gw1[i]);
  for (int64_t i = 0; i < gb1.numel(); ++i) EXPECT_FLOAT_EQ(l.grad_bias[i], 2 * gb1[i]);
  l.zero_grad();
  for (int64_t i = 0; i < gw1.numel(); ++i) EXPECT_EQ(l.grad_weight[i], 0.0f);
  for (int64_t i = 0; i < gb1.numel(); ++i) EXPECT_EQ(l.grad_bias[i], 0.0f);
}

TEST(Conv2dLayerState, MovedInputIsCachedLikeACopy) {
  Conv2d l = depthwise_conv2d("mv", 4, 1, ConvWindow::square(3, 2, Padding::same()), false, 3);
  Tensor x = test::random_tensor({1, 6, 6, 4}, 5);
  Tensor y1 = l.forward(x);
  Tensor x_copy = x;
  Tensor y2 = l.forward(std::move(x_copy));
  EXPECT_EQ(test::to_double(y1), test::to_double(y2));
  EXPECT_EQ(test::to_double(l.input()), test::to_double(x));
  EXPECT_EQ(l.shape().ho, 3);
}

TEST(Conv2dLayerState, ParamsAreNamedAndPointIntoTheLayer) {
  Conv2d l = normal_conv2d("block1_conv1", 3, 32, ConvWindow::square(3, 2), true, 1);
  ParamList p = l.params();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "block1_conv1.weight");
  EXPECT_EQ(p[0].value, &l.weight);
  EXPECT_EQ(p[0].grad, &l.grad_weight);
  EXPECT_EQ(p[1].name, "block1_conv1.bias");
  EXPECT_EQ(p[1].grad, &l.grad_bias);
  EXPECT_EQ(pointwise_conv2d("pw", 3, 4, false, 1).params().size(), 1u);
}

namespace {

// Runs f, expecting an xcept::Error whose message contains every one of `parts`.
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

TEST(Conv2dErrors, BadInputsNameTheLayerAndTheShapes) {
  Conv2d l = normal_conv2d("block2_conv", 3, 8, ConvWindow::square(3), false, 1);
  expect_error([&] { l.forward(Tensor({1, 8, 8, 4})); }, {"block2_conv", "1x8x8x4", "3"});
  expect_error([&] { l.forward(Tensor({8, 8, 3})); }, {"block2_conv", "8x8x3", "4-D"});
  expect_error([&] { l.forward(Tensor({1, 2, 8, 3})); }, {"block2_conv", "larger"});
  expect_error([&] { l.backward(Tensor({1, 6, 6, 8})); }, {"block2_conv", "before forward"});
  l.forward(Tensor({1, 8, 8, 3}));
  expect_error([&] { l.backward(Tensor({1, 6, 6, 7})); }, {"block2_conv", "1x6x6x7", "1x6x6x8"});
  // A failed forward leaves the previous cache usable.
  EXPECT_NO_THROW(l.backward(Tensor({1, 6, 6, 8})));

  expect_error([] { grouped_conv2d("gconv", 6, 8, 4, ConvWindow::square(1), false, 1); },
               {"gconv", "divisible"});
  expect_error([] { depthwise_conv2d("dconv", 4, 0, ConvWindow::square(3), false, 1); },
               {"dconv", "multiplier"});
  expect_error([] { normal_conv2d("sconv", 3, 4, ConvWindow::square(3, 0), false, 1); },
               {"sconv", "stride"});

  // Public members edited into an inconsistent state are caught before a kernel runs.
  Conv2d bad = pointwise_conv2d("edited", 3, 4, true, 1);
  bad.weight = Tensor({1, 1, 3, 5});
  expect_error([&] { bad.forward(Tensor({1, 2, 2, 3})); }, {"edited", "weight"});
}

// The non-convolution layers: gradient checks through the shared harness, forward values
// on hand-worked cases, and the build-time shape errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "core/error.h"
#include "layer_gradcheck.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "train/loss.h"

namespace xcept {
namespace {

using test::GradcheckOptions;
using test::layer_gradcheck;

// Finite differences of a float forward agree with the analytic gradient to ~1e-4 (see
// layer_gradcheck.h); 1e-2 leaves margin and still catches any wrong term, which shows
// up as an O(1) relative error.
constexpr double kGradTol = 1e-2;

testing::AssertionResult grad_ok(Layer& layer, const std::vector<Dims>& dims,
                                 const GradcheckOptions& options = {}) {
  auto r = layer_gradcheck(layer, dims, options);
  if (r.max_error < kGradTol) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << layer.name() << ": error " << r.max_error << " in " << r.worst << "\n"
         << r.report;
}

// Forward on one input, for hand-worked cases.
Tensor run(Layer& l, const Tensor& x, bool training = false) {
  Rng rng(0);
  Dims per_image(x.dims().begin() + 1, x.dims().end());
  Dims out_dims = l.build({per_image}, rng);
  out_dims.insert(out_dims.begin(), x.dim(0));
  Tensor y(out_dims);
  l.forward({&x}, y, training);
  return y;
}

Tensor make(Dims dims, std::vector<float> values) {
  Tensor t(std::move(dims));
  EXPECT_EQ(t.numel(), int64_t(values.size()));
  for (size_t i = 0; i < values.size(); ++i) t[int64_t(i)] = values[i];
  return t;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

GradcheckOptions batch_of(int64_t batch) {
  GradcheckOptions o;
  o.batch = batch;
  return o;
}

// ---- batch norm

void randomize_bn(Layer& l) {
  auto& bn = dynamic_cast<BatchNorm&>(l);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 1.5f), s(-0.5f, 0.5f);
  for (int64_t c = 0; c < bn.channels(); ++c) {
    bn.gamma[c] = u(rng), bn.beta[c] = s(rng);
    bn.moving_mean[c] = s(rng), bn.moving_variance[c] = u(rng);
  }
}

TEST(BatchNormLayer, GradcheckTrainingAndInference) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "inference");
    GradcheckOptions o;
    o.training = training;
    o.after_build = randomize_bn;
    BatchNorm map("bn_map");
    EXPECT_TRUE(grad_ok(map, std::vector<Dims>{{3, 4, 5}}, o));
    BatchNorm vec("bn_vec");
    o.batch = 4;
    EXPECT_TRUE(grad_ok(vec, std::vector<Dims>{{6}}, o));
  }
}

TEST(BatchNormLayer, TrainingNormalizesToZeroMeanUnitVariance) {
  BatchNorm bn("bn");
  const int64_t n = 4, h = 5, w = 3, c = 3;
  Tensor x({n, h, w, c});
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = 3.f + 2.f * float(i % c) + 1.5f * d(rng);
  Tensor y = run(bn, x, /*training=*/true);
  const int64_t m = n * h * w;
  for (int64_t ch = 0; ch < c; ++ch) {
    double mx = 0, my = 0, vx = 0, vy = 0;
    for (int64_t r = 0; r < m; ++r) mx += x[r * c + ch], my += y[r * c + ch];
    mx /= double(m), my /= double(m);
    for (int64_t r = 0; r < m; ++r) {
      vx += (x[r * c + ch] - mx) * (x[r * c + ch] - mx);
      vy += (y[r * c + ch] - my) * (y[r * c + ch] - my);
    }
    vx /= double(m), vy /= double(m);
    EXPECT_NEAR(my, 0.0, 1e-5);
    EXPECT_NEAR(vy, vx / (vx + 1e-3), 1e-4);  // epsilon 1e-3 shrinks it a hair below 1
  }
}

TEST(BatchNormLayer, MovingStatisticsFollowMomentum) {
  BatchNorm bn("bn", {.momentum = 0.9f, .epsilon = 1e-3f});
  // One channel, values 1 2 3 6: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
  Tensor x = make({2, 1, 2, 1}, {1, 2, 3, 6});
  // The first 1/(1 - 0.9) = 10 updates average the batches; m = 1 - 1/t reaches 0.9 at t = 10.
  Rng rng(0);
  bn.build({{1, 2, 1}}, rng);
  bn.restore_step(20);  // long past them: Keras's update
  Tensor y({2, 1, 2, 1});
  bn.forward({&x}, y, /*training=*/true);
  EXPECT_EQ(bn.updates(), 21);
  EXPECT_FLOAT_EQ(bn.moving_mean[0], 0.9f * 0 + 0.1f * 3);
  EXPECT_FLOAT_EQ(bn.moving_variance[0], 0.9f * 1 + 0.1f * 3.5f);
  // Inference then normalizes with the moving statistics.
  bn.forward({&x}, y, /*training=*/false);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(y[i], (x[i] - 0.3) / std::sqrt(1.25 + 1e-3), 1e-6);
  // Inference leaves them alone.
  EXPECT_FLOAT_EQ(bn.moving_mean[0], 0.3f);
  EXPECT_EQ(bn.updates(), 21);
}

TEST(BatchNormLayer, EarlyMovingStatisticsAreTheAverageOfTheBatchesSeen) {
  BatchNorm bn("bn");  // Keras's momentum 0.99
  // Three batches of one channel with means 3, 5, 10 and biased variances 3.5, 3.5, 0.
  const std::vector<std::vector<float>> batches = {{1, 2, 3, 6}, {3, 4, 5, 8}, {10, 10, 10, 10}};
  Rng rng(0);
  bn.build({{1, 2, 1}}, rng);
  Tensor out({2, 1, 2, 1});
  for (const auto& v : batches) {
    const Tensor b = make({2, 1, 2, 1}, v);
    bn.forward({&b}, out, /*training=*/true);
  }
  EXPECT_NEAR(bn.moving_mean[0], (3.0 + 5.0 + 10.0) / 3, 1e-5);
  EXPECT_NEAR(bn.moving_variance[0], (3.5 + 3.5 + 0.0) / 3, 1e-5);
  // With Keras's plain 0.99 the mean would still be 0.99^3 of the way from 0: about 0.18.
  // Inference on a batch like the first now sees it near zero mean.
  Tensor x = make({2, 1, 2, 1}, {5, 6, 7, 10}), y({2, 1, 2, 1});
  bn.forward({&x}, y, /*training=*/false);
  double mean = 0;
  for (int64_t i = 0; i < 4; ++i) mean += y[i] / 4.0;
  EXPECT_NEAR(mean, (7.0 - 6.0) / std::sqrt(7.0 / 3 + 1e-3), 1e-4);
  EXPECT_EQ(bn.updates(), 3);
}

TEST(BatchNormLayer, MomentumReachesKerasAfterOneOverOneMinusMomentumUpdates) {
  BatchNorm bn("bn", {.momentum = 0.75f, .epsilon = 1e-3f});  // 1/(1-0.75) = 4 updates
  Rng rng(0);
  bn.build({{1, 1, 1}}, rng);
  Tensor x = make({1, 1, 1, 1}, {8}), y({1, 1, 1, 1});
  for (int t = 1; t <= 6; ++t) {
    const float before = bn.moving_mean[0];
    bn.forward({&x}, y, true);
    const double m = std::min(0.75, 1.0 - 1.0 / t);
    EXPECT_NEAR(bn.moving_mean[0], m * before + (1 - m) * x[0], 1e-5) << "update " << t;
    x[0] += 4;  // a new batch mean every step
  }
}

TEST(BatchNormLayer, ListsFourParamsLikeKeras) {
  BatchNorm bn("bn");
  Rng rng(0);
  bn.build({{7, 7, 16}}, rng);
  auto p = bn.params();
  ASSERT_EQ(p.size(), 4u);
  const char* names[] = {"bn.gamma", "bn.beta", "bn.moving_mean", "bn.moving_variance"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p[i].name, names[i]);
    EXPECT_EQ(p[i].value->numel(), 16);
    EXPECT_EQ(p[i].trainable(), i < 2);
  }
  EXPECT_EQ(bn.moving_variance[3], 1.f);
}

// ---- activations

TEST(ActivationLayerTest, Gradcheck) {
  struct Case {
    Act kind;
    float lo, hi;
    std::vector<float> kinks;
  };
  for (const Case& k : {Case{Act::relu(), -1, 1, {0}}, Case{Act::relu6(), -2, 8, {0, 6}},
                        Case{Act::elu(), -3, 2, {0}}, Case{Act::none(), -1, 1, {}}}) {
    SCOPED_TRACE(act_name(k.kind));
    ActivationLayer l(act_name(k.kind), k.kind);
    GradcheckOptions o;
    o.input_lo = k.lo, o.input_hi = k.hi, o.kinks = k.kinks;
    EXPECT_TRUE(grad_ok(l, std::vector<Dims>{{3, 3, 4}}, o));
  }
}

TEST(ActivationLayerTest, ForwardValues) {
  Tensor x = make({1, 4}, {-2, 0.5f, 3, 7});
  ActivationLayer relu6("r6", Act::relu6());
  Tensor y = run(relu6, x);
  const float want[] = {0, 0.5f, 3, 6};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y[i], want[i]);
  ActivationLayer elu("elu", Act::elu());
  Tensor e = run(elu, x);
  EXPECT_NEAR(e[0], std::expm1(-2.0), 1e-6);
  EXPECT_EQ(e[3], 7.f);
}

// ---- pooling

TEST(PoolingLayer, Gradcheck) {
  for (PoolWindow w :
       {PoolWindow::square(3, 2, PadMode::same), PoolWindow::square(2, 2),
        PoolWindow::square(3, 1, PadMode::same), PoolWindow{3, 2, 1, 2, PadMode::valid},
        PoolWindow::torch(3, 2, 1), PoolWindow::torch(3, 2, 0, true)}) {
    SCOPED_TRACE(testing::Message() << w.kernel_h << "x" << w.kernel_w << " s" << w.stride_h << "x"
                                    << w.stride_w << " same=" << (w.padding == PadMode::same));
    GradcheckOptions o;
    o.distinct_inputs = true;  // ties would make max pooling non-differentiable
    MaxPool2D mp("maxpool", w);
    EXPECT_TRUE(grad_ok(mp, std::vector<Dims>{{5, 6, 3}}, o));
    AvgPool2D ap("avgpool", w);
    EXPECT_TRUE(grad_ok(ap, std::vector<Dims>{{5, 6, 3}}, GradcheckOptions{}));
  }
  GlobalAvgPool2D gap("gap");
  EXPECT_TRUE(grad_ok(gap, std::vector<Dims>{{4, 3, 5}}, GradcheckOptions{}));
}

TEST(PoolingLayer, AvgSameDividesByValidTaps) {
  // 3x3 map of 1..9. A 3x3 stride-1 'same' window at the corner covers 1 2 4 5 and six
  // padding taps: the average is over the 4 real ones.
  Tensor x = make({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  AvgPool2D p("avg", PoolWindow::square(3, 1, PadMode::same));
  Tensor y = run(p, x);
  ASSERT_EQ(y.dims(), (Dims{1, 3, 3, 1}));
  EXPECT_FLOAT_EQ(y[0], (1 + 2 + 4 + 5) / 4.f);
  EXPECT_FLOAT_EQ(y[4], 5.f);                            // centre: all nine
  EXPECT_FLOAT_EQ(y[5], (2 + 3 + 5 + 6 + 8 + 9) / 6.f);  // right edge: six
  // 2x2 stride 2 'same' on 3: TF pads 0 before, 1 after; the last window holds only 9.
  AvgPool2D q("avg2", PoolWindow::square(2, 2, PadMode::same));
  Tensor z = run(q, x);
  ASSERT_EQ(z.dims(), (Dims{1, 2, 2, 1}));
  EXPECT_FLOAT_EQ(z[0], (1 + 2 + 4 + 5) / 4.f);
  EXPECT_FLOAT_EQ(z[1], (3 + 6) / 2.f);
  EXPECT_FLOAT_EQ(z[3], 9.f);
}

TEST(PoolingLayer, MaxPicksTheMaxAndRoutesItsGradient) {
  // 4x4, 2 channels; channel 1 is channel 0 negated.
  std::vector<float> v0 = {1, 5, 2, 0, 3, 4, 8, 7, -1, 9, 6, 2, 0, 3, 1, 4};
  std::vector<float> vals;
  for (float v : v0) vals.push_back(v), vals.push_back(-v);
  Tensor x = make({1, 4, 4, 2}, vals);
  MaxPool2D p("max", PoolWindow::square(2, 2));
  Tensor y = run(p, x);
  ASSERT_EQ(y.dims(), (Dims{1, 2, 2, 2}));
  const float want0[] = {5, 8, 9, 6}, want1[] = {-1, 0, 1, -1};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(y[2 * i], want0[i]);
    EXPECT_EQ(y[2 * i + 1], want1[i]);
  }
  Tensor dy(y.dims());
  dy.fill(1.f);
  Tensor dx(x.dims());
  p.backward({&x}, y, dy, {&dx});
  // channel 0 maxima at flat positions 1 (5), 6 (8), 9 (9), 10 (6)
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(dx[2 * i], (i == 1 || i == 6 || i == 9 || i == 10) ? 1.f : 0.f) << i;
  // 'same' padding never wins, even over negative values.
  Tensor neg = make({1, 1, 1, 1}, {-3});
  MaxPool2D s("max_same", PoolWindow::square(3, 1, PadMode::same));
  EXPECT_EQ(run(s, neg)[0], -3.f);
}

TEST(PoolingLayer, PyTorchPaddingAndCeilMode) {
  // 5x5 map of 0..24. nn.MaxPool2d(3, 2, ceil_mode=True): ceil((5-3)/2)+1 = 2 per axis
  // (no overhang); on 6 columns ceil(3/2)+1 = 3, the last window holding columns 4 and 5.
  std::vector<float> v(30);
  for (int i = 0; i < 30; ++i) v[size_t(i)] = float(i);
  Tensor x = make({1, 5, 6, 1}, v);
  MaxPool2D ceil_pool("ceil", PoolWindow::torch(3, 2, 0, true));
  Tensor y = run(ceil_pool, x);
  ASSERT_EQ(y.dims(), (Dims{1, 2, 3, 1}));
  EXPECT_EQ(y[2], 17.f);  // rows 0-2, columns 4-5
  EXPECT_EQ(y[5], 29.f);  // rows 2-4, columns 4-5
  // The floor rule drops that column; padding 1 keeps it, windows centred on 0, 2, 4.
  MaxPool2D floor_pool("floor", PoolWindow::torch(3, 2, 0));
  EXPECT_EQ(run(floor_pool, x).dims(), (Dims{1, 2, 2, 1}));
  AvgPool2D pad_pool("pad1", PoolWindow::torch(3, 2, 1));
  Tensor z = run(pad_pool, x);
  ASSERT_EQ(z.dims(), (Dims{1, 3, 3, 1}));
  EXPECT_FLOAT_EQ(z[0], (0 + 1 + 6 + 7) / 4.f);  // corner: the four taps inside
  // A window may not start in the trailing padding (PyTorch drops it): 4 rows, k 1, s 2,
  // ceil_mode: ceil(3/2)+1 = 3 windows, but the third would start at row 4.
  MaxPool2D k1("k1", PoolWindow::torch(1, 2, 0, true));
  EXPECT_EQ(run(k1, make({1, 4, 4, 1}, std::vector<float>(16, 1.f))).dims(), (Dims{1, 2, 2, 1}));
  Rng rng(0);
  MaxPool2D wide("wide", PoolWindow::torch(3, 2, 2));
  EXPECT_NE(error_of([&] { wide.build({{5, 5, 1}}, rng); }).find("half the window"),
            std::string::npos);
}

TEST(PoolingLayer, GlobalAverage) {
  Tensor x = make({1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  GlobalAvgPool2D g("gap");
  Tensor y = run(g, x);
  ASSERT_EQ(y.dims(), (Dims{1, 2}));
  EXPECT_FLOAT_EQ(y[0], 2.5f);
  EXPECT_FLOAT_EQ(y[1], 25.f);
}

// ---- dense

TEST(DenseLayer, Gradcheck) {
  Dense d("dense", 5);
  EXPECT_TRUE(grad_ok(d, std::vector<Dims>{{7}}, batch_of(3)));
  Dense nb("dense_nobias", 4, /*use_bias=*/false);
  EXPECT_TRUE(grad_ok(nb, std::vector<Dims>{{6}}, GradcheckOptions{}));
}

TEST(DenseLayer, ForwardAndInit) {
  Dense d("fc", 3);
  Rng rng(1);
  EXPECT_EQ(d.build({{2}}, rng), (Dims{3}));
  EXPECT_EQ(d.macs(), 6);
  const float limit = std::sqrt(6.f / 5.f);
  for (int64_t i = 0; i < 6; ++i) EXPECT_LE(std::fabs(d.weight[i]), limit);
  for (int64_t i = 0; i < 6; ++i) d.weight[i] = float(i + 1);  // [[1 2 3] [4 5 6]]
  d.bias[0] = 0.5f, d.bias[1] = 0, d.bias[2] = -1;
  Tensor x = make({1, 2}, {1, -1});
  Tensor y({1, 3});
  d.forward({&x}, y, false);
  EXPECT_FLOAT_EQ(y[0], 1 - 4 + 0.5f);
  EXPECT_FLOAT_EQ(y[1], 2 - 5);
  EXPECT_FLOAT_EQ(y[2], 3 - 6 - 1);
}

// ---- dropout

TEST(DropoutLayer, Gradcheck) {
  Dropout d("drop", 0.4f, 42);
  GradcheckOptions o;
  o.before_forward = [](Layer& l) { dynamic_cast<Dropout&>(l).reseed(7); };
  EXPECT_TRUE(grad_ok(d, std::vector<Dims>{{4, 4, 3}}, o));
  o.training = false;
  Dropout e("drop_eval", 0.4f, 42);
  EXPECT_TRUE(grad_ok(e, std::vector<Dims>{{4, 4, 3}}, o));
}

TEST(DropoutLayer, IdentityInInferenceScaledMaskInTraining) {
  const int64_t n = 20000;
  Tensor x({1, n});
  for (int64_t i = 0; i < n; ++i) x[i] = 1.f + float(i % 7);
  Dropout d("drop", 0.3f, 123);
  Tensor y = run(d, x, /*training=*/false);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], x[i]);

  Tensor t1({1, n}), t2({1, n});
  d.forward({&x}, t1, true);
  d.forward({&x}, t2, true);
  int64_t dropped = 0, differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (t1[i] == 0.f)
      ++dropped;
    else
      ASSERT_FLOAT_EQ(t1[i], x[i] / 0.7f);
    differ += (t1[i] == 0.f) != (t2[i] == 0.f);
  }
  EXPECT_NEAR(double(dropped) / n, 0.3, 0.015);
  EXPECT_GT(differ, 0) << "the generator must advance between forwards";

  // Same seed, same sequence of masks; reseed restarts it.
  Dropout twin("twin", 0.3f, 123);
  Tensor u1 = run(twin, x, true);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(u1[i], t1[i]);
  twin.reseed(123);
  twin.forward({&x}, u1, true);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(u1[i], t1[i]);
}

// ---- merge and shape ops

TEST(MergeLayers, Gradcheck) {
  Add add("add");
  EXPECT_TRUE(
      grad_ok(add, (std::vector<Dims>{{3, 2, 4}, {3, 2, 4}, {3, 2, 4}}), GradcheckOptions{}));
  Concat cat("concat");
  EXPECT_TRUE(
      grad_ok(cat, (std::vector<Dims>{{3, 2, 4}, {3, 2, 1}, {3, 2, 3}}), GradcheckOptions{}));
}

TEST(MergeLayers, ConcatKeepsInputOrder) {
  Concat cat("cat");
  Rng rng(0);
  ASSERT_EQ(cat.build({{1, 2, 2}, {1, 2, 3}}, rng), (Dims{1, 2, 5}));
  Tensor a = make({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor b = make({1, 1, 2, 3}, {10, 20, 30, 40, 50, 60});
  Tensor y({1, 1, 2, 5});
  cat.forward({&a, &b}, y, false);
  const float want[] = {1, 2, 10, 20, 30, 3, 4, 40, 50, 60};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(y[i], want[i]);
}

TEST(ShapeLayers, Gradcheck) {
  Flatten f("flatten");
  auto r = layer_gradcheck(f, {{2, 3, 4}});
  EXPECT_EQ(r.out_dims, (Dims{24}));
  EXPECT_LT(r.max_error, kGradTol) << r.report;
  ChannelShuffle s("shuffle", 3);
  EXPECT_TRUE(grad_ok(s, std::vector<Dims>{{2, 2, 6}}, GradcheckOptions{}));
}

TEST(ShapeLayers, ChannelSliceTakesAndRoutesBack) {
  ChannelSlice s("split", 2, 3);
  EXPECT_TRUE(grad_ok(s, std::vector<Dims>{{2, 2, 6}}, GradcheckOptions{}));
  Tensor x = make({2, 6}, {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15});
  ChannelSlice t("t", 2, 3);
  Tensor y = run(t, x);
  ASSERT_EQ(y.dims(), (Dims{2, 3}));
  const float want[] = {2, 3, 4, 12, 13, 14};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y[i], want[i]);
  Tensor dx(x.dims());
  dx.fill(NAN);  // every element is written: zeros outside the slice
  t.backward({&x}, y, y, {&dx});
  const float back[] = {0, 0, 2, 3, 4, 0, 0, 0, 12, 13, 14, 0};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(dx[i], back[i]);
  Rng rng(0);
  ChannelSlice wide("wide", 4, 3);
  EXPECT_NE(error_of([&] { wide.build({{2, 2, 6}}, rng); }).find("wide: channels [4, 7)"),
            std::string::npos);
  EXPECT_THROW(ChannelSlice("empty", 0, 0), Error);
}

TEST(ShapeLayers, ChannelShufflePermutation) {
  Tensor x = make({1, 6}, {0, 1, 2, 3, 4, 5});
  ChannelShuffle g2("s2", 2), g3("s3", 3);
  Tensor y2 = run(g2, x), y3 = run(g3, x);
  const float want2[] = {0, 3, 1, 4, 2, 5};  // [[0 1 2] [3 4 5]] transposed
  const float want3[] = {0, 2, 4, 1, 3, 5};  // [[0 1] [2 3] [4 5]] transposed
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(y2[i], want2[i]);
    EXPECT_EQ(y3[i], want3[i]);
  }
}

// ---- build errors

TEST(LayerErrors, NameTheLayerAndTheDims) {
  Rng rng(0);
  Add add("block3_add");
  EXPECT_EQ(error_of([&] {
              add.build({{37, 37, 728}, {37, 37, 256}}, rng);
            }),
            "block3_add: input 1 is 37x37x256, input 0 is 37x37x728");
  EXPECT_NE(error_of([&] { add.build({{4, 4, 8}}, rng); }).find("at least 2"), std::string::npos);
  Concat cat("mixed0");
  EXPECT_NE(error_of([&] {
              cat.build({{8, 8, 3}, {7, 8, 3}}, rng);
            }).find("mixed0: input 1 is 7x8x3"),
            std::string::npos);
  Dense d("fc", 4);
  EXPECT_NE(error_of([&] {
              d.build({{2, 2, 3}}, rng);
            }).find("fc: Dense expects a vector input, got 2x2x3"),
            std::string::npos);
  MaxPool2D mp("pool", PoolWindow::square(5, 1));
  EXPECT_NE(error_of([&] { mp.build({{3, 8, 2}}, rng); }).find("pool:"), std::string::npos);
  EXPECT_NE(error_of([&] {
              mp.build({{3, 8}}, rng);
            }).find("pool: MaxPool2D expects an HxWxC feature map, got 3x8"),
            std::string::npos);
  ChannelShuffle cs("shuffle", 4);
  EXPECT_NE(error_of([&] {
              cs.build({{2, 2, 6}}, rng);
            }).find("shuffle: input 2x2x6 has 6 channels, not divisible by 4"),
            std::string::npos);
  BatchNorm bn("bn");
  EXPECT_EQ(error_of([&] {
              bn.build({{2, 2, 6}, {2, 2, 6}}, rng);
            }),
            "bn: BatchNorm takes 1 input, got 2");
  EXPECT_NE(error_of([] { Dropout("drop", 1.f, 0); }).find("drop: dropout rate"),
            std::string::npos);
}

// ---- softmax cross-entropy

TEST(SoftmaxCrossEntropy, HandCaseValueAndGradient) {
  // Row 0 [1 2 3], label 2: -log(e^3 / (e + e^2 + e^3)) = log(1 + e^-1 + e^-2).
  // Row 1 [0 0 0], label 0: log 3. Mean of the two.
  Tensor logits = make({2, 3}, {1, 2, 3, 0, 0, 0});
  std::vector<int32_t> labels = {2, 0};
  Tensor d;
  const double l0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0)), l1 = std::log(3.0);
  EXPECT_NEAR(softmax_cross_entropy(logits, labels, &d), (l0 + l1) / 2, 1e-12);
  ASSERT_EQ(d.dims(), logits.dims());
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(d[0], std::exp(1.0) / z / 2, 1e-7);
  EXPECT_NEAR(d[2], (std::exp(3.0) / z - 1) / 2, 1e-7);
  EXPECT_NEAR(d[3], (1.0 / 3 - 1) / 2, 1e-7);
  EXPECT_NEAR(d[4], 1.0 / 3 / 2, 1e-7);
  // Max subtraction: huge logits neither overflow nor lose the answer.
  Tensor big = make({1, 2}, {1000, 0});
  EXPECT_NEAR(softmax_cross_entropy(big, std::vector<int32_t>{1}, nullptr), 1000.0, 1e-9);
  EXPECT_NEAR(softmax_cross_entropy(big, std::vector<int32_t>{0}, nullptr), 0.0, 1e-12);
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferences) {
  for (float smoothing : {0.f, 0.2f}) {
    SCOPED_TRACE(smoothing);
    Tensor logits({4, 5});
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-3, 3);
    for (int64_t i = 0; i < logits.numel(); ++i) logits[i] = u(rng);
    std::vector<int32_t> labels = {0, 4, 2, 2};
    Tensor d;
    softmax_cross_entropy(logits, labels, &d, smoothing);
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < logits.numel(); ++i) {
      const float saved = logits[i];
      const float up = saved + 1e-2f, down = saved - 1e-2f;
      logits[i] = up;
      const double lp = softmax_cross_entropy(logits, labels, nullptr, smoothing);
      logits[i] = down;
      const double lm = softmax_cross_entropy(logits, labels, nullptr, smoothing);
      logits[i] = saved;
      const double fd = (lp - lm) / (double(up) - double(down));
      diff = std::max(diff, std::fabs(fd - d[i]));
      scale = std::max(scale, std::fabs(fd));
    }
    EXPECT_LT(diff / scale, 1e-3);
  }
}

TEST(SoftmaxCrossEntropy, LabelSmoothing) {
  // Target (1-s)*onehot + s/K. Equal logits: softmax is uniform, loss log K for any s.
  Tensor flat = make({1, 4}, {0.5f, 0.5f, 0.5f, 0.5f});
  EXPECT_NEAR(softmax_cross_entropy(flat, std::vector<int32_t>{1}, nullptr, 0.3f), std::log(4.0),
              1e-12);
  // [1 2 3], label 2, s = 0.1, K = 3: targets 1/30, 1/30, 0.9 + 1/30.
  Tensor logits = make({1, 3}, {1, 2, 3});
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double s = double(0.1f), t_off = s / 3, t_on = 1 - s + s / 3;
  const double want = -(t_off * (1 - lse) + t_off * (2 - lse) + t_on * (3 - lse));
  Tensor d;
  EXPECT_NEAR(softmax_cross_entropy(logits, std::vector<int32_t>{2}, &d, 0.1f), want, 1e-9);
  EXPECT_NEAR(d[0], std::exp(1 - lse) - t_off, 1e-7);
  EXPECT_NEAR(d[2], std::exp(3 - lse) - t_on, 1e-7);
}

TEST(SoftmaxCrossEntropy, BadLabelsAndTop1) {
  Tensor logits = make({3, 3}, {0, 5, 1, 2, 2, 0, -1, -2, -3});
  EXPECT_EQ(error_of([&] {
              softmax_cross_entropy(logits, std::vector<int32_t>{0, 3, 1}, nullptr);
            }),
            "softmax_cross_entropy: label 3 at index 1 is outside [0, 3) classes");
  EXPECT_NE(error_of([&] {
              softmax_cross_entropy(logits, std::vector<int32_t>{0, -1, 1}, nullptr);
            }).find("label -1 at index 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              softmax_cross_entropy(logits, std::vector<int32_t>{0}, nullptr);
            }).find("1 labels for a batch of 3"),
            std::string::npos);
  // Row argmaxes 1, 0 (first of a tie), 0.
  EXPECT_EQ(count_top1_correct(logits, std::vector<int32_t>{1, 0, 0}), 3);
  EXPECT_EQ(count_top1_correct(logits, std::vector<int32_t>{1, 1, 2}), 1);
}

}  // namespace
}  // namespace xcept

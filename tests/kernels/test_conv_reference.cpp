// The oracle itself: a hand-worked case, and finite-difference gradient checks (in
// double) of both backward passes over every convolution type and padding mode.
#include <gtest/gtest.h>

#include "kernels/reference/conv2d_ref.h"
#include "test_support.h"

using namespace xcept;

TEST(ConvReference, HandWorkedTwoChannelExample) {
  // 3x3x2 input, one 2x2 filter, valid, stride 1 -> 2x2x1.
  ConvParams p;
  p.out_channels = 1;
  p.kernel_h = p.kernel_w = 2;
  ConvShape s = make_conv_shape("hand", 1, 3, 3, 2, p);
  // x[y][x][c]: channel 0 = 1..9, channel 1 = 10 * channel 0.
  std::vector<float> x(18);
  for (int i = 0; i < 9; ++i) x[2 * i] = float(i + 1), x[2 * i + 1] = float(10 * (i + 1));
  // HWIO, O = 1: w[ky][kx][c]; channel 0 weights 1,0,0,1 (diagonal), channel 1 all 0.5.
  std::vector<float> w = {1, 0.5f, 0, 0.5f, 0, 0.5f, 1, 0.5f};
  float bias = 100;
  std::vector<float> y(4);
  ref::conv2d_fwd<float>(s, x.data(), w.data(), &bias, y.data());
  // Top-left window of channel 0 is [1 2; 4 5]: diagonal 1+5 = 6; channel 1 sum
  // (10+20+40+50)*0.5 = 60; plus bias 100.
  EXPECT_FLOAT_EQ(y[0], 166);
  EXPECT_FLOAT_EQ(y[1], 100 + (2 + 6) + 0.5f * (20 + 30 + 50 + 60));
  EXPECT_FLOAT_EQ(y[3], 100 + (5 + 9) + 0.5f * (50 + 60 + 80 + 90));
}

struct GradCase {
  int64_t n, h, w, c, m, k, stride, dilation, groups;
  Padding pad;
};

static void PrintTo(const GradCase& g, std::ostream* os) {
  *os << g.n << "x" << g.h << "x" << g.w << "x" << g.c << "->" << g.m << " k" << g.k << " s"
      << g.stride << " d" << g.dilation << " g" << g.groups;
}

static ConvShape shape_of(const GradCase& g) {
  ConvParams p;
  p.out_channels = g.m;
  p.kernel_h = p.kernel_w = g.k;
  p.stride_h = p.stride_w = g.stride;
  p.dilation_h = p.dilation_w = g.dilation;
  p.padding = g.pad;
  p.groups = g.groups;
  return make_conv_shape("gradcheck", g.n, g.h, g.w, g.c, p);
}

class ConvReferenceGrad : public ::testing::TestWithParam<GradCase> {};

TEST_P(ConvReferenceGrad, BackwardMatchesFiniteDifferences) {
  ConvShape s = shape_of(GetParam());
  auto x = test::random_vector<double>(s.input_numel(), 1);
  auto w = test::random_vector<double>(s.weight_numel(), 2);
  auto b = test::random_vector<double>(s.m, 3);
  auto r = test::random_vector<double>(s.output_numel(), 4);  // loss = sum(r * y)
  std::vector<double> y(s.output_numel());
  auto loss = [&] {
    ref::conv2d_fwd(s, x.data(), w.data(), b.data(), y.data());
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += r[i] * y[i];
    return l;
  };
  std::vector<double> dx(x.size()), dw(w.size()), db(b.size());
  ref::conv2d_bwd_data(s, r.data(), w.data(), dx.data());
  ref::conv2d_bwd_filter(s, x.data(), r.data(), dw.data(), db.data());
  SCOPED_TRACE(s.to_string());
  EXPECT_LT(test::gradient_check(x, dx, loss), 1e-7);
  EXPECT_LT(test::gradient_check(w, dw, loss), 1e-7);
  EXPECT_LT(test::gradient_check(b, db, loss), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, ConvReferenceGrad,
    ::testing::Values(
        GradCase{2, 5, 6, 3, 4, 3, 1, 1, 1, Padding::same()},                // normal
        GradCase{1, 7, 5, 4, 6, 3, 2, 1, 2, Padding::valid()},               // grouped, stride 2
        GradCase{1, 6, 6, 3, 3, 3, 2, 1, 3, Padding::same()},                // depthwise, odd pad
        GradCase{1, 5, 5, 2, 6, 3, 1, 2, 2, Padding::same()},                // depthwise x3, dilated
        GradCase{2, 4, 3, 5, 7, 1, 1, 1, 1, Padding::valid()},               // pointwise
        GradCase{1, 6, 7, 4, 4, 2, 2, 2, 1, Padding::explicit_(1, 0, 2, 3)}  // asymmetric
        ));

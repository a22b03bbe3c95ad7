// The fused depthwise -> pointwise kernel (kernels/dwconv_pwconv_fused_nhwc_f32.h)
// against the composition of the two reference convolutions, on layer shapes of
// MobileNet and Xception and randomized ones, tiled into many bands, few, or none,
// on 1 and 2 threads, with and without bias, activation and addend.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/dwconv_pwconv_fused_nhwc_f32.h"
#include "kernels/kernels.h"
#include "kernels/reference/conv2d_ref.h"
#include "kernels/reference/epilogue_ref.h"
#include "test_support.h"

using namespace xcept;
using xcept::test::max_rel_error;
using xcept::test::random_vector;

namespace {

constexpr double kTol = 1e-4;

struct Case {
  ConvShape dw, pw;
  bool dw_bias = true, pw_bias = true, addend = false;
  ActKind dw_act = ActKind::none, pw_act = ActKind::none;
};

struct Data {
  std::vector<float> x, w_dw, b_dw, w_pw, b_pw, addend;
  ConvEpilogue dw_ep, pw_ep;
};

Data make_data(const Case& c, uint32_t seed) {
  Data d;
  d.x = random_vector<float>(c.dw.input_numel(), seed);
  d.w_dw = random_vector<float>(c.dw.weight_numel(), seed + 1);
  d.b_dw = random_vector<float>(c.dw.m, seed + 2);
  d.w_pw = random_vector<float>(c.pw.weight_numel(), seed + 3, -0.2f, 0.2f);
  d.b_pw = random_vector<float>(c.pw.m, seed + 4);
  d.addend = random_vector<float>(c.pw.output_numel(), seed + 5);
  // relu6's upper bound and elu's curve are both reached by these magnitudes.
  d.dw_ep = ConvEpilogue(c.dw_bias ? d.b_dw.data() : nullptr, nullptr, c.dw_act,
                         c.dw_act == ActKind::clip ? 0.f : 0.3f, 1.5f);
  d.pw_ep = ConvEpilogue(c.pw_bias ? d.b_pw.data() : nullptr,
                         c.addend ? d.addend.data() : nullptr, c.pw_act,
                         c.pw_act == ActKind::clip ? -0.5f : 0.1f, 2.f);
  return d;
}

// act_pw(pw(act_dw(dw(x) + b_dw)) + b_pw + addend) with the reference kernels.
std::vector<float> reference(const Case& c, const Data& d) {
  std::vector<float> mid(size_t(c.dw.output_numel())), y(size_t(c.pw.output_numel()));
  ref::conv2d_fwd<float>(c.dw, d.x.data(), d.w_dw.data(), nullptr, mid.data());
  ref::apply_epilogue(d.dw_ep, mid.data(), c.dw.n * c.dw.ho * c.dw.wo, c.dw.m);
  ref::conv2d_fwd<float>(c.pw, mid.data(), d.w_pw.data(), nullptr, y.data());
  ref::apply_epilogue(d.pw_ep, y.data(), c.pw.n * c.pw.ho * c.pw.wo, c.pw.m);
  return y;
}

ConvShape pointwise_after(const ConvShape& dw, int64_t m) {
  ConvParams p;
  p.out_channels = m;
  return make_conv_shape("pw", dw.n, dw.ho, dw.wo, dw.m, p);
}

Case make_case(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t stride, int64_t m,
               Padding pad = Padding::same(), int64_t multiplier = 1, int64_t dilation = 1) {
  ConvParams p;
  p.out_channels = c * multiplier;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = c;
  p.padding = pad;
  Case cs;
  cs.dw = make_conv_shape("dw", n, h, w, c, p);
  cs.pw = pointwise_after(cs.dw, m);
  return cs;
}

class ThreadsGuard {
 public:
  ThreadsGuard() : saved_(num_threads()) {}
  ~ThreadsGuard() { set_num_threads(saved_); }

 private:
  int saved_;
};

// Runs the fused kernel on several band budgets (one row a band, a few, the default,
// untiled) and thread counts, each against the reference.
void check(const Case& c, uint32_t seed) {
  SCOPED_TRACE(c.dw.to_string() + " -> " + c.pw.to_string());
  ASSERT_TRUE(dwconv_pwconv_chain(c.dw, c.pw));
  const Data d = make_data(c, seed);
  const std::vector<float> want = reference(c, d);
  const DwPwConvFused fused(c.dw, d.w_dw.data(), c.pw, d.w_pw.data());
  ThreadsGuard guard;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int64_t budget : {int64_t(1), int64_t(16) << 10, kDwPwBandBytes, int64_t(1) << 40}) {
      SCOPED_TRACE(testing::Message() << threads << " thread(s), band budget " << budget);
      std::vector<float> got(want.size(), NAN);
      fused.run(d.x.data(), d.dw_ep, d.pw_ep, got.data(), budget);
      EXPECT_LT(max_rel_error(got.data(), want.data(), int64_t(want.size())), kTol);
    }
  }
}

TEST(DwPwConvFused, MobileNetShapes) {
  Case c = make_case(1, 112, 112, 32, 3, 1, 64);  // block 1: dw output 1.6 MB
  c.dw_act = c.pw_act = ActKind::clip;
  check(c, 1);
  c = make_case(1, 56, 56, 128, 3, 2, 256);  // stride 2
  c.dw_act = c.pw_act = ActKind::clip;
  check(c, 2);
  c = make_case(2, 14, 14, 64, 3, 1, 96);  // batch 2
  c.dw_act = ActKind::relu;
  c.pw_bias = false;
  check(c, 3);
}

TEST(DwPwConvFused, XceptionMiddleFlowShape) {
  Case c = make_case(1, 19, 19, 728, 3, 1, 728);
  c.dw_bias = false;  // Xception's depthwise has no bias; the pointwise gets the folded BN
  c.addend = true;    // and the residual add of the block
  check(c, 4);
  c.addend = false;
  c.dw_bias = true;
  c.pw_act = ActKind::relu;
  check(c, 5);
}

TEST(DwPwConvFused, OddShapesBatchTwo) {
  Case c = make_case(2, 13, 17, 19, 5, 2, 21, Padding::explicit_(2, 1, 3, 0), 2, 1);
  c.dw_act = ActKind::elu;
  c.pw_act = ActKind::leaky_relu;
  c.addend = true;
  check(c, 6);
  c = make_case(2, 9, 7, 3, 3, 1, 5, Padding::valid(), 1, 2);  // dilation 2
  c.dw_bias = c.pw_bias = false;
  check(c, 7);
  c = make_case(2, 1, 1, 33, 3, 1, 17);  // one pixel: only the centre tap is inside
  check(c, 8);
}

TEST(DwPwConvFused, RandomizedShapes) {
  std::mt19937 rng(20261130);
  auto pick = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  const ActKind acts[] = {ActKind::none, ActKind::relu, ActKind::clip, ActKind::elu,
                          ActKind::leaky_relu};
  for (int i = 0; i < 40; ++i) {
    const int64_t k = pick({1, 3, 3, 5});
    const int64_t h = pick({5, 8, 11, 20}), w = pick({5, 9, 16});
    Padding pad = pick({0, 1, 2}) == 0 ? Padding::same()
                  : pick({0, 1}) ? Padding::valid()
                                 : Padding::explicit_(pick({0, 1}), pick({0, 2}), pick({0, 1}), 1);
    if (k == 1) pad = Padding::valid();
    Case c = make_case(pick({1, 2}), h, w, pick({1, 3, 16, 17, 33}), k, pick({1, 2}),
                       pick({1, 5, 32, 40}), pad, pick({1, 1, 2}), k == 3 ? pick({1, 2}) : 1);
    c.dw_bias = pick({0, 1});
    c.pw_bias = pick({0, 1});
    c.addend = pick({0, 1});
    c.dw_act = acts[pick({0, 1, 2, 3, 4})];
    c.pw_act = acts[pick({0, 1, 2, 3, 4})];
    check(c, uint32_t(100 + i));
  }
}

// The bands are rows of the very computation the two unfused kernels do (the same
// depthwise rows, the same GEMM k blocking), so the results agree to the bit.
TEST(DwPwConvFused, BitIdenticalToTheUnfusedKernels) {
  Case c = make_case(2, 30, 23, 40, 3, 1, 48);
  c.dw_act = ActKind::relu;
  c.addend = true;
  const Data d = make_data(c, 9);
  std::vector<float> mid(size_t(c.dw.output_numel())), want(size_t(c.pw.output_numel()));
  conv2d_fwd(c.dw, d.x.data(), d.w_dw.data(), d.dw_ep, mid.data());
  conv2d_fwd(c.pw, mid.data(), d.w_pw.data(), d.pw_ep, want.data());
  const DwPwConvFused fused(c.dw, d.w_dw.data(), c.pw, d.w_pw.data());
  std::vector<float> got(want.size());
  fused.run(d.x.data(), d.dw_ep, d.pw_ep, got.data(), 8 << 10);
  EXPECT_EQ(max_rel_error(got.data(), want.data(), int64_t(want.size())), 0.0);
}

TEST(DwPwConvFused, Bf16PointwiseStaysCloseToF32) {
  if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  Case c = make_case(1, 28, 28, 64, 3, 1, 128);
  c.dw_act = c.pw_act = ActKind::clip;
  const Data d = make_data(c, 10);
  const std::vector<float> want = reference(c, d);
  const DwPwConvFused fused(c.dw, d.w_dw.data(), c.pw, d.w_pw.data(), Precision::bf16);
  EXPECT_TRUE(fused.bf16());
  std::vector<float> got(want.size());
  fused.run(d.x.data(), d.dw_ep, d.pw_ep, got.data(), 16 << 10);
  const double err = max_rel_error(got.data(), want.data(), int64_t(want.size()));
  EXPECT_LT(err, 2e-2);  // bf16 rounding of the operands, ~2^-9 each
  EXPECT_GT(err, 0.0);   // and it really ran in bf16
}

TEST(DwPwConvFused, BandsSplitEvenlyAcrossThreads) {
  const Case c = make_case(1, 19, 19, 728, 3, 1, 728);
  const DwPwBands two = dwconv_pwconv_bands(c.dw, 2);
  EXPECT_TRUE(two.tiled);
  EXPECT_EQ(two.bands % 2, 0);
  EXPECT_LE(two.rows * c.dw.wo * c.dw.m * 4, kDwPwBandBytes);
  const Case small = make_case(1, 7, 7, 256, 3, 1, 256);  // 49 KB: one piece, untiled
  EXPECT_FALSE(dwconv_pwconv_bands(small.dw, 2).tiled);
}

TEST(DwPwConvFused, FusionPaysForLargeMapsWithSmallWeights) {
  // 1.6 MB of depthwise output, 8 KB of pointwise weights: tile.
  EXPECT_TRUE(dwconv_pwconv_fusion_pays(make_case(1, 112, 112, 32, 3, 1, 64).dw,
                                        make_case(1, 112, 112, 32, 3, 1, 64).pw));
  // Xception's middle flow: 1 MB of output, but 2 MB of weights to re-read per band.
  const Case mid = make_case(1, 19, 19, 728, 3, 1, 728);
  EXPECT_FALSE(dwconv_pwconv_fusion_pays(mid.dw, mid.pw));
  // A small map stays in cache unfused.
  const Case small = make_case(1, 14, 14, 64, 3, 1, 64);
  EXPECT_FALSE(dwconv_pwconv_fusion_pays(small.dw, small.pw));
  EXPECT_TRUE(dwconv_pwconv_fusion_pays(small.dw, small.pw, 16 << 10));
}

TEST(DwPwConvFused, RejectsShapesThatDoNotChain) {
  const Case c = make_case(1, 8, 8, 16, 3, 1, 32);
  std::vector<float> w(10000, 0.f);
  ConvShape pw = c.pw;
  pw.c = 8;  // not the depthwise output's channels
  EXPECT_FALSE(dwconv_pwconv_chain(c.dw, pw));
  EXPECT_THROW(DwPwConvFused(c.dw, w.data(), pw, w.data()), Error);
  EXPECT_FALSE(dwconv_pwconv_chain(c.pw, c.pw));  // a pointwise is no depthwise here
  // Padding a whole window: some output rows would read no input row at all.
  const Case wide = make_case(1, 8, 8, 16, 3, 1, 32, Padding::explicit_(3, 0, 0, 0));
  EXPECT_FALSE(dwconv_pwconv_chain(wide.dw, wide.pw));
}

}  // namespace

// What the differential harness cannot see in the im2col convolutions: its shapes are
// small enough to fit in one tile. These shapes need many tiles (boundaries mid-row,
// mid-image, and tiles spanning two images of a batch), and the results must not depend
// on the thread count, bit for bit.
#include <gtest/gtest.h>

#include <cstring>

#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "kernels/reference/conv2d_ref.h"
#include "test_support.h"

using namespace xcept;

namespace {

struct Case {
  const char* name;
  int64_t n, h, w, c, m, k, stride, dilation, groups;
  Padding pad;
};

// The first three have small weights, so tiles run in parallel: with 512 KB tiles and
// 16 tiles per shape they split into 6-16 pixel tiles forward and several row tiles
// backward; 23, 19 and 9 wide rows put boundaries mid-row, and n = 2 or 3 puts tiles
// across images. The last has weights large next to a tile (mg = 40 > 72 pixels / 2),
// so it takes the big-tile plan: 4 MB holds 910 of its 1152 patch rows (37 of 48 output
// rows backward), so its two tiles meet inside the second image.
const Case kCases[] = {
    {"n2_k3_same", 2, 20, 23, 5, 7, 3, 1, 1, 1, Padding::same()},
    {"n3_k3_s2_d2_g2", 3, 17, 19, 6, 10, 3, 2, 2, 2, Padding::explicit_(1, 2, 0, 1)},
    {"n2_k5_valid_c33", 2, 21, 19, 33, 9, 5, 1, 1, 1, Padding::valid()},
    {"n2_c128_g2_big_tiles", 2, 24, 24, 128, 80, 3, 1, 1, 2, Padding::same()},
};

ConvShape shape_of(const Case& k) {
  ConvParams p;
  p.out_channels = k.m;
  p.kernel_h = p.kernel_w = k.k;
  p.stride_h = p.stride_w = k.stride;
  p.dilation_h = p.dilation_w = k.dilation;
  p.padding = k.pad;
  p.groups = k.groups;
  return make_conv_shape(k.name, k.n, k.h, k.w, k.c, p);
}

// Restores the process-wide thread count whatever the test does.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }

 private:
  int saved_;
};

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr double kTolerance = 1e-4;

}  // namespace

class ConvIm2col : public ::testing::TestWithParam<Case> {};

TEST_P(ConvIm2col, ForwardManyTilesMatchesReferenceAndThreadCounts) {
  ThreadCountGuard guard;
  const ConvShape s = shape_of(GetParam());
  auto x = test::random_vector<float>(s.input_numel(), 1);
  auto w = test::random_vector<float>(s.weight_numel(), 2);
  auto b = test::random_vector<float>(s.m, 3);
  std::vector<float> want(s.output_numel()), one(s.output_numel(), NAN), two(s.output_numel(), NAN);
  ref::conv2d_fwd<float>(s, x.data(), w.data(), b.data(), want.data());
  set_num_threads(1);
  conv2d_fwd_im2col_nhwc_f32(s, x.data(), w.data(), b.data(), one.data());
  set_num_threads(2);
  conv2d_fwd_im2col_nhwc_f32(s, x.data(), w.data(), b.data(), two.data());
  EXPECT_LT(test::max_rel_error(one.data(), want.data(), one.size()), kTolerance) << s.to_string();
  EXPECT_TRUE(bit_equal(one, two)) << s.to_string();
}

TEST_P(ConvIm2col, BackwardDataManyTilesMatchesReferenceAndThreadCounts) {
  ThreadCountGuard guard;
  const ConvShape s = shape_of(GetParam());
  auto dy = test::random_vector<float>(s.output_numel(), 4);
  auto w = test::random_vector<float>(s.weight_numel(), 5);
  std::vector<float> want(s.input_numel()), one(s.input_numel(), NAN), two(s.input_numel(), NAN);
  ref::conv2d_bwd_data<float>(s, dy.data(), w.data(), want.data());
  set_num_threads(1);
  conv2d_bwd_data_im2col_nhwc_f32(s, dy.data(), w.data(), one.data());
  set_num_threads(2);
  conv2d_bwd_data_im2col_nhwc_f32(s, dy.data(), w.data(), two.data());
  EXPECT_LT(test::max_rel_error(one.data(), want.data(), one.size()), kTolerance) << s.to_string();
  EXPECT_TRUE(bit_equal(one, two)) << s.to_string();
}

TEST_P(ConvIm2col, BackwardFilterManyTilesMatchesReferenceAndThreadCounts) {
  ThreadCountGuard guard;
  const ConvShape s = shape_of(GetParam());
  auto x = test::random_vector<float>(s.input_numel(), 6);
  auto dy = test::random_vector<float>(s.output_numel(), 7);
  std::vector<float> want_w(s.weight_numel()), want_b(s.m);
  ref::conv2d_bwd_filter<float>(s, x.data(), dy.data(), want_w.data(), want_b.data());
  std::vector<float> w1(s.weight_numel(), NAN), w2(w1), b1(s.m, NAN), b2(b1);
  set_num_threads(1);
  conv2d_bwd_filter_im2col_nhwc_f32(s, x.data(), dy.data(), w1.data(), b1.data(), false);
  set_num_threads(2);
  conv2d_bwd_filter_im2col_nhwc_f32(s, x.data(), dy.data(), w2.data(), b2.data(), false);
  EXPECT_LT(test::max_rel_error(w1.data(), want_w.data(), w1.size()), kTolerance) << s.to_string();
  EXPECT_LT(test::max_rel_error(b1.data(), want_b.data(), b1.size()), kTolerance) << s.to_string();
  EXPECT_TRUE(bit_equal(w1, w2)) << s.to_string();
  EXPECT_TRUE(bit_equal(b1, b2)) << s.to_string();
  // Without dbias the weight gradient is unchanged.
  std::vector<float> w3(s.weight_numel(), NAN);
  conv2d_bwd_filter_im2col_nhwc_f32(s, x.data(), dy.data(), w3.data(), nullptr, false);
  EXPECT_TRUE(bit_equal(w2, w3)) << s.to_string();
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvIm2col, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.name);
                         });

// Depthwise kernels (every dwconv2d_* row of the table) on what the randomized
// differential test does not reach: wide rows where the interior loop takes many steps,
// channel counts around the vector widths and the staged (channels % 512 == 0) path,
// multipliers 4 and 5, pads larger than the window, several images, unequal strides,
// and bit-identical results at 1 and 2 threads.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "test_support.h"

using namespace xcept;

namespace {

constexpr double kTolerance = 1e-4;

ConvShape dw(int64_t n, int64_t h, int64_t w, int64_t c, int64_t mult, int64_t k, int64_t sh,
             int64_t sw, Padding pad, int64_t dil = 1) {
  ConvParams p;
  p.out_channels = c * mult;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = sh, p.stride_w = sw;
  p.dilation_h = p.dilation_w = dil;
  p.groups = c;
  p.padding = pad;
  return make_conv_shape("test_dwconv", n, h, w, c, p);
}

std::vector<ConvShape> cases() {
  std::vector<ConvShape> v;
  const Padding same = Padding::same(), valid = Padding::valid();
  for (int64_t c : {7, 15, 16, 17, 31, 33, 728})
    for (int64_t s : {1, 2})
      for (Padding pad : {same, valid}) v.push_back(dw(1, 9, 11, c, 1, 3, s, s, pad));
  // Interior loops run many tiles; odd widths leave tails of every length.
  for (int64_t w : {150, 151, 157})
    for (int64_t s : {1, 2}) {
      v.push_back(dw(1, 4, w, 17, 1, 3, s, s, Padding::same()));
      v.push_back(dw(1, 6, w, 32, 1, 5, s, s, Padding::valid()));
    }
  // Pixel strides of 2 and 4 KiB go through the staged rows.
  for (int64_t c : {512, 1024})
    for (int64_t s : {1, 2}) v.push_back(dw(2, 6, 7, c, 1, 3, s, s, Padding::same()));
  v.push_back(dw(1, 5, 6, 256, 2, 3, 1, 1, Padding::same()));  // staged because d > 1
  // Multipliers past the specialised expansions, with and without stride.
  for (int64_t mult : {4, 5}) {
    v.push_back(dw(2, 7, 9, 5, mult, 3, 1, 1, Padding::same()));
    v.push_back(dw(1, 8, 8, 3, mult, 3, 2, 2, Padding::valid()));
  }
  // Pads larger than the window: backward data then mirrors to negative pads.
  v.push_back(dw(1, 6, 7, 9, 1, 3, 1, 1, Padding::explicit_(3, 4, 2, 3)));
  v.push_back(dw(1, 6, 7, 9, 2, 2, 1, 1, Padding::explicit_(2, 3, 3, 2)));
  // Several images in one call, unequal strides, dilation with a 3x3 window.
  v.push_back(dw(3, 5, 8, 19, 1, 3, 2, 1, Padding::same()));
  v.push_back(dw(3, 9, 10, 19, 1, 3, 3, 2, Padding::same()));
  v.push_back(dw(2, 11, 12, 18, 1, 3, 1, 2, Padding::valid(), 2));
  v.push_back(dw(2, 9, 13, 21, 3, 3, 2, 2, Padding::same(), 2));
  return v;
}

bool is_dw_row(const char* name) { return std::strncmp(name, "dwconv2d_", 9) == 0; }

// Runs fn(row, shape) for every runnable depthwise row and every case it accepts.
template <typename Row, typename Fn>
void for_each_dw_case(std::span<const Row> rows, Fn fn) {
  int rows_run = 0;
  for (const Row& row : rows) {
    if (!is_dw_row(row.name) || !isa_available(row.isa)) continue;
    ++rows_run;
    int tested = 0;
    for (const ConvShape& s : cases()) {
      if (!row.supports(s)) continue;
      ++tested;
      SCOPED_TRACE(std::string(row.name) + " on " + s.to_string());
      fn(row, s);
      if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_GT(tested, 0) << row.name;
  }
  EXPECT_GT(rows_run, 0);
}

struct Outputs {
  std::vector<float> a, b;
};

// The three passes on fixed random data; b is the bias gradient for backward filter.
Outputs run_fwd(const Conv2dFwdKernel& r, const ConvShape& s) {
  auto x = test::random_vector<float>(s.input_numel(), 1);
  auto w = test::random_vector<float>(s.weight_numel(), 2);
  auto bias = test::random_vector<float>(s.m, 3);
  Outputs o{std::vector<float>(s.output_numel(), NAN), {}};
  r.fn(s, x.data(), w.data(), bias.data(), o.a.data());
  return o;
}
Outputs run_bwd_data(const Conv2dBwdDataKernel& r, const ConvShape& s) {
  auto dy = test::random_vector<float>(s.output_numel(), 4);
  auto w = test::random_vector<float>(s.weight_numel(), 5);
  Outputs o{std::vector<float>(s.input_numel(), NAN), {}};
  r.fn(s, dy.data(), w.data(), o.a.data());
  return o;
}
Outputs run_bwd_filter(const Conv2dBwdFilterKernel& r, const ConvShape& s) {
  auto x = test::random_vector<float>(s.input_numel(), 6);
  auto dy = test::random_vector<float>(s.output_numel(), 7);
  Outputs o{std::vector<float>(s.weight_numel(), NAN), std::vector<float>(s.m, NAN)};
  r.fn(s, x.data(), dy.data(), o.a.data(), o.b.data(), false);
  return o;
}

void expect_close(const Outputs& got, const Outputs& want) {
  ASSERT_LT(test::max_rel_error(got.a.data(), want.a.data(), int64_t(got.a.size())), kTolerance);
  if (!want.b.empty()) {
    ASSERT_LT(test::max_rel_error(got.b.data(), want.b.data(), int64_t(got.b.size())), kTolerance);
  }
}

void expect_identical(const Outputs& one, const Outputs& two) {
  ASSERT_EQ(one.a.size(), two.a.size());
  EXPECT_EQ(std::memcmp(one.a.data(), two.a.data(), one.a.size() * sizeof(float)), 0);
  ASSERT_EQ(one.b.size(), two.b.size());
  if (!one.b.empty()) {  // memcmp may not take the null data() of an empty vector
    EXPECT_EQ(std::memcmp(one.b.data(), two.b.data(), one.b.size() * sizeof(float)), 0);
  }
}

// Restores the thread count when a test ends, whatever it set.
class DwConv : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(saved_); }
  int saved_ = num_threads();
};

}  // namespace

TEST_F(DwConv, ForwardMatchesReference) {
  const auto& ref = reference_row(conv2d_fwd_kernels());
  for_each_dw_case(conv2d_fwd_kernels(), [&](const Conv2dFwdKernel& r, const ConvShape& s) {
    expect_close(run_fwd(r, s), run_fwd(ref, s));
  });
}

TEST_F(DwConv, BackwardDataMatchesReference) {
  const auto& ref = reference_row(conv2d_bwd_data_kernels());
  for_each_dw_case(conv2d_bwd_data_kernels(),
                   [&](const Conv2dBwdDataKernel& r, const ConvShape& s) {
                     expect_close(run_bwd_data(r, s), run_bwd_data(ref, s));
                   });
}

TEST_F(DwConv, BackwardFilterMatchesReference) {
  const auto& ref = reference_row(conv2d_bwd_filter_kernels());
  for_each_dw_case(conv2d_bwd_filter_kernels(),
                   [&](const Conv2dBwdFilterKernel& r, const ConvShape& s) {
                     expect_close(run_bwd_filter(r, s), run_bwd_filter(ref, s));
                   });
}

TEST_F(DwConv, SameBitsAtOneAndTwoThreads) {
  auto check = [](auto rows, auto run) {
    for_each_dw_case(rows, [&](const auto& r, const ConvShape& s) {
      set_num_threads(1);
      Outputs one = run(r, s);
      set_num_threads(2);
      Outputs two = run(r, s);
      expect_identical(one, two);
    });
  };
  check(conv2d_fwd_kernels(), run_fwd);
  check(conv2d_bwd_data_kernels(), run_bwd_data);
  check(conv2d_bwd_filter_kernels(), run_bwd_filter);
}

TEST_F(DwConv, FilterGradientIsExactOverManyRows) {
  // 40 images of one row: the rows split into 13 partial sums. Integers small enough to
  // add exactly in float make any lost or doubled partial show as an exact mismatch.
  const ConvShape s = dw(40, 1, 33, 16, 1, 3, 1, 1, Padding::same());
  std::vector<float> x(s.input_numel()), dy(s.output_numel());
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 7) - 3);
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = float(int(i % 5) - 2);
  const auto& ref = reference_row(conv2d_bwd_filter_kernels());
  std::vector<float> want_w(s.weight_numel()), want_b(s.m);
  ref.fn(s, x.data(), dy.data(), want_w.data(), want_b.data(), false);
  for (const auto& r : conv2d_bwd_filter_kernels()) {
    if (!is_dw_row(r.name) || !isa_available(r.isa)) continue;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      std::vector<float> got_w(s.weight_numel(), NAN), got_b(s.m, NAN);
      r.fn(s, x.data(), dy.data(), got_w.data(), got_b.data(), false);
      EXPECT_EQ(got_w, want_w) << r.name << " threads " << threads;
      EXPECT_EQ(got_b, want_b) << r.name << " threads " << threads;
    }
  }
}

// Every non-reference row of the kernel table against its op's `_ref` row, on
// randomized shapes: all convolution types, stride 1 and 2, dilation 1 and 2, every
// padding mode, odd sizes and channel counts off the vector width (3, 17, 728).
// A new kernel needs no new test: its table row brings it here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <string>
#include <utility>

#include "core/cpu_features.h"
#include "kernels/kernels.h"
#include "kernel_table_support.h"
#include "test_support.h"

using namespace xcept;
using test::find_row;
using test::testable_rows;
constexpr auto param_name = &test::row_param_name;

namespace {

constexpr double kTolerance = 1e-4;

ConvShape conv_case(std::mt19937& rng, int kind) {
  auto pick = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  ConvParams p;
  int64_t c = pick({1, 3, 4, 8, 16, 17, 32, 33});
  int64_t h = pick({1, 2, 5, 7, 8, 13});
  int64_t w = pick({1, 3, 6, 9, 16});
  int64_t n = pick({1, 2});
  int64_t k = pick({1, 2, 3, 3, 3, 5});
  p.stride_h = pick({1, 2});
  p.stride_w = pick({1, 1, 2});
  p.dilation_h = pick({1, 1, 2});
  p.dilation_w = pick({1, 1, 2});
  p.kernel_h = k;
  p.kernel_w = pick({k, k, 1, 3});
  switch (pick({0, 1, 2})) {
    case 0: p.padding = Padding::valid(); break;
    case 1: p.padding = Padding::same(); break;
    default: p.padding = Padding::explicit_(pick({0, 1, 2}), pick({0, 1}), pick({0, 1, 3}), pick({0, 2}));
  }
  switch (kind) {
    case 0:  // normal
      p.out_channels = pick({1, 3, 16, 17, 24});
      break;
    case 1:  // grouped
      p.groups = c % 2 == 0 ? pick({2, c / 2 > 0 ? c / 2 : 1}) : pick({1, c});
      if (c % p.groups) p.groups = 1;
      p.out_channels = p.groups * pick({1, 2, 3, 5});
      break;
    case 2:  // depthwise, multiplier 1..3
      p.groups = c;
      p.out_channels = c * pick({1, 1, 2, 3});
      break;
    default:  // pointwise
      p.kernel_h = p.kernel_w = 1;
      p.stride_h = p.stride_w = 1;
      p.padding = Padding::valid();
      p.groups = pick({1, 1, 1, c});
      p.out_channels = p.groups * pick({1, 3, 16, 17, 40});
      break;
  }
  // A window larger than the input is a legitimate error, not a test case: shrink it.
  auto fits = [&] {
    int64_t ph = p.padding.mode == PadMode::explicit_pads ? p.padding.top + p.padding.bottom : 0;
    int64_t pw = p.padding.mode == PadMode::explicit_pads ? p.padding.left + p.padding.right : 0;
    bool same = p.padding.mode == PadMode::same;
    return same || ((p.kernel_h - 1) * p.dilation_h + 1 <= h + ph &&
                    (p.kernel_w - 1) * p.dilation_w + 1 <= w + pw);
  };
  while (!fits()) {
    if (p.dilation_h > 1 || p.dilation_w > 1) p.dilation_h = p.dilation_w = 1;
    else p.kernel_h = p.kernel_w = 1;
  }
  return make_conv_shape("differential", n, h, w, c, p);
}

std::vector<ConvShape> conv_cases() {
  std::vector<ConvShape> cases;
  std::mt19937 rng(20261123);
  for (int i = 0; i < 160; ++i) cases.push_back(conv_case(rng, i % 4));
  // Real layer shapes with channel counts off the vector width.
  auto add = [&](int64_t h, int64_t c, int64_t m, int64_t k, int64_t s, int64_t g, Padding pad) {
    cases.push_back(make_conv_shape("differential", 1, h, h, c, conv_params(m, k, s, pad, g)));
  };
  add(5, 728, 728, 3, 1, 728, Padding::same());   // Xception middle-flow depthwise
  add(5, 728, 728, 1, 1, 1, Padding::valid());    // Xception middle-flow pointwise
  add(9, 728, 728, 3, 2, 728, Padding::same());   // stride-2 depthwise, odd size
  add(11, 3, 32, 3, 2, 1, Padding::valid());      // stem
  add(9, 64, 131, 1, 2, 1, Padding::same());      // stride-2 shortcut, odd size
  add(12, 3, 32, 3, 2, 1, Padding::same());       // MobileNet's stem (padding at the end)
  add(10, 4, 64, 5, 1, 1, Padding::same());       // few channels, 4 output vectors
  add(13, 1, 48, 3, 3, 1, Padding::explicit_(2, 0, 3, 1));  // 3 output vectors, stride 3
  add(7, 17, 34, 3, 1, 17, Padding::same());      // depthwise multiplier 2
  add(6, 24, 36, 3, 2, 12, Padding::same());      // grouped
  add(46, 64, 64, 3, 1, 1, Padding::same());      // 12x12 Winograd tiles, the last partial
  add(91, 24, 40, 1, 1, 1, Padding::valid());     // pointwise with pixels for 2 sweeps
  // 3x3 stride-1 normal convolutions with 16+ channels: odd sizes that leave partial
  // 4x4 tiles, every padding mode, batch 2 (Winograd with pre-transformed weights takes
  // these; test_conv_fast_paths.cpp runs it on them).
  for (int i = 0; i < 12; ++i) {
    const int64_t sizes[] = {3, 4, 5, 7, 9, 11, 13, 17};
    const int64_t chans[] = {16, 17, 24, 33, 40};
    ConvParams p;
    p.kernel_h = p.kernel_w = 3;
    p.out_channels = chans[(i * 3 + 1) % 5];
    p.padding = i % 3 == 0   ? Padding::valid()
                : i % 3 == 1 ? Padding::same()
                             : Padding::explicit_(i % 2, 2, 1, i % 4 == 2 ? 0 : 1);
    cases.push_back(make_conv_shape("differential", 1 + i % 2, sizes[i % 8], sizes[(i * 5 + 3) % 8],
                                    chans[i % 5], p));
  }
  return cases;
}


// Looks up the row; skips (with the reason) when it cannot run on this CPU.
}  // namespace

class Conv2dFwdDifferential : public ::testing::TestWithParam<std::string> {};
class Conv2dBwdDataDifferential : public ::testing::TestWithParam<std::string> {};
class Conv2dBwdFilterDifferential : public ::testing::TestWithParam<std::string> {};
class Conv2dBwdDifferential : public ::testing::TestWithParam<std::string> {};
class GemmDifferential : public ::testing::TestWithParam<std::string> {};

// The epilogues a forward row is checked with: bias alone, nothing, and bias + a random
// addend + each activation in turn (parameters chosen so both sides of each kink occur).
std::vector<std::pair<std::string, ConvEpilogue>> fwd_epilogues(const float* bias,
                                                                const float* addend, int which) {
  const ConvEpilogue acts[] = {
      {bias, addend, ActKind::none},       {bias, addend, ActKind::relu},
      {bias, addend, ActKind::clip, -0.5f, 0.7f}, {bias, addend, ActKind::elu, 0.8f},
      {bias, addend, ActKind::leaky_relu, 0.1f}, {nullptr, addend, ActKind::relu},
      {bias, nullptr, ActKind::elu, 1.0f},
  };
  const ConvEpilogue& fused = acts[which % std::size(acts)];
  return {{"bias", ConvEpilogue(bias)},
          {"no bias", ConvEpilogue(nullptr)},
          {std::string("fused ") + act_kind_name(fused.act) + (fused.addend ? " +addend" : "") +
               (fused.bias ? " +bias" : ""),
           fused}};
}

// Winograd's transforms cost a little precision (F(4x4,3x3) multiplies by up to 5.25
// and sums 36 products); everything else must match to float rounding.
double fwd_tolerance(const std::string& name) {
  return name.find("winograd") != std::string::npos ? 1e-3 : kTolerance;
}

TEST_P(Conv2dFwdDifferential, MatchesReference) {
  XCEPT_GET_ROW(conv2d_fwd_kernels(), row);
  const auto& ref = reference_row(conv2d_fwd_kernels());
  int tested = 0;
  for (const ConvShape& s : conv_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    auto x = test::random_vector<float>(s.input_numel(), 11);
    auto w = test::random_vector<float>(s.weight_numel(), 12);
    auto b = test::random_vector<float>(s.m, 13);
    auto add = test::random_vector<float>(s.output_numel(), 14, -2.f, 2.f);
    for (const auto& [what, ep] : fwd_epilogues(b.data(), add.data(), tested)) {
      std::vector<float> want(s.output_numel()), got(s.output_numel(), NAN);
      ref.fn(s, x.data(), w.data(), ep, want.data());
      row->fn(s, x.data(), w.data(), ep, got.data());
      ASSERT_LT(test::max_rel_error(got.data(), want.data(), got.size()), fwd_tolerance(row->name))
          << row->name << " on " << s.to_string() << " with " << what;
    }
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

TEST_P(Conv2dBwdDataDifferential, MatchesReference) {
  XCEPT_GET_ROW(conv2d_bwd_data_kernels(), row);
  const auto& ref = reference_row(conv2d_bwd_data_kernels());
  int tested = 0;
  for (const ConvShape& s : conv_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    auto dy = test::random_vector<float>(s.output_numel(), 21);
    auto w = test::random_vector<float>(s.weight_numel(), 22);
    std::vector<float> want(s.input_numel()), got(s.input_numel(), NAN);
    ref.fn(s, dy.data(), w.data(), want.data());
    row->fn(s, dy.data(), w.data(), got.data());
    ASSERT_LT(test::max_rel_error(got.data(), want.data(), got.size()), kTolerance)
        << row->name << " on " << s.to_string();
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

TEST_P(Conv2dBwdFilterDifferential, MatchesReference) {
  XCEPT_GET_ROW(conv2d_bwd_filter_kernels(), row);
  const auto& ref = reference_row(conv2d_bwd_filter_kernels());
  int tested = 0;
  for (const ConvShape& s : conv_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    auto x = test::random_vector<float>(s.input_numel(), 31);
    auto dy = test::random_vector<float>(s.output_numel(), 32);
    // accumulate: both start from the same random gradients and add onto them.
    const auto prior_w = test::random_vector<float>(s.weight_numel(), 33);
    const auto prior_b = test::random_vector<float>(s.m, 34);
    for (bool accumulate : {false, true})
      for (bool with_bias : {true, false}) {
        std::vector<float> want_w = prior_w, got_w = prior_w, want_b = prior_b, got_b = prior_b;
        if (!accumulate) std::fill(got_w.begin(), got_w.end(), NAN);
        if (!accumulate) std::fill(got_b.begin(), got_b.end(), NAN);
        ref.fn(s, x.data(), dy.data(), want_w.data(), with_bias ? want_b.data() : nullptr,
               accumulate);
        row->fn(s, x.data(), dy.data(), got_w.data(), with_bias ? got_b.data() : nullptr,
                accumulate);
        ASSERT_LT(test::max_rel_error(got_w.data(), want_w.data(), got_w.size()), kTolerance)
            << row->name << " weights on " << s.to_string() << " accumulate " << accumulate;
        if (with_bias) {
          ASSERT_LT(test::max_rel_error(got_b.data(), want_b.data(), got_b.size()), kTolerance)
              << row->name << " bias on " << s.to_string() << " accumulate " << accumulate;
        }
      }
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

// Both backward passes at once against the two reference rows.
TEST_P(Conv2dBwdDifferential, MatchesReference) {
  XCEPT_GET_ROW(conv2d_bwd_kernels(), row);
  const auto& ref = reference_row(conv2d_bwd_kernels());
  int tested = 0;
  for (const ConvShape& s : conv_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    auto x = test::random_vector<float>(s.input_numel(), 41);
    auto dy = test::random_vector<float>(s.output_numel(), 42);
    auto w = test::random_vector<float>(s.weight_numel(), 43);
    const auto prior_w = test::random_vector<float>(s.weight_numel(), 44);
    const auto prior_b = test::random_vector<float>(s.m, 45);
    for (bool accumulate : {false, true}) {
      std::vector<float> want_dx(s.input_numel()), got_dx(s.input_numel(), NAN);
      std::vector<float> want_w = prior_w, got_w = prior_w, want_b = prior_b, got_b = prior_b;
      if (!accumulate) std::fill(got_w.begin(), got_w.end(), NAN);
      if (!accumulate) std::fill(got_b.begin(), got_b.end(), NAN);
      ref.fn(s, x.data(), dy.data(), w.data(), want_dx.data(), want_w.data(), want_b.data(),
             accumulate);
      row->fn(s, x.data(), dy.data(), w.data(), got_dx.data(), got_w.data(), got_b.data(),
              accumulate);
      const std::string what = std::string(row->name) + " on " + s.to_string() +
                               (accumulate ? " accumulating" : "");
      ASSERT_LT(test::max_rel_error(got_dx.data(), want_dx.data(), got_dx.size()), kTolerance)
          << what << ": dx";
      ASSERT_LT(test::max_rel_error(got_w.data(), want_w.data(), got_w.size()), kTolerance)
          << what << ": dw";
      ASSERT_LT(test::max_rel_error(got_b.data(), want_b.data(), got_b.size()), kTolerance)
          << what << ": dbias";
    }
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

TEST_P(GemmDifferential, MatchesReference) {
  XCEPT_GET_ROW(gemm_kernels(), row);
  const auto& ref = reference_row(gemm_kernels());
  std::mt19937 rng(7);
  auto dim = [&] {
    static const int64_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257};
    return sizes[std::uniform_int_distribution<int>(0, 12)(rng)];
  };
  for (int i = 0; i < 120; ++i) {
    GemmShape s;
    s.m = dim(), s.n = dim(), s.k = dim();
    if (i == 0) s.m = 300, s.n = 700, s.k = 520;  // crosses cache-block boundaries
    if (i == 4 || i == 9) s.m = 1, s.n = 1000, s.k = 300;  // Dense at batch 1; partial block
    s.trans_a = i % 2, s.trans_b = (i / 2) % 2;
    int64_t pad = i % 3;  // leading dimensions wider than the matrix
    s.lda = (s.trans_a ? s.m : s.k) + pad;
    s.ldb = (s.trans_b ? s.k : s.n) + pad;
    s.ldc = s.n + pad;
    s.beta = (i / 4) % 2 ? 1.f : 0.f;
    if (!row->supports(s)) continue;
    auto a = test::random_vector<float>((s.trans_a ? s.k : s.m) * s.lda, 41);
    auto b = test::random_vector<float>((s.trans_b ? s.n : s.k) * s.ldb, 42);
    auto c0 = test::random_vector<float>(s.m * s.ldc, 43);
    // Every third case with an epilogue: bias, an addend with its own stride, activation.
    auto bias = test::random_vector<float>(s.n, 44);
    auto addend = test::random_vector<float>(s.m * (s.n + 1), 45);
    const ActKind kinds[] = {ActKind::relu, ActKind::clip, ActKind::elu, ActKind::leaky_relu,
                             ActKind::none};
    GemmEpilogue epi{i % 2 ? bias.data() : nullptr, i % 5 ? addend.data() : nullptr, s.n + 1,
                     kinds[(i / 3) % 5], -0.3f, 0.4f};
    if (i % 3 == 0) s.epilogue = &epi;
    if (s.beta == 0.f) std::fill(c0.begin(), c0.end(), NAN);  // beta 0 must ignore C
    std::vector<float> want = c0, got = c0;
    ref.fn(s, a.data(), b.data(), want.data());
    row->fn(s, a.data(), b.data(), got.data());
    for (int64_t r = 0; r < s.m; ++r) {
      ASSERT_LT(test::max_rel_error(got.data() + r * s.ldc, want.data() + r * s.ldc, s.n), kTolerance)
          << row->name << " m" << s.m << " n" << s.n << " k" << s.k << " ta" << s.trans_a
          << " tb" << s.trans_b << " beta" << s.beta << " epilogue " << (s.epilogue != nullptr)
          << " row " << r;
    }
  }
}

// Pooling windows: 1x1 to 3x3 and 2x3, strides 1-3, dilation 1-2, every padding mode
// (windows wholly in the padding included), channel counts off every vector width.
std::vector<ConvShape> pool_cases() {
  std::vector<ConvShape> cases;
  std::mt19937 rng(20261130);
  auto pick = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  for (int i = 0; i < 60; ++i) {
    const int64_t c = pick({1, 3, 8, 16, 17, 33, 64, 67, 130});
    const int64_t h = pick({1, 2, 5, 7, 12}), w = pick({1, 3, 6, 9, 16});
    ConvParams p;
    p.out_channels = c;
    p.groups = c;
    p.kernel_h = pick({1, 2, 3, 3});
    p.kernel_w = pick({p.kernel_h, p.kernel_h, 3});
    p.stride_h = pick({1, 2, 2, 3});
    p.stride_w = pick({1, 2, 2});
    p.dilation_h = pick({1, 1, 2});
    p.dilation_w = pick({1, 1, 2});
    switch (pick({0, 1, 2})) {
      case 0: p.padding = Padding::valid(); break;
      case 1: p.padding = Padding::same(); break;
      default:
        p.padding = Padding::explicit_(pick({0, 1, 3}), pick({0, 2}), pick({0, 1}), pick({0, 3}));
    }
    if (p.padding.mode != PadMode::same) {  // shrink a window that does not fit
      const bool pads = p.padding.mode == PadMode::explicit_pads;
      const int64_t ph = pads ? p.padding.top + p.padding.bottom : 0;
      const int64_t pw = pads ? p.padding.left + p.padding.right : 0;
      if ((p.kernel_h - 1) * p.dilation_h + 1 > h + ph) p.kernel_h = 1, p.dilation_h = 1;
      if ((p.kernel_w - 1) * p.dilation_w + 1 > w + pw) p.kernel_w = 1, p.dilation_w = 1;
    }
    cases.push_back(make_conv_shape("pool differential", pick({1, 2}), h, w, c, p));
  }
  ConvParams xception;  // Xception's entry-flow maxpool: 3x3, stride 2, same, 147 -> 74
  xception.out_channels = xception.groups = 128;
  xception.kernel_h = xception.kernel_w = 3;
  xception.stride_h = xception.stride_w = 2;
  xception.padding = Padding::same();
  cases.push_back(make_conv_shape("pool differential", 1, 21, 21, 128, xception));
  // Global average pooling's whole-map windows (a 19x19 map: sums of 361 taps).
  cases.push_back(global_pool_window(2, 7, 5, 37));
  cases.push_back(global_pool_window(1, 19, 19, 70));
  return cases;
}

// Element by element: infinities (empty max windows) must match exactly, the rest
// within kTolerance of the largest finite magnitude.
::testing::AssertionResult pool_outputs_match(const std::vector<float>& got,
                                              const std::vector<float>& want) {
  double scale = 1e-30;
  for (float v : want)
    if (std::isfinite(v)) scale = std::max(scale, double(std::fabs(v)));
  for (size_t i = 0; i < want.size(); ++i) {
    const bool ok = std::isinf(want[i])
                        ? got[i] == want[i]
                        : std::fabs(double(got[i]) - want[i]) <= kTolerance * scale;
    if (!ok)
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << " vs " << want[i];
  }
  return ::testing::AssertionSuccess();
}

class Pool2dFwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(Pool2dFwdDifferential, MatchesReference) {
  XCEPT_GET_ROW(pool2d_fwd_kernels(), row);
  const auto& ref = reference_row(pool2d_fwd_kernels());
  int tested = 0;
  for (const ConvShape& s : pool_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    auto x = test::random_vector<float>(s.input_numel(), 51, -3.f, 2.f);
    for (PoolMode mode :
         {PoolMode::max, PoolMode::avg_exclude_pad, PoolMode::avg_include_pad}) {
      std::vector<float> want(s.output_numel()), got(s.output_numel(), NAN);
      ref.fn(s, mode, x.data(), want.data());
      row->fn(s, mode, x.data(), got.data());
      ASSERT_TRUE(pool_outputs_match(got, want))
          << row->name << " mode " << int(mode) << " on " << s.to_string();
    }
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

class Pool2dBwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(Pool2dBwdDifferential, MatchesReference) {
  XCEPT_GET_ROW(pool2d_bwd_kernels(), row);
  const auto& ref = reference_row(pool2d_bwd_kernels());
  const auto& fwd = reference_row(pool2d_fwd_kernels());
  int tested = 0;
  for (const ConvShape& s : pool_cases()) {
    if (!row->supports(s)) continue;
    ++tested;
    // Values on a coarse grid, so windows hold ties and the first maximum must win.
    auto x = test::random_vector<float>(s.input_numel(), 52, -3.f, 3.f);
    for (float& v : x) v = std::round(v);
    const auto dy = test::random_vector<float>(s.output_numel(), 53);
    for (PoolMode mode :
         {PoolMode::max, PoolMode::avg_exclude_pad, PoolMode::avg_include_pad}) {
      std::vector<float> y(s.output_numel());
      fwd.fn(s, mode, x.data(), y.data());
      std::vector<float> want(s.input_numel()), got(s.input_numel(), NAN);
      ref.fn(s, mode, x.data(), y.data(), dy.data(), want.data());
      row->fn(s, mode, x.data(), y.data(), dy.data(), got.data());
      ASSERT_LT(test::max_rel_error(got.data(), want.data(), got.size()), kTolerance)
          << row->name << " mode " << int(mode) << " on " << s.to_string();
    }
  }
  EXPECT_GT(tested, 0) << row->name << " accepted none of the test shapes";
}

// Batch norm: row counts across the 256-row chunk boundary, channel counts off every
// vector width, data far from zero (the shifted sums must not cancel).
std::vector<BatchNormShape> batch_norm_cases() {
  std::vector<BatchNormShape> cases;
  for (int64_t rows : {1, 7, 256, 300, 1100})
    for (int64_t c : {1, 3, 8, 17, 64, 130}) cases.push_back({rows, c});
  return cases;
}

class BatchNormDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchNormDifferential, StatsForwardAndBackwardMatchReference) {
  const std::string name = GetParam();
  Isa isa = Isa::generic;
  for (const auto& r : batch_norm_stats_kernels()) if (r.name == name) isa = r.isa;
  for (const auto& r : batch_norm_fwd_kernels()) if (r.name == name) isa = r.isa;
  for (const auto& r : batch_norm_bwd_kernels()) if (r.name == name) isa = r.isa;
  if (!isa_available(isa))
    GTEST_SKIP() << name << " needs " << isa_name(isa) << ", CPU has " << isa_name(max_isa());
  int tested = 0;
  for (const BatchNormShape& s : batch_norm_cases()) {
    const int64_t n = s.rows * s.c;
    auto x = test::random_vector<float>(n, 61, 3.f, 7.f);
    const auto dy = test::random_vector<float>(n, 62);
    const auto gamma = test::random_vector<float>(s.c, 63, 0.5f, 1.5f);
    const auto beta = test::random_vector<float>(s.c, 64);
    for (const auto& row : batch_norm_stats_kernels()) {
      if (row.name != name) continue;
      ++tested;
      const auto& ref = reference_row(batch_norm_stats_kernels());
      std::vector<float> m1(s.c), v1(s.c), m2(s.c, NAN), v2(s.c, NAN);
      ref.fn(s, x.data(), m1.data(), v1.data());
      row.fn(s, x.data(), m2.data(), v2.data());
      ASSERT_LT(test::max_rel_error(m2.data(), m1.data(), s.c), kTolerance) << s.to_string();
      ASSERT_LT(test::max_rel_error(v2.data(), v1.data(), s.c), 1e-3) << s.to_string();
    }
    std::vector<float> mean(s.c), var(s.c), inv_std(s.c), scale(s.c), shift(s.c);
    reference_row(batch_norm_stats_kernels()).fn(s, x.data(), mean.data(), var.data());
    for (int64_t j = 0; j < s.c; ++j) {
      inv_std[j] = 1.f / std::sqrt(var[j] + 1e-3f);
      scale[j] = gamma[j] * inv_std[j];
      shift[j] = beta[j] - mean[j] * scale[j];
    }
    for (Act act : {Act::none(), Act::relu(), Act::relu6()}) {
      std::vector<float> y(n), got_y(n, NAN);
      reference_row(batch_norm_fwd_kernels()).fn(s, x.data(), scale.data(), shift.data(), act,
                                                 y.data());
      for (const auto& row : batch_norm_fwd_kernels()) {
        if (row.name != name) continue;
        ++tested;
        row.fn(s, x.data(), scale.data(), shift.data(), act, got_y.data());
        ASSERT_LT(test::max_rel_error(got_y.data(), y.data(), n), kTolerance)
            << s.to_string() << " act " << act_name(act);
      }
      for (const auto& row : batch_norm_bwd_kernels()) {
        if (row.name != name) continue;
        for (bool training : {true, false}) {
          ++tested;
          const auto prior = test::random_vector<float>(2 * s.c, 65);
          auto run = [&](const BatchNormBwdKernel& k, std::vector<float>& dx,
                         std::vector<float>& dgamma, std::vector<float>& dbeta) {
            dgamma.assign(prior.begin(), prior.begin() + s.c);
            dbeta.assign(prior.begin() + s.c, prior.end());
            dx.assign(size_t(n), NAN);
            BatchNormBackward b;
            b.x = x.data(), b.dy = dy.data();
            b.scale = scale.data(), b.shift = shift.data();
            b.mean = mean.data(), b.inv_std = inv_std.data(), b.gamma = gamma.data();
            b.act = act, b.training = training;
            b.grad_gamma = dgamma.data(), b.grad_beta = dbeta.data(), b.dx = dx.data();
            k.fn(s, b);
          };
          std::vector<float> dx1, dg1, db1, dx2, dg2, db2;
          run(reference_row(batch_norm_bwd_kernels()), dx1, dg1, db1);
          run(row, dx2, dg2, db2);
          const std::string what = s.to_string() + " act " + act_name(act) +
                                   (training ? " training" : " inference");
          ASSERT_LT(test::max_rel_error(dx2.data(), dx1.data(), n), 1e-3) << what;
          // In place (dx over dy, as the graph runs it): the same bits.
          std::vector<float> dx3 = dy, dg3(prior.begin(), prior.begin() + s.c),
                             db3(prior.begin() + s.c, prior.end());
          BatchNormBackward b;
          b.x = x.data(), b.dy = dx3.data(), b.scale = scale.data(), b.shift = shift.data();
          b.mean = mean.data(), b.inv_std = inv_std.data(), b.gamma = gamma.data();
          b.act = act, b.training = training;
          b.grad_gamma = dg3.data(), b.grad_beta = db3.data(), b.dx = dx3.data();
          row.fn(s, b);
          ASSERT_EQ(dx3, dx2) << what << " in place";
          ASSERT_LT(test::max_rel_error(dg2.data(), dg1.data(), s.c), kTolerance) << what;
          ASSERT_LT(test::max_rel_error(db2.data(), db1.data(), s.c), kTolerance) << what;
        }
      }
    }
  }
  EXPECT_GT(tested, 0) << name << " ran on no shape";
}

// Every non-reference row of the three batch-norm ops (one name stem per ISA).
std::vector<std::string> batch_norm_rows() {
  std::vector<std::string> names;
  for (const auto& r : testable_rows(batch_norm_stats_kernels())) names.push_back(r);
  for (const auto& r : testable_rows(batch_norm_fwd_kernels())) names.push_back(r);
  for (const auto& r : testable_rows(batch_norm_bwd_kernels())) names.push_back(r);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Table, BatchNormDifferential, ::testing::ValuesIn(batch_norm_rows()),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Table, Pool2dBwdDifferential,
                         ::testing::ValuesIn(testable_rows(pool2d_bwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, Pool2dFwdDifferential,
                         ::testing::ValuesIn(testable_rows(pool2d_fwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, Conv2dFwdDifferential,
                         ::testing::ValuesIn(testable_rows(conv2d_fwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, Conv2dBwdDataDifferential,
                         ::testing::ValuesIn(testable_rows(conv2d_bwd_data_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, Conv2dBwdFilterDifferential,
                         ::testing::ValuesIn(testable_rows(conv2d_bwd_filter_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, Conv2dBwdDifferential,
                         ::testing::ValuesIn(testable_rows(conv2d_bwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, GemmDifferential,
                         ::testing::ValuesIn(testable_rows(gemm_kernels())), param_name);

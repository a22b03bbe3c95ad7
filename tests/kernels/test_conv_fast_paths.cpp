// The forward paths that live beside the kernel table: Winograd with pre-transformed
// weights, the bf16 GEMM (AVX512_BF16) and Conv2dPrepacked, which picks between them.
// (The table rows themselves, Winograd's included, are in test_kernels_differential.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "kernels/conv2d_prepacked.h"
#include "kernels/gemm_bf16.h"
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/kernels.h"
#include "kernels/reference/conv2d_ref.h"
#include "kernels/reference/epilogue_ref.h"
#include "test_support.h"

using namespace xcept;

namespace {

ConvShape conv3x3(int64_t n, int64_t h, int64_t w, int64_t c, int64_t m, Padding pad) {
  return make_conv_shape("fast_paths", n, h, w, c, conv_params(m, 3, 1, pad));
}

ConvShape conv1x1(int64_t n, int64_t h, int64_t w, int64_t c, int64_t m) {
  ConvParams p;
  p.out_channels = m;
  return make_conv_shape("fast_paths", n, h, w, c, p);
}

// Xception's shortcut: 1x1, stride 2 (the prepacked strided-pointwise path).
ConvShape conv1x1_strided(int64_t n, int64_t h, int64_t w, int64_t c, int64_t m, Padding pad) {
  ConvParams p;
  p.out_channels = m;
  p.stride_h = p.stride_w = 2;
  p.padding = pad;
  return make_conv_shape("fast_paths", n, h, w, c, p);
}

std::vector<float> reference(const ConvShape& s, const float* x, const float* w,
                             const ConvEpilogue& ep) {
  std::vector<float> y(s.output_numel());
  ref::conv2d_fwd<float>(s, x, w, nullptr, y.data());
  ref::apply_epilogue(ep, y.data(), s.n * s.ho * s.wo, s.m);
  return y;
}

float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// 64-byte aligned floats, as packed GEMM operands must be.
class AlignedFloats {
 public:
  explicit AlignedFloats(int64_t n)
      : p_(static_cast<float*>(::operator new[](size_t(n) * sizeof(float), std::align_val_t(64)))) {}
  ~AlignedFloats() { ::operator delete[](p_, std::align_val_t(64)); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* get() const { return p_; }

 private:
  float* p_;
};

}  // namespace

TEST(Winograd, PretransformedMatchesReference) {
  // Odd sizes (partial 4x4 tiles at the right and bottom), every padding mode, batch 2,
  // channel counts off the 16-lane blocks.
  std::vector<ConvShape> shapes = {conv3x3(1, 13, 9, 17, 33, Padding::same()),
                                   conv3x3(2, 6, 11, 32, 16, Padding::valid()),
                                   conv3x3(1, 5, 5, 40, 24, Padding::explicit_(2, 0, 1, 2)),
                                   conv3x3(1, 21, 18, 64, 48, Padding::same())};
  std::mt19937 rng(31);
  auto pick = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  for (int i = 0; i < 12; ++i) {
    const Padding pads[] = {Padding::valid(), Padding::same(),
                            Padding::explicit_(pick({0, 1, 2}), pick({0, 1}), pick({0, 1, 3}),
                                               pick({0, 2}))};
    shapes.push_back(conv3x3(pick({1, 2}), pick({3, 4, 5, 7, 9, 13}), pick({3, 6, 8, 11, 17}),
                             pick({1, 3, 16, 17, 24, 33}), pick({1, 5, 16, 17, 40}), pads[i % 3]));
  }
  const ActKind acts[] = {ActKind::relu, ActKind::elu, ActKind::clip, ActKind::leaky_relu};
  int i = 0;
  for (const ConvShape& s : shapes) {
    ASSERT_TRUE(winograd_f4x4_applies(s)) << s.to_string();
    auto x = test::random_vector<float>(s.input_numel(), 1);
    auto w = test::random_vector<float>(s.weight_numel(), 2);
    auto b = test::random_vector<float>(s.m, 3);
    auto add = test::random_vector<float>(s.output_numel(), 4);
    const ConvEpilogue ep(b.data(), add.data(), acts[i % 4], 0.2f, 1.5f);
    std::vector<float> u(size_t(winograd_f4x4_weight_floats(s)));
    winograd_f4x4_transform_weights(s, w.data(), u.data());
    std::vector<float> got(s.output_numel(), NAN);
    conv2d_fwd_winograd_f4x4_pretransformed(s, x.data(), u.data(), ep, got.data());
    const auto want = reference(s, x.data(), w.data(), ep);
    EXPECT_LT(test::max_rel_error(got.data(), want.data(), int64_t(got.size())), 1e-3)
        << s.to_string() << " act " << act_kind_name(acts[i % 4]);
    // The per-call row and the packed form give the same bits: same transforms, same
    // GEMMs (a prepacked B is the same panels).
    std::vector<float> row(s.output_numel(), NAN);
    conv2d_fwd_3x3_winograd_f4x4_nhwc_f32(s, x.data(), w.data(), ep, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), got.data(), got.size() * sizeof(float))) << s.to_string();
    AlignedFloats packed(winograd_f4x4_packed_weight_floats(s));
    winograd_f4x4_pack_weights(s, w.data(), packed.get());
    std::fill(row.begin(), row.end(), NAN);
    conv2d_fwd_winograd_f4x4_packed(s, x.data(), packed.get(), ep, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), got.data(), got.size() * sizeof(float))) << s.to_string();
    ++i;
  }
}

// The scalar (SSE) transforms against the AVX-512 ones: same math, so results within
// rounding of each other (the compiler may contract differently).
TEST(Winograd, TransformsAgreeAcrossIsas) {
  if (!isa_available(Isa::avx512)) GTEST_SKIP() << "no AVX-512";
  const ConvShape s = conv3x3(1, 9, 10, 19, 21, Padding::same());
  auto x = test::random_vector<float>(s.input_numel(), 5);
  auto w = test::random_vector<float>(s.weight_numel(), 6);
  const int64_t tiles = 3 * 3, uf = winograd_f4x4_weight_floats(s);
  std::vector<float> v1(size_t(36 * tiles * s.c)), u1(static_cast<size_t>(uf));
  std::vector<float> v2 = v1, u2 = u1;
  winograd_f4x4_generic_transforms.input(s, x.data(), 0, tiles, v1.data(), tiles * s.c);
  winograd_f4x4_avx512_transforms.input(s, x.data(), 0, tiles, v2.data(), tiles * s.c);
  EXPECT_LT(test::max_rel_error(v2.data(), v1.data(), int64_t(v1.size())), 1e-6);
  winograd_f4x4_generic_transforms.weights(s, w.data(), 0, s.c, u1.data());
  winograd_f4x4_avx512_transforms.weights(s, w.data(), 0, s.c, u2.data());
  EXPECT_LT(test::max_rel_error(u2.data(), u1.data(), uf), 1e-6);
}

// B packed once (inference weights) gives the bits of packing per call, for every
// transpose, with shapes crossing the k, n and m blocks and an epilogue.
TEST(GemmPrepackedB, BitIdenticalToPackingPerCall) {
  const int64_t sizes[][3] = {{1, 1, 1}, {13, 37, 5}, {250, 1061, 300}, {361, 728, 728}, {7, 64, 2}};
  int i = 0;
  for (const auto& mnk : sizes)
    for (bool trans_b : {false, true}) {
      GemmShape s;
      s.m = mnk[0], s.n = mnk[1], s.k = mnk[2], s.trans_b = trans_b;
      s.lda = s.k + 1, s.ldb = (trans_b ? s.k : s.n) + 2, s.ldc = s.n + 3;
      auto a = test::random_vector<float>(s.m * s.lda, 71);
      auto b = test::random_vector<float>((trans_b ? s.n : s.k) * s.ldb, 72);
      auto bias = test::random_vector<float>(s.n, 73);
      const GemmEpilogue e{bias.data(), nullptr, 0, ActKind::elu, 0.5f};
      if (++i % 2) s.epilogue = &e;
      std::vector<float> want(size_t(s.m * s.ldc), 1.f), got = want;
      gemm(s, a.data(), b.data(), want.data());
      AlignedFloats packed(gemm_packed_b_floats(s));
      gemm_pack_b(s, b.data(), packed.get());
      GemmShape sp = s;
      sp.b_prepacked = true;
      gemm(sp, a.data(), packed.get(), got.data());
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
          << "m" << s.m << " n" << s.n << " k" << s.k << " tb" << trans_b;
    }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even mantissa (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);  // above the tie: up
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  EXPECT_EQ(f32_to_bf16(3.3895314e38f), 0x7f7f);  // largest bf16 stays finite
  EXPECT_EQ(bf16_to_f32(0x3f81), 1.0078125f);
}

// Every gemm_bf16 row of the kernel table this CPU runs, against the `_ref` row.
TEST(Bf16, GemmRowsMatchReference) {
  if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const Bf16GemmKernel& ref = reference_row(gemm_bf16_kernels());
  int rows_run = 0;
  std::mt19937 rng(99);
  auto dim = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  for (int i = 0; i < 40; ++i) {
    const int64_t m = dim({1, 3, 10, 11, 37, 130}), n = dim({1, 16, 31, 32, 33, 100, 300});
    const int64_t k = dim({1, 2, 7, 64, 255, 300});
    const bool trans_b = i % 4 == 3;
    const int64_t lda = k + i % 3, ldb = (trans_b ? k : n) + i % 2, ldc = n + i % 3;
    auto a = test::random_vector<float>(m * lda, 61);
    auto b = test::random_vector<float>((trans_b ? n : k) * ldb, 62);
    auto bias = test::random_vector<float>(n, 63);
    auto add = test::random_vector<float>(m * n, 64);
    const ActKind acts[] = {ActKind::none, ActKind::relu, ActKind::elu, ActKind::clip};
    const GemmEpilogue e{bias.data(), i % 2 ? add.data() : nullptr, n, acts[i % 4], -0.5f, 0.5f};
    const GemmEpilogue* ep = i % 3 ? &e : nullptr;
    const PackedBf16Matrix pb = pack_bf16_b(k, n, b.data(), ldb, trans_b);
    const Bf16GemmShape shape{m, k, n};
    std::vector<float> want(size_t(m * ldc), 7.f), got = want;
    ref.fn(shape, a.data(), lda, pb, want.data(), ldc, ep);
    for (const Bf16GemmKernel& row : gemm_bf16_kernels()) {
      if (row.is_reference() || !isa_available(row.isa) || !row.supports(shape)) continue;
      ++rows_run;
      std::fill(got.begin(), got.end(), 7.f);
      row.fn(shape, a.data(), lda, pb, got.data(), ldc, ep);
      for (int64_t r = 0; r < m; ++r) {
        ASSERT_LT(test::max_rel_error(got.data() + r * ldc, want.data() + r * ldc, n), 1e-4)
            << row.name << " m" << m << " n" << n << " k" << k << " tb" << trans_b << " row " << r;
        for (int64_t j = n; j < ldc; ++j) ASSERT_EQ(got[r * ldc + j], 7.f) << "wrote past n";
      }
    }
    // The dispatching entry point runs one of those rows.
    std::vector<float> via = want;
    gemm_bf16(m, a.data(), lda, pb, via.data(), ldc, ep);
    ASSERT_EQ(via, got);
    // And the rounding is really bf16's: against the f32 product the error is ~2^-9.
    if (k >= 64 && !ep) {
      GemmShape s;
      s.m = m, s.n = n, s.k = k, s.trans_b = trans_b, s.lda = lda, s.ldb = ldb, s.ldc = ldc;
      std::vector<float> f32(size_t(m * ldc));
      gemm_f32_ref(s, a.data(), b.data(), f32.data());
      const double err = test::max_rel_error(got.data(), f32.data(), m * ldc);
      EXPECT_GT(err, 1e-5);
      EXPECT_LT(err, 3e-2);
    }
  }
  EXPECT_GT(rows_run, 0) << "a CPU with AVX512_BF16 ran no fast bf16 row";
}

TEST(Conv2dPrepacked, F32PicksDispatchRowAndMatches) {
  const ConvShape shapes[] = {conv3x3(1, 11, 11, 24, 20, Padding::same()),
                              conv3x3(1, 23, 24, 16, 17, Padding::same()),
                              conv1x1(1, 7, 5, 33, 40), conv3x3(1, 8, 8, 3, 8, Padding::same()),
                              conv1x1_strided(1, 9, 9, 40, 33, Padding::same()),
                              conv1x1_strided(2, 19, 10, 17, 72, Padding::valid())};
  for (const ConvShape& s : shapes) {
    auto x = test::random_vector<float>(s.input_numel(), 7);
    auto w = test::random_vector<float>(s.weight_numel(), 8);
    auto b = test::random_vector<float>(s.m, 9);
    const ConvEpilogue ep(b.data(), nullptr, ActKind::clip, 0.f, 6.f);
    const Conv2dPrepacked pp(s, w.data());
    // Winograd where pre-transformed weights make it pay, else what dispatch runs.
    EXPECT_STREQ(pp.kernel_name(), winograd_f4x4_pays_prepacked(s)
                                       ? "conv2d_fwd_3x3_winograd_f4x4_nhwc_f32"
                                       : pick_conv2d_fwd(s).name);
    std::vector<float> got(s.output_numel(), NAN);
    pp.run(x.data(), ep, got.data());
    const auto want = reference(s, x.data(), w.data(), ep);
    EXPECT_LT(test::max_rel_error(got.data(), want.data(), int64_t(got.size())), 1e-3)
        << pp.kernel_name() << " " << s.to_string();
    if (!winograd_f4x4_pays_prepacked(s)) {  // the same kernel as dispatch: the same bits
      std::vector<float> direct(s.output_numel(), NAN);
      conv2d_fwd(s, x.data(), w.data(), ep, direct.data());
      EXPECT_EQ(0, std::memcmp(got.data(), direct.data(), got.size() * sizeof(float)))
          << pp.kernel_name() << " " << s.to_string();
    }
  }
}

TEST(Conv2dPrepacked, Bf16PointwiseMatchesRoundedReference) {
  if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const ConvShape s = conv1x1(2, 5, 7, 77, 45);
  auto x = test::random_vector<float>(s.input_numel(), 10);
  auto w = test::random_vector<float>(s.weight_numel(), 11);
  auto b = test::random_vector<float>(s.m, 12);
  auto add = test::random_vector<float>(s.output_numel(), 13);
  const ConvEpilogue ep(b.data(), add.data(), ActKind::relu);
  const Conv2dPrepacked pp(s, w.data(), Precision::bf16);
  EXPECT_STREQ(pp.kernel_name(), "conv2d_fwd_1x1_nhwc_bf16_avx512bf16");
  EXPECT_GT(pp.packed_bytes(), 0);
  std::vector<float> got(s.output_numel(), NAN);
  pp.run(x.data(), ep, got.data());
  std::vector<float> xr = x, wr = w;
  for (float& v : xr) v = round_bf16(v);
  for (float& v : wr) v = round_bf16(v);
  const auto want = reference(s, xr.data(), wr.data(), ep);
  EXPECT_LT(test::max_rel_error(got.data(), want.data(), int64_t(got.size())), 1e-4);
  // Depthwise has no bf16 kernel: it stays f32, on the row dispatch picks.
  ConvParams dp;
  dp.out_channels = 16, dp.kernel_h = dp.kernel_w = 3, dp.groups = 16;
  const ConvShape sd = make_conv_shape("fast_paths", 1, 6, 6, 16, dp);
  auto wd = test::random_vector<float>(sd.weight_numel(), 14);
  EXPECT_STREQ(Conv2dPrepacked(sd, wd.data(), Precision::bf16).kernel_name(),
               pick_conv2d_fwd(sd).name);
}

// Other groups-1 convolutions in bf16 go through im2col tiles: stride 2, few channels,
// padding, batch 2, against the f32 reference on bf16-rounded inputs.
TEST(Conv2dPrepacked, Bf16Im2colMatchesRoundedReference) {
  if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  ConvParams p;
  p.out_channels = 35, p.kernel_h = p.kernel_w = 3, p.stride_h = p.stride_w = 2;
  p.padding = Padding::same();
  ConvParams q = p;
  q.stride_h = q.stride_w = 1, q.out_channels = 17, q.padding = Padding::explicit_(1, 0, 2, 1);
  const ConvShape shapes[] = {make_conv_shape("fast_paths", 2, 11, 9, 8, p),
                              make_conv_shape("fast_paths", 1, 7, 6, 20, q)};
  for (const ConvShape& s : shapes) {
    auto x = test::random_vector<float>(s.input_numel(), 15);
    auto w = test::random_vector<float>(s.weight_numel(), 16);
    auto b = test::random_vector<float>(s.m, 17);
    auto add = test::random_vector<float>(s.output_numel(), 18);
    const ConvEpilogue ep(b.data(), add.data(), ActKind::leaky_relu, 0.1f);
    const Conv2dPrepacked pp(s, w.data(), Precision::bf16);
    EXPECT_STREQ(pp.kernel_name(), "conv2d_fwd_im2col_nhwc_bf16_avx512bf16");
    std::vector<float> got(s.output_numel(), NAN);
    pp.run(x.data(), ep, got.data());
    std::vector<float> xr = x, wr = w;
    for (float& v : xr) v = round_bf16(v);
    for (float& v : wr) v = round_bf16(v);
    const auto want = reference(s, xr.data(), wr.data(), ep);
    EXPECT_LT(test::max_rel_error(got.data(), want.data(), int64_t(got.size())), 1e-4)
        << s.to_string();
  }
}

// Output statistics (ConvEpilogue::stats, what a training batch norm after the layer
// takes): the pointwise row's per-sweep statistics combined in order, and the pass over
// y that conv2d_fwd makes for every other row, both against the reference batch-norm
// statistics of the same y. The pointwise case spans several 1024-pixel sweeps, the last
// one partial, with a bias and a relu applied first.
TEST(OutputStats, MatchABatchNormPassOverTheOutput) {
  ConvShape grouped = conv1x1(2, 9, 9, 24, 40);
  {
    ConvParams p;
    p.out_channels = 40;
    p.groups = 2;
    grouped = make_conv_shape("fast_paths", 2, 9, 9, 24, p);
  }
  for (const ConvShape& s : {conv1x1(3, 20, 21, 24, 40), grouped,
                             conv3x3(2, 9, 9, 16, 24, Padding::same())}) {
    const auto x = test::random_vector<float>(s.input_numel(), 71);
    const auto w = test::random_vector<float>(s.weight_numel(), 72);
    const auto bias = test::random_vector<float>(s.m, 73, 0.5f, 2.f);  // mean far from 0
    std::vector<float> y(s.output_numel()), mean(s.m, NAN), var(s.m, NAN);
    OutputStats stats{mean.data(), var.data()};
    ConvEpilogue ep(bias.data(), nullptr, ActKind::relu);
    ep.stats = &stats;
    conv2d_fwd(s, x.data(), w.data(), ep, y.data());
    std::vector<float> want_mean(s.m), want_var(s.m);
    const BatchNormShape bs{s.n * s.ho * s.wo, s.m};
    batch_norm_stats_nhwc_f32_ref(bs, y.data(), want_mean.data(), want_var.data());
    EXPECT_LT(test::max_rel_error(mean.data(), want_mean.data(), s.m), 1e-5) << s.to_string();
    EXPECT_LT(test::max_rel_error(var.data(), want_var.data(), s.m), 1e-4) << s.to_string();
    // y itself is what the forward without statistics writes.
    std::vector<float> plain(s.output_numel());
    ep.stats = nullptr;
    conv2d_fwd(s, x.data(), w.data(), ep, plain.data());
    EXPECT_EQ(y, plain) << s.to_string();
  }
}

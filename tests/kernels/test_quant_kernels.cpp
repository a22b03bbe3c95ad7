// The int8 scheme (kernels/quant.h) against ONNX's definitions, and every int8 row of
// the kernel table against its op's `_ref` row on randomized shapes: the integer math is
// exact and the requantization is the same float operations in the same order, so the
// outputs must be equal byte for byte (and float for float where a GEMM dequantizes).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/generic/qgemm_blocked.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "kernels/quant_elementwise.h"
#include "kernel_table_support.h"

using namespace xcept;
using test::find_row;
using test::testable_rows;
constexpr auto param_name = &test::row_param_name;

namespace {

std::vector<uint8_t> random_u8(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(size_t(std::max<int64_t>(n, 1)));
  for (auto& e : v) e = uint8_t(rng() & 255);
  return v;
}
std::vector<int8_t> random_s8(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(size_t(std::max<int64_t>(n, 1)));
  for (auto& e : v) e = int8_t(int(rng() % 255) - 127);
  return v;
}

// An epilogue whose outputs spread over the codes for a dot product of k terms: bias,
// multipliers about 128 / (typical |sum|), a zero point, and (by `act`) no clamp, a
// relu-like lower clamp at the zero point, or a clamp on both sides.
struct RandomEpilogue {
  std::vector<int32_t> bias;
  std::vector<float> mult;
  QuantEpilogue ep;
  RandomEpilogue(int64_t m, int64_t k, uint32_t seed, int act, bool with_bias = true) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.5f, 2.f);
    const float typical = 9000.f * std::sqrt(float(std::max<int64_t>(k, 1)));
    for (int64_t o = 0; o < m; ++o) {
      bias.push_back(int32_t(rng() % 200001) - 100000);
      mult.push_back(u(rng) * 128.f / typical);
    }
    ep.bias = with_bias ? bias.data() : nullptr;
    ep.multiplier = mult.data();
    ep.x_zero_point = int32_t(rng() % 256);
    ep.y_zero_point = int32_t(rng() % 256);
    if (act == 1) ep.y_min = ep.y_zero_point;
    if (act == 2) ep.y_min = 20, ep.y_max = 200;
  }
};

struct ThreadCount {
  int saved = num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

}  // namespace

TEST(QuantScheme, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  const QuantParams unit{1.f, 0}, shifted{0.5f, 128};
  EXPECT_EQ(quantize_u8(2.5f, unit), 2);  // ties to even, as ONNX QuantizeLinear
  EXPECT_EQ(quantize_u8(3.5f, unit), 4);
  EXPECT_EQ(quantize_u8(-1.f, unit), 0);  // saturates
  EXPECT_EQ(quantize_u8(300.f, unit), 255);
  EXPECT_EQ(quantize_u8(NAN, shifted), 128);
  EXPECT_EQ(quantize_u8(-0.25f, shifted), 128);  // -0.5 codes: ties to even 0
  EXPECT_EQ(quantize_u8(-0.75f, shifted), 126);  // -1.5 -> -2
  EXPECT_FLOAT_EQ(dequantize_u8(130, shifted), 1.f);
}

TEST(QuantScheme, RoundingWithoutLibmEqualsNearbyint) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-300.f, 300.f);
  std::vector<float> xs = {0.f, -0.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 254.5f, -255.5f,
                           0.49999997f, 4194304.f, -4194304.f, 4194303.5f, -4194303.5f};
  for (int i = 0; i < 100000; ++i) xs.push_back(u(rng));
  for (int i = -600; i <= 600; ++i) xs.push_back(float(i) / 2);  // every tie in range
  for (float x : xs) ASSERT_EQ(round_half_even_small(x), std::nearbyint(x)) << x;
}

// Every ISA's elementwise loops (kernels/quant_elementwise_impl.h, vectorized by the
// compiler) against the scalar definitions of kernels/quant.h, value for value.
TEST(QuantElementwise, EveryIsaEqualsTheScalarDefinitions) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-3.f, 5.f);
  std::vector<float> x(100003);
  for (float& v : x) v = u(rng);
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = 0.5f * 0.02f, x[4] = -0.f;
  const int64_t n = int64_t(x.size());
  const QuantParams q{0.02f, 77}, qb{0.05f, 10}, qy{0.04f, 100};
  std::vector<uint8_t> b(x.size());
  for (auto& v : b) v = uint8_t(rng());
  ConvParams pp;  // Xception's pools: 3x3, stride 2, same padding
  pp.kernel_h = pp.kernel_w = 3, pp.stride_h = pp.stride_w = 2, pp.padding = Padding::same();
  pp.groups = pp.out_channels = 37;
  const ConvShape pool = make_conv_shape("pool", 2, 9, 11, 37, pp);
  int runs = 0;
  for (const QuantElementwiseKernels& k : quant_elementwise_kernels()) {
    if (!isa_available(k.isa)) continue;
    SCOPED_TRACE(k.name);
    ++runs;
    std::vector<uint8_t> codes(x.size());
    k.quantize(n, x.data(), q, codes.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(codes[i], quantize_u8(x[i], q)) << x[i];
    std::vector<float> back(x.size());
    k.dequantize(n, codes.data(), q, back.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(back[i], dequantize_u8(codes[i], q));
    std::vector<uint8_t> act(x.size());
    const float m = q.scale / qy.scale;
    k.requantize(n, codes.data(), m, q.zero_point, qy.zero_point, qy.zero_point, 250, act.data());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(act[i], requantize(codes[i] - q.zero_point, m, qy.zero_point, qy.zero_point, 250));
    std::vector<uint8_t> sum(x.size());
    const float ma = q.scale / qy.scale, mb = qb.scale / qy.scale;
    k.add(n, codes.data(), ma, q.zero_point, b.data(), mb, qb.zero_point, qy.zero_point, 100, 255,
          sum.data());
    for (size_t i = 0; i < x.size(); ++i) {
      const float f = ma * float(codes[i] - q.zero_point) + mb * float(b[i] - qb.zero_point);
      ASSERT_EQ(sum[i], requantize_real(f, qy.zero_point, 100, 255)) << i;
    }
    k.add(n, codes.data(), ma, q.zero_point, b.data(), mb, qb.zero_point, qy.zero_point, 100, 255,
          codes.data());
    EXPECT_EQ(codes, sum);  // in place
    std::vector<uint8_t> pooled(size_t(pool.output_numel())), want(pooled.size());
    k.maxpool(pool, b.data(), pooled.data(), 0, pool.n * pool.ho);
    for (int64_t i = 0; i < pool.n * pool.ho * pool.wo; ++i) {
      const int64_t img = i / (pool.ho * pool.wo), oy = i / pool.wo % pool.ho, ox = i % pool.wo;
      for (int64_t ch = 0; ch < pool.c; ++ch) {
        uint8_t best = 0;
        for (int64_t ky = 0; ky < 3; ++ky)
          for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t iy = oy * 2 - pool.pad_top + ky, ix = ox * 2 - pool.pad_left + kx;
            if (iy >= 0 && iy < pool.h && ix >= 0 && ix < pool.w)
              best = std::max(best, b[size_t(((img * pool.h + iy) * pool.w + ix) * pool.c + ch)]);
          }
        want[size_t(i * pool.c + ch)] = best;
      }
    }
    EXPECT_EQ(pooled, want);
  }
  EXPECT_GE(runs, 1);
  // The dispatching entry points run the same loops.
  std::vector<uint8_t> codes(x.size());
  quantize_f32_u8(n, x.data(), q, codes.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(codes[i], quantize_u8(x[i], q));
}

TEST(QuantScheme, RequantizeRoundsHalfToEvenClampsAndAddsTheZeroPoint) {
  EXPECT_EQ(requantize(5, 0.5f, 10, 0, 255), 12);   // 2.5 -> 2
  EXPECT_EQ(requantize(7, 0.5f, 10, 0, 255), 14);   // 3.5 -> 4
  EXPECT_EQ(requantize(-7, 0.5f, 10, 0, 255), 6);   // -3.5 -> -4
  EXPECT_EQ(requantize(1 << 28, 1.f, 10, 0, 255), 255);
  EXPECT_EQ(requantize(-(1 << 28), 1.f, 10, 0, 255), 0);
  EXPECT_EQ(requantize(-40, 0.25f, 20, 20, 255), 20);  // relu: clamp at the zero point
  EXPECT_EQ(requantize(400, 0.25f, 20, 20, 80), 80);
  EXPECT_FLOAT_EQ(dequantize_acc(-6, 0.25f), -1.5f);
}

TEST(QuantScheme, RangesHoldZeroExactly) {
  const QuantParams relu = choose_quant_params(0.f, 6.f);
  EXPECT_EQ(relu.zero_point, 0);
  EXPECT_FLOAT_EQ(relu.scale, 6.f / 255.f);
  const QuantParams pos = choose_quant_params(2.f, 4.f);  // widened to [0, 4]
  EXPECT_EQ(pos.zero_point, 0);
  EXPECT_FLOAT_EQ(pos.scale, 4.f / 255.f);
  const QuantParams neg = choose_quant_params(-3.f, -1.f);  // widened to [-3, 0]
  EXPECT_EQ(neg.zero_point, 255);
  const QuantParams mid = choose_quant_params(-1.f, 3.f);
  EXPECT_EQ(quantize_u8(0.f, mid), mid.zero_point);
  EXPECT_FLOAT_EQ(dequantize_u8(uint8_t(mid.zero_point), mid), 0.f);
  EXPECT_EQ(choose_quant_params(0.f, 0.f), QuantParams{});
  EXPECT_THROW(choose_quant_params(1.f, 0.f), Error);
  EXPECT_THROW(choose_quant_params(0.f, INFINITY), Error);

  int32_t lo = 0, hi = 0;
  quant_clamp(0.f, 6.f, relu, &lo, &hi);  // relu6 on its own range: every code
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 255);
  quant_clamp(0.f, INFINITY, mid, &lo, &hi);
  EXPECT_EQ(lo, mid.zero_point);
  EXPECT_EQ(hi, 255);
  quant_clamp(-INFINITY, 1.f, mid, &lo, &hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, quantize_u8(1.f, mid));
}

TEST(QuantScheme, WeightsPerOutputChannelSymmetric) {
  // [2 rows][3 channels]: channel 0 in [-2, 1], channel 1 all zero, channel 2 tiny.
  const float w[] = {-2.f, 0.f, 1e-6f, 1.f, 0.f, -3e-6f};
  int8_t q[6];
  float scale[3];
  quantize_weights_per_channel(w, 2, 3, q, scale);
  EXPECT_FLOAT_EQ(scale[0], 2.f / 127.f);
  EXPECT_EQ(scale[1], 1.f);
  EXPECT_FLOAT_EQ(scale[2], 3e-6f / 127.f);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[3], 64);  // 63.5 -> 64 (even)
  EXPECT_EQ(q[1], 0);
  EXPECT_EQ(q[5], -127);
  EXPECT_EQ(quantize_bias(1.f, 0.5f, 0.25f), 8);
  EXPECT_EQ(quantize_bias(1e30f, 1e-3f, 1e-3f), kQuantBiasLimit);
}

class QGemmDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(QGemmDifferential, EqualsReference) {
  const QGemmKernel* row = find_row(qgemm_kernels(), GetParam());
  ASSERT_NE(row, nullptr);
  if (!isa_available(row->isa) || !row->supports(QGemmShape{}))
    GTEST_SKIP() << row->name << " cannot run on this CPU (" << cpu_model_name() << ")";
  const auto& ref = reference_row(qgemm_kernels());
  std::mt19937 rng(11);
  auto dim = [&] {
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 9, 10, 11, 16, 17, 31, 33, 64, 129};
    return sizes[std::uniform_int_distribution<int>(0, 14)(rng)];
  };
  for (int i = 0; i < 80; ++i) {
    QGemmShape s;
    s.m = dim(), s.n = dim(), s.k = dim();
    if (i == 0) s.m = 250, s.n = 100, s.k = 300;  // several row blocks and panels
    if (i == 1) s.m = 1, s.n = 1000, s.k = 257;   // Dense at batch 1
    const int64_t pad = i % 3;
    s.lda = s.k + pad, s.ldb = s.n + 2 * pad, s.ldc = s.n + pad;
    const auto a = random_u8(s.m * s.lda, 100 + i);
    const auto b = random_s8(s.k * s.ldb, 200 + i);
    RandomEpilogue re(s.n, s.k, 300 + i, i % 3, i % 4 != 3);
    const std::string what = std::string(row->name) + " m" + std::to_string(s.m) + " n" +
                             std::to_string(s.n) + " k" + std::to_string(s.k) + " case " +
                             std::to_string(i);
    if (i % 5 == 4) {  // dequantized float output (a last layer)
      std::vector<float> want(size_t(s.m * s.ldc), -1.f), got = want;
      ref.fn(s, a.data(), b.data(), re.ep, {nullptr, want.data()});
      row->fn(s, a.data(), b.data(), re.ep, {nullptr, got.data()});
      ASSERT_EQ(got, want) << what;
      continue;
    }
    // Bytes past each row's n columns must stay untouched.
    std::vector<uint8_t> want(size_t(s.m * s.ldc), 7), got = want;
    ref.fn(s, a.data(), b.data(), re.ep, {want.data(), nullptr});
    row->fn(s, a.data(), b.data(), re.ep, {got.data(), nullptr});
    ASSERT_EQ(got, want) << what;
    if (i < 3) {  // the outputs spread over the codes, not all saturated
      int distinct = 0;
      std::vector<bool> seen(256);
      for (uint8_t v : got) distinct += !seen[v], seen[v] = true;
      EXPECT_GT(distinct, 30) << what;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, QGemmDifferential,
                         ::testing::ValuesIn(testable_rows(qgemm_kernels())), param_name);

// Weights packed once for each micro-kernel (what inference runs) equal the reference,
// on 1 and 2 threads.
TEST(QGemmPrepacked, EveryMicroKernelOnOneAndTwoThreads) {
  const QGemmMicroKernel* kernels[] = {&qgemm_u8s8_avx512vnni_ukernel, &qgemm_u8s8_avx2_ukernel,
                                       &qgemm_u8s8_generic_ukernel};
  const bool runs[] = {isa_available(Isa::avx512) && cpu_has_avx512_vnni(),
                       isa_available(Isa::avx2), true};
  QGemmShape s;
  s.m = 123, s.n = 70, s.k = 203, s.lda = s.k, s.ldb = s.n, s.ldc = s.n;
  const auto a = random_u8(s.m * s.k, 1);
  const auto b = random_s8(s.k * s.n, 2);
  RandomEpilogue re(s.n, s.k, 3, 1);
  std::vector<uint8_t> want(size_t(s.m * s.n));
  reference_row(qgemm_kernels()).fn(s, a.data(), b.data(), re.ep, {want.data(), nullptr});
  for (int u = 0; u < 3; ++u) {
    if (!runs[u]) continue;
    const QGemmPackedB packed = qgemm_pack_b_for(*kernels[u], s.k, s.n, b.data(), s.n);
    for (int threads : {1, 2}) {
      ThreadCount tc(threads);
      std::vector<uint8_t> got(want.size());
      qgemm_prepacked(s.m, a.data(), s.k, packed, re.ep, {got.data(), nullptr}, s.n);
      EXPECT_EQ(got, want) << kernels[u]->name << " on " << threads << " thread(s)";
    }
  }
  const QGemmPackedB dispatched = qgemm_pack_b(s.k, s.n, b.data(), s.n);
  EXPECT_EQ(qgemm_packed_kernel_name(dispatched), std::string(qgemm_dispatch_ukernel().name));
  EXPECT_THROW(qgemm_pack_b(kQuantMaxK + 1, 1, b.data(), 1), Error);
}

namespace {

std::vector<ConvShape> qconv_cases() {
  std::vector<ConvShape> cases;
  std::mt19937 rng(20261201);
  auto pick = [&](std::initializer_list<int64_t> v) {
    return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
  };
  for (int i = 0; i < 90; ++i) {
    ConvParams p;
    const int64_t c = pick({1, 3, 8, 16, 17, 33, 40});
    const int64_t h = pick({1, 2, 3, 5, 8, 13}), w = pick({1, 2, 4, 7, 12, 19});
    p.stride_h = pick({1, 2});
    p.stride_w = pick({1, 2});
    switch (pick({0, 1, 2})) {
      case 0: p.padding = Padding::valid(); break;
      case 1: p.padding = Padding::same(); break;
      default: p.padding = Padding::explicit_(pick({0, 1, 2}), pick({0, 1}), pick({0, 1}), pick({0, 2}));
    }
    switch (i % 3) {
      case 0:  // depthwise 3x3 (the VNNI-era kernels' domain)
        p.kernel_h = p.kernel_w = 3;
        p.groups = c, p.out_channels = c;
        break;
      case 1:  // pointwise
        p.padding = Padding::valid();
        p.stride_h = p.stride_w = 1;
        p.out_channels = pick({1, 5, 16, 33, 64});
        break;
      default:  // dense windows (stems), sometimes grouped
        p.kernel_h = pick({1, 3, 3, 5});
        p.kernel_w = pick({p.kernel_h, 3});
        p.dilation_h = pick({1, 1, 2});
        p.out_channels = pick({4, 16, 24});
        if (c % 2 == 0 && pick({0, 1})) p.groups = 2;
    }
    const bool pads = p.padding.mode == PadMode::explicit_pads;
    const bool same = p.padding.mode == PadMode::same;
    const int64_t ph = pads ? p.padding.top + p.padding.bottom : 0;
    const int64_t pw = pads ? p.padding.left + p.padding.right : 0;
    if (!same && ((p.kernel_h - 1) * p.dilation_h + 1 > h + ph || p.kernel_w > w + pw)) {
      p.padding = Padding::same();
    }
    cases.push_back(make_conv_shape("qconv differential", pick({1, 2}), h, w, c, p));
  }
  ConvParams dw;  // MobileNet's strided depthwise and Xception's 728 channels
  dw.kernel_h = dw.kernel_w = 3, dw.padding = Padding::same();
  dw.groups = dw.out_channels = 728;
  cases.push_back(make_conv_shape("qconv differential", 1, 7, 9, 728, dw));
  dw.stride_h = dw.stride_w = 2;
  dw.groups = dw.out_channels = 64;
  cases.push_back(make_conv_shape("qconv differential", 1, 14, 15, 64, dw));
  ConvParams stem;  // MobileNet's stem: RGB, 3x3 stride 2, padding at the end
  stem.kernel_h = stem.kernel_w = 3, stem.stride_h = stem.stride_w = 2;
  stem.padding = Padding::same(), stem.out_channels = 32;
  cases.push_back(make_conv_shape("qconv differential", 1, 16, 16, 3, stem));
  return cases;
}

}  // namespace

class QConv2dFwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(QConv2dFwdDifferential, EqualsReference) {
  const QConv2dFwdKernel* row = find_row(qconv2d_fwd_kernels(), GetParam());
  ASSERT_NE(row, nullptr);
  if (!isa_available(row->isa))
    GTEST_SKIP() << row->name << " needs " << isa_name(row->isa) << ", CPU has " << isa_name(max_isa());
  if (std::string(row->name).find("vnni") != std::string::npos && !cpu_has_avx512_vnni())
    GTEST_SKIP() << row->name << " needs AVX512_VNNI (" << cpu_model_name() << ")";
  const auto& ref = reference_row(qconv2d_fwd_kernels());
  int tested = 0, i = 0;
  for (const ConvShape& s : qconv_cases()) {
    ++i;
    if (!row->supports(s)) continue;
    ++tested;
    const auto x = random_u8(s.input_numel(), 400 + i);
    const auto w = random_s8(s.weight_numel(), 500 + i);
    RandomEpilogue re(s.m, s.kh * s.kw * s.cg(), 600 + i, i % 3, i % 4 != 3);
    std::vector<uint8_t> want(size_t(s.output_numel())), got(want.size(), 7);
    ref.fn(s, x.data(), w.data(), re.ep, want.data());
    row->fn(s, x.data(), w.data(), re.ep, got.data());
    ASSERT_EQ(got, want) << row->name << " on " << s.to_string() << " zero point "
                         << re.ep.x_zero_point;
  }
  EXPECT_GT(tested, 5) << row->name << " accepted too few of the test shapes";
}

INSTANTIATE_TEST_SUITE_P(Table, QConv2dFwdDifferential,
                         ::testing::ValuesIn(testable_rows(qconv2d_fwd_kernels())), param_name);

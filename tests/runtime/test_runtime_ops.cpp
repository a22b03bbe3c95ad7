// Every core runtime op against plain loops on random shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernels/reference/conv2d_ref.h"
#include "runtime/ops/channel_shuffle_op.h"
#include "runtime/ops/core_ops.h"
#include "core/error.h"
#include "runtime_test_support.h"

using namespace xcept;
using xcept::test::max_rel_error;
using xcept::test::random_tensor;
using xcept::test::run_op;

namespace {

constexpr double kTol = 1e-4;

float act_ref(const Act& a, float v) {
  switch (a.kind) {
    case ActKind::none: return v;
    case ActKind::relu: return v > 0 ? v : 0;
    case ActKind::clip: return std::min(std::max(v, a.a), a.b);
    case ActKind::elu: return v > 0 ? v : a.a * std::expm1(v);
    case ActKind::leaky_relu: return v > 0 ? v : a.a * v;
  }
  return v;
}

const Act kActs[] = {Act::none(), Act::relu(), Act::relu6(), Act::clip(-0.5f, 0.25f),
                     Act::elu(1.0f), Act::elu(0.3f), Act::leaky_relu(0.1f)};

int64_t pick(std::mt19937& rng, std::initializer_list<int64_t> v) {
  return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng));
}

}  // namespace

TEST(RuntimeOps, Conv2dWithBiasAddendAndActMatchesReference) {
  std::mt19937 rng(7);
  for (int it = 0; it < 40; ++it) {
    const int64_t c = pick(rng, {1, 3, 8, 17});
    ConvParams p;
    p.kernel_h = p.kernel_w = pick(rng, {1, 3, 5});
    p.stride_h = p.stride_w = pick(rng, {1, 2});
    p.padding = pick(rng, {0, 1}) ? Padding::same() : Padding::explicit_(0, 1, 1, 0);
    switch (it % 4) {
      case 0: p.out_channels = pick(rng, {4, 16, 33}); break;                // normal
      case 1: p.groups = c; p.out_channels = c * pick(rng, {1, 2}); break;   // depthwise
      case 2: p.kernel_h = p.kernel_w = 1; p.stride_h = p.stride_w = 1;      // pointwise
              p.padding = Padding::valid(); p.out_channels = 24; break;
      default: p.groups = c == 1 ? 1 : c; p.out_channels = p.groups * 2;     // grouped
    }
    const ConvShape s = make_conv_shape("t", pick(rng, {1, 2}), pick(rng, {5, 9}),
                                        pick(rng, {4, 7}), c, p);
    Tensor x = random_tensor({s.n, s.h, s.w, s.c}, 100 + it);
    Tensor w = random_tensor({s.kh, s.kw, s.cg(), s.m}, 200 + it);
    Tensor bias = it % 3 ? random_tensor({s.m}, 300 + it) : Tensor();
    const bool with_addend = it % 2;
    const Act act = kActs[it % std::size(kActs)];
    Tensor addend = random_tensor({s.n, s.ho, s.wo, s.m}, 400 + it);
    Conv2dOp op(s, w, bias, act, with_addend);
    Tensor y = with_addend ? run_op(op, {&x, &addend}) : run_op(op, {&x});

    std::vector<double> xd(x.data(), x.data() + x.numel()), wd(w.data(), w.data() + w.numel());
    std::vector<double> bd(bias.data(), bias.data() + bias.numel()), yd(size_t(s.output_numel()));
    ref::conv2d_fwd<double>(s, xd.data(), wd.data(), bias.empty() ? nullptr : bd.data(),
                            yd.data());
    Tensor want({s.n, s.ho, s.wo, s.m});
    for (int64_t i = 0; i < want.numel(); ++i)
      want[i] = act_ref(act, float(yd[size_t(i)] + (with_addend ? addend[i] : 0.0)));
    ASSERT_EQ(y.dims(), want.dims());
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol) << s.to_string();
    EXPECT_EQ(op.macs(), s.n * s.ho * s.wo * s.m * s.kh * s.kw * s.cg());
  }
}

TEST(RuntimeOps, Conv2dRejectsWrongInputDims) {
  ConvParams p;
  p.out_channels = 4;
  const ConvShape s = make_conv_shape("t", 1, 5, 5, 3, p);
  Conv2dOp op(s, Tensor({1, 1, 3, 4}), Tensor());
  std::vector<Dims> in{{1, 5, 5, 2}};
  EXPECT_THROW(op.output_dims("t", in), Error);
  EXPECT_THROW(Conv2dOp(s, Tensor({1, 1, 3, 5}), Tensor()), Error);
}

TEST(RuntimeOps, ChannelAffineAlongAnyAxisAndBatchNorm) {
  Tensor x = random_tensor({2, 3, 4, 5}, 1);
  for (int axis : {-1, 1, 0, 2}) {
    const int64_t c = x.dim(size_t(axis < 0 ? axis + 4 : axis));
    Tensor scale = random_tensor({c}, 2), shift = random_tensor({c}, 3);
    ChannelAffineOp op(scale, shift, axis);
    Tensor y = run_op(op, {&x});
    const Dims& d = x.dims();
    Tensor want(d);
    for (int64_t i = 0; i < x.numel(); ++i) {
      int64_t idx[4], r = i;
      for (int k = 3; k >= 0; --k) idx[k] = r % d[size_t(k)], r /= d[size_t(k)];
      const int64_t ch = idx[axis < 0 ? axis + 4 : axis];
      want[i] = x[i] * scale[ch] + shift[ch];
    }
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol) << axis;
  }
  Tensor g = random_tensor({5}, 4, 0.5f, 1.5f), b = random_tensor({5}, 5);
  Tensor m = random_tensor({5}, 6), v = random_tensor({5}, 7, 0.1f, 2.f);
  auto bn = make_batch_norm_op(g, b, m, v, 1e-3f);
  Tensor y = run_op(*bn, {&x});
  Tensor want(x.dims());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t ch = i % 5;
    want[i] = float((x[i] - m[ch]) / std::sqrt(double(v[ch]) + 1e-3) * g[ch] + b[ch]);
  }
  EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol);
  EXPECT_THROW(make_batch_norm_op(g, b, m, Tensor({4}), 1e-3f), Error);
}

TEST(RuntimeOps, ActivationEveryKind) {
  Tensor x = random_tensor({3, 1000}, 8, -8.f, 8.f);
  for (const Act& a : kActs) {
    ActivationOp op(a);
    Tensor y = run_op(op, {&x});
    Tensor want(x.dims());
    for (int64_t i = 0; i < x.numel(); ++i) want[i] = act_ref(a, x[i]);
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), 1e-6) << act_name(a);
    // In place gives the same.
    Tensor z = x;
    std::vector<ConstView> in{{z.data(), &z.dims()}};
    op.run(in, MutView{z.data(), &z.dims()});
    EXPECT_LT(max_rel_error(z.data(), want.data(), z.numel()), 1e-6) << act_name(a);
  }
}

TEST(RuntimeOps, Pool2dMaxAndAverageMatchLoops) {
  std::mt19937 rng(9);
  for (int it = 0; it < 24; ++it) {
    ConvParams p;
    const int64_t c = pick(rng, {1, 5, 16});
    p.out_channels = p.groups = c;
    p.kernel_h = pick(rng, {2, 3});
    p.kernel_w = pick(rng, {2, 3});  // wider than any pad: every window sees the input
    p.stride_h = p.stride_w = pick(rng, {1, 2});
    const int pad = it % 3;
    p.padding = pad == 0 ? Padding::valid() : pad == 1 ? Padding::same() : Padding::explicit_(1, 0, 1, 1);
    const ConvShape s = make_conv_shape("t", 2, pick(rng, {4, 7}), pick(rng, {5, 6}), c, p);
    const bool max = it % 2, include_pad = it % 4 == 2;
    Pool2dOp op(max ? PoolMode::max : include_pad ? PoolMode::avg_include_pad : PoolMode::avg_exclude_pad, s);
    Tensor x = random_tensor({s.n, s.h, s.w, c}, 10 + it);
    Tensor y = run_op(op, {&x});
    Tensor want({s.n, s.ho, s.wo, c});
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t oy = 0; oy < s.ho; ++oy)
        for (int64_t ox = 0; ox < s.wo; ++ox)
          for (int64_t ch = 0; ch < c; ++ch) {
            double acc = max ? -1e30 : 0.0;
            int taps = 0;
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t iy = oy * s.stride_h - s.pad_top + ky;
                const int64_t ix = ox * s.stride_w - s.pad_left + kx;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const double v = x[((n * s.h + iy) * s.w + ix) * c + ch];
                acc = max ? std::max(acc, v) : acc + v;
                ++taps;
              }
            if (!max) acc /= include_pad ? double(s.kh * s.kw) : double(taps);
            want[((n * s.ho + oy) * s.wo + ox) * c + ch] = float(acc);
          }
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol) << s.to_string();
  }
}

TEST(RuntimeOps, GlobalAvgPool) {
  Tensor x = random_tensor({2, 3, 5, 300}, 11);
  for (bool keep : {false, true}) {
    GlobalAvgPoolOp op(keep);
    Tensor y = run_op(op, {&x});
    EXPECT_EQ(y.dims(), keep ? Dims({2, 1, 1, 300}) : Dims({2, 300}));
    Tensor want({2, 300});
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t ch = 0; ch < 300; ++ch) {
        double s = 0;
        for (int64_t p = 0; p < 15; ++p) s += x[(n * 15 + p) * 300 + ch];
        want[n * 300 + ch] = float(s / 15);
      }
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol);
  }
}

TEST(RuntimeOps, DenseWithBiasAndActOnAnyLeadingDims) {
  for (int it = 0; it < 6; ++it) {
    const Dims xd = it % 2 ? Dims{2, 3, 37} : Dims{5, 37};
    Tensor x = random_tensor(xd, 20 + it), w = random_tensor({37, 19}, 30 + it);
    Tensor b = it % 3 ? random_tensor({19}, 40 + it) : Tensor();
    const Act act = kActs[it];
    DenseOp op(w, b, act);
    Tensor y = run_op(op, {&x});
    const int64_t rows = x.numel() / 37;
    EXPECT_EQ(y.dims().back(), 19);
    EXPECT_EQ(op.macs(), rows * 37 * 19);
    Tensor want(y.dims());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < 19; ++j) {
        double s = b.empty() ? 0.0 : b[j];
        for (int64_t k = 0; k < 37; ++k) s += double(x[r * 37 + k]) * w[k * 19 + j];
        want[r * 19 + j] = act_ref(act, float(s));
      }
    EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), kTol);
  }
}

// prepare(f32) packs the weights once for the GEMM's micro-kernel: same bits as
// packing per call, batch 1 (the inference case) and more rows. Prepared after its dims
// are known, a single row runs through the gemm table's single-row kernel where the CPU
// has one (no packing): within float rounding of the reference.
TEST(RuntimeOps, DensePrepackedMatchesPackingPerCall) {
  const int64_t shapes[][3] = {{1, 2048, 1000}, {1, 37, 19}, {3, 300, 67}, {12, 129, 33}};
  for (int it = 0; it < 4; ++it) {
    const int64_t rows = shapes[it][0], k = shapes[it][1], m = shapes[it][2];
    Tensor x = random_tensor({rows, k}, 60 + it), w = random_tensor({k, m}, 70 + it);
    Tensor b = random_tensor({m}, 80 + it);
    DenseOp per_call(w, b, kActs[it]), packed(w, b, kActs[it]), planned(w, b, kActs[it]);
    packed.prepare(Precision::f32);
    const Dims xd = x.dims();
    planned.output_dims("test", {&xd, 1});  // as a Program does before prepare()
    planned.prepare(Precision::f32);
    Tensor want = run_op(per_call, {&x}), got = run_op(packed, {&x});
    Tensor got_planned = run_op(planned, {&x});
    ASSERT_EQ(got.dims(), want.dims());
    if (rows > 1) {  // one row per call dispatches to the single-row kernel instead
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), size_t(got.numel()) * sizeof(float)))
          << rows << "x" << k << " -> " << m;
    }
    Tensor ref({rows, m});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < m; ++j) {
        double s = b[j];
        for (int64_t q = 0; q < k; ++q) s += double(x[r * k + q]) * w[q * m + j];
        ref[r * m + j] = act_ref(kActs[it], float(s));
      }
    EXPECT_LT(max_rel_error(got.data(), ref.data(), got.numel()), kTol);
    EXPECT_LT(max_rel_error(want.data(), ref.data(), got.numel()), kTol);
    EXPECT_LT(max_rel_error(got_planned.data(), ref.data(), got.numel()), kTol);
  }
}

TEST(RuntimeOps, BinaryBroadcastsLikeNumpy) {
  struct Case {
    Dims a, b, out;
  };
  const Case cases[] = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},    {{1}, {2, 3}, {2, 3}},
      {{4, 1, 5}, {1, 3, 1}, {4, 3, 5}},          {{3, 1}, {1, 4}, {3, 4}},
      {{2, 1, 4, 1}, {3, 1, 6}, {2, 3, 4, 6}},    {{1, 1}, {1}, {1, 1}},
  };
  int seed = 50;
  for (const Case& c : cases)
    for (BinaryKind kind : {BinaryKind::add, BinaryKind::sub, BinaryKind::mul, BinaryKind::div}) {
      Tensor a = random_tensor(c.a, seed++, 0.5f, 2.f), b = random_tensor(c.b, seed++, 0.5f, 2.f);
      const Act act = kind == BinaryKind::sub ? Act::relu() : Act::none();
      BinaryOp op(kind, act);
      Tensor y = run_op(op, {&a, &b});
      ASSERT_EQ(y.dims(), c.out) << dims_to_string(c.a) << " " << dims_to_string(c.b);
      const size_t r = c.out.size();
      auto index = [&](const Dims& d, int64_t flat) {  // broadcast source index
        int64_t idx = 0, stride = 1, rem = flat;
        for (size_t k = r; k-- > 0;) {
          const int64_t o = rem % c.out[k];
          rem /= c.out[k];
          const size_t kd = k + d.size() - r;
          if (k + d.size() >= r && d[kd] != 1) idx += o * stride;
          if (k + d.size() >= r) stride *= d[kd];
        }
        return idx;
      };
      Tensor want(c.out);
      for (int64_t i = 0; i < want.numel(); ++i) {
        const float va = a[index(c.a, i)], vb = b[index(c.b, i)];
        float v = kind == BinaryKind::add   ? va + vb
                  : kind == BinaryKind::sub ? va - vb
                  : kind == BinaryKind::mul ? va * vb
                                            : va / vb;
        want[i] = act_ref(act, v);
      }
      EXPECT_LT(max_rel_error(y.data(), want.data(), y.numel()), 1e-6)
          << op.type() << " " << dims_to_string(c.a) << " " << dims_to_string(c.b);
    }
  BinaryOp add(BinaryKind::add);
  std::vector<Dims> bad{{2, 3}, {4, 3}};
  EXPECT_THROW(add.output_dims("t", bad), Error);
}

TEST(RuntimeOps, ConcatAlongEveryAxis) {
  for (int axis = -1; axis < 4; ++axis) {
    const size_t ax = size_t(axis < 0 ? 3 : axis);
    Dims da{2, 3, 4, 5}, db{2, 3, 4, 5};
    db[ax] = 2;
    Tensor a = random_tensor(da, 60), b = random_tensor(db, 61);
    ConcatOp op(axis);
    Tensor y = run_op(op, {&a, &b, &a});
    Dims od = da;
    od[ax] = 2 * da[ax] + db[ax];
    ASSERT_EQ(y.dims(), od);
    // Check element by element through the multi-index.
    for (int64_t i = 0; i < y.numel(); ++i) {
      int64_t idx[4], rem = i;
      for (int k = 3; k >= 0; --k) idx[k] = rem % od[size_t(k)], rem /= od[size_t(k)];
      int64_t pos = idx[ax];
      const Tensor* src = &a;
      if (pos >= da[ax]) {
        pos -= da[ax];
        src = &b;
        if (pos >= db[ax]) pos -= db[ax], src = &a;
      }
      idx[ax] = pos;
      const Dims& sd = src->dims();
      const int64_t flat = ((idx[0] * sd[1] + idx[1]) * sd[2] + idx[2]) * sd[3] + idx[3];
      ASSERT_EQ(y[i], (*src)[flat]) << "axis " << axis << " at " << i;
    }
  }
  ConcatOp op(1);
  std::vector<Dims> bad{{2, 3, 4}, {2, 3, 5}};
  EXPECT_THROW(op.output_dims("t", bad), Error);
}

TEST(RuntimeOps, ChannelShuffleMatchesDefinition) {
  Tensor x = random_tensor({2, 3, 12}, 70);
  ChannelShuffleOp op(3);
  Tensor y = run_op(op, {&x});
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t g = 0; g < 3; ++g) EXPECT_EQ(y[r * 12 + j * 3 + g], x[r * 12 + g * 4 + j]);
}

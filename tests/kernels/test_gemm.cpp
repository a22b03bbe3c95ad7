// What the table-driven differential test cannot see about the blocked GEMM: shapes that
// cross every cache block (with shrunken blocks, and once at the real sizes), k = 0 and
// degenerate m/n, beta other than 0 and 1, and bit-identical results on 1 and 2 threads.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/threadpool.h"
#include "kernels/generic/gemm_blocked.h"
#include "kernels/kernels.h"
#include "test_support.h"

using namespace xcept;

namespace {

constexpr double kTolerance = 1e-4;

struct Ukernel {
  const char* name;
  Isa isa;
  const GemmMicroKernel* uk;
};
const Ukernel kUkernels[] = {
    {"avx512", Isa::avx512, &gemm_f32_avx512_ukernel},
    {"avx2", Isa::avx2, &gemm_f32_avx2_ukernel},
    {"generic", Isa::generic, &gemm_f32_generic_ukernel},
};

GemmShape make_shape(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float beta, int64_t pad) {
  GemmShape s;
  s.m = m, s.n = n, s.k = k, s.trans_a = ta, s.trans_b = tb, s.beta = beta;
  s.lda = (ta ? m : k) + pad;
  s.ldb = (tb ? k : n) + pad;
  s.ldc = n + pad;
  return s;
}

struct Operands {
  std::vector<float> a, b, c0;
};

Operands operands(const GemmShape& s) {
  Operands o;
  o.a = test::random_vector<float>(std::max<int64_t>(1, (s.trans_a ? s.k : s.m) * s.lda), 51);
  o.b = test::random_vector<float>(std::max<int64_t>(1, (s.trans_b ? s.n : s.k) * s.ldb), 52);
  o.c0 = test::random_vector<float>(std::max<int64_t>(1, s.m * s.ldc), 53);
  if (s.beta == 0.f) std::fill(o.c0.begin(), o.c0.end(), NAN);  // beta 0 must ignore C
  return o;
}

std::string describe(const GemmShape& s) {
  return fmt::format("m{} n{} k{} ta{} tb{} beta{}", s.m, s.n, s.k, s.trans_a, s.trans_b, s.beta);
}

// Compares the m x n part of C at the scale of the whole matrix (a lone element that
// cancels to near zero says nothing); the padding columns past n must be untouched.
void expect_close(const GemmShape& s, const std::vector<float>& got, const std::vector<float>& want,
                  const std::vector<float>& c0, const std::string& what) {
  std::vector<float> got_mn, want_mn;
  for (int64_t r = 0; r < s.m; ++r) {
    got_mn.insert(got_mn.end(), got.begin() + r * s.ldc, got.begin() + r * s.ldc + s.n);
    want_mn.insert(want_mn.end(), want.begin() + r * s.ldc, want.begin() + r * s.ldc + s.n);
    for (int64_t j = s.n; j < s.ldc; ++j)
      ASSERT_TRUE(std::isnan(c0[r * s.ldc + j]) ? std::isnan(got[r * s.ldc + j])
                                                : got[r * s.ldc + j] == c0[r * s.ldc + j])
          << what << " wrote past n in row " << r << " of " << describe(s);
  }
  EXPECT_LT(test::max_rel_error(got_mn.data(), want_mn.data(), int64_t(got_mn.size())), kTolerance)
      << what << " " << describe(s);
}

}  // namespace

// Every micro-kernel through the driver with blocks a few tiles wide, so modest shapes
// run every loop more than once and end every loop on a partial block.
TEST(GemmBlocked, SmallBlocksCrossEveryLoop) {
  for (const Ukernel& u : kUkernels) {
    if (!isa_available(u.isa)) continue;
    GemmMicroKernel uk = *u.uk;
    uk.mc = 2 * uk.mr, uk.kc = 7, uk.nc = 2 * uk.nr;
    const int64_t m = 2 * uk.mc + uk.mr + 1, n = 2 * uk.nc + uk.nr / 2 + 1, k = 3 * uk.kc + 2;
    for (int combo = 0; combo < 12; ++combo) {
      const float beta = combo / 4 == 0 ? 0.f : combo / 4 == 1 ? 1.f : -0.5f;
      GemmShape s = make_shape(m, n, k, combo % 2, (combo / 2) % 2, beta, combo % 3);
      Operands o = operands(s);
      std::vector<float> want = o.c0, got = o.c0;
      gemm_f32_ref(s, o.a.data(), o.b.data(), want.data());
      gemm_f32_blocked(uk, s, o.a.data(), o.b.data(), got.data());
      expect_close(s, got, want, o.c0, u.name);
    }
  }
}

// Every gemm row at its real block sizes, on a shape past mc, kc and nc of all of them.
TEST(GemmRows, LargeShapesAllTransposes) {
  const int64_t m = 250, n = 1061, k = 300;
  for (const Ukernel& u : kUkernels) {
    EXPECT_GT(m, u.uk->mc) << u.name;
    EXPECT_GT(k, u.uk->kc) << u.name;
    EXPECT_GT(n, u.uk->nc) << u.name;
  }
  for (int combo = 0; combo < 4; ++combo) {
    GemmShape s = make_shape(m, n, k, combo % 2, combo / 2, combo == 3 ? 1.f : 0.f, 3);
    Operands o = operands(s);
    std::vector<float> want = o.c0;
    gemm_f32_ref(s, o.a.data(), o.b.data(), want.data());
    for (const GemmKernel& row : gemm_kernels()) {
      if (row.is_reference() || !isa_available(row.isa) || !row.supports(s)) continue;
      std::vector<float> got = o.c0;
      row.fn(s, o.a.data(), o.b.data(), got.data());
      expect_close(s, got, want, o.c0, row.name);
    }
  }
}

TEST(GemmRows, DegenerateShapes) {
  const int64_t sizes[][3] = {{1, 1, 1}, {1, 1000, 3}, {1000, 1, 3}, {2, 3, 1}, {1, 1, 700},
                              {5, 0, 4}, {0, 5, 4}, {0, 0, 0}, {7, 9, 0}, {1, 1, 0}};
  for (const GemmKernel& row : gemm_kernels()) {
    if (row.is_reference() || !isa_available(row.isa)) continue;
    for (const auto& mnk : sizes)
      for (float beta : {0.f, 1.f, 2.f})
        for (int t = 0; t < 4; ++t) {
          GemmShape s = make_shape(mnk[0], mnk[1], mnk[2], t % 2, t / 2, beta, 1);
          if (!row.supports(s)) continue;  // e.g. the single-row kernel
          Operands o = operands(s);
          std::vector<float> want = o.c0, got = o.c0;
          gemm_f32_ref(s, o.a.data(), o.b.data(), want.data());
          row.fn(s, o.a.data(), o.b.data(), got.data());
          expect_close(s, got, want, o.c0, row.name);
        }
  }
}

// k = 0 is C = beta * C exactly: beta 0 clears NaN, beta 1 leaves C bit for bit.
TEST(GemmRows, EmptyProductScalesC) {
  for (const GemmKernel& row : gemm_kernels()) {
    if (!isa_available(row.isa)) continue;
    for (float beta : {0.f, 1.f, 0.5f}) {
      const int64_t m = row.supports == gemm_single_row ? 1 : 3;
      GemmShape s = make_shape(m, 5, 0, false, false, beta, 2);
      if (!row.supports(s)) continue;
      std::vector<float> c = test::random_vector<float>(s.m * s.ldc, 9), c0 = c;
      if (beta == 0.f) std::fill(c.begin(), c.end(), NAN);
      row.fn(s, nullptr, nullptr, c.data());
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j)
          EXPECT_EQ(c[i * s.ldc + j], beta == 0.f ? 0.f : beta * c0[i * s.ldc + j]) << row.name;
    }
  }
}

// The pointwise layers of Xception and MobileNet split across 2 threads, and the split
// changes no bit of the result.
TEST(GemmRows, TwoThreadsShareWorkAndMatchOne) {
  const int64_t shapes[][3] = {{361, 728, 728}, {49, 1024, 1024}, {12544, 64, 32},
                               {100, 2048, 1536}, {3136, 128, 128}, {196, 512, 512}};
  for (const Ukernel& u : kUkernels)
    for (const auto& mnk : shapes) {
      GemmThreadGrid g = gemm_thread_grid(*u.uk, make_shape(mnk[0], mnk[1], mnk[2], false, false, 0.f, 0), 2);
      EXPECT_EQ(g.tm * g.tn, 2) << u.name << " m" << mnk[0] << " n" << mnk[1] << " k" << mnk[2];
    }
  struct RestoreThreads {
    int saved = num_threads();
    ~RestoreThreads() { set_num_threads(saved); }
  } restore;
  for (const GemmKernel& row : gemm_kernels()) {
    if (row.is_reference() || !isa_available(row.isa)) continue;
    for (int i = 0; i < 6; ++i) {
      const auto& mnk = shapes[i];
      const int combo = i % 3;  // one of: beta 1, A transposed, B transposed
      GemmShape s = make_shape(mnk[0], mnk[1], mnk[2], combo == 1, combo == 2, combo == 0 ? 1.f : 0.f, 0);
      if (!row.supports(s)) continue;
      Operands o = operands(s);
      std::vector<float> one = o.c0, two = o.c0;
      set_num_threads(1);
      row.fn(s, o.a.data(), o.b.data(), one.data());
      set_num_threads(2);
      row.fn(s, o.a.data(), o.b.data(), two.data());
      ASSERT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)))
          << row.name << " " << describe(s);
    }
  }
}

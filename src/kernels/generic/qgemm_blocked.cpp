#include "kernels/generic/qgemm_blocked.h"

#include <algorithm>
#include <cstring>

#include "core/aligned_alloc.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "core/scratch.h"

namespace xcept {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

thread_local ScratchArray<int8_t> t_pack_a, t_pack_b;
thread_local ScratchArray<int32_t> t_bias, t_colsum;
thread_local ScratchArray<float> t_multiplier;

int64_t elem_bytes(const QGemmMicroKernel& uk) { return uk.wide ? 2 : 1; }
// Elements of one packed panel (mr or nr lanes) over all of k.
int64_t panel_elems(const QGemmMicroKernel& uk, int64_t lanes, int64_t k) {
  return ceil_div(k, uk.group) * lanes * uk.group;
}

// Element (lane, kk) of a panel of `lanes` lanes at position ((g * lanes + lane) * G + t),
// kk = g * G + t. T is int8_t/uint8_t for byte panels, int16_t for wide ones.
template <typename T, typename Get>
void pack_panel(int64_t lanes, int64_t k, int64_t group, Get get, T* dst) {
  const int64_t groups = ceil_div(k, group);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t l = 0; l < lanes; ++l)
      for (int64_t t = 0; t < group; ++t) dst[(g * lanes + l) * group + t] = T(get(l, g * group + t));
}

// Rows [i0, i0 + rows) of A into ceil(rows / mr) panels; rows past the block and k values
// past k are zero.
void pack_a_block(const QGemmMicroKernel& uk, const uint8_t* a, int64_t lda, int64_t k,
                  int64_t rows, int8_t* dst) {
  const int64_t mr = uk.mr, per_panel = panel_elems(uk, mr, k) * elem_bytes(uk);
  for (int64_t t = 0; t * mr < rows; ++t) {
    const uint8_t* at = a + t * mr * lda;
    const int64_t valid = std::min<int64_t>(mr, rows - t * mr);
    auto get = [&](int64_t i, int64_t kk) -> int32_t {
      return i < valid && kk < k ? at[i * lda + kk] : 0;
    };
    int8_t* d = dst + t * per_panel;
    if (uk.wide) {
      pack_panel(mr, k, uk.group, get, reinterpret_cast<int16_t*>(d));
    } else if (uk.group == 4 && valid == mr) {
      // The common case, 4-byte groups of full rows: one 32-bit copy per group.
      const int64_t full = k / 4;
      for (int64_t i = 0; i < mr; ++i) {
        const uint8_t* src = at + i * lda;
        for (int64_t g = 0; g < full; ++g) std::memcpy(d + (g * mr + i) * 4, src + g * 4, 4);
        if (k % 4)
          for (int64_t t2 = 0; t2 < 4; ++t2)
            d[(full * mr + i) * 4 + t2] = int8_t(full * 4 + t2 < k ? src[full * 4 + t2] : 0);
      }
    } else {
      pack_panel(mr, k, uk.group, get, reinterpret_cast<uint8_t*>(d));
    }
  }
}

void pack_b_panels(const QGemmMicroKernel& uk, int64_t k, int64_t n, const int8_t* b, int64_t ldb,
                   int8_t* dst, int32_t* colsum) {
  const int64_t nr = uk.nr, panels = ceil_div(n, nr);
  const int64_t per_panel = panel_elems(uk, nr, k) * elem_bytes(uk);
  parallel_for(panels, 4, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t j0 = p * nr, valid = std::min(nr, n - j0);
      auto get = [&](int64_t j, int64_t kk) -> int32_t {
        return j < valid && kk < k ? b[kk * ldb + j0 + j] : 0;
      };
      if (uk.wide)
        pack_panel(nr, k, uk.group, get, reinterpret_cast<int16_t*>(dst + p * per_panel));
      else
        pack_panel(nr, k, uk.group, get, dst + p * per_panel);
    }
  });
  for (int64_t j = 0; j < n; ++j) colsum[j] = 0;
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j) colsum[j] += b[kk * ldb + j];
}

int64_t packed_b_bytes(const QGemmMicroKernel& uk, int64_t k, int64_t n) {
  return ceil_div(n, uk.nr) * panel_elems(uk, uk.nr, k) * elem_bytes(uk);
}

void check_k(int64_t k) {
  if (k < 0 || k > kQuantMaxK)
    fail("int8 GEMM: k = {} is outside [0, {}] (int32 sums could overflow)", k, kQuantMaxK);
}

}  // namespace

const QGemmMicroKernel& qgemm_dispatch_ukernel() {
  if (isa_available(Isa::avx512) && cpu_has_avx512_vnni()) return qgemm_u8s8_avx512vnni_ukernel;
  if (isa_available(Isa::avx2)) return qgemm_u8s8_avx2_ukernel;
  return qgemm_u8s8_generic_ukernel;
}

QGemmPackedB qgemm_pack_b_for(const QGemmMicroKernel& uk, int64_t k, int64_t n, const int8_t* b,
                              int64_t ldb) {
  check_k(k);
  if (n < 0 || ldb < n) fail("int8 GEMM: B of {} columns with row stride {}", n, ldb);
  QGemmPackedB p;
  p.uk = &uk;
  p.k = k;
  p.n = n;
  p.bytes = packed_b_bytes(uk, k, n);
  p.data = {static_cast<int8_t*>(alloc_aligned(size_t(std::max<int64_t>(p.bytes, 1)))),
            [](int8_t* q) { free_aligned(q); }};
  p.colsum = std::make_unique<int32_t[]>(size_t(std::max<int64_t>(n, 1)));
  pack_b_panels(uk, k, n, b, ldb, p.data.get(), p.colsum.get());
  return p;
}

QGemmPackedB qgemm_pack_b(int64_t k, int64_t n, const int8_t* b, int64_t ldb) {
  return qgemm_pack_b_for(qgemm_dispatch_ukernel(), k, n, b, ldb);
}

const char* qgemm_packed_kernel_name(const QGemmPackedB& b) { return b.uk ? b.uk->name : ""; }

void qgemm_prepacked(int64_t m, const uint8_t* a, int64_t lda, const QGemmPackedB& b,
                     const QuantEpilogue& ep, QGemmOut c, int64_t ldc) {
  qgemm_blocked(m, a, lda, packed_view(b), ep, c, ldc);
}

QGemmPackedView qgemm_pack_b_scratch(const QGemmMicroKernel& uk, int64_t k, int64_t n,
                                     const int8_t* b, int64_t ldb) {
  check_k(k);
  int8_t* packed = t_pack_b.get(packed_b_bytes(uk, k, n));
  int32_t* colsum = t_colsum.get(n);
  pack_b_panels(uk, k, n, b, ldb, packed, colsum);
  return {&uk, k, n, packed, colsum};
}

void qgemm_unpacked(const QGemmMicroKernel& uk, const QGemmShape& s, const uint8_t* a,
                    const int8_t* b, const QuantEpilogue& ep, QGemmOut c) {
  qgemm_blocked(s.m, a, s.lda, qgemm_pack_b_scratch(uk, s.k, s.n, b, s.ldb), ep, c, s.ldc);
}

void qgemm_blocked(int64_t m, const uint8_t* a, int64_t lda, const QGemmPackedView& b,
                   const QuantEpilogue& ep, QGemmOut c, int64_t ldc) {
  const QGemmMicroKernel& uk = *b.uk;
  const int64_t n = b.n, k = b.k, mr = uk.mr, nr = uk.nr;
  if (m <= 0 || n <= 0) return;
  check_k(k);
  if (!ep.multiplier) fail("int8 GEMM: the epilogue has no multipliers");
  if ((c.u8 == nullptr) == (c.f32 == nullptr)) fail("int8 GEMM: give exactly one output");
  // The epilogue's vectors padded to whole panels, the zero-point correction folded into
  // the bias: sum_k (a - za) * b = sum_k a * b - za * colsum.
  const int64_t panels = ceil_div(n, nr);
  int32_t* bias = t_bias.get(panels * nr);
  float* mult = t_multiplier.get(panels * nr);
  for (int64_t j = 0; j < panels * nr; ++j) {
    bias[j] = j < n ? (ep.bias ? ep.bias[j] : 0) - ep.x_zero_point * b.colsum[j] : 0;
    mult[j] = j < n ? ep.multiplier[j] : 0.f;
  }
  const int64_t groups = ceil_div(k, uk.group);
  const int64_t a_panel = panel_elems(uk, mr, k) * elem_bytes(uk);
  const int64_t b_panel = panel_elems(uk, nr, k) * elem_bytes(uk);
  // Work items: a block of mc rows x a group of panels, about four per thread (the pool
  // hands them out as threads come free). Each packs its rows of A, so rows are split
  // first (blocks of fewer rows than the micro-kernel's L2 budget when that makes four
  // per thread) and panels only when there are too few rows: splitting panels packs the
  // same rows once per group (MobileNet's 14x14 layers packed A four times that way).
  const int64_t target = 4 * num_threads();
  const int64_t mc = std::clamp(ceil_div(ceil_div(m, mr), target) * mr, mr, uk.mc);
  const int64_t row_blocks = ceil_div(m, mc);
  const int64_t per_item = std::clamp<int64_t>(panels * row_blocks / target, 1, panels);
  const int64_t col_groups = ceil_div(panels, per_item);
  auto run_item = [&](int64_t item) {
    const int64_t i0 = item / col_groups * mc, rows = std::min(mc, m - i0);
    const int64_t p0 = item % col_groups * per_item, p1 = std::min(panels, p0 + per_item);
    int8_t* ap = t_pack_a.get(ceil_div(rows, mr) * a_panel);
    pack_a_block(uk, a + i0 * lda, lda, k, rows, ap);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t j0 = p * nr, cols = std::min(nr, n - j0);
      const QGemmTileEpilogue te{bias + j0, mult + j0, ep.y_zero_point, ep.y_min, ep.y_max};
      const int8_t* bp = b.data + p * b_panel;
      for (int64_t ir = 0; ir < rows; ir += mr) {
        const int64_t at = (i0 + ir) * ldc + j0;
        uk.tile(groups, ap + ir / mr * a_panel, bp, te, std::min(mr, rows - ir), cols,
                c.u8 ? c.u8 + at : nullptr, c.f32 ? c.f32 + at : nullptr, ldc);
      }
    }
  };
  const int64_t items = row_blocks * col_groups;
  if (items == 1) return run_item(0);
  parallel_for(items, 1, [&](int64_t i, int64_t e) {
    for (; i < e; ++i) run_item(i);
  });
}

}  // namespace xcept

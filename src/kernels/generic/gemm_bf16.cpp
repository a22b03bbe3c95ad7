// The bf16 GEMM driver (kernels/gemm_bf16.h): B is packed once by the caller; A is
// rounded and packed here per block of rows. Each C tile sums all of k in one pass of
// the micro-kernel (no k blocking: a 32-column B panel is 128 bytes per k pair, 290 KB
// even at k = 4608, so it stays in L2), so the epilogue runs once per tile while it is in
// L1, and every C element is computed the same way however the work is split.
#include "kernels/gemm_bf16.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/fma_peak.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

constexpr int64_t kMr = kBf16TileRows, kNr = kBf16PanelCols;
// A block of rows is packed once per task: at most ~256 KB of bf16, at most 120 rows.
constexpr int64_t kBlockBytes = int64_t(256) << 10;
// Columns per task (16 panels): lets a one-row product (Dense at batch 1) use threads.
constexpr int64_t kTaskCols = 16 * kNr;

// The packed A block, one per thread.
thread_local ScratchArray<uint16_t> t_pack_a;

// Rows [i0, i0 + rows) of A into kMr-row panels [k_pairs][kMr][2], zero-padded.
void pack_a(const float* a, int64_t lda, int64_t k, int64_t k_pairs, int64_t i0, int64_t rows,
            uint16_t* dst) {
  for (int64_t ip = 0; ip < rows; ip += kMr, dst += k_pairs * kMr * 2)
    gemm_bf16_pack_a_avx512bf16(a + (i0 + ip) * lda, lda, k, k_pairs, std::min(kMr, rows - ip),
                                dst);
}

int64_t block_rows(int64_t k) {
  const int64_t rows = kBlockBytes / (2 * std::max<int64_t>(k, 1));
  return std::clamp<int64_t>(rows / kMr * kMr, kMr, 12 * kMr);
}

}  // namespace

uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float bf16_to_f32(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

PackedBf16Matrix pack_bf16_b(int64_t k, int64_t n, const float* b, int64_t ldb, bool trans_b) {
  if (k <= 0 || n <= 0) fail("pack_bf16_b: k={} n={} must be positive", k, n);
  PackedBf16Matrix pm;
  pm.k = k, pm.n = n, pm.k_pairs = (k + 1) / 2, pm.panels = (n + kNr - 1) / kNr;
  const int64_t panel_len = pm.k_pairs * 2 * kNr;
  pm.data.reset(new uint16_t[size_t(pm.panels * panel_len)]);
  parallel_for(pm.panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t pn = p0; pn < p1; ++pn) {
      uint16_t* dst = pm.data.get() + pn * panel_len;
      for (int64_t p = 0; p < 2 * pm.k_pairs; ++p)
        for (int64_t j = 0; j < kNr; ++j) {
          const int64_t col = pn * kNr + j;
          const float v = p < k && col < n ? (trans_b ? b[col * ldb + p] : b[p * ldb + col]) : 0.f;
          dst[(p / 2 * kNr + j) * 2 + p % 2] = f32_to_bf16(v);
        }
    }
  });
  return pm;
}

// The table decides: a row other than the oracle accepts (not cached: the ISA cap may
// change at run time, set_max_isa).
bool bf16_gemm_available() { return !pick_gemm_bf16(Bf16GemmShape{1, 1, 1}).is_reference(); }

bool bf16_gemm_pays() {
  if (!bf16_gemm_available()) return false;
  // Measured once, at the first call the cap allows bf16 at all.
  static const bool faster =
      measure_bf16_dot_peak_gflops(1) >= 1.5 * measure_fma_peak_gflops(1, Isa::avx512);
  return faster;
}

void gemm_bf16(int64_t m, const float* a, int64_t lda, const PackedBf16Matrix& b, float* c,
               int64_t ldc, const GemmEpilogue* epilogue) {
  const Bf16GemmShape s{m, b.k, b.n};
  const Bf16GemmKernel& row = pick_gemm_bf16(s);
  // The oracle is for tests: a caller that asked for speed gets told.
  if (row.is_reference())
    fail("gemm_bf16: this CPU has no AVX512_BF16 (or XCEPT_MAX_ISA caps it)");
  row.fn(s, a, lda, b, c, ldc, epilogue);
}

// The driver around the AVX512_BF16 micro-kernel (this file is plain C++; only the
// micro-kernel and the A packing, in avx512_bf16/, run bf16 instructions).
void gemm_bf16_avx512bf16(const Bf16GemmShape& s, const float* a, int64_t lda,
                          const PackedBf16Matrix& b, float* c, int64_t ldc,
                          const GemmEpilogue* epilogue) {
  const int64_t m = s.m;
  if (m <= 0) return;
  const int64_t mc = block_rows(b.k);
  const int64_t mblocks = (m + mc - 1) / mc;
  // Column chunks only when row blocks alone cannot keep the threads busy: each chunk
  // of a row block packs that block again.
  const int64_t nchunks =
      mblocks >= 2 * num_threads() ? 1 : (b.n + kTaskCols - 1) / kTaskCols;
  const int64_t chunk_cols = nchunks == 1 ? b.panels * kNr : kTaskCols;
  parallel_for(mblocks * nchunks, 1, [&](int64_t t0, int64_t t1) {
    uint16_t* ap = t_pack_a.get(((mc + kMr - 1) / kMr) * kMr * b.k_pairs * 2);
    int64_t packed = -1;  // the row block ap holds
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mb = t / nchunks, nb = t % nchunks;
      const int64_t i0 = mb * mc, rows = std::min(mc, m - i0);
      if (packed != mb) pack_a(a, lda, b.k, b.k_pairs, i0, rows, ap), packed = mb;
      const int64_t j_end = std::min(b.n, (nb + 1) * chunk_cols);
      for (int64_t j0 = nb * chunk_cols; j0 < j_end; j0 += kNr) {
        const uint16_t* bp = b.panel(j0 / kNr);
        const int64_t cols = std::min(kNr, b.n - j0);
        for (int64_t ir = 0; ir < rows; ir += kMr) {
          // The addend arrives while the tile is computed (see gemm_blocked.cpp).
          if (epilogue && epilogue->addend)
            for (int64_t i = 0; i < std::min(kMr, rows - ir); ++i)
              for (int64_t j = 0; j < cols; j += 16)
                __builtin_prefetch(epilogue->addend + (i0 + ir + i) * epilogue->ld_addend + j0 + j);
          gemm_bf16_tile_avx512bf16(b.k_pairs, ap + ir * b.k_pairs * 2, bp,
                                    c + (i0 + ir) * ldc + j0, ldc, std::min(kMr, rows - ir),
                                    cols, epilogue, i0 + ir, j0);
        }
      }
    }
  });
}

}  // namespace xcept

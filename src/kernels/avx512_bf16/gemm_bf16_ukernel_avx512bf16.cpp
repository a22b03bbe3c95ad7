// The bf16 GEMM micro-kernel: 10 rows x 32 columns, vdpbf16ps. This file alone is built
// with -mavx512bf16 (CMakeLists.txt); no standard-library templates, see the avx512 folder.
#include <immintrin.h>

#include <cstring>

#include "kernels/epilogue_impl.h"
#include "kernels/gemm_bf16.h"

namespace xcept {

// 20 accumulators + 2 B vectors + 1 broadcast, like the f32 10x32 kernel: each
// vdpbf16ps does two multiply-adds per lane, so the tile runs at twice the f32 rate.
void gemm_bf16_tile_avx512bf16(int64_t k_pairs, const uint16_t* a, const uint16_t* b, float* c,
                               int64_t ldc, int64_t rows, int64_t cols,
                               const GemmEpilogue* e, int64_t i0, int64_t j0) {
  constexpr int MR = 10;
  __m512 acc[MR][2];
#pragma GCC unroll 10
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t q = 0; q < k_pairs; ++q, a += 2 * MR, b += 64) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 32);
#pragma GCC unroll 10
    for (int i = 0; i < MR; ++i) {
      int pair;  // one k pair of one row: 32 bits (memcpy: no aliasing of the uint16 buffer)
      std::memcpy(&pair, a + 2 * i, sizeof pair);
      const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
    }
  }
  // Edge tiles go through a buffer: indexing acc with a run-time row count would make
  // GCC keep the accumulators in memory for the whole loop.
  const bool full = rows == MR && cols == 32;
  alignas(64) float tile[MR][32];
  float* dst = full ? c : &tile[0][0];
  const int64_t ld = full ? ldc : 32;
#pragma GCC unroll 10
  for (int i = 0; i < MR; ++i) {
    _mm512_storeu_ps(dst + i * ld, acc[i][0]);
    _mm512_storeu_ps(dst + i * ld + 16, acc[i][1]);
  }
  if (!full)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = tile[i][j];
  if (e) epi_gemm_block(*e, c, ldc, i0, j0, rows, cols);
}

void gemm_bf16_pack_a_avx512bf16(const float* a, int64_t lda, int64_t k, int64_t k_pairs,
                                 int64_t rows, uint16_t* dst) {
  constexpr int64_t MR = kBf16TileRows;
  for (int64_t i = 0; i < MR; ++i) {
    uint16_t* d = dst + 2 * i;  // pair q of row i at d + 2 * q * MR
    if (i >= rows) {
      for (int64_t q = 0; q < k_pairs; ++q) d[2 * q * MR] = d[2 * q * MR + 1] = 0;
      continue;
    }
    const float* src = a + i * lda;
    int64_t q = 0;
    // 32 floats -> 32 bf16 (nearest even) in one instruction, then 16 pairs out.
    for (; 2 * q + 32 <= k; q += 16) {
      const __m512bh v =
          _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + 2 * q + 16), _mm512_loadu_ps(src + 2 * q));
      alignas(64) uint16_t h[32];
      _mm512_store_si512(h, (__m512i)v);
      for (int t = 0; t < 16; ++t) std::memcpy(d + 2 * (q + t) * MR, h + 2 * t, 4);
    }
    for (; q < k_pairs; ++q) {
      d[2 * q * MR] = f32_to_bf16(src[2 * q]);
      d[2 * q * MR + 1] = 2 * q + 1 < k ? f32_to_bf16(src[2 * q + 1]) : 0;
    }
  }
}

}  // namespace xcept

// The AVX2 int8 GEMM micro-kernel and the gemm_u8s8_avx2 row (CPUs without VNNI: Zen 3).
//
// vpmaddubsw (u8 x s8 -> pairs summed into int16) would do 32 products per instruction,
// but its int16 sum saturates: 255 * 127 * 2 = 64770 > 32767, so with full-range weights
// results would silently differ from the reference (the usual way out is 7-bit weights,
// which would give this CPU a different model). The panels instead hold int16 (A
// zero-extended, B sign-extended at packing) and vpmaddwd sums pairs of exact int16
// products into int32: 16 multiply-adds per instruction, exact, 2x the f32 FMA rate.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx2/requant_avx2.h"
#include "kernels/generic/qgemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

constexpr int MR = 4, NV = 2, NR = 8 * NV;

// 4 rows x 16 columns: 8 accumulators, 2 B vectors, a broadcast and a product.
void qgemm_tile_avx2(int64_t groups, const void* ap, const void* bp, const QGemmTileEpilogue& e,
                     int64_t rows, int64_t cols, uint8_t* c, float* c_f32, int64_t ldc) {
  const int16_t* a = static_cast<const int16_t*>(ap);
  const int16_t* b = static_cast<const int16_t*>(bp);
  __m256i acc[MR][NV];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_si256();
#pragma GCC unroll 2
  for (int64_t g = 0; g < groups; ++g, a += 2 * MR, b += 2 * NR) {
    __m256i bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * v));
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      int32_t pair;  // two k values of row i, as int16
      std::memcpy(&pair, a + 2 * i, sizeof pair);
      const __m256i av = _mm256_set1_epi32(pair);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(av, bv[v]));
    }
  }
  const RequantAvx2 rq(e.y_zero_point, e.y_min, e.y_max);
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    if (i >= rows) break;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const int64_t count = cols - 8 * v;
      if (count <= 0) break;
      const __m256i sum = _mm256_add_epi32(
          acc[i][v], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.bias + 8 * v)));
      const __m256 mult = _mm256_loadu_ps(e.multiplier + 8 * v);
      if (c_f32)
        dequant_store_avx2(sum, mult, count, c_f32 + i * ldc + 8 * v);
      else
        rq.store(sum, mult, count, c + i * ldc + 8 * v);
    }
  }
}

}  // namespace

extern const QGemmMicroKernel qgemm_u8s8_avx2_ukernel{
    "gemm_u8s8_avx2", MR, NR, 2, true, 96, qgemm_tile_avx2};

void gemm_u8s8_avx2(const QGemmShape& s, const uint8_t* a, const int8_t* b,
                     const QuantEpilogue& ep, QGemmOut c) {
  qgemm_unpacked(qgemm_u8s8_avx2_ukernel, s, a, b, ep, c);
}

}  // namespace xcept

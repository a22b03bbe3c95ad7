// The AVX512-VNNI int8 GEMM micro-kernel and the gemm_u8s8_avx512vnni row. This file
// alone is built with -mavx512vnni (CMakeLists.txt); like the other ISA files it calls no
// inline function or template of a shared header (kernels/quant.h's requantize is in
// vector form in avx512/requant_avx512.h, with internal linkage), so no VNNI-compiled
// copy can leak into generic code.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/requant_avx512.h"
#include "kernels/generic/qgemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

constexpr int MR = 10, NV = 2, NR = 16 * NV;

// 10 rows x 32 columns: 20 accumulators + 2 B vectors + 1 broadcast of the 32 registers.
// Each vpdpbusd adds four u8 x s8 products per int32 lane: 64 multiply-adds.
void qgemm_tile_avx512vnni(int64_t groups, const void* ap, const void* bp,
                           const QGemmTileEpilogue& e, int64_t rows, int64_t cols, uint8_t* c,
                           float* c_f32, int64_t ldc) {
  const uint8_t* a = static_cast<const uint8_t*>(ap);
  const int8_t* b = static_cast<const int8_t*>(bp);
  __m512i acc[MR][NV];
#pragma GCC unroll 10
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int64_t g = 0; g < groups; ++g, a += 4 * MR, b += 4 * NR) {
    __m512i bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(b + 64 * v);
#pragma GCC unroll 10
    for (int i = 0; i < MR; ++i) {
      int32_t quad;  // four k values of row i (memcpy: the panel is bytes)
      std::memcpy(&quad, a + 4 * i, sizeof quad);
      const __m512i av = _mm512_set1_epi32(quad);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], av, bv[v]);
    }
  }
  const RequantAvx512 rq(e.y_zero_point, e.y_min, e.y_max);
#pragma GCC unroll 10
  for (int i = 0; i < MR; ++i) {
    if (i >= rows) break;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const __mmask16 mask = lanes_mask16(cols - 16 * v);
      const __m512i sum = _mm512_add_epi32(acc[i][v], _mm512_loadu_si512(e.bias + 16 * v));
      const __m512 mult = _mm512_loadu_ps(e.multiplier + 16 * v);
      if (c_f32)
        dequant_store_avx512(sum, mult, mask, c_f32 + i * ldc + 16 * v);
      else
        rq.store(sum, mult, mask, c + i * ldc + 16 * v);
    }
  }
}

}  // namespace

// Like the f32 10x32 tile: 10 rows pad m = 49, 100, 196, 361 by at most 2.5%, 32 columns
// pad 728 by 1%. 120 rows of A (k <= 2048: 240 KiB) stay in L2 while the panels stream.
extern const QGemmMicroKernel qgemm_u8s8_avx512vnni_ukernel{
    "gemm_u8s8_avx512vnni", MR, NR, 4, false, 120, qgemm_tile_avx512vnni};

void gemm_u8s8_avx512vnni(const QGemmShape& s, const uint8_t* a, const int8_t* b,
                           const QuantEpilogue& ep, QGemmOut c) {
  qgemm_unpacked(qgemm_u8s8_avx512vnni_ukernel, s, a, b, ep, c);
}

}  // namespace xcept

// AVX-512 GEMM micro-kernel and the gemm_f32_avx512 row. This file alone is built with
// -mavx512f; it includes no standard-library templates, so no AVX-512-compiled copy of
// a shared inline function can leak into the generic code.
#include <immintrin.h>

#include "kernels/epilogue_impl.h"
#include "kernels/generic/gemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

template <int MR, int NV>
inline __attribute__((always_inline)) void zero_tile(__m512 (&acc)[MR][NV]) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
}

// C = tile, or C += tile: the sum over k starts from zero and C is added last, so a
// tile computed into scratch and added by the driver rounds the same.
template <int MR, int NV>
inline __attribute__((always_inline)) void store_tile(__m512 (&acc)[MR][NV], float* c,
                                                      int64_t ldc, bool accumulate) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (accumulate) acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_loadu_ps(row + 16 * v));
      _mm512_storeu_ps(row + 16 * v, acc[i][v]);
    }
  }
}

// MR rows x NV zmm vectors of 16 columns. 10x2 = 20 accumulators + 2 B vectors + 1
// broadcast of the 32 registers; 20 independent FMA chains cover 2 FMA pipes x 4 cycles.
template <int MR, int NV>
void gemm_ukernel_f32_avx512(int64_t kc, const float* a, const float* b, float* c,
                             int64_t ldc, bool accumulate) {
  constexpr int NR = 16 * NV;
  __m512 acc[MR][NV];
  zero_tile<MR, NV>(acc);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  store_tile<MR, NV>(acc, c, ldc, accumulate);
}

// The same tile with A read in place: row i of the tile at a + i * lda (a row-major
// activation matrix, as pointwise forward and backward-data pass it), so the driver
// need not transpose A into k-major panels, a pass over the whole activation per call.
// MR row pointers would spill; rows are addressed as a base every three rows plus 0, 1
// or 2 row strides, which x86 addressing does for free.
template <int MR, int NV>
void gemm_ukernel_rows_f32_avx512(int64_t kc, const float* a, int64_t lda, const float* b,
                                  float* c, int64_t ldc, bool accumulate) {
  constexpr int NR = 16 * NV, NB = (MR + 2) / 3;
  __m512 acc[MR][NV];
  zero_tile<MR, NV>(acc);
  const float* base[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) base[j] = a + 3 * j * lda;
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, b += NR) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(base[i / 3][(i % 3) * lda + p]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  store_tile<MR, NV>(acc, c, ldc, accumulate);
}

void gemm_epilogue_avx512(const GemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0,
                      int64_t rows, int64_t cols) {
  epi_gemm_block(e, c, ldc, i0, j0, rows, cols);
}

}  // namespace

// Every tile from 6x32 to 14x32 and 4x64 to 7x64 runs the in-L1 loop at ~98% of peak on
// Zen 5 (247 GFLOP/s a core), so the tile is chosen by the rows and columns wasted on
// edge tiles of real layers: 10 rows pad m = 49, 100, 196, 361 by at most 2.5% (12 rows
// pad 49 and 100 by 22% and 8%); 32 columns pad 728 by 1% (64 columns: 5.5%).
// A block 120 x 256 (120 KiB) in L2, B micro-panel 256 x 32 (32 KiB) in L1.
extern const GemmMicroKernel gemm_f32_avx512_ukernel{
    10, 32, gemm_ukernel_f32_avx512<10, 2>, gemm_ukernel_rows_f32_avx512<10, 2>,
    120, 256, 1024, gemm_epilogue_avx512};

void gemm_f32_avx512(const GemmShape& s, const float* a, const float* b, float* c) {
  gemm_f32_blocked(gemm_f32_avx512_ukernel, s, a, b, c);
}

}  // namespace xcept

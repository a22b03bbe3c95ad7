// AVX2+FMA GEMM micro-kernel (6x16) and the gemm_f32_avx2 row. This file alone is built
// with -mavx2 -mfma; it includes no standard-library templates, so no AVX-compiled copy
// of a shared inline function can leak into the generic code.
#include <immintrin.h>

#include "kernels/epilogue_impl.h"
#include "kernels/generic/gemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

// 6 rows x 2 ymm = 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers;
// 12 independent FMA chains cover 2 FMA ports x 4-5 cycles latency.
constexpr int kMr = 6, kNr = 16;

// C = tile, or C += tile (the sum over k is added to C last).
inline __attribute__((always_inline)) void store_tile(__m256 (&acc)[kMr][2], float* c,
                                                      int64_t ldc, bool accumulate) {
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}

void gemm_ukernel_6x16_f32_avx2(int64_t kc, const float* a, const float* b, float* c,
                                int64_t ldc, bool accumulate) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += kMr, b += kNr) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  store_tile(acc, c, ldc, accumulate);
}

// A read in place (row i at a + i * lda), rows addressed as two bases plus 0-2 strides.
void gemm_ukernel_rows_6x16_f32_avx2(int64_t kc, const float* a, int64_t lda, const float* b,
                                     float* c, int64_t ldc, bool accumulate) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  const float* a0 = a;
  const float* a3 = a + 3 * lda;
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, b += kNr) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    const float* row[kMr] = {a0 + p, a0 + lda + p, a0 + 2 * lda + p,
                             a3 + p, a3 + lda + p, a3 + 2 * lda + p};
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 av = _mm256_broadcast_ss(row[i]);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  store_tile(acc, c, ldc, accumulate);
}

void gemm_epilogue_avx2(const GemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0,
                      int64_t rows, int64_t cols) {
  epi_gemm_block(e, c, ldc, i0, j0, rows, cols);
}

}  // namespace

// A block 144 x 256 (144 KiB) in L2, B micro-panel 256 x 16 (16 KiB) in L1.
extern const GemmMicroKernel gemm_f32_avx2_ukernel{kMr, kNr, gemm_ukernel_6x16_f32_avx2,
                                                   gemm_ukernel_rows_6x16_f32_avx2,
                                                   144, 256, 1024, gemm_epilogue_avx2};

void gemm_f32_avx2(const GemmShape& s, const float* a, const float* b, float* c) {
  gemm_f32_blocked(gemm_f32_avx2_ukernel, s, a, b, c);
}

}  // namespace xcept

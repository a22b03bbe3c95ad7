// C = A * B for a single row of A (Dense at batch 1), AVX-512. The blocked GEMM computes
// 10-row micro-tiles, so one row does 10x the multiplies it needs and reads B only
// after packing it (or from panels packed once, which at batch 1 still cost more than
// streaming B: Dense 1024 -> 1000 ran in 0.5 ms, memory-bound needs about half). Here
// each task owns 128 columns of C in 8 accumulators and streams its columns of B row by
// row, so B is read once, straight from its row-major layout.
#include <immintrin.h>

#include "core/threadpool.h"
#include "kernels/epilogue_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

constexpr int kVecs = 8;
constexpr int64_t kCols = 16 * kVecs;

// Columns [j0, j0 + cols) of C, cols <= kCols (FULL: cols == kCols, no masks).
template <bool FULL>
void row_block(const GemmShape& s, const float* a, int64_t a_step, const float* b, float* c,
               int64_t j0, int64_t cols) {
  __mmask16 m[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    const int64_t live = cols - 16 * v;
    m[v] = live >= 16  ? __mmask16(0xFFFF)
           : live <= 0 ? __mmask16(0)
                       : __mmask16((1u << live) - 1u);
  }
  __m512 acc[kVecs];
  for (int v = 0; v < kVecs; ++v) acc[v] = _mm512_setzero_ps();
  const float* br = b + j0;
  for (int64_t p = 0; p < s.k; ++p, br += s.ldb) {
    const __m512 xv = _mm512_set1_ps(a[p * a_step]);
    for (int v = 0; v < kVecs; ++v) {
      // A zero mask loads nothing, so the masked loads never touch memory past n.
      const __m512 bv =
          FULL ? _mm512_loadu_ps(br + 16 * v) : _mm512_maskz_loadu_ps(m[v], br + 16 * v);
      acc[v] = _mm512_fmadd_ps(xv, bv, acc[v]);
    }
  }
  float* cr = c + j0;
  const __m512 beta = _mm512_set1_ps(s.beta);
  for (int v = 0; v < kVecs; ++v) {
    if (s.beta != 0.f)
      acc[v] = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m[v], cr + 16 * v), acc[v]);
    _mm512_mask_storeu_ps(cr + 16 * v, m[v], acc[v]);
  }
  if (s.epilogue) epi_gemm_block(*s.epilogue, cr, s.ldc, 0, j0, 1, cols);
}

}  // namespace

void gemm_1row_f32_avx512(const GemmShape& s, const float* a, const float* b, float* c) {
  const int64_t a_step = s.trans_a ? s.lda : 1;  // A is one row either way
  const int64_t blocks = (s.n + kCols - 1) / kCols;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t j0 = blk * kCols, cols = s.n - j0 < kCols ? s.n - j0 : kCols;
      if (cols == kCols) row_block<true>(s, a, a_step, b, c, j0, cols);
      else row_block<false>(s, a, a_step, b, c, j0, cols);
    }
  });
}

}  // namespace xcept

// Portable GEMM micro-kernel and the gemm_f32_generic row. Plain C++ with fixed trip
// counts so the compiler keeps the tile in registers and vectorizes over j with
// whatever the base target has (SSE2 on x86-64: 16 xmm registers).
#include "kernels/epilogue_impl.h"
#include "kernels/generic/gemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

// 4x8 = 8 xmm accumulators + 2 for the B row + broadcasts. GCC 12 spills larger tiles
// (6x8 and 4x16 ran at 29 and 11 GFLOP/s on Zen 5 against 39 for 4x8; SSE peak is ~62).
constexpr int kMr = 4, kNr = 8;

void gemm_ukernel_4x8_f32_generic(int64_t kc, const float* a, const float* b, float* c,
                                  int64_t ldc, bool accumulate) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < kc; ++p, a += kMr, b += kNr)
    for (int i = 0; i < kMr; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) {
      float& cv = c[i * ldc + j];
      cv = accumulate ? cv + acc[i][j] : acc[i][j];
    }
}

void gemm_ukernel_rows_4x8_f32_generic(int64_t kc, const float* a, int64_t lda, const float* b,
                                       float* c, int64_t ldc, bool accumulate) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < kc; ++p, b += kNr)
    for (int i = 0; i < kMr; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i * lda + p] * b[j];
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) {
      float& cv = c[i * ldc + j];
      cv = accumulate ? cv + acc[i][j] : acc[i][j];
    }
}

void gemm_epilogue_generic(const GemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0,
                      int64_t rows, int64_t cols) {
  epi_gemm_block(e, c, ldc, i0, j0, rows, cols);
}

}  // namespace

// A block 128 x 256 (128 KiB) sits in L2, a B micro-panel 256 x 8 (8 KiB) in L1.
extern const GemmMicroKernel gemm_f32_generic_ukernel{kMr, kNr, gemm_ukernel_4x8_f32_generic,
                                                      gemm_ukernel_rows_4x8_f32_generic,
                                                      128, 256, 1024, gemm_epilogue_generic};

void gemm_f32_generic(const GemmShape& s, const float* a, const float* b, float* c) {
  gemm_f32_blocked(gemm_f32_generic_ukernel, s, a, b, c);
}

}  // namespace xcept

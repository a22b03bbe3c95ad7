// A GEMM with bf16 operands and f32 accumulation (AVX512_BF16's vdpbf16ps), for
// inference: C [m x n] = act(A * B + bias + addend) with
//   A [m x k]: f32 rows (activations), rounded to bf16 (nearest even) as they are packed;
//   B [k x n]: weights, rounded and packed once into PackedBf16Matrix.
// bf16 keeps f32's exponent and 8 bits of mantissa: each product is exact in f32 and the
// sums are f32, so the error is that of rounding the inputs (relative ~2^-9 each).
// The driver is plain C++ (generic/gemm_bf16.cpp); only the micro-kernel, in
// avx512_bf16/, runs bf16 instructions. Its rows are the kernel table's op gemm_bf16
// (kernels/kernels.h), with the oracle gemm_bf16_ref. Call gemm_bf16 only if
// bf16_gemm_available().
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/epilogue.h"

namespace xcept {

// Round to nearest even; NaN stays NaN (quiet), infinities stay.
uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t h);

// Columns per packed panel (the micro-kernel's width).
inline constexpr int64_t kBf16PanelCols = 32;

// B [k x n] in panels of kBf16PanelCols columns, each panel k-pairs major:
// element (row p, column j of the panel) at ((p/2) * kBf16PanelCols + j) * 2 + p%2.
// Rows past k and columns past n are zero.
struct PackedBf16Matrix {
  int64_t k = 0, n = 0;
  int64_t k_pairs = 0, panels = 0;
  std::unique_ptr<uint16_t[]> data;
  const uint16_t* panel(int64_t p) const { return data.get() + p * k_pairs * 2 * kBf16PanelCols; }
  int64_t bytes() const { return panels * k_pairs * 2 * kBf16PanelCols * 2; }
};

// Packs row-major B (row stride ldb); trans_b: B stored n x k (a Dense [m][k] weight).
PackedBf16Matrix pack_bf16_b(int64_t k, int64_t n, const float* b, int64_t ldb,
                             bool trans_b = false);

// True when the CPU (and XCEPT_MAX_ISA) allow a bf16 row other than the oracle.
bool bf16_gemm_available();

// True when bf16 is also faster here: vdpbf16ps sustains at least 1.5x the f32 FMA
// FLOP rate on one core (measured once, ~0.3 s). Zen 4/5 run it on both FMA pipes (2x);
// Intel Sapphire/Emerald Rapids issue it on one port of the two FMA ports (1x), where
// rounding and packing A make a bf16 GEMM slower than the f32 one (1x1 728->728: 153 vs
// 257 GFLOP/s on 2 threads), and bf16 would trade accuracy for nothing.
bool bf16_gemm_pays();

// C = act(round_bf16(A) * B + bias + addend), A row-major with row stride lda: the
// table's dispatch (kernels/kernels.h gemm_bf16 rows). Threaded. Throws xcept::Error if
// !bf16_gemm_available().
void gemm_bf16(int64_t m, const float* a, int64_t lda, const PackedBf16Matrix& b, float* c,
               int64_t ldc, const GemmEpilogue* epilogue = nullptr);

// The micro-kernel (avx512_bf16/): a 10 x 32 tile over all k pairs from a packed A
// panel ([k_pairs][10][2]) and a B panel, stored to the rows x cols corner of C at c,
// then the epilogue for C's block at (i0, j0).
inline constexpr int64_t kBf16TileRows = 10;
void gemm_bf16_tile_avx512bf16(int64_t k_pairs, const uint16_t* a, const uint16_t* b, float* c,
                               int64_t ldc, int64_t rows, int64_t cols,
                               const GemmEpilogue* e, int64_t i0, int64_t j0);

// Packs `rows` (<= 10) rows of A (row stride lda) into one 10-row panel
// [k_pairs][10][2], rounding to bf16 with vcvtne2ps2bf16; rows past `rows` are zero.
void gemm_bf16_pack_a_avx512bf16(const float* a, int64_t lda, int64_t k, int64_t k_pairs,
                                 int64_t rows, uint16_t* dst);

}  // namespace xcept

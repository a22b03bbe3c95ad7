// The BLIS-style GEMM driver, written once for every ISA: five loops (NC, KC, MC around
// NR, MR) with packing of A and B, calling an ISA-specific micro-kernel through a
// descriptor. Only the micro-kernels contain vector code; this driver is plain C++, so
// nothing here runs AVX instructions unless the descriptor's function does.
#pragma once

#include <cstdint>

#include "kernels/gemm_shape.h"

namespace xcept {

// Computes one full mr x nr tile of C from packed micro-panels:
//   c[i*ldc + j] = (accumulate ? c[i*ldc + j] : 0) + sum_p a[p*mr + i] * b[p*nr + j]
// for p in [0, kc), kc >= 1. `a` and `b` are 64-byte aligned; `c` may be unaligned.
// The sum starts from zero and C is added last, so a tile computed straight into C and
// one computed into scratch then added by the driver round identically.
using gemm_ukernel_f32_fn = void(int64_t kc, const float* a, const float* b, float* c,
                                 int64_t ldc, bool accumulate);

// The same tile with A read where it lies instead of from a packed panel: element (i, p)
// at a[i * lda + p] (A row-major, not transposed). Only full mr-row tiles come here.
using gemm_ukernel_rows_f32_fn = void(int64_t kc, const float* a, int64_t lda, const float* b,
                                      float* c, int64_t ldc, bool accumulate);

// Applies a GEMM epilogue to the rows x cols block of C at (i0, j0), c pointing at it.
// One per ISA file (kernels/epilogue_impl.h compiled with that file's flags).
using gemm_epilogue_fn = void(const GemmEpilogue& e, float* c, int64_t ldc, int64_t i0,
                              int64_t j0, int64_t rows, int64_t cols);

struct GemmMicroKernel {
  int mr, nr;               // register tile
  gemm_ukernel_f32_fn* fn;
  gemm_ukernel_rows_f32_fn* fn_rows;  // null: A is always packed
  int64_t mc, kc, nc;       // cache blocks; mc a multiple of mr, nc a multiple of nr
  gemm_epilogue_fn* epilogue;  // run on each tile right after its last k block
};

// Largest mr * nr the driver supports (its edge-tile scratch lives on the stack).
inline constexpr int kGemmMaxTile = 32 * 64;

// C = A' * B' + beta * C as GemmShape describes, on num_threads() threads.
void gemm_f32_blocked(const GemmMicroKernel& uk, const GemmShape& s, const float* a,
                      const float* b, float* c);

// B packed whole for uk (GemmShape::b_prepacked): panels of uk.nr columns, each k x nr
// floats k-major (zero past n), so any k block of a panel is a contiguous micro-panel.
int64_t gemm_f32_packed_b_floats(const GemmMicroKernel& uk, const GemmShape& s);
void gemm_f32_pack_b(const GemmMicroKernel& uk, const GemmShape& s, const float* b,
                     float* packed);
// The micro-kernel of the first gemm row dispatch may run (avx512, avx2, generic).
const GemmMicroKernel& gemm_dispatch_ukernel();

// How gemm_f32_blocked splits C among threads: tm row parts x tn column parts, each
// thread owning one part and packing its own panels. tm * tn <= threads.
struct GemmThreadGrid {
  int tm = 1, tn = 1;
};
GemmThreadGrid gemm_thread_grid(const GemmMicroKernel& uk, const GemmShape& s, int threads);

// The micro-kernel behind each gemm row, each defined in its ISA's file (tests drive the
// driver with them and smaller blocks). Call through them only if isa_available.
extern const GemmMicroKernel gemm_f32_avx512_ukernel;
extern const GemmMicroKernel gemm_f32_avx2_ukernel;
extern const GemmMicroKernel gemm_f32_generic_ukernel;

}  // namespace xcept

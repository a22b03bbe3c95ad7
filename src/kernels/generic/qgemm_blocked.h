// The int8 GEMM driver, written once for every ISA (like generic/gemm_blocked for f32):
// it packs A a block of rows at a time and B a panel of columns at a time into the
// micro-kernel's layout, splits the tiles among threads and hands each micro-tile its
// slice of the epilogue. Only the micro-kernels contain vector code.
//
// Packed layouts, for a micro-kernel with k groups of G values:
//   A panel [k/G][mr][G], B panel [k/G][nr][G]: group g of row i of A and of column j of B
//   are G consecutive k values, the operand of one dot-product instruction (vpdpbusd:
//   G = 4 bytes; vpmaddwd: G = 2 int16). Past m, n and k everything is zero, so edge
//   tiles compute garbage-free and store only their valid corner.
// Integer sums are exact, so the result does not depend on blocking or thread count.
#pragma once

#include <cstdint>

#include "kernels/qgemm.h"

namespace xcept {

// A tile's slice of the epilogue, nr entries each (zero past n).
struct QGemmTileEpilogue {
  const int32_t* bias;  // bias - x_zero_point * colsum, per column
  const float* multiplier;
  int32_t y_zero_point, y_min, y_max;
};

// One mr x nr tile over `groups` k groups from packed panels `a` and `b`; stores its
// rows x cols corner: requantized codes into c (row stride ldc), or, when c_f32 is not
// null, dequantized floats there instead.
using qgemm_tile_fn = void(int64_t groups, const void* a, const void* b,
                           const QGemmTileEpilogue& e, int64_t rows, int64_t cols, uint8_t* c,
                           float* c_f32, int64_t ldc);

struct QGemmMicroKernel {
  const char* name;
  int mr, nr;
  int group;   // k values per group (4: bytes for vpdpbusd; 2: int16 pairs for vpmaddwd)
  bool wide;   // panels hold int16 (A zero-extended, B sign-extended) instead of bytes
  int64_t mc;  // rows of A packed and kept in L2 at once, a multiple of mr
  qgemm_tile_fn* tile;
};

extern const QGemmMicroKernel qgemm_u8s8_avx512vnni_ukernel;
extern const QGemmMicroKernel qgemm_u8s8_avx2_ukernel;
extern const QGemmMicroKernel qgemm_u8s8_generic_ukernel;

// The micro-kernel qgemm_pack_b packs for: AVX512-VNNI, AVX2, generic, as the CPU allows.
const QGemmMicroKernel& qgemm_dispatch_ukernel();

// B packed for uk: ceil(n / nr) panels of ceil(k / group) * nr * group elements.
QGemmPackedB qgemm_pack_b_for(const QGemmMicroKernel& uk, int64_t k, int64_t n, const int8_t* b,
                              int64_t ldb);

// Packed B as the driver reads it (owned by a QGemmPackedB or by scratch).
struct QGemmPackedView {
  const QGemmMicroKernel* uk;
  int64_t k, n;
  const int8_t* data;     // the panels (int16 elements when uk->wide)
  const int32_t* colsum;  // [n]
};

inline QGemmPackedView packed_view(const QGemmPackedB& b) {
  return {b.uk, b.k, b.n, b.data.get(), b.colsum.get()};
}

// The whole product on the thread pool (m x n output).
void qgemm_blocked(int64_t m, const uint8_t* a, int64_t lda, const QGemmPackedView& b,
                   const QuantEpilogue& ep, QGemmOut c, int64_t ldc);

// B packed for uk into this thread's scratch: valid until the next call on this thread.
QGemmPackedView qgemm_pack_b_scratch(const QGemmMicroKernel& uk, int64_t k, int64_t n,
                                     const int8_t* b, int64_t ldb);

// A table row's body: packs B into per-thread scratch for uk, then runs it.
void qgemm_unpacked(const QGemmMicroKernel& uk, const QGemmShape& s, const uint8_t* a,
                    const int8_t* b, const QuantEpilogue& ep, QGemmOut c);

}  // namespace xcept

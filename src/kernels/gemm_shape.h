// A single-precision GEMM, BLAS-style: C = A' * B' + beta * C, all row-major,
// where A' is A (m x k) or A transposed (A stored k x m), likewise B' (k x n).
// An optional epilogue (kernels/epilogue.h) is applied to each tile of C as it is
// finished: C = act(A' * B' + beta * C + bias + addend).
#pragma once

#include <cstdint>

#include "kernels/epilogue.h"

namespace xcept {

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;  // row strides, in elements
  float beta = 0.f;                   // 0 overwrites C (C may hold garbage, even NaN)
  const GemmEpilogue* epilogue = nullptr;  // null: none; its addend must not overlap C
  // b is already in the dispatched micro-kernel's panel layout (gemm_pack_b, for
  // inference: weights packed once); trans_b and ldb are then ignored.
  bool b_prepacked = false;
};

}  // namespace xcept

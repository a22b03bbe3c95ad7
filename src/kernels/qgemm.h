// The int8 GEMM: C [m x n] = requantize(A [m x k] (uint8) * B [k x n] (int8) + bias),
// every sum exact in int32, the epilogue as kernels/quant.h defines it (zero-point
// correction, bias, multiplier, activation clamp), C stored as uint8 or, for a last
// layer, as dequantized floats. A is activations (NHWC pixels x channels), B weights
// (HWIO as a [kh*kw*c x m] matrix, Dense's [k][m]), all row-major.
//
// Table rows (kernels/table/qgemm.inc) take B as it is stored and pack it per call;
// inference packs it once (qgemm_pack_b) for the micro-kernel qgemm_prepacked runs.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/quant.h"

namespace xcept {

struct QGemmShape {
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // row strides in elements (ldc: of the output)
};

// Where C goes: uint8 codes (requantized), or floats (dequantized: the multiplier is then
// x_scale * w_scale[o]). Exactly one is set.
struct QGemmOut {
  uint8_t* u8 = nullptr;
  float* f32 = nullptr;
};

struct QGemmMicroKernel;  // kernels/generic/qgemm_blocked.h

// B packed once for the micro-kernel dispatch picks on this CPU, with its column sums
// (the zero-point correction of A: sum_k (a - za) b = sum_k a b - za * colsum).
struct QGemmPackedB {
  const QGemmMicroKernel* uk = nullptr;
  int64_t k = 0, n = 0;
  std::unique_ptr<int8_t[], void (*)(int8_t*)> data{nullptr, nullptr};
  std::unique_ptr<int32_t[]> colsum;
  int64_t bytes = 0;
};

// B [k x n] (row stride ldb) packed for the dispatched micro-kernel.
QGemmPackedB qgemm_pack_b(int64_t k, int64_t n, const int8_t* b, int64_t ldb);

// C = epilogue(A * B) on the thread pool, A [m x k] with row stride lda, C row stride ldc.
void qgemm_prepacked(int64_t m, const uint8_t* a, int64_t lda, const QGemmPackedB& b,
                     const QuantEpilogue& ep, QGemmOut c, int64_t ldc);

// The name of the micro-kernel qgemm_prepacked runs for `b` ("gemm_u8s8_avx512vnni", ...).
const char* qgemm_packed_kernel_name(const QGemmPackedB& b);

}  // namespace xcept

// The portable int8 GEMM micro-kernel and the gemm_u8s8_generic row: int16 pairs (the
// AVX2 layout), so that a compiler targeting plain x86-64 can use pmaddwd.
#include "kernels/generic/qgemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

constexpr int MR = 4, NR = 8;

void qgemm_tile_generic(int64_t groups, const void* ap, const void* bp, const QGemmTileEpilogue& e,
                        int64_t rows, int64_t cols, uint8_t* c, float* c_f32, int64_t ldc) {
  const int16_t* a = static_cast<const int16_t*>(ap);
  const int16_t* b = static_cast<const int16_t*>(bp);
  int32_t acc[MR][NR] = {};
  for (int64_t g = 0; g < groups; ++g, a += 2 * MR, b += 2 * NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        acc[i][j] += int32_t(a[2 * i]) * b[2 * j] + int32_t(a[2 * i + 1]) * b[2 * j + 1];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const int32_t v = acc[i][j] + e.bias[j];
      if (c_f32)
        c_f32[i * ldc + j] = dequantize_acc(v, e.multiplier[j]);
      else
        c[i * ldc + j] = uint8_t(requantize(v, e.multiplier[j], e.y_zero_point, e.y_min, e.y_max));
    }
}

}  // namespace

extern const QGemmMicroKernel qgemm_u8s8_generic_ukernel{
    "gemm_u8s8_generic", MR, NR, 2, true, 64, qgemm_tile_generic};

void gemm_u8s8_generic(const QGemmShape& s, const uint8_t* a, const int8_t* b,
                        const QuantEpilogue& ep, QGemmOut c) {
  qgemm_unpacked(qgemm_u8s8_generic_ukernel, s, a, b, ep, c);
}

}  // namespace xcept

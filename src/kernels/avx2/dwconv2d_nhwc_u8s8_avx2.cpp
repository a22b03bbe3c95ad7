// Depthwise 3x3 int8 forward, AVX2: 8 channels a vector, the channel tail through a
// staging copy (AVX2 has no byte masks). The loops are in
// kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h.
#include <cstring>

#include "kernels/avx2/requant_avx2.h"
#include "kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct QVecAvx2 {
  static constexpr int W = 8;
  static constexpr int P = 4;  // 9 weights + 4 accumulators of the 16 registers
  using R = __m256i;
  static R load_x(const uint8_t* p, int64_t count) {
    if (count >= 8) return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    alignas(16) uint8_t tmp[16] = {};
    std::memcpy(tmp, p, size_t(count));
    return _mm256_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
  }
  static R load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static R set1(int32_t v) { return _mm256_set1_epi32(v); }
  static R sub(R a, R b) { return _mm256_sub_epi32(a, b); }
  static R madd_acc(R acc, R x, R w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
  struct Requant {
    RequantAvx2 r;
    Requant(int32_t zp, int32_t y_min, int32_t y_max) : r(zp, y_min, y_max) {}
    void store(R sum, const float* mult, int64_t count, uint8_t* y) const {
      r.store(sum, _mm256_loadu_ps(mult), count, y);
    }
  };
};

}  // namespace

void dwconv2d_fwd_3x3_nhwc_u8s8_avx2(const ConvShape& s, const uint8_t* x, const int8_t* w,
                                     const QuantEpilogue& ep, uint8_t* y) {
  QDwConv3x3<QVecAvx2>::forward(s, x, w, ep, y);
}

}  // namespace xcept

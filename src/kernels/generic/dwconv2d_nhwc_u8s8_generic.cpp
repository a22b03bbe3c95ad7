// Depthwise 3x3 int8 forward, portable: one channel a "vector", kernels/quant.h's scalar
// requantize. The loops are in kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h.
#include "kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct QVecScalar {
  static constexpr int W = 1;
  static constexpr int P = 4;
  using R = int32_t;
  static R load_x(const uint8_t* p, int64_t) { return p[0]; }
  static R load_i32(const int32_t* p) { return *p; }
  static R set1(int32_t v) { return v; }
  static R sub(R a, R b) { return a - b; }
  // The weight is an int16 in the low half (the vector kernels' vpmaddwd operand).
  static R madd_acc(R acc, R x, R w) { return acc + x * int16_t(uint16_t(w)); }
  struct Requant {
    int32_t zp, lo, hi;
    void store(R sum, const float* mult, int64_t, uint8_t* y) const {
      *y = uint8_t(requantize(sum, *mult, zp, lo, hi));
    }
  };
};

}  // namespace

void dwconv2d_fwd_3x3_nhwc_u8s8_generic(const ConvShape& s, const uint8_t* x, const int8_t* w,
                                        const QuantEpilogue& ep, uint8_t* y) {
  QDwConv3x3<QVecScalar>::forward(s, x, w, ep, y);
}

}  // namespace xcept

#include "kernels/quant.h"

#include <limits>

#include "core/error.h"

namespace xcept {

QuantParams choose_quant_params(float lo, float hi) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi))
    fail("quantization range [{}, {}] is not a finite interval", lo, hi);
  lo = std::min(lo, 0.f);
  hi = std::max(hi, 0.f);
  QuantParams q;
  if (hi - lo <= 0.f) return q;  // all zeros: any scale represents them
  q.scale = (hi - lo) / 255.f;
  // The code of real 0 is -lo / scale, in [0, 255] since lo <= 0 <= hi.
  q.zero_point = std::clamp(int32_t(std::nearbyint(-lo / q.scale)), 0, 255);
  return q;
}

void quantize_weights_per_channel(const float* w, int64_t rows, int64_t m, int8_t* q,
                                  float* scale) {
  for (int64_t o = 0; o < m; ++o) {
    float amax = 0.f;
    for (int64_t r = 0; r < rows; ++r) amax = std::max(amax, std::fabs(w[r * m + o]));
    if (!std::isfinite(amax)) fail("weight of output channel {} is not finite", o);
    scale[o] = amax > 0.f ? amax / 127.f : 1.f;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < m; ++o) {
      const float f = std::clamp(w[r * m + o] / scale[o], -127.f, 127.f);
      q[r * m + o] = int8_t(std::nearbyint(f));
    }
}

int32_t quantize_bias(float b, float x_scale, float w_scale) {
  const double f = std::nearbyint(double(b) / (double(x_scale) * double(w_scale)));
  if (!(f == f)) fail("bias {} cannot be quantized at scale {}", b, double(x_scale) * w_scale);
  return int32_t(std::clamp<double>(f, -kQuantBiasLimit, kQuantBiasLimit));
}

void quant_clamp(float lo, float hi, const QuantParams& y, int32_t* y_min, int32_t* y_max) {
  // Clip in real numbers, then QuantizeLinear (ONNX's QDQ form of a fused activation):
  // rounding is monotonic, so clamping the rounded value to the rounded bounds is the same.
  *y_min = std::isinf(lo) && lo < 0 ? 0 : quantize_u8(lo, y);
  *y_max = std::isinf(hi) && hi > 0 ? 255 : std::max<int32_t>(*y_min, quantize_u8(hi, y));
}

}  // namespace xcept

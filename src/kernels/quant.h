// The int8 quantization scheme of xcept, in one place (docs/quantization.md explains the
// choices). Every int8 kernel and the runtime's quantization pass use these functions;
// the SIMD kernels repeat requantize()'s exact sequence of operations in vector form and
// are tested for bit equality against it.
//
//   activations  uint8, per tensor, asymmetric:  real = scale * (q - zero_point),
//                zero_point in [0, 255]; real 0 is exactly representable (padding, relu).
//   weights      int8, per output channel, symmetric: real = scale[o] * q, q in [-127, 127]
//                (zero point 0; -128 unused, so that -w is representable and the ranges
//                of the products are symmetric).
//   bias         int32 at scale x_scale * w_scale[o] (ONNX QLinearConv's convention).
//   accumulator  int32: acc = bias + sum_k (x_k - x_zero_point) * w_k, exact.
//   output       y = clamp(round_half_even(acc * multiplier[o]) + y_zero_point, y_min, y_max)
//                with multiplier[o] = x_scale * w_scale[o] / y_scale, in float.
// These are ONNX's QuantizeLinear / QLinearConv / QLinearMatMul semantics (round half to
// even, saturate) with u8 activations and s8 weights: the U8S8 format ONNX Runtime's
// quantizer writes, and the operand types of vpdpbusd (unsigned x signed bytes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace xcept {

// A uint8 tensor's encoding: real = scale * (q - zero_point).
struct QuantParams {
  float scale = 1.f;
  int32_t zero_point = 0;
  bool operator==(const QuantParams&) const = default;
};

// Bounds that keep every int32 sum of the kernels in range: a dot product of k terms
// with |x - zp| <= 255 and |w| <= 127 is at most k * 32385 (5.3e8 at kQuantMaxK), the
// zero-point correction zp * sum_k w as much again, and the bias at most 2^29 (5.4e8):
// together under 2^31.
inline constexpr int32_t kQuantBiasLimit = int32_t(1) << 29;
inline constexpr int64_t kQuantMaxK = 16384;

// Encoding of a calibrated real range [lo, hi] (lo <= hi): widened to hold 0, so that
// padding and ReLU's zero are exact; scale = (hi - lo) / 255, zero_point = the code of
// real 0, rounded half to even. An empty range (lo == hi == 0) gets scale 1.
QuantParams choose_quant_params(float lo, float hi);

// Round half to even, as std::nearbyint does under the default rounding mode, for
// |f| <= 2^22 (every caller has clamped f to a few hundred): f + 1.5 * 2^23 lands where
// floats are whole numbers, so the addition rounds f to the nearest integer, ties to
// even (1.5 * 2^23 is even), and the subtraction is exact. No libm call: plain x86-64,
// which the portable kernels are built for, has no rounding instruction.
inline float round_half_even_small(float f) {
  constexpr float kMagic = 12582912.f;  // 1.5 * 2^23
  return (f + kMagic) - kMagic;
}

// ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point) to [0, 255].
// NaN quantizes to the zero point.
inline uint8_t quantize_u8(float x, const QuantParams& q) {
  float f = x / q.scale;
  if (!(f == f)) f = 0.f;
  f = std::min(std::max(f, float(-q.zero_point)), float(255 - q.zero_point));
  return uint8_t(int32_t(round_half_even_small(f)) + q.zero_point);
}
inline float dequantize_u8(uint8_t v, const QuantParams& q) {
  return q.scale * float(int32_t(v) - q.zero_point);
}

// The requantization of an int32 accumulator (bias included) to uint8, as every int8
// kernel computes it, operation by operation:
//   f = float(acc) * multiplier           (int32 -> float rounds to nearest even)
//   f = min(max(f, y_min - zp), y_max - zp)  (clamping first keeps the conversion in range;
//                                            with integer bounds it commutes with rounding)
//   y = round_half_even(f) + zp           (the default MXCSR / fenv rounding mode)
// The fused activation is the clamp [y_min, y_max]: relu is y_min = zp, relu6 also
// y_max = the code of 6.
// requantize's last three lines: a real value in output steps (acc * multiplier, or a sum
// of rescaled operands) to the output's code.
inline int32_t requantize_real(float f, int32_t zp, int32_t y_min, int32_t y_max) {
  f = std::min(std::max(f, float(y_min - zp)), float(y_max - zp));
  return int32_t(round_half_even_small(f)) + zp;
}

inline int32_t requantize(int32_t acc, float multiplier, int32_t zp, int32_t y_min,
                          int32_t y_max) {
  return requantize_real(float(acc) * multiplier, zp, y_min, y_max);
}

// The float output of a last layer (dequantized in the kernel, no uint8 step): the
// accumulator times x_scale * w_scale[o].
inline float dequantize_acc(int32_t acc, float multiplier) { return float(acc) * multiplier; }

// What an int8 kernel applies to its int32 sums: the bias, the zero-point correction
// and the requantization above, per output channel o.
struct QuantEpilogue {
  const int32_t* bias = nullptr;   // [m] at x_scale * w_scale[o], or null
  const float* multiplier = nullptr;  // [m]: x_scale * w_scale[o] / y_scale (u8 output)
                                      // or x_scale * w_scale[o] (f32 output)
  int32_t x_zero_point = 0;
  int32_t y_zero_point = 0;
  int32_t y_min = 0, y_max = 255;  // the fused activation's clamp, in output codes
};

// Weights [rows][m] (HWIO and Dense's [k][m] both end in the output channel) quantized
// per output channel: scale[o] = max_r |w[r][o]| / 127 (1 for an all-zero channel),
// q = round_half_even(w / scale[o]) in [-127, 127].
void quantize_weights_per_channel(const float* w, int64_t rows, int64_t m, int8_t* q,
                                  float* scale);

// A float bias at scale x_scale * w_scale[o], rounded half to even and clamped to
// +-kQuantBiasLimit.
int32_t quantize_bias(float b, float x_scale, float w_scale);

// The output clamp [y_min, y_max] of a fused activation clip(lo, hi) (lo = -inf, hi = inf:
// none; relu: lo = 0; relu6: 0, 6) in the output's codes.
void quant_clamp(float lo, float hi, const QuantParams& y, int32_t* y_min, int32_t* y_max);

}  // namespace xcept

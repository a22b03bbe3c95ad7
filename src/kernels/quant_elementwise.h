// The int8 program's small kernels around the convolutions: encoding at the input,
// decoding at the output, residual addition, activations and pooling on uint8 codes.
// Memory-bound and a small share of any model's time: portable loops (threaded), the
// arithmetic of kernels/quant.h.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"
#include "kernels/quant.h"

namespace xcept {

// y = quantize_u8(x) and x = dequantize_u8(y), n elements.
void quantize_f32_u8(int64_t n, const float* x, const QuantParams& q, uint8_t* y);
void dequantize_u8_f32(int64_t n, const uint8_t* x, const QuantParams& q, float* y);

// Re-encodes codes of `in` as codes of `out`, clamped to [y_min, y_max] (a fused or
// standalone activation): y = requantize(x - zp_in, scale_in / scale_out, ...). May run
// in place.
void requantize_u8(int64_t n, const uint8_t* x, const QuantParams& in, const QuantParams& out,
                   int32_t y_min, int32_t y_max, uint8_t* y);

// y = a + b in real numbers, as codes of `out` clamped to [y_min, y_max]:
//   f = (scale_a / scale_out) * (a - zp_a) + (scale_b / scale_out) * (b - zp_b)
// then clamped and rounded half to even, like requantize. y may be a.
void add_u8(int64_t n, const uint8_t* a, const QuantParams& qa, const uint8_t* b,
            const QuantParams& qb, const QuantParams& out, int32_t y_min, int32_t y_max,
            uint8_t* y);

// Max pooling on codes (the encoding is monotonic: the same as pooling the reals), over
// the window a ConvShape describes (m = c); taps in the padding are skipped, a window
// wholly in the padding gives code 0.
void maxpool_u8(const ConvShape& window, const uint8_t* x, uint8_t* y);

// [n][hw][c] codes -> [n][c] codes of `out`: the mean over hw, requantized
// (sum (x - zp) in int32, multiplier scale_in / (scale_out * hw)).
void global_avgpool_u8(int64_t n, int64_t hw, int64_t c, const uint8_t* x,
                       const QuantParams& in, const QuantParams& out, uint8_t* y);

}  // namespace xcept

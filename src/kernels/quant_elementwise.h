// The int8 program's small kernels around the convolutions: encoding at the input,
// decoding at the output, residual addition, activations and pooling on uint8 codes,
// with the arithmetic of kernels/quant.h. Memory-bound: the loops are written once
// (kernels/quant_elementwise_impl.h), compiled per ISA so that they run 16-64 bytes at a
// time, picked at run time like the table's rows and split over the thread pool here.
#pragma once

#include <cstdint>
#include <span>

#include "core/cpu_features.h"
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
// then requantize_real (clamped, rounded half to even). y may be a or b.
void add_u8(int64_t n, const uint8_t* a, const QuantParams& qa, const uint8_t* b,
            const QuantParams& qb, const QuantParams& out, int32_t y_min, int32_t y_max,
            uint8_t* y);

// Max pooling on codes (the encoding is monotonic: the same as pooling the reals), over
// the window a ConvShape describes (m = c); taps in the padding are skipped, a window
// wholly in the padding gives code 0. y must not overlap x.
void maxpool_u8(const ConvShape& window, const uint8_t* x, uint8_t* y);

// [n][hw][c] codes -> [n][c] codes of `out`: the mean over hw, requantized
// (sum (x - zp) in int32, multiplier scale_in / (scale_out * hw)).
void global_avgpool_u8(int64_t n, int64_t hw, int64_t c, const uint8_t* x,
                       const QuantParams& in, const QuantParams& out, uint8_t* y);

// One ISA's loops over a range, single-threaded (the functions above split and dispatch).
struct QuantElementwiseKernels {
  const char* name;
  Isa isa;
  void (*quantize)(int64_t n, const float* x, QuantParams q, uint8_t* y);
  void (*dequantize)(int64_t n, const uint8_t* x, QuantParams q, float* y);
  void (*requantize)(int64_t n, const uint8_t* x, float mult, int32_t zp_in, int32_t zp_out,
                     int32_t y_min, int32_t y_max, uint8_t* y);
  void (*add)(int64_t n, const uint8_t* a, float ma, int32_t za, const uint8_t* b, float mb,
              int32_t zb, int32_t zp_out, int32_t y_min, int32_t y_max, uint8_t* y);
  void (*maxpool)(const ConvShape& s, const uint8_t* x, uint8_t* y, int64_t row0,
                  int64_t row1);
};

// Every ISA's loops, best first; dispatch takes the first the CPU runs (tests run each).
std::span<const QuantElementwiseKernels> quant_elementwise_kernels();

}  // namespace xcept

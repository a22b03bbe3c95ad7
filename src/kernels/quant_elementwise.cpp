#include "kernels/quant_elementwise.h"

#include <algorithm>
#include <vector>

#include "core/threadpool.h"

namespace xcept {

extern const QuantElementwiseKernels quant_elementwise_avx512;
extern const QuantElementwiseKernels quant_elementwise_avx2;
extern const QuantElementwiseKernels quant_elementwise_generic;

namespace {

constexpr int64_t kGrain = 1 << 14;

const QuantElementwiseKernels kKernels[] = {quant_elementwise_avx512, quant_elementwise_avx2,
                                            quant_elementwise_generic};

const QuantElementwiseKernels& pick() {
  for (const QuantElementwiseKernels& k : kKernels)
    if (isa_available(k.isa)) return k;
  return quant_elementwise_generic;
}

}  // namespace

std::span<const QuantElementwiseKernels> quant_elementwise_kernels() { return kKernels; }

void quantize_f32_u8(int64_t n, const float* x, const QuantParams& q, uint8_t* y) {
  auto* const fn = pick().quantize;
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) { fn(i1 - i0, x + i0, q, y + i0); });
}

void dequantize_u8_f32(int64_t n, const uint8_t* x, const QuantParams& q, float* y) {
  auto* const fn = pick().dequantize;
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) { fn(i1 - i0, x + i0, q, y + i0); });
}

void requantize_u8(int64_t n, const uint8_t* x, const QuantParams& in, const QuantParams& out,
                   int32_t y_min, int32_t y_max, uint8_t* y) {
  auto* const fn = pick().requantize;
  const float mult = in.scale / out.scale;
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    fn(i1 - i0, x + i0, mult, in.zero_point, out.zero_point, y_min, y_max, y + i0);
  });
}

void add_u8(int64_t n, const uint8_t* a, const QuantParams& qa, const uint8_t* b,
            const QuantParams& qb, const QuantParams& out, int32_t y_min, int32_t y_max,
            uint8_t* y) {
  auto* const fn = pick().add;
  const float ma = qa.scale / out.scale, mb = qb.scale / out.scale;
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    fn(i1 - i0, a + i0, ma, qa.zero_point, b + i0, mb, qb.zero_point, out.zero_point, y_min,
       y_max, y + i0);
  });
}

void maxpool_u8(const ConvShape& s, const uint8_t* x, uint8_t* y) {
  auto* const fn = pick().maxpool;
  parallel_for(s.n * s.ho, 1, [&](int64_t r0, int64_t r1) { fn(s, x, y, r0, r1); });
}

void global_avgpool_u8(int64_t n, int64_t hw, int64_t c, const uint8_t* x,
                       const QuantParams& in, const QuantParams& out, uint8_t* y) {
  const float mult = in.scale / (out.scale * float(hw));
  parallel_for(n, 1, [&](int64_t b0, int64_t b1) {
    std::vector<int32_t> sum(static_cast<size_t>(c));
    for (int64_t b = b0; b < b1; ++b) {
      std::fill(sum.begin(), sum.end(), -int32_t(hw) * in.zero_point);
      for (int64_t p = 0; p < hw; ++p) {
        const uint8_t* xp = x + (b * hw + p) * c;
        for (int64_t ch = 0; ch < c; ++ch) sum[size_t(ch)] += xp[ch];
      }
      for (int64_t ch = 0; ch < c; ++ch)
        y[b * c + ch] = uint8_t(requantize(sum[size_t(ch)], mult, out.zero_point, 0, 255));
    }
  });
}

}  // namespace xcept

#include "kernels/quant_elementwise.h"

#include <algorithm>
#include <vector>

#include "core/threadpool.h"

namespace xcept {
namespace {

constexpr int64_t kGrain = 1 << 14;

}  // namespace

// Pointers and encodings are copied into locals of the loop: a uint8 store may alias
// anything, so read through the closure they would be reloaded for every element and
// the loop would not vectorize.
void quantize_f32_u8(int64_t n, const float* x, const QuantParams& q, uint8_t* y) {
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    const float* __restrict xs = x;
    uint8_t* __restrict ys = y;
    const QuantParams local = q;
    for (int64_t i = i0; i < i1; ++i) ys[i] = quantize_u8(xs[i], local);
  });
}

void dequantize_u8_f32(int64_t n, const uint8_t* x, const QuantParams& q, float* y) {
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    const uint8_t* __restrict xs = x;
    float* __restrict ys = y;
    const QuantParams local = q;
    for (int64_t i = i0; i < i1; ++i) ys[i] = dequantize_u8(xs[i], local);
  });
}

void requantize_u8(int64_t n, const uint8_t* x, const QuantParams& in, const QuantParams& out,
                   int32_t y_min, int32_t y_max, uint8_t* y) {
  // One table of 256 codes: every input code maps to one output code.
  uint8_t table[256];
  const float mult = in.scale / out.scale;
  for (int32_t v = 0; v < 256; ++v)
    table[v] = uint8_t(requantize(v - in.zero_point, mult, out.zero_point, y_min, y_max));
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = table[x[i]];
  });
}

void add_u8(int64_t n, const uint8_t* a, const QuantParams& qa, const uint8_t* b,
            const QuantParams& qb, const QuantParams& out, int32_t y_min, int32_t y_max,
            uint8_t* y) {
  const float ma = qa.scale / out.scale, mb = qb.scale / out.scale;
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
    const uint8_t *as = a, *bs = b;  // may be y: no __restrict, but locals (see above)
    uint8_t* ys = y;
    const int32_t za = qa.zero_point, zb = qb.zero_point, zy = out.zero_point;
    const int32_t lo = y_min, hi = y_max;
    for (int64_t i = i0; i < i1; ++i) {
      const float f = ma * float(int32_t(as[i]) - za) + mb * float(int32_t(bs[i]) - zb);
      ys[i] = uint8_t(requantize_real(f, zy, lo, hi));
    }
  });
}

void maxpool_u8(const ConvShape& s, const uint8_t* x, uint8_t* y) {
  parallel_for(s.n * s.ho, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / s.ho, oy = r % s.ho;
      for (int64_t ox = 0; ox < s.wo; ++ox) {
        uint8_t* yp = y + (r * s.wo + ox) * s.c;
        std::fill(yp, yp + s.c, uint8_t(0));
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
          if (iy < 0 || iy >= s.h) continue;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
            if (ix < 0 || ix >= s.w) continue;
            const uint8_t* xp = x + ((n * s.h + iy) * s.w + ix) * s.c;
            for (int64_t ch = 0; ch < s.c; ++ch) yp[ch] = std::max(yp[ch], xp[ch]);
          }
        }
      }
    }
  });
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

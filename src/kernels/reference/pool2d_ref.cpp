// Max and average pooling, NHWC f32: the plain loops the pooling rows of the kernel table
// are tested against. A window wholly in the padding gives -inf (max) or 0 (average).
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/kernels.h"

namespace xcept {

void pool2d_fwd_nhwc_f32_ref(const ConvShape& s, PoolMode mode, const float* x, float* y) {
  const int64_t c = s.c;
  const bool is_max = mode == PoolMode::max;
  for (int64_t img = 0; img < s.n; ++img)
    for (int64_t oy = 0; oy < s.ho; ++oy)
      for (int64_t ox = 0; ox < s.wo; ++ox) {
        float* yp = y + ((img * s.ho + oy) * s.wo + ox) * c;
        std::fill(yp, yp + c, is_max ? -std::numeric_limits<float>::infinity() : 0.0f);
        int64_t taps = 0;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
          if (iy < 0 || iy >= s.h) continue;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
            if (ix < 0 || ix >= s.w) continue;
            const float* xp = x + ((img * s.h + iy) * s.w + ix) * c;
            ++taps;
            for (int64_t j = 0; j < c; ++j)
              yp[j] = is_max ? std::max(yp[j], xp[j]) : yp[j] + xp[j];
          }
        }
        if (!is_max) {
          const int64_t count =
              mode == PoolMode::avg_include_pad ? s.kh * s.kw : std::max<int64_t>(taps, 1);
          const float inv = 1.0f / float(count);
          for (int64_t j = 0; j < c; ++j) yp[j] *= inv;
        }
      }
}

// The gradient by the definition: find each window's first maximum (strict '>', in
// (ky, kx) order) from x alone, ignoring y, and add dy there; averages add dy/count to
// every tap inside.
void pool2d_bwd_nhwc_f32_ref(const ConvShape& s, PoolMode mode, const float* x, const float*,
                             const float* dy, float* dx) {
  const int64_t c = s.c;
  std::fill(dx, dx + s.input_numel(), 0.0f);
  for (int64_t img = 0; img < s.n; ++img)
    for (int64_t oy = 0; oy < s.ho; ++oy)
      for (int64_t ox = 0; ox < s.wo; ++ox) {
        const float* g = dy + ((img * s.ho + oy) * s.wo + ox) * c;
        std::vector<int64_t> taps;  // offsets of the pixels inside the window
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
          if (iy < 0 || iy >= s.h) continue;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
            if (ix >= 0 && ix < s.w) taps.push_back(((img * s.h + iy) * s.w + ix) * c);
          }
        }
        if (taps.empty()) continue;
        for (int64_t j = 0; j < c; ++j) {
          if (mode == PoolMode::max) {
            size_t best = 0;
            for (size_t t = 1; t < taps.size(); ++t)
              if (x[taps[t] + j] > x[taps[best] + j]) best = t;
            dx[taps[best] + j] += g[j];
          } else {
            const int64_t count =
                mode == PoolMode::avg_include_pad ? s.kh * s.kw : int64_t(taps.size());
            const float inv = 1.0f / float(count);
            for (int64_t t : taps) dx[t + j] += g[j] * inv;
          }
        }
      }
}

}  // namespace xcept

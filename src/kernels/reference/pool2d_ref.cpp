// Max and average pooling, NHWC f32: the plain loops the pooling rows of the kernel table
// are tested against. A window wholly in the padding gives -inf (max) or 0 (average).
#include <algorithm>
#include <limits>

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

}  // namespace xcept

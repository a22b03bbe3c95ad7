// Direct convolution for few input channels (the RGB stems: 3x3 stride 2, 3 -> 32), NHWC
// f32, AVX-512. im2col + GEMM ran these at 15% of peak: patch rows of 27 floats make
// a thin GEMM whose packing costs as much as its multiplies. Here a row of P output
// pixels keeps P x MV accumulators (MV = m/16 vectors of output channels) in registers;
// each of the kh*kw*c taps loads MV weight vectors and broadcasts one input value per
// pixel, so the input is read straight from the image and the weights stay in L1.
// Pixels whose window crosses the padding take the same loop one at a time with the
// taps outside skipped. Bias starts the accumulators; addend and activation are applied
// to each finished output row (kernels/epilogue_impl.h).
#include <immintrin.h>

#include "core/threadpool.h"
#include "kernels/epilogue_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

constexpr int64_t kLanes = 16;

// Not std::min/max: their out-of-line copies would be shared with non-AVX-512 callers.
inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// Output pixels [ox0, ox0 + P) of one output row, all of whose window columns are inside
// (CHECKED: P == 1 and columns outside the input are skipped).
template <int MV, int P, bool CHECKED>
inline void smallc_pixels(const ConvShape& s, const float* x_img, const float* w,
                          const float* bias, int64_t iy0, int64_t ky_lo, int64_t ky_hi,
                          int64_t ox0, float* y) {
  __m512 acc[P][MV];
  for (int v = 0; v < MV; ++v) {
    const __m512 b0 = bias ? _mm512_loadu_ps(bias + v * kLanes) : _mm512_setzero_ps();
    for (int p = 0; p < P; ++p) acc[p][v] = b0;
  }
  const int64_t c = s.c, m = s.m, px_step = s.stride_w * c;
  const int64_t ix0 = ox0 * s.stride_w - s.pad_left;
  for (int64_t ky = ky_lo; ky < ky_hi; ++ky) {
    const float* xr = x_img + (iy0 + ky * s.dilation_h) * s.w * c;
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      const int64_t ix = ix0 + kx * s.dilation_w;
      if (CHECKED && (ix < 0 || ix >= s.w)) continue;
      const float* xp = xr + ix * c;
      const float* wk = w + (ky * s.kw + kx) * c * m;
      for (int64_t ci = 0; ci < c; ++ci) {
        __m512 wv[MV];
        for (int v = 0; v < MV; ++v) wv[v] = _mm512_loadu_ps(wk + ci * m + v * kLanes);
        for (int p = 0; p < P; ++p) {
          const __m512 xv = _mm512_set1_ps(xp[p * px_step + ci]);
          for (int v = 0; v < MV; ++v) acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);
        }
      }
    }
  }
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < MV; ++v) _mm512_storeu_ps(y + (ox0 + p) * m + v * kLanes, acc[p][v]);
}

template <int MV>
void smallc_run(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& ep,
                float* y) {
  constexpr int P = 24 / MV;  // 24 accumulators + MV weights + a broadcast: 32 registers
  // Output columns [ox_lo, ox_hi) have every window column inside the input.
  const int64_t span = (s.kw - 1) * s.dilation_w;
  const int64_t ox_lo = imin(s.wo, (s.pad_left + s.stride_w - 1) / s.stride_w);
  const int64_t ox_hi =
      imax(ox_lo, imin(s.wo, s.w - 1 - span + s.pad_left >= 0
                                         ? (s.w - 1 - span + s.pad_left) / s.stride_w + 1
                                         : 0));
  parallel_for(s.n * s.ho, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t img = r / s.ho, oy = r % s.ho;
      const int64_t iy0 = oy * s.stride_h - s.pad_top;
      // Window rows inside the input: ky in [ky_lo, ky_hi).
      const int64_t ky_lo =
          iy0 >= 0 ? 0 : imin(s.kh, (-iy0 + s.dilation_h - 1) / s.dilation_h);
      const int64_t ky_hi =
          iy0 >= s.h ? ky_lo
                     : imax(ky_lo, imin(s.kh, (s.h - 1 - iy0) / s.dilation_h + 1));
      const float* x_img = x + img * s.h * s.w * s.c;
      float* yr = y + r * s.wo * s.m;
      int64_t ox = 0;
      for (; ox < ox_lo; ++ox)
        smallc_pixels<MV, 1, true>(s, x_img, w, ep.bias, iy0, ky_lo, ky_hi, ox, yr);
      for (; ox + P <= ox_hi; ox += P)
        smallc_pixels<MV, P, false>(s, x_img, w, ep.bias, iy0, ky_lo, ky_hi, ox, yr);
      for (; ox < ox_hi; ++ox)
        smallc_pixels<MV, 1, false>(s, x_img, w, ep.bias, iy0, ky_lo, ky_hi, ox, yr);
      for (; ox < s.wo; ++ox)
        smallc_pixels<MV, 1, true>(s, x_img, w, ep.bias, iy0, ky_lo, ky_hi, ox, yr);
      if (ep.has_post())
        epi_row(nullptr, ep.addend ? ep.addend + r * s.wo * s.m : nullptr, ep.act, ep.a, ep.b,
                yr, s.wo * s.m);
    }
  });
}

}  // namespace

void conv2d_fwd_direct_smallc_nhwc_f32_avx512(const ConvShape& s, const float* x,
                                              const float* w, const ConvEpilogue& ep,
                                              float* y) {
  switch (s.m / kLanes) {
    case 1: return smallc_run<1>(s, x, w, ep, y);
    case 2: return smallc_run<2>(s, x, w, ep, y);
    case 3: return smallc_run<3>(s, x, w, ep, y);
    default: return smallc_run<4>(s, x, w, ep, y);
  }
}

}  // namespace xcept

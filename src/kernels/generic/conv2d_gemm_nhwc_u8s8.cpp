// The conv2d_fwd_1x1_nhwc_u8s8 and conv2d_fwd_im2col_nhwc_u8s8 rows, and their shared
// body (also QConv2dPrepacked's, with weights packed once).
#include "kernels/generic/conv2d_gemm_nhwc_u8s8.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/generic/im2col_impl.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// Patch rows of at most this many bytes per tile (1 MiB: L2-sized).
constexpr int64_t kIm2colTileBytes = int64_t(1) << 20;

thread_local ScratchArray<uint8_t> t_columns;

// Rows [p0, p1) of the patch matrix on the pool (kernels/generic/im2col_impl.h).
void im2col_u8(const ConvShape& s, const uint8_t* x, uint8_t pad, int64_t p0, int64_t p1,
               uint8_t* col) {
  const int64_t k = s.kh * s.kw * s.c;
  parallel_for(p1 - p0, 64, [&](int64_t r0, int64_t r1) {
    im2col_rows(s, x, pad, p0 + r0, p0 + r1, col + r0 * k);
  });
}

void conv_through_gemm(const ConvShape& s, const uint8_t* x, const int8_t* w,
                       const QuantEpilogue& ep, uint8_t* y) {
  const QGemmPackedView packed =
      qgemm_pack_b_scratch(qgemm_dispatch_ukernel(), s.kh * s.kw * s.c, s.m, w, s.m);
  qconv2d_fwd_gemm_packed(s, x, packed, ep, y);
}

}  // namespace

void qconv2d_fwd_gemm_packed(const ConvShape& s, const uint8_t* x, const QGemmPackedView& w,
                             const QuantEpilogue& ep, uint8_t* y) {
  if (s.groups != 1) fail("int8 GEMM convolution: {} has groups", s.to_string());
  if (s.is_pointwise()) return qgemm_blocked(s.n * s.h * s.w, x, s.c, w, ep, {y, nullptr}, s.m);
  const int64_t k = s.kh * s.kw * s.c, pixels = s.n * s.ho * s.wo;
  const int64_t tile = std::clamp<int64_t>(kIm2colTileBytes / k, 1, pixels);
  uint8_t* col = t_columns.get(tile * k);
  if (ep.x_zero_point < 0 || ep.x_zero_point > 255)
    fail("int8 convolution: input zero point {} is not a uint8 code", ep.x_zero_point);
  for (int64_t p0 = 0; p0 < pixels; p0 += tile) {
    const int64_t p1 = std::min(pixels, p0 + tile);
    im2col_u8(s, x, uint8_t(ep.x_zero_point), p0, p1, col);
    qgemm_blocked(p1 - p0, col, k, w, ep, {y + p0 * s.m, nullptr}, s.m);
  }
}

void conv2d_fwd_1x1_nhwc_u8s8(const ConvShape& s, const uint8_t* x, const int8_t* w,
                              const QuantEpilogue& ep, uint8_t* y) {
  conv_through_gemm(s, x, w, ep, y);
}

void conv2d_fwd_im2col_nhwc_u8s8(const ConvShape& s, const uint8_t* x, const int8_t* w,
                                 const QuantEpilogue& ep, uint8_t* y) {
  conv_through_gemm(s, x, w, ep, y);
}

}  // namespace xcept

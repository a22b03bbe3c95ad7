#include "kernels/conv2d_prepacked.h"

#include <algorithm>
#include <new>

#include "core/error.h"
#include "kernels/generic/conv2d_pointwise_strided.h"
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/generic/im2col.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// Patch buffer of the bf16 im2col path: 1M floats (4 MB) per tile of output pixels.
constexpr int64_t kIm2colTileFloats = int64_t(1) << 20;

thread_local ScratchBuffer t_im2col_scratch;

int64_t winograd_tiles(const ConvShape& s) { return s.n * ((s.ho + 3) / 4) * ((s.wo + 3) / 4); }

// A groups-1 pointwise convolution as the GEMM y [P x m] = x [P x c] * w [c x m].
GemmShape pointwise_gemm(const ConvShape& s) {
  GemmShape gs;
  gs.m = s.n * s.h * s.w, gs.n = s.m, gs.k = s.c;
  gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
  return gs;
}

}  // namespace

Conv2dPrepacked::Conv2dPrepacked(const ConvShape& s, const float* w_hwio,
                                 Precision precision)
    : shape_(s), w_hwio_(w_hwio) {
  if (!w_hwio) fail("Conv2dPrepacked: null weights for {}", s.to_string());
  // bf16 covers the pointwise convolutions (nearly all the multiply-adds of Xception and
  // MobileNet); other shapes keep their f32 kernels.
  // The RGB stems (patch rows of 27 values) stay f32: the im2col row's tiles-in-parallel
  // plan suits their thin GEMMs better (bf16 measured 1.4x slower there).
  // f32 Winograd against bf16 im2col (twice the multiply rate) on conv-mobilenet's 3x3
  // stride-1 layers, Zen 5, 2 threads: Winograd wins from 49 tiles (28x28x256: 1.03 ms
  // against 1.46), bf16 at 16 (14x14x512: 1.24 against 1.87).
  const bool bf16 = precision == Precision::bf16 && bf16_gemm_available();
  const bool winograd = winograd_f4x4_pays_prepacked(s) && (!bf16 || winograd_tiles(s) >= 32);
  if (bf16 && s.groups == 1 && !winograd &&
      (s.is_pointwise() || s.kh * s.kw * s.c >= 64)) {
    const bool pw = s.is_pointwise();
    path_ = pw ? Path::bf16_pointwise : Path::bf16_im2col;
    name_ = pw ? "conv2d_fwd_1x1_nhwc_bf16_avx512bf16" : "conv2d_fwd_im2col_nhwc_bf16_avx512bf16";
    const int64_t k = s.kh * s.kw * s.c;  // HWIO is a [kh*kw*c x m] matrix
    bf16_w_ = std::make_unique<PackedBf16Matrix>(pack_bf16_b(k, s.m, w_hwio, s.m));
    return;
  }
  const Conv2dFwdKernel& row = pick_conv2d_fwd(s);
  name_ = row.name;
  fn_ = row.fn;
  auto alloc = [&](int64_t floats) {
    packed_floats_ = floats;
    packed_.reset(static_cast<float*>(
        ::operator new[](size_t(floats) * sizeof(float), std::align_val_t(64))));
    return packed_.get();
  };
  // Weights transformed once make Winograd worth it on more shapes than the table row
  // (which transforms per call) accepts.
  if (row.fn == conv2d_fwd_3x3_winograd_f4x4_nhwc_f32 || winograd) {
    path_ = Path::winograd;
    name_ = "conv2d_fwd_3x3_winograd_f4x4_nhwc_f32";
    winograd_f4x4_pack_weights(s, w_hwio, alloc(winograd_f4x4_packed_weight_floats(s)));
    return;
  }
  if (row.fn == conv2d_fwd_1x1_nhwc_f32 && s.groups == 1) {
    path_ = Path::f32_pointwise;
    gemm_pack_b(pointwise_gemm(s), w_hwio, alloc(gemm_packed_b_floats(pointwise_gemm(s))));
  }
  if (row.fn == conv2d_fwd_1x1_strided_nhwc_f32) {
    path_ = Path::f32_pointwise_strided;
    const GemmShape gs = conv2d_1x1_strided_gemm(s);
    gemm_pack_b(gs, w_hwio, alloc(gemm_packed_b_floats(gs)));
  }
}

void Conv2dPrepacked::AlignedFree::operator()(float* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

Conv2dPrepacked::~Conv2dPrepacked() = default;
Conv2dPrepacked::Conv2dPrepacked(Conv2dPrepacked&&) noexcept = default;
Conv2dPrepacked& Conv2dPrepacked::operator=(Conv2dPrepacked&&) noexcept = default;

void Conv2dPrepacked::run(const float* x, const ConvEpilogue& ep, float* y) const {
  const ConvShape& s = shape_;
  switch (path_) {
    case Path::table: fn_(s, x, w_hwio_, ep, y); return;
    case Path::winograd: conv2d_fwd_winograd_f4x4_packed(s, x, packed_.get(), ep, y); return;
    case Path::f32_pointwise: {
      // conv2d_fwd_1x1_nhwc_f32's GEMM, with the weights already packed.
      GemmShape gs = pointwise_gemm(s);
      gs.b_prepacked = true;
      const GemmEpilogue e{ep.bias, ep.addend, s.m, ep.act, ep.a, ep.b};
      gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
      gemm(gs, x, packed_.get(), y);
      return;
    }
    case Path::f32_pointwise_strided:
      conv2d_fwd_1x1_strided_nhwc_f32_packed(s, x, packed_.get(), ep, y);
      return;
    case Path::bf16_im2col: {
      // Patch rows a tile at a time (bounded scratch), each tile one bf16 GEMM.
      const int64_t k = s.kh * s.kw * s.c, pixels = s.n * s.ho * s.wo;
      const int64_t tile = std::clamp<int64_t>(kIm2colTileFloats / k, 1, pixels);
      float* col = t_im2col_scratch.get(tile * k);
      for (int64_t p0 = 0; p0 < pixels; p0 += tile) {
        const int64_t p1 = std::min(pixels, p0 + tile);
        conv2d_im2col_rows_nhwc_f32(s, x, p0, p1, col);
        const GemmEpilogue e{ep.bias, ep.addend ? ep.addend + p0 * s.m : nullptr, s.m, ep.act,
                             ep.a, ep.b};
        gemm_bf16(p1 - p0, col, k, *bf16_w_, y + p0 * s.m, s.m,
                  ep.bias || ep.has_post() ? &e : nullptr);
      }
      return;
    }
    case Path::bf16_pointwise: {
      const GemmEpilogue e{ep.bias, ep.addend, s.m, ep.act, ep.a, ep.b};
      gemm_bf16(s.n * s.h * s.w, x, s.c, *bf16_w_, y, s.m,
                ep.bias || ep.has_post() ? &e : nullptr);
      return;
    }
  }
}

int64_t Conv2dPrepacked::packed_bytes() const {
  if (packed_) return packed_floats_ * int64_t(sizeof(float));
  if (bf16_w_) return bf16_w_->bytes();
  return 0;
}

}  // namespace xcept

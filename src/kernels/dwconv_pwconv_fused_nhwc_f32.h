// A depthwise convolution followed by a pointwise (1x1) one, computed band by band so the
// depthwise output never leaves the cache (inference only; NHWC f32, or bf16 pointwise).
//
// For a band of depthwise output rows of one image, the depthwise kernel of the table
// writes the band (with its bias and activation) into a per-thread scratch buffer sized
// for L2, and the pointwise GEMM, with weights packed once, reads it from there and
// writes its rows of y with its own epilogue (bias, addend, activation). Threads split
// the bands; the kernels inside a band run on the thread that owns it (nested
// parallel_for runs inline), so the cores are never oversubscribed.
//
// The depthwise pass over a band is the table's kernel run on a sub-shape: the input
// rows the band's windows touch, with the padding the band sees at the image's top or
// bottom edge, so no depthwise code is duplicated and the band's rows are bit-identical
// to the whole convolution's. When the whole depthwise output fits the band budget
// anyway, there is nothing to tile: both passes run over the whole batch, each threaded.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/conv2d_prepacked.h"
#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"
#include "kernels/gemm_bf16.h"

namespace xcept {

// Bytes of depthwise output a band may hold: a quarter of a 2 MB L2, leaving room for the
// GEMM's packed A block and B panels. Swept on Xception and MobileNet layers (Xeon, 2 MB
// L2, 1 thread, bench/bench_dwpw_fused.cpp's variants): 256 KB to 1 MB beat the unfused
// pair by 5-14% on the 147x147 and 74x74 maps; 512 KB was the best or within 3% on every
// layer; 64 KB lost up to 40% on 7x7x1024 and 10x10x1536 (bands too short for the GEMM).
// A whole depthwise output within the budget is not tiled at all.
inline constexpr int64_t kDwPwBandBytes = int64_t(512) << 10;

// True when dw (depthwise, any multiplier, pads smaller than its window so every output
// row reads an input row) feeds pw (1x1, stride 1, no padding, groups 1) directly.
bool dwconv_pwconv_chain(const ConvShape& dw, const ConvShape& pw);

// Whether fusing pays: the depthwise output (whole batch) exceeds the band budget, so
// tiling keeps a round trip of it out of L3 or memory, and the pointwise weights fit the
// budget, so re-reading them for every band costs less than that round trip (they are
// read once per band; the saving is two passes over the depthwise output, and there are
// about depthwise bytes / budget bands). Measured (Xeon, 2 MB L2, 260 MB L3, 1 thread,
// Executor, CPU time of a whole run): fusing every pair made Xception 3-6% slower (its
// 19x19x728 and 10x10x1536 pairs re-read 2-12 MB of weights per band); with this rule
// both models ran within 1.5% of unfused, the picked pairs from 14% faster (Xception's
// 147x147x64) to 5% slower (a 260 MB L3 keeps the unfused intermediate cheap there).
bool dwconv_pwconv_fusion_pays(const ConvShape& dw, const ConvShape& pw,
                               int64_t band_bytes = kDwPwBandBytes);

// How run() splits the work: `bands` bands per image, band k of rows
// [k*ho/bands, (k+1)*ho/bands), at most `rows` rows each. !tiled (the whole batch's
// depthwise output within the budget): one depthwise pass, then one GEMM.
struct DwPwBands {
  int64_t bands = 1, rows = 0;
  bool tiled = false;
};
DwPwBands dwconv_pwconv_bands(const ConvShape& dw, int threads,
                              int64_t band_bytes = kDwPwBandBytes);

class DwPwConvFused {
 public:
  // Weights are HWIO: w_dw [kh][kw][1][m_dw] (read in place: must outlive the object),
  // w_pw [1][1][c][m] (packed here). bf16 packs the pointwise weights for gemm_bf16 when
  // the CPU has it; the depthwise pass is f32 either way.
  DwPwConvFused(const ConvShape& dw, const float* w_dw, const ConvShape& pw, const float* w_pw,
                Precision precision = Precision::f32);
  ~DwPwConvFused();
  DwPwConvFused(DwPwConvFused&&) noexcept;
  DwPwConvFused& operator=(DwPwConvFused&&) noexcept;

  // y = pw_ep(pw(dw_ep(dw(x)))). dw_ep may hold a bias and an activation (no addend);
  // pw_ep's addend is laid out like y. band_bytes overrides the band budget (tests).
  void run(const float* x, const ConvEpilogue& dw_ep, const ConvEpilogue& pw_ep, float* y,
           int64_t band_bytes = kDwPwBandBytes) const;

  const char* depthwise_kernel_name() const { return dw_name_; }
  bool bf16() const { return bf16_w_ != nullptr; }
  int64_t packed_bytes() const;

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  // The pointwise GEMM over `rows` pixels: a [rows x c] -> y [rows x m], addend rows
  // starting at pixel p0.
  void pointwise(const float* a, int64_t p0, int64_t rows, const ConvEpilogue& ep,
                 float* y) const;

  ConvShape dw_, pw_;
  const float* w_dw_;
  const char* dw_name_ = "";
  void (*dw_fn_)(const ConvShape&, const float*, const float*, const ConvEpilogue&,
                 float*) = nullptr;
  std::unique_ptr<float, AlignedFree> packed_;  // f32 GEMM panels of w_pw
  int64_t packed_floats_ = 0;
  std::unique_ptr<PackedBf16Matrix> bf16_w_;
};

}  // namespace xcept

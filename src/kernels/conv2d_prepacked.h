// A forward convolution whose weights are prepared once, for inference.
//
// conv2d_fwd() takes HWIO weights on every call, which training needs (weights change
// every step) but which costs inference a weight transform per call on the kernels that
// want another layout: Winograd's transformed weights are 4x the HWIO ones and take a
// pass over them; bf16 GEMMs want the weights converted and packed into panels.
// Conv2dPrepacked picks the kernel for the shape once, as dispatch would (plus the
// precision asked for), and stores the weights in that kernel's layout: Winograd's U
// packed for its 36 GEMMs, a pointwise convolution's weights packed for the GEMM's
// micro-kernel (no packing per call, same bits as conv2d_fwd; strided 1x1 ones too,
// after their gather), or bf16 panels.
//
// Runtime use: build one per Conv2d op once its weights are final (after folding batch
// norm into them), then run() per inference. w_hwio must outlive the object when the
// chosen kernel reads HWIO weights directly (kernel_name() says which).
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"
#include "kernels/gemm_bf16.h"
#include "xcept/types.h"  // Precision: the one enum for f32 / bf16, shared with the API

namespace xcept {

// Arithmetic of the multiplies: f32, or bf16 operands with f32 accumulation (AVX512_BF16;
// taken where a bf16 kernel exists and the CPU has it, f32 otherwise). bf16 covers
// groups-1 convolutions: pointwise as one GEMM, others through im2col tiles, except
// 3x3 stride-1 ones with 32+ output tiles (f32 Winograd is faster there) and patch rows
// under 64 values (RGB stems), which stay on f32 im2col.
// Depthwise and grouped convolutions stay f32 (memory-bound; no GEMM to speed up).

class Conv2dPrepacked {
 public:
  Conv2dPrepacked(const ConvShape& s, const float* w_hwio,
                  Precision precision = Precision::f32);
  ~Conv2dPrepacked();
  Conv2dPrepacked(Conv2dPrepacked&&) noexcept;
  Conv2dPrepacked& operator=(Conv2dPrepacked&&) noexcept;

  // y = act(conv(x, w) + bias + addend) for the shape given at construction.
  void run(const float* x, const ConvEpilogue& ep, float* y) const;

  const ConvShape& shape() const { return shape_; }
  const char* kernel_name() const { return name_; }
  // Bytes of prepared weights held (0 when the kernel reads w_hwio directly).
  int64_t packed_bytes() const;

 private:
  enum class Path {
    table,
    winograd,
    f32_pointwise,
    f32_pointwise_strided,
    bf16_pointwise,
    bf16_im2col
  };
  struct AlignedFree {
    void operator()(float* p) const;
  };
  ConvShape shape_;
  const float* w_hwio_;
  Path path_ = Path::table;
  const char* name_ = "";
  void (*fn_)(const ConvShape&, const float*, const float*, const ConvEpilogue&, float*) = nullptr;
  std::unique_ptr<float, AlignedFree> packed_;  // Winograd's U or the GEMM's B panels
  int64_t packed_floats_ = 0;
  std::unique_ptr<PackedBf16Matrix> bf16_w_;
};

}  // namespace xcept

// The operators of the convolution family and their neighbours, as Program steps.
// Feature maps are NHWC. Every op here is built fully resolved (shapes known).
#pragma once

#include <memory>

#include "kernels/conv2d_prepacked.h"
#include "kernels/conv_shape.h"
#include "kernels/gemm_bf16.h"
#include "kernels/kernels.h"
#include "runtime/op.h"
#include "kernels/activation_f32.h"

namespace xcept {

// y = act(conv(x, w) + bias + addend). Inputs: x [n,h,w,c] NHWC, then addend (dims of y)
// when with_addend. Weights HWIO [kh][kw][c/g][m]; bias [m] or empty. Covers normal,
// grouped, depthwise and pointwise; the kernel comes from the kernel table.
class Conv2dOp final : public Op {
 public:
  Conv2dOp(const ConvShape& shape, Tensor weight_hwio, Tensor bias, Act act = {},
           bool with_addend = false);
  const char* type() const override { return "Conv2d"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int64_t macs() const override;
  int64_t param_bytes() const override {
    return int64_t(sizeof(float)) * (weight_.numel() + bias_.numel());
  }

  const ConvShape& shape() const { return shape_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }  // empty: none; passes may create it
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  Act act() const { return act_; }
  void set_act(Act a) { act_ = a; }
  bool with_addend() const { return with_addend_; }
  void set_with_addend(bool v) { with_addend_ = v; }
  // Picks the kernel once and prepares the weights for it (run() then uses it).
  void prepare(Precision precision) override;
  // The kernel run() uses once prepared, else "" (per-call dispatch).
  const char* kernel_name() const { return prepacked_ ? prepacked_->kernel_name() : ""; }

 private:
  ConvShape shape_;
  Tensor weight_, bias_;
  Act act_;
  bool with_addend_;
  std::unique_ptr<const Conv2dPrepacked> prepacked_;
};

// y = x * scale[c] + shift[c] along `axis` (default: last, the NHWC channel axis):
// inference batch norm, y = (x - mean) / sqrt(var + eps) * gamma + beta, pre-computed.
class ChannelAffineOp final : public Op {
 public:
  ChannelAffineOp(Tensor scale, Tensor shift, int axis = -1);
  const char* type() const override { return "ChannelAffine"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int in_place_input() const override { return 0; }
  int64_t param_bytes() const override {
    return int64_t(sizeof(float)) * (scale_.numel() + shift_.numel());
  }

  const Tensor& scale() const { return scale_; }
  const Tensor& shift() const { return shift_; }
  int axis() const { return axis_; }

 private:
  Tensor scale_, shift_;
  int axis_;
};

// Builds the ChannelAffineOp of an inference batch norm.
std::unique_ptr<ChannelAffineOp> make_batch_norm_op(const Tensor& gamma, const Tensor& beta,
                                                    const Tensor& mean, const Tensor& var,
                                                    float eps, int axis = -1);

class ActivationOp final : public Op {
 public:
  explicit ActivationOp(Act act) : act_(act) {}
  const char* type() const override { return "Activation"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int in_place_input() const override { return 0; }
  Act act() const { return act_; }

 private:
  Act act_;
};

// Max or average pooling over NHWC windows, in the kernel table's PoolMode
// (kernels/kernels.h: average pooling divides by the taps inside the unpadded input, or
// with avg_include_pad by the whole window, ONNX's count_include_pad). `window` is a
// resolved ConvShape with groups = m = c (kh, kw, strides, pads, dilation used). A window
// wholly inside the padding gives -inf (max) or 0 (average).
class Pool2dOp final : public Op {
 public:
  Pool2dOp(PoolMode mode, const ConvShape& window);
  const char* type() const override { return mode_ == PoolMode::max ? "MaxPool2d" : "AvgPool2d"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  PoolMode mode() const { return mode_; }
  const ConvShape& window() const { return window_; }

 private:
  PoolMode mode_;
  ConvShape window_;
};

// [n,h,w,c] -> [n,c], or [n,1,1,c] when keep_dims.
class GlobalAvgPoolOp final : public Op {
 public:
  explicit GlobalAvgPoolOp(bool keep_dims = false) : keep_dims_(keep_dims) {}
  const char* type() const override { return "GlobalAvgPool"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  bool keep_dims() const { return keep_dims_; }

 private:
  bool keep_dims_;
};

// y[..., m] = act(x[..., k] * w[k][m] + bias[m]): a fully connected layer (and ONNX Gemm
// with a constant B). bias may be empty.
class DenseOp final : public Op {
 public:
  DenseOp(Tensor weight_km, Tensor bias, Act act = {});
  const char* type() const override { return "Dense"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void bind(std::span<const Dims> in) override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int64_t macs() const override { return macs_; }
  int64_t param_bytes() const override {
    return int64_t(sizeof(float)) * (weight_.numel() + bias_.numel());
  }
  Tensor& weight() { return weight_; }  // [k][m]
  Tensor& bias() { return bias_; }      // empty: none; passes may create it
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  Act act() const { return act_; }
  void set_act(Act a) { act_ = a; }
  // Packs the weights once for the GEMM's micro-kernel (f32), or for the bf16 GEMM
  // (bf16, when the CPU has AVX512_BF16): at batch 1 packing per call cost 4x the GEMM.
  void prepare(Precision precision) override;

 private:
  Tensor weight_, bias_;
  Act act_;
  int64_t macs_ = 0;  // of the bound input (bind)
  std::unique_ptr<const PackedBf16Matrix> bf16_weight_;
  Tensor packed_weight_;  // gemm_pack_b panels; empty until prepare(f32)
};

enum class BinaryKind { add, sub, mul, div };

// Elementwise with NumPy broadcasting over the physical dims (ONNX's rule), then act.
class BinaryOp final : public Op {
 public:
  explicit BinaryOp(BinaryKind kind, Act act = {}) : kind_(kind), act_(act) {}
  const char* type() const override;
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int in_place_input() const override { return 0; }  // when input 0 has the output's dims
  BinaryKind kind() const { return kind_; }
  Act act() const { return act_; }
  void set_act(Act a) { act_ = a; }

 private:
  BinaryKind kind_;
  Act act_;
};

// Joins inputs along `axis` (negative counts from the end).
class ConcatOp final : public Op {
 public:
  explicit ConcatOp(int axis) : axis_(axis) {}
  const char* type() const override { return "Concat"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  int axis_;
};

}  // namespace xcept

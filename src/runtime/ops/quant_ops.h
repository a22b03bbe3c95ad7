// The ops of an int8 program (runtime/quantize.h makes them from an f32 program's ops):
// uint8 activations between layers, each value with its own QuantParams, int8 weights
// per output channel (docs/quantization.md). Each op is built with its input and output
// encodings and owns its quantized parameters.
#pragma once

#include <memory>
#include <vector>

#include "kernels/conv_shape.h"
#include "kernels/qconv2d_prepacked.h"
#include "kernels/qgemm.h"
#include "runtime/op.h"

namespace xcept {

// float32 -> uint8 codes (the program's input; or before an int8 step reading a value
// a float step wrote).
class QuantizeOp final : public Op {
 public:
  explicit QuantizeOp(QuantParams q) : q_(q) {}
  const char* type() const override { return "Quantize"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return q_; }

 private:
  QuantParams q_;
};

// uint8 codes -> float32 (the program's outputs; or before a step left in float).
class DequantizeOp final : public Op {
 public:
  explicit DequantizeOp(QuantParams q) : q_(q) {}
  const char* type() const override { return "Dequantize"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  QuantParams q_;
};

// The output encoding of an int8 step and its fused activation as a clamp on codes.
struct QuantOutput {
  QuantParams q;
  int32_t y_min = 0, y_max = 255;
};

// An int8 convolution: x codes (x_q) -> y codes (out), weights quantized per output
// channel from float HWIO weights and bias (after batch-norm folding).
class QConv2dOp final : public Op {
 public:
  QConv2dOp(const ConvShape& shape, const Tensor& weight_hwio, const Tensor& bias,
            QuantParams x_q, QuantOutput out);
  const char* type() const override { return "QConv2d"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return out_.q; }
  int64_t macs() const override;
  int64_t param_bytes() const override;
  void prepare(Precision) override;

  const ConvShape& shape() const { return shape_; }
  const std::vector<int8_t>& weight() const { return w_; }  // HWIO codes
  // The encodings (exporters): weights real = weight_scale()[o] * code, bias at
  // input_quant().scale * weight_scale()[o].
  const std::vector<float>& weight_scale() const { return w_scale_; }
  const std::vector<int32_t>& bias() const { return bias_; }
  QuantParams input_quant() const { return x_q_; }
  const QuantOutput& quant_output() const { return out_; }
  const char* kernel_name() const { return prepacked_ ? prepacked_->kernel_name().c_str() : ""; }
  // Run the table's `_ref` row instead (tests: a whole program through the oracles).
  void use_reference_kernel(bool on) { reference_ = on; }

 private:
  ConvShape shape_;
  std::vector<int8_t> w_;
  std::vector<float> w_scale_;
  std::vector<int32_t> bias_;
  std::vector<float> mult_;
  QuantParams x_q_;
  QuantOutput out_;
  bool reference_ = false;
  std::unique_ptr<const QConv2dPrepacked> prepacked_;
};

// An int8 fully connected layer over the last axis: codes in, codes out, or (a last
// layer: f32_out) floats dequantized in the GEMM's epilogue.
class QDenseOp final : public Op {
 public:
  QDenseOp(const Tensor& weight_km, const Tensor& bias, QuantParams x_q, QuantOutput out,
           bool f32_out);
  const char* type() const override { return "QDense"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void bind(std::span<const Dims> in) override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return f32_out_ ? DType::f32 : DType::u8; }
  QuantParams output_quant() const override { return f32_out_ ? QuantParams{} : out_.q; }
  int64_t macs() const override { return macs_; }
  int64_t param_bytes() const override;
  void prepare(Precision) override;
  // The GEMM micro-kernel the packed weights are for ("" before prepare).
  const char* kernel_name() const { return packed_ ? qgemm_packed_kernel_name(*packed_) : ""; }
  // Run the table's `_ref` row instead (tests).
  void use_reference_kernel(bool on) { reference_ = on; }
  // The encodings (exporters), as QConv2dOp's; weight() is [k][m].
  int64_t in_features() const { return k_; }
  int64_t out_features() const { return m_; }
  const std::vector<int8_t>& weight() const { return w_; }
  const std::vector<float>& weight_scale() const { return w_scale_; }
  const std::vector<int32_t>& bias() const { return bias_; }
  QuantParams input_quant() const { return x_q_; }
  const QuantOutput& quant_output() const { return out_; }
  bool float_output() const { return f32_out_; }

 private:
  int64_t k_, m_;
  std::vector<int8_t> w_;
  std::vector<float> w_scale_;
  std::vector<int32_t> bias_;
  std::vector<float> mult_;
  QuantParams x_q_;
  QuantOutput out_;
  bool f32_out_;
  bool reference_ = false;
  int64_t macs_ = 0;  // of the bound input (bind)
  std::unique_ptr<const QGemmPackedB> packed_;
};

// a + b in real numbers, as codes of `out` (a residual connection), with its clamp.
class QAddOp final : public Op {
 public:
  QAddOp(QuantParams a, QuantParams b, QuantOutput out) : a_(a), b_(b), out_(out) {}
  const char* type() const override { return "QAdd"; }
  const QuantOutput& quant_output() const { return out_; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return out_.q; }
  int in_place_input() const override { return 0; }

 private:
  QuantParams a_, b_;
  QuantOutput out_;
};

// An activation on codes: re-encoded from `in` to `out` and clamped (relu, relu6, clip).
class QActivationOp final : public Op {
 public:
  QActivationOp(QuantParams in, QuantOutput out) : in_(in), out_(out) {}
  const char* type() const override { return "QActivation"; }
  const QuantOutput& quant_output() const { return out_; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return out_.q; }
  int in_place_input() const override { return 0; }

 private:
  QuantParams in_;
  QuantOutput out_;
};

// Max pooling on codes; the output keeps the input's encoding.
class QMaxPoolOp final : public Op {
 public:
  QMaxPoolOp(const ConvShape& window, QuantParams q) : window_(window), q_(q) {}
  const char* type() const override { return "QMaxPool2d"; }
  const ConvShape& window() const { return window_; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return q_; }

 private:
  ConvShape window_;
  QuantParams q_;
};

// [n,h,w,c] codes -> [n,c] (or [n,1,1,c]) codes of `out`: the spatial mean.
class QGlobalAvgPoolOp final : public Op {
 public:
  QGlobalAvgPoolOp(QuantParams in, QuantParams out, bool keep_dims)
      : in_(in), out_(out), keep_dims_(keep_dims) {}
  const char* type() const override { return "QGlobalAvgPool"; }
  bool keep_dims() const { return keep_dims_; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return out_; }

 private:
  QuantParams in_, out_;
  bool keep_dims_;
};

// A reshape of codes (Flatten): the bytes unchanged, in place when the planner allows.
class QReshapeOp final : public Op {
 public:
  QReshapeOp(Dims dims, QuantParams q) : dims_(std::move(dims)), q_(q) {}
  const char* type() const override { return "QReshape"; }
  const Dims& dims() const { return dims_; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  DType output_dtype() const override { return DType::u8; }
  QuantParams output_quant() const override { return q_; }
  int in_place_input() const override { return 0; }

 private:
  Dims dims_;
  QuantParams q_;
};

}  // namespace xcept

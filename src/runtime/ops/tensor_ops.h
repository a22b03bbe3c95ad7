// Layout and tensor-manipulation operators (what an ONNX graph needs around the
// convolution family): Transpose, Reshape, Softmax, Pad, Gather, Slice, MatMul and
// elementwise unary functions. Dims are physical; every op is built fully resolved.
#pragma once

#include <vector>

#include "runtime/op.h"

namespace xcept {

// y = x with axes permuted: y.dims[i] = x.dims[perm[i]].
class TransposeOp final : public Op {
 public:
  explicit TransposeOp(std::vector<int> perm) : perm_(std::move(perm)) {}
  const char* type() const override { return "Transpose"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  const std::vector<int>& perm() const { return perm_; }

 private:
  std::vector<int> perm_;
};

// Same elements, new dims (same count). Runs in place: a copy only when the executor
// gave the output its own buffer.
class ReshapeOp final : public Op {
 public:
  explicit ReshapeOp(Dims dims) : dims_(std::move(dims)) {}
  const char* type() const override { return "Reshape"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int in_place_input() const override { return 0; }
  const Dims& dims() const { return dims_; }

 private:
  Dims dims_;
};

// softmax (or log-softmax) over `axis`; with flatten_tail over all axes from `axis` on as
// one (ONNX Softmax before opset 13 coerces the input to 2-D that way).
class SoftmaxOp final : public Op {
 public:
  SoftmaxOp(int axis, bool flatten_tail, bool log) : axis_(axis), flatten_tail_(flatten_tail), log_(log) {}
  const char* type() const override { return log_ ? "LogSoftmax" : "Softmax"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  int axis_;
  bool flatten_tail_, log_;
};

enum class PadKind { constant, reflect, edge };

// Pads every axis by before[i] / after[i] (non-negative) elements.
class PadOp final : public Op {
 public:
  PadOp(PadKind kind, std::vector<int64_t> before, std::vector<int64_t> after, float value);
  const char* type() const override { return "Pad"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  PadKind kind_;
  std::vector<int64_t> before_, after_;
  float value_;
};

// y = x taken at `indices` (constant, already non-negative and in range) along `axis`;
// the axis is replaced by indices_dims (empty for a scalar index).
class GatherOp final : public Op {
 public:
  GatherOp(int axis, std::vector<int64_t> indices, Dims indices_dims)
      : axis_(axis), indices_(std::move(indices)), indices_dims_(std::move(indices_dims)) {}
  const char* type() const override { return "Gather"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  int axis_;
  std::vector<int64_t> indices_;
  Dims indices_dims_;
};

// y[.., i, ..] = x[.., start + i * step, ..] for every axis (start resolved, step != 0,
// out dims given).
class SliceOp final : public Op {
 public:
  SliceOp(std::vector<int64_t> starts, std::vector<int64_t> steps, Dims out_dims)
      : starts_(std::move(starts)), steps_(std::move(steps)), out_dims_(std::move(out_dims)) {}
  const char* type() const override { return "Slice"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  std::vector<int64_t> starts_, steps_;
  Dims out_dims_;
};

// NumPy matmul of two runtime tensors, rank >= 2 each (the importer reshapes 1-D
// operands), batch dims broadcast.
class MatMulOp final : public Op {
 public:
  const char* type() const override { return "MatMul"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  void bind(std::span<const Dims> in) override;
  int64_t macs() const override { return macs_; }

 private:
  int64_t macs_ = 0;  // of the bound inputs (bind)
};

enum class UnaryKind { sigmoid, tanh, exp, log, neg, abs, sqrt, reciprocal, softplus, softsign,
                       selu, hard_sigmoid, floor, ceil, hard_swish, celu, thresholded_relu };

class UnaryOp final : public Op {
 public:
  explicit UnaryOp(UnaryKind kind, float a = 0.f, float b = 0.f) : kind_(kind), a_(a), b_(b) {}
  const char* type() const override { return "Unary"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int in_place_input() const override { return 0; }

 private:
  UnaryKind kind_;
  float a_, b_;
};

enum class ReduceKind { sum, mean, max, min, prod, l1, l2, sum_square, log_sum, log_sum_exp };

// Reduces the axes flagged in `reduce` (one flag per input axis); keep_dims leaves them
// as size 1.
class ReduceOp final : public Op {
 public:
  ReduceOp(ReduceKind kind, std::vector<bool> reduce, bool keep_dims)
      : kind_(kind), reduce_(std::move(reduce)), keep_dims_(keep_dims) {}
  const char* type() const override { return "Reduce"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  ReduceKind kind_;
  std::vector<bool> reduce_;
  bool keep_dims_;
};

enum class BroadcastKind { max, min, pow };

// y = f(a, b) with NumPy broadcasting: the elementwise functions BinaryOp does not cover.
class BroadcastBinaryOp final : public Op {
 public:
  explicit BroadcastBinaryOp(BroadcastKind kind) : kind_(kind) {}
  const char* type() const override { return "BroadcastBinary"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  BroadcastKind kind_;
};

// y = x broadcast to `dims` (NumPy rule; ONNX Expand with a resolved shape).
class ExpandOp final : public Op {
 public:
  explicit ExpandOp(Dims dims) : dims_(std::move(dims)) {}
  const char* type() const override { return "Expand"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  Dims dims_;
};

// Normalizes over the axes from `axis` on: (x - mean) / sqrt(var + eps) * scale + bias,
// scale and bias of the normalized shape (bias may be empty).
class LayerNormOp final : public Op {
 public:
  LayerNormOp(int axis, float eps, Tensor scale, Tensor bias)
      : axis_(axis), eps_(eps), scale_(std::move(scale)), bias_(std::move(bias)) {}
  const char* type() const override { return "LayerNorm"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  int axis_;
  float eps_;
  Tensor scale_, bias_;
};

// The same functions on a host buffer, for constant folding.
void apply_unary_f32(UnaryKind kind, float a, float b, const float* x, float* y, int64_t n);

}  // namespace xcept

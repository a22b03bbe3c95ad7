// What one step of a Program computes. One class per operator (runtime/ops/*.h); an op
// is built with every shape it needs resolved, owns its parameters (weights stay in the
// op so the optimizer can fold and repack them) and knows nothing of the program.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace xcept {

enum class ConvPrecision;  // kernels/conv2d_prepacked.h

struct ConstView {
  const float* data;
  const Dims* dims;
};
struct MutView {
  float* data;
  const Dims* dims;
};

class Op {
 public:
  virtual ~Op() = default;
  virtual const char* type() const = 0;  // "Conv2d", "Transpose", ...

  // Checks the input dims and returns the output dims; throws xcept::Error naming `step`
  // and the dims that do not fit.
  virtual Dims output_dims(const std::string& step, std::span<const Dims> in) const = 0;

  // Computes out from in (dims as output_dims promised). out does not alias any input,
  // unless in_place_input() names the input it may overwrite.
  virtual void run(std::span<const ConstView> in, const MutView& out) const = 0;

  // Index of an input whose buffer the output may reuse (elementwise ops), or -1.
  virtual int in_place_input() const { return -1; }
  // Multiply-accumulates of one run (whole batch), for the per-layer breakdown.
  virtual int64_t macs() const { return 0; }
  // Bytes of parameters the op owns (weights, bias, scales), for Executor::weight_bytes.
  virtual int64_t param_bytes() const { return 0; }
  // Called once by the Executor before the first run, when the parameters are final
  // (after every pass): an op may prepare its weights for its kernels here (Winograd's
  // transform, bf16 packing; kernels/conv2d_prepacked.h). bf16 asks for bf16 multiplies
  // where the op has them. Parameters must not change afterwards.
  virtual void prepare(ConvPrecision) {}
};

}  // namespace xcept

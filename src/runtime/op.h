// What one step of a Program computes. One class per operator (runtime/ops/*.h); an op
// is built with every shape it needs resolved, owns its parameters (weights stay in the
// op so the optimizer can fold and repack them) and knows nothing of the program.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "kernels/quant.h"
#include "xcept/types.h"

namespace xcept {

// Element type of a program value: float32, or uint8 codes of an int8 program
// (docs/quantization.md) with the value's QuantParams. Views always carry a float
// pointer (the arena's); ops on uint8 values read and write it as bytes (u8_data).
enum class DType { f32, u8 };

struct ConstView {
  const float* data;
  const Dims* dims;
};
struct MutView {
  float* data;
  const Dims* dims;
};

// Elements of a value with these dims (already checked when the program was built).
inline int64_t numel_of(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

inline const uint8_t* u8_data(const ConstView& v) {
  return reinterpret_cast<const uint8_t*>(v.data);
}
inline uint8_t* u8_data(const MutView& v) { return reinterpret_cast<uint8_t*>(v.data); }

class Op {
 public:
  virtual ~Op() = default;
  virtual const char* type() const = 0;  // "Conv2d", "Transpose", ...

  // Checks the input dims and returns the output dims; throws xcept::Error naming `step`
  // and the dims that do not fit.
  virtual Dims output_dims(const std::string& step, std::span<const Dims> in) const = 0;

  // Called once when the op joins a program (Program::add_step), with the input dims
  // output_dims accepted: an op whose cost or kernel choice depends on them (Dense: the
  // rows) keeps what it needs here.
  virtual void bind(std::span<const Dims> in) { (void)in; }

  // Computes out from in (dims as output_dims promised). out does not alias any input,
  // unless in_place_input() names the input it may overwrite.
  virtual void run(std::span<const ConstView> in, const MutView& out) const = 0;

  // The output's element type, and for uint8 its encoding.
  virtual DType output_dtype() const { return DType::f32; }
  virtual QuantParams output_quant() const { return {}; }

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
  virtual void prepare(Precision) {}
};

}  // namespace xcept

// Runs a Program. Construction plans every intermediate buffer once (liveness over the
// step order, first-fit in one arena, in-place reuse for elementwise steps), so running
// allocates nothing but outputs (and what an op needs internally, e.g. a broadcast).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/program.h"
#include "xcept/types.h"  // Precision

namespace xcept {

// Precision (xcept/types.h): the arithmetic the steps run in: f32, or bf16 multiplies
// with f32 accumulation where an op has a bf16 kernel (Op::prepare). bf16 runs as f32 on
// CPUs without AVX512_BF16, and on CPUs where it would be slower (kernels/gemm_bf16.h:
// bf16_gemm_pays) unless asked to.
const char* precision_name(Precision p);  // "f32", "bf16"
// Inverse of precision_name; throws xcept::Error naming the bad value.
Precision parse_precision(std::string_view name);

struct ExecutorOptions {
  Precision precision = Precision::f32;
  // Fill the arena with NaN before every run (tests): a step reading bytes no step wrote
  // in this run, or that a later value overwrote, yields NaN instead of a stale number.
  bool poison_arena = false;
  // Largest arena to allocate; 0 means the machine's physical memory. A small model file
  // can ask for huge activations (a pad of a billion columns): it gets an error naming
  // the largest value instead of an allocation that cannot be backed.
  int64_t max_arena_bytes = 0;
  // The most kernel scratch (core/scratch.h: im2col columns, packed panels) all threads
  // may hold while this executor runs; a kernel that would need more fails naming the
  // sizes. 0 keeps the process's limit (physical memory unless set). Process-wide while
  // a run lasts: executors running at once on other threads share it.
  int64_t max_scratch_bytes = 0;
  // Run bf16 even where it is no faster than f32 here: for studies of its accuracy.
  bool bf16_even_if_slower = false;
};

// Where the planner put one intermediate value: bytes [offset, offset + bytes) of the
// arena, live from the step that writes it to the last step that reads it (inputs are
// written at step -1, outputs read at step steps().size()). Values sharing a buffer
// (in-place steps) have the same offset.
struct PlannedValue {
  ValueId value = -1;
  int64_t offset = 0, bytes = 0;
  int first_step = 0, last_step = 0;
};

// Called after each step with the step's index and its output (valid until the next
// step runs; a uint8 value's bytes through u8_data): calibration and per-layer error
// reports read every intermediate value this way.
using StepObserver = std::function<void(int step, const ConstView& output)>;

class Executor {
 public:
  explicit Executor(Program program, const ExecutorOptions& options = {});
  ~Executor();
  Executor(Executor&&) noexcept;
  Executor& operator=(Executor&&) noexcept;

  // Inputs in program().inputs() order, dims as declared (throws naming the input if not).
  // Returns the outputs in program().outputs() order.
  std::vector<Tensor> run(const std::vector<const Tensor*>& inputs);
  // The same on the caller's memory: inputs are read where they lie (copied into the
  // arena only when a step would overwrite them in place) and outputs are written where
  // the caller wants them (copied only when an output is a constant, an input, or listed
  // twice). Dims as declared; inputs and outputs must not overlap each other.
  void run(std::span<const ConstView> inputs, std::span<const MutView> outputs);

  const Program& program() const;
  // Peak bytes of the planned arena (intermediate values), excluding weights.
  int64_t planned_bytes() const;
  // Kernel scratch held by all threads (core/scratch.h) at the end of this executor's
  // runs, the most seen: the memory the kernels keep beside the arena. 0 before a run.
  int64_t scratch_bytes() const;
  // The precision the steps run in: the one asked for, or f32 where bf16 is unavailable.
  Precision precision() const;
  // Bytes held by constants and op parameters.
  int64_t weight_bytes() const;

  // Every planned (non-constant, used) value: what tests check for overlaps.
  const std::vector<PlannedValue>& plan() const;

  // Calls `observer` after every step of every run (empty: none).
  void set_observer(StepObserver observer);

  // When on, run() records per-step wall time into step_ms().
  void set_profiling(bool on);
  const std::vector<double>& step_ms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xcept

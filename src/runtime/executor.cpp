// The executor: validates the step order, plans one arena for every intermediate value,
// then runs steps over views into it.
//
// Planning: a value lives from the step that writes it to the last step that reads it.
// Values become buffers (an in-place step's output joins its input's buffer when the
// input dies there), and buffers get offsets first-fit in order of their first step:
// each takes the lowest 64-byte aligned gap not used by a buffer whose life overlaps.
#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "core/checked_math.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/scratch.h"
#include "kernels/conv2d_prepacked.h"
#include "kernels/gemm_bf16.h"

namespace xcept {

const char* precision_name(Precision p) { return p == Precision::bf16 ? "bf16" : "f32"; }

Precision parse_precision(std::string_view name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  fail("unknown precision '{}' (expected f32 or bf16)", name);
}

namespace {

constexpr int64_t kAlign = 64;

int64_t numel_of(const Dims& d, const std::string& what) {
  int64_t n = 1;
  for (int64_t v : d) {
    if (v < 0) fail("{}: negative dimension in {}", what, dims_to_string(d));
    n = checked_mul(n, v, what);
  }
  return n;
}

int64_t bytes_of(const Value& v) {
  const int64_t elem = v.dtype == DType::u8 ? 1 : int64_t(sizeof(float));
  return checked_mul(numel_of(v.dims, v.name), elem, v.name);
}

struct Buffer {
  int64_t bytes = 0, offset = 0;
  int first = 0, last = 0;
};

}  // namespace

struct Executor::Impl {
  Program program;
  std::vector<PlannedValue> plan;
  std::vector<int> buffer_of;  // per value; -1 for constants and values no step writes
  std::vector<Buffer> buffers;
  int64_t arena_bytes = 0;
  int64_t max_scratch = 0, scratch_peak = 0;
  Precision precision = Precision::f32;
  Tensor arena;
  std::vector<float*> ptr;  // per value
  bool profiling = false;
  bool poison = false;
  StepObserver observer;
  std::vector<double> step_ms;
  // Per program input / output: read from / written to the caller's memory directly
  // (see run); and the per-run pointer table with those substitutions.
  std::vector<bool> input_direct, output_direct;
  std::vector<float*> run_ptr;

  void build_plan();
  void plan_direct_io();
  void check_arena_size(int64_t limit) const;
};

void Executor::Impl::build_plan() {
  const auto& values = program.values();
  const auto& steps = program.steps();
  const int nv = static_cast<int>(values.size());
  const int ns = static_cast<int>(steps.size());
  constexpr int kUnset = -2;
  std::vector<int> def(static_cast<size_t>(nv), kUnset), last(static_cast<size_t>(nv), kUnset);
  for (ValueId v : program.inputs()) def.at(static_cast<size_t>(v)) = -1;
  auto available = [&](ValueId v) {
    return v >= 0 && v < nv && (values[size_t(v)].is_constant || def[size_t(v)] != kUnset);
  };
  for (int s = 0; s < ns; ++s) {
    const Step& st = steps[size_t(s)];
    for (ValueId v : st.inputs) {
      if (!available(v))
        fail("{}: step {} reads value {} before any step writes it", st.name, s, v);
      last[size_t(v)] = s;
    }
    const ValueId o = st.output;
    if (o < 0 || o >= nv || values[size_t(o)].is_constant || def[size_t(o)] != kUnset)
      fail("{}: step {} writes value {}, which is a constant or already written", st.name, s,
           o);
    def[size_t(o)] = s;
  }
  for (ValueId v : program.outputs()) {
    if (!available(v)) fail("program output value {} is never written", v);
    last[size_t(v)] = ns;
  }

  // Buffers, in order of the first step that writes them.
  buffer_of.assign(size_t(nv), -1);
  auto new_buffer = [&](ValueId v) {
    const Value& val = values[size_t(v)];
    Buffer b;
    const int64_t bytes = bytes_of(val);
    b.bytes = (bytes + kAlign - 1) / kAlign * kAlign;
    b.first = def[size_t(v)];
    b.last = std::max(def[size_t(v)], last[size_t(v)]);
    buffers.push_back(b);
    buffer_of[size_t(v)] = static_cast<int>(buffers.size()) - 1;
  };
  for (ValueId v : program.inputs())
    if (buffer_of[size_t(v)] < 0) new_buffer(v);
  for (int s = 0; s < ns; ++s) {
    const Step& st = steps[size_t(s)];
    const ValueId o = st.output;
    const int k = st.op->in_place_input();
    if (k >= 0 && size_t(k) < st.inputs.size()) {
      const ValueId u = st.inputs[size_t(k)];
      const int bu = buffer_of[size_t(u)];
      const Value& uv = values[size_t(u)];
      if (bu >= 0 && last[size_t(u)] == s && buffers[size_t(bu)].last == s &&
          bytes_of(uv) == bytes_of(values[size_t(o)])) {
        buffer_of[size_t(o)] = bu;
        buffers[size_t(bu)].last = std::max(s, last[size_t(o)]);
        continue;
      }
    }
    new_buffer(o);
  }

  // First fit. Buffers are in order of `first`, so an earlier buffer overlaps this one
  // in time exactly when it is still live at `first`.
  std::vector<int> placed;
  for (size_t i = 0; i < buffers.size(); ++i) {
    Buffer& b = buffers[i];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int j : placed)
      if (buffers[size_t(j)].last >= b.first)
        busy.push_back({buffers[size_t(j)].offset, buffers[size_t(j)].bytes});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [o, n] : busy) {
      if (offset + b.bytes <= o) break;
      offset = std::max(offset, o + n);
    }
    b.offset = offset;
    arena_bytes = std::max(arena_bytes, offset + b.bytes);
    placed.push_back(static_cast<int>(i));
  }

  for (int v = 0; v < nv; ++v) {
    const int b = buffer_of[size_t(v)];
    if (b < 0) continue;
    PlannedValue p;
    p.value = v;
    p.offset = buffers[size_t(b)].offset;
    p.bytes = bytes_of(values[size_t(v)]);
    p.first_step = def[size_t(v)];
    p.last_step = std::max(def[size_t(v)], last[size_t(v)]);
    plan.push_back(p);
  }
}

// An input can be read where the caller holds it unless its buffer is also another
// value's (a step runs in place on it). An output can be written where the caller wants
// it when a step writes it and nothing else holds it: its life ends with the program,
// so no later step reuses its buffer, and a step that ran in place on its input simply
// runs out of place.
void Executor::Impl::plan_direct_io() {
  const auto& values = program.values();
  std::vector<int> sharing(buffers.size(), 0);
  for (size_t v = 0; v < values.size(); ++v)
    if (buffer_of[v] >= 0) ++sharing[size_t(buffer_of[v])];
  for (ValueId v : program.inputs())
    input_direct.push_back(buffer_of[size_t(v)] >= 0 && sharing[size_t(buffer_of[size_t(v)])] == 1);
  std::vector<bool> written(values.size(), false);
  for (const Step& st : program.steps()) written[size_t(st.output)] = true;
  const auto& outs = program.outputs();
  for (size_t i = 0; i < outs.size(); ++i)
    output_direct.push_back(written[size_t(outs[i])] &&
                            std::count(outs.begin(), outs.end(), outs[i]) == 1);
}

void Executor::Impl::check_arena_size(int64_t limit) const {
  if (limit <= 0 || arena_bytes <= limit) return;
  const PlannedValue* big = nullptr;
  for (const PlannedValue& p : plan)
    if (!big || p.bytes > big->bytes) big = &p;
  const Value& v = program.value(big ? big->value : 0);
  fail("executor: the activations need {} MiB, over the limit of {} MiB (largest value '{}' {})",
       arena_bytes >> 20, limit >> 20, v.name, dims_to_string(v.dims));
}

Executor::Executor(Program program, const ExecutorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  // bf16 is a speed option: where the CPU lacks AVX512_BF16, or its bf16 dot product is
  // no faster than its f32 FMAs, float32 is kept (unless asked), and precision() says so.
  impl_->precision =
      options.precision == Precision::bf16 && bf16_gemm_available() &&
              (options.bf16_even_if_slower || bf16_gemm_pays())
          ? Precision::bf16
          : Precision::f32;
  impl_->program = std::move(program);
  impl_->poison = options.poison_arena;
  impl_->max_scratch = options.max_scratch_bytes;
  for (ValueId v : impl_->program.inputs())
    if (impl_->program.value(v).dtype != DType::f32)
      fail("executor: input '{}' is not float32", impl_->program.value(v).name);
  for (ValueId v : impl_->program.outputs())
    if (impl_->program.value(v).dtype != DType::f32)
      fail("executor: output '{}' is not float32", impl_->program.value(v).name);
  impl_->build_plan();
  impl_->check_arena_size(options.max_arena_bytes > 0 ? options.max_arena_bytes
                                                       : physical_memory_bytes());
  // Weights are final now: ops prepare them for their kernels once (Winograd transform,
  // bf16 packing) instead of on every run.
  for (Step& st : impl_->program.steps()) st.op->prepare(impl_->precision);
  impl_->arena = Tensor({std::max<int64_t>(impl_->arena_bytes / int64_t(sizeof(float)), 1)});
  auto& values = impl_->program.values();
  impl_->ptr.assign(values.size(), nullptr);
  for (size_t v = 0; v < values.size(); ++v) {
    if (values[v].is_constant)
      impl_->ptr[v] = values[v].constant.data();
    else if (impl_->buffer_of[v] >= 0)
      impl_->ptr[v] = impl_->arena.data() +
                      impl_->buffers[size_t(impl_->buffer_of[v])].offset / int64_t(sizeof(float));
  }
  impl_->step_ms.assign(impl_->program.steps().size(), 0.0);
  impl_->plan_direct_io();
}

Executor::~Executor() = default;
Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;

std::vector<Tensor> Executor::run(const std::vector<const Tensor*>& inputs) {
  const Program& p = impl_->program;
  std::vector<ConstView> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) fail("executor: input {} is missing", i);
    in.push_back({inputs[i]->data(), &inputs[i]->dims()});
  }
  std::vector<Tensor> outs;
  std::vector<MutView> out;
  for (ValueId v : p.outputs()) outs.emplace_back(p.value(v).dims);
  for (Tensor& t : outs) out.push_back({t.data(), &t.dims()});
  run(in, out);
  return outs;
}

void Executor::run(std::span<const ConstView> inputs, std::span<const MutView> outputs) {
  Impl& m = *impl_;
  const Program& p = m.program;
  if (inputs.size() != p.inputs().size())
    fail("executor: the program takes {} input(s), got {}", p.inputs().size(), inputs.size());
  if (outputs.size() != p.outputs().size())
    fail("executor: the program gives {} output(s), {} buffer(s) given", p.outputs().size(),
         outputs.size());
  if (m.poison) m.arena.fill(std::numeric_limits<float>::quiet_NaN());
  m.run_ptr = m.ptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ValueId id = p.inputs()[i];
    const Value& v = p.value(id);
    if (!inputs[i].dims || *inputs[i].dims != v.dims)
      fail("executor: input '{}' must be {}, got {}", v.name, dims_to_string(v.dims),
           inputs[i].dims ? dims_to_string(*inputs[i].dims) : "nothing");
    if (m.input_direct[i])
      m.run_ptr[size_t(id)] = const_cast<float*>(inputs[i].data);  // only ever read
    else if (const int64_t n = numel_of(v.dims, v.name))
      std::memcpy(m.ptr[size_t(id)], inputs[i].data, size_t(n) * sizeof(float));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Value& v = p.value(p.outputs()[i]);
    if (!outputs[i].dims || *outputs[i].dims != v.dims)
      fail("executor: output '{}' is {}, the buffer given is {}", v.name, dims_to_string(v.dims),
           outputs[i].dims ? dims_to_string(*outputs[i].dims) : "nothing");
    if (m.output_direct[i]) m.run_ptr[size_t(p.outputs()[i])] = outputs[i].data;
  }
  // The scratch limit for this run, restored however the run ends.
  struct ScratchLimit {
    int64_t previous;
    bool set;
    explicit ScratchLimit(int64_t limit)
        : previous(limit > 0 ? set_scratch_limit_bytes(limit) : 0), set(limit > 0) {}
    ~ScratchLimit() {
      if (set) set_scratch_limit_bytes(previous);
    }
  } scratch_limit(m.max_scratch);
  std::vector<ConstView> in;
  for (size_t s = 0; s < p.steps().size(); ++s) {
    const Step& st = p.steps()[s];
    in.clear();
    for (ValueId v : st.inputs) in.push_back({m.run_ptr[size_t(v)], &p.value(v).dims});
    const MutView out{m.run_ptr[size_t(st.output)], &p.value(st.output).dims};
    if (!m.profiling) {
      st.op->run(in, out);
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      st.op->run(in, out);
      const auto t1 = std::chrono::steady_clock::now();
      m.step_ms[s] = std::chrono::duration<double, std::milli>(t1 - t0).count();
    }
    if (m.observer) m.observer(int(s), {out.data, out.dims});
  }
  m.scratch_peak = std::max(m.scratch_peak, scratch_bytes_held());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const ValueId v = p.outputs()[i];
    if (m.output_direct[i]) continue;
    if (const int64_t n = numel_of(p.value(v).dims, p.value(v).name))
      std::memcpy(outputs[i].data, m.run_ptr[size_t(v)], size_t(n) * sizeof(float));
  }
}

const Program& Executor::program() const { return impl_->program; }
int64_t Executor::planned_bytes() const { return impl_->arena_bytes; }
int64_t Executor::scratch_bytes() const { return impl_->scratch_peak; }
Precision Executor::precision() const { return impl_->precision; }

int64_t Executor::weight_bytes() const {
  int64_t total = 0;
  for (const Value& v : impl_->program.values())
    if (v.is_constant) total += v.constant.numel() * int64_t(sizeof(float));
  for (const Step& s : impl_->program.steps()) total += s.op->param_bytes();
  return total;
}

const std::vector<PlannedValue>& Executor::plan() const { return impl_->plan; }
void Executor::set_profiling(bool on) { impl_->profiling = on; }
void Executor::set_observer(StepObserver observer) { impl_->observer = std::move(observer); }
const std::vector<double>& Executor::step_ms() const { return impl_->step_ms; }

}  // namespace xcept

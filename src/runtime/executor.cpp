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
  Precision precision = Precision::f32;
  Tensor arena;
  std::vector<float*> ptr;  // per value
  bool profiling = false;
  bool poison = false;
  std::vector<double> step_ms;

  void build_plan();
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
    const int64_t bytes = checked_mul(numel_of(val.dims, val.name), sizeof(float), val.name);
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
          numel_of(uv.dims, uv.name) == numel_of(values[size_t(o)].dims, st.name)) {
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
    p.bytes = numel_of(values[size_t(v)].dims, values[size_t(v)].name) * int64_t(sizeof(float));
    p.first_step = def[size_t(v)];
    p.last_step = std::max(def[size_t(v)], last[size_t(v)]);
    plan.push_back(p);
  }
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
  impl_->build_plan();
  impl_->check_arena_size(options.max_arena_bytes > 0 ? options.max_arena_bytes
                                                       : physical_memory_bytes());
  // Weights are final now: ops prepare them for their kernels once (Winograd transform,
  // bf16 packing) instead of on every run.
  const ConvPrecision cp =
      impl_->precision == Precision::bf16 ? ConvPrecision::bf16 : ConvPrecision::f32;
  for (Step& st : impl_->program.steps()) st.op->prepare(cp);
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
}

Executor::~Executor() = default;
Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;

std::vector<Tensor> Executor::run(const std::vector<const Tensor*>& inputs) {
  Impl& m = *impl_;
  const Program& p = m.program;
  if (inputs.size() != p.inputs().size())
    fail("executor: the program takes {} input(s), got {}", p.inputs().size(), inputs.size());
  if (m.poison) m.arena.fill(std::numeric_limits<float>::quiet_NaN());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = p.value(p.inputs()[i]);
    if (!inputs[i] || inputs[i]->dims() != v.dims)
      fail("executor: input '{}' must be {}, got {}", v.name, dims_to_string(v.dims),
           inputs[i] ? dims_to_string(inputs[i]->dims()) : "nothing");
    if (inputs[i]->numel())
      std::memcpy(m.ptr[size_t(p.inputs()[i])], inputs[i]->data(),
                  size_t(inputs[i]->numel()) * sizeof(float));
  }
  std::vector<ConstView> in;
  for (size_t s = 0; s < p.steps().size(); ++s) {
    const Step& st = p.steps()[s];
    in.clear();
    for (ValueId v : st.inputs) in.push_back({m.ptr[size_t(v)], &p.value(v).dims});
    const MutView out{m.ptr[size_t(st.output)], &p.value(st.output).dims};
    if (!m.profiling) {
      st.op->run(in, out);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    st.op->run(in, out);
    const auto t1 = std::chrono::steady_clock::now();
    m.step_ms[s] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  }
  std::vector<Tensor> outs;
  for (ValueId v : p.outputs()) {
    Tensor t(p.value(v).dims);
    if (t.numel()) std::memcpy(t.data(), m.ptr[size_t(v)], size_t(t.numel()) * sizeof(float));
    outs.push_back(std::move(t));
  }
  return outs;
}

const Program& Executor::program() const { return impl_->program; }
int64_t Executor::planned_bytes() const { return impl_->arena_bytes; }
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
const std::vector<double>& Executor::step_ms() const { return impl_->step_ms; }

}  // namespace xcept

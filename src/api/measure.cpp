// measure.h: programs timed step by step (runtime/profile) and read against the roofline.
#include "xcept/measure.h"

#include <algorithm>

#include "analysis/conv_cost.h"
#include "api/model_source.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threadpool.h"
#include "kernels/fma_peak.h"
#include "kernels/memory_bandwidth.h"
#include "runtime/ops/core_ops.h"
#include "runtime/profile.h"

namespace xcept {

namespace {

// Fills in the rates and the roofline reading of a cost whose macs, ms and bytes are set.
void read_roofline(MeasuredCost& c, const Roofline& r) {
  const double flops = 2.0 * double(c.macs);
  c.gflops = c.ms > 0 ? flops / c.ms * 1e-6 : 0;
  c.flops_per_byte = c.bytes > 0 ? flops / double(c.bytes) : 0;
  const MemoryLevel& level = r.level_for(c.bytes);
  c.memory_level = level.name;
  c.memory_bound = c.flops_per_byte < r.ridge(level);
  const double bound = c.memory_bound ? c.flops_per_byte * level.bandwidth_gbs : r.peak_gflops;
  c.fraction_of_bound = bound > 0 ? c.gflops / bound : 0;
}

// Each step of `ex`, timed on random inputs.
std::vector<MeasuredCost> measure_steps(Executor& ex, const MeasureOptions& o, const Roofline& r,
                                        double* total_ms = nullptr) {
  const Program& p = ex.program();
  const std::vector<Tensor> xs = random_inputs(p);
  std::vector<const Tensor*> in;
  for (const Tensor& x : xs) in.push_back(&x);
  const ProgramTiming t = time_program(ex, in, o.warmup, o.repeats);
  if (total_ms) *total_ms = t.median_ms;
  std::vector<MeasuredCost> out;
  for (size_t s = 0; s < p.steps().size(); ++s) {
    const Step& st = p.steps()[s];
    MeasuredCost c;
    c.name = st.name;
    c.op = describe_op(*st.op);
    c.output = p.value(st.output).dims;
    c.macs = st.op->macs();
    c.ms = t.step_ms[s];
    c.bytes = step_bytes(p, st);
    read_roofline(c, r);
    out.push_back(std::move(c));
  }
  return out;
}

Tensor random_weights(const Dims& dims, uint32_t seed) {
  SplitMix64 rng(seed);
  Tensor w(dims);
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = float(rng.uniform(-0.1, 0.1));
  return w;
}

}  // namespace

Roofline measure_roofline(int threads) {
  Roofline r;
  r.threads = threads > 0 ? std::min(threads, num_threads()) : num_threads();
  r.peak_gflops = measure_fma_peak_gflops(r.threads);
  // Working sets of half of each cache (the rest holds everything else), and one well
  // beyond the last level for memory itself.
  const CacheSizes c = cache_sizes();
  const int64_t l2 = (c.l2 > 0 ? c.l2 : int64_t{1} << 20) * r.threads;
  const int64_t llc = std::max(c.llc, l2);
  constexpr int64_t kMiB = int64_t{1} << 20;
  r.memory.push_back({"L2", l2, measure_copy_bandwidth_gbs(r.threads, l2 / 2)});
  if (llc > l2)
    r.memory.push_back({"L3", llc, measure_copy_bandwidth_gbs(r.threads, std::min(llc / 2, 32 * kMiB))});
  // Twice the last level at least, within what a probe should allocate.
  r.memory.push_back({"DRAM", 0, measure_copy_bandwidth_gbs(r.threads, std::clamp(2 * llc, 64 * kMiB, 256 * kMiB))});
  return r;
}

std::vector<MeasuredCost> measure_model(const std::string& name_or_path, const MeasureOptions& o,
                                        const Roofline& r, const ZooOptions& zoo,
                                        const std::vector<Dims>& onnx_input_dims) {
  const ModelSource source = load_model_source(name_or_path, zoo, onnx_input_dims, o.batch);
  Executor ex = compile(source, o.batch, CompileOptions{});
  return measure_steps(ex, o, r);
}

std::vector<MeasuredCost> measure_conv_family(const ConvQuery& q, const MeasureOptions& o,
                                              const Roofline& r) {
  if (o.batch <= 0) fail("batch must be positive, got {}", o.batch);
  const std::vector<ConvTypeCost> costs = conv_family_costs(q);  // validates the query
  FamilyQuery f;
  f.h = q.height, f.w = q.width, f.c = q.channels, f.m = q.filters, f.k = q.kernel;
  f.groups = q.groups, f.stride = q.stride, f.multiplier = q.multiplier, f.bias = q.bias;
  f.padding = q.padding == "same" ? Padding::same() : Padding::valid();
  std::vector<MeasuredCost> out;
  uint32_t seed = 1;
  for (const FamilyRow& row : convolution_family_costs(f)) {
    // The row's convolutions as inference runs them (optimize may fuse a depthwise and
    // the pointwise reading it into one banded step).
    Program p;
    ValueId x = p.add_input("x", {o.batch, q.height, q.width, q.channels});
    for (ConvShape s : row.convs) {
      s.n = o.batch;
      Tensor w = random_weights({s.kh, s.kw, s.cg(), s.m}, seed++);
      Tensor b = q.bias ? random_weights({s.m}, seed++) : Tensor();
      x = p.add_step(row.type, std::make_unique<Conv2dOp>(s, std::move(w), std::move(b)), {x});
    }
    p.mark_output(x);
    optimize(p);
    Executor ex(std::move(p));
    MeasuredCost c;
    c.name = row.type;
    const std::vector<MeasuredCost> steps = measure_steps(ex, o, r, &c.ms);
    for (const MeasuredCost& s : steps) {
      c.op += (c.op.empty() ? "" : ", ") + s.op;
      c.macs += s.macs;
      c.bytes += s.bytes;
    }
    c.output = steps.back().output;
    read_roofline(c, r);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace xcept

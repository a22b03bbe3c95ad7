// `xcept bench MODEL` and `xcept peak`: inference latency of a zoo model through the
// runtime (lower_graph + optimize + Executor), per step, against the measured FMA peak.
// `xcept bench MODEL --train` times a training step instead (cmd_bench_train.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/bench_options.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/fma_peak.h"
#include "kernels/gemm_bf16.h"
#include "api/model_source.h"
#include "cli/zoo_options.h"
#include "runtime/output_error.h"
#include "runtime/profile.h"

namespace xcept::cli {

namespace {

const char* bf16_fallback_reason() {
  return bf16_gemm_available()
             ? " (ran as f32: bf16 is no faster on this CPU; --bf16-even-if-slower runs it)"
             : " (ran as f32: no AVX512_BF16)";
}

// The int8 program: the checkpoint's `xcept quantize` ranges, or min-max ranges of the
// benchmark's own (random) input, which is what a speed study needs.
Executor compile_int8(const ModelSource& source, const BenchOptions& o,
                      const std::vector<Tensor>& xs) {
  if (o.no_fuse) fail("--precision int8 needs the optimizer (batch norm folded): drop --no-fuse");
  if (xs.size() != 1) fail("{}: int8 needs a model with one input, it has {}", o.model, xs.size());
  QuantizedProgram q =
      quantize_source(source, o.batch, [&](const auto& use) { use(xs[0]); });
  return Executor(std::move(q.program));
}

void run_bench(BenchOptions& o) {
  if (o.batch <= 0) fail("--batch must be positive, got {}", o.batch);
  if (o.repeats <= 0) fail("--repeats must be positive, got {}", o.repeats);
  const bool int8 = precision_is_int8(o.precision);
  ExecutorOptions eo;
  if (!int8) eo.precision = parse_precision(o.precision);
  eo.bf16_even_if_slower = o.bf16_even_if_slower;
  const int threads = num_threads();

  const ModelSource source = load_model_source(o.model, o.zoo, parse_input_dims(o.input_dims), o.batch);
  auto compile = [&](const ExecutorOptions& options) {
    CompileOptions co;
    co.executor = options;
    co.optimize = !o.no_fuse;
    co.optimize_options.fuse_depthwise_pointwise = !o.no_dw_pw_fusion;
    return xcept::compile(source, o.batch, co);
  };
  const std::vector<Tensor> xs = random_inputs(source.input_dims(o.batch), uint32_t(o.zoo.seed));
  std::vector<const Tensor*> inputs;
  for (const Tensor& x : xs) inputs.push_back(&x);
  Executor ex = int8 ? compile_int8(source, o, xs) : compile(eo);
  const Program& p = ex.program();
  const Dims& in_dims = p.value(p.inputs().at(0)).dims;
  const char* precision_run = int8 ? "int8" : precision_name(ex.precision());

  // A reduced precision is also run once in f32 on the same input: how far its outputs move.
  std::optional<OutputError> vs_f32;
  if (!int8 && eo.precision != Precision::f32 && ex.precision() == Precision::f32) {
    vs_f32 = OutputError{0, 0, 1};  // it ran as f32: it is its own reference
  } else if (int8 || eo.precision != Precision::f32) {
    const std::vector<Tensor> got = ex.run(inputs);
    const std::vector<Tensor> want = compile(ExecutorOptions{}).run(inputs);
    vs_f32 = output_error(got.at(0), want.at(0));
  }

  const ProgramTiming timing = time_program(ex, inputs, o.warmup, o.repeats);
  const std::vector<double>& total = timing.run_ms;
  const double peak = measure_fma_peak_gflops(threads);
  const double med = timing.median_ms;
  const auto [mn, mx] = std::minmax_element(total.begin(), total.end());
  const int64_t macs = p.macs();
  auto gflops = [](int64_t m, double ms) { return ms > 0 ? 2.0 * double(m) / ms * 1e-6 : 0.0; };

  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["input"] = in_dims;
    j["batch"] = o.batch;
    j["threads"] = threads;
    j["precision"] = o.precision;
    j["isa"] = isa_name(max_isa());
    j["repeats"] = o.repeats;
    j["median_ms"] = med;
    j["min_ms"] = *mn;
    j["max_ms"] = *mx;
    j["images_per_s"] = med > 0 ? double(o.batch) * 1e3 / med : 0.0;
    j["macs"] = macs;
    j["gflops"] = gflops(macs, med);
    j["peak_gflops"] = peak;
    j["percent_of_peak"] = peak > 0 ? 100 * gflops(macs, med) / peak : 0.0;
    j["precision_run"] = precision_run;
    if (vs_f32) {
      j["rel_error_vs_f32"] = vs_f32->max_rel;
      j["rel_l2_error_vs_f32"] = vs_f32->mean_rel_l2;
      j["top1_agreement_vs_f32"] = vs_f32->top1_agreement;
    }
    j["planned_bytes"] = ex.planned_bytes();
    j["scratch_bytes"] = ex.scratch_bytes();
    j["weight_bytes"] = ex.weight_bytes();
    j["layers"] = nlohmann::json::array();
    for (size_t s = 0; s < p.steps().size(); ++s) {
      const Step& st = p.steps()[s];
      const double ms = timing.step_ms[s];
      j["layers"].push_back({{"name", st.name},
                             {"type", describe_op(*st.op)},
                             {"kernel", kernel_of(*st.op)},
                             {"output", p.value(st.output).dims},
                             {"ms", ms},
                             {"macs", st.op->macs()},
                             {"gflops", gflops(st.op->macs(), ms)},
                             {"percent_of_peak", peak > 0 ? 100 * gflops(st.op->macs(), ms) / peak : 0.0}});
    }
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("{} on {}, {} thread(s), {}, {} kernels\n\n", o.model, dims_to_string(in_dims),
             threads, o.precision, isa_name(max_isa()));
  fmt::print("{:<34} {:<26} {:<16} {:>9} {:>15} {:>9} {:>7}\n", "step", "op", "output", "ms",
             "MACs", "GFLOP/s", "% peak");
  for (size_t s = 0; s < p.steps().size(); ++s) {
    const Step& st = p.steps()[s];
    const double ms = timing.step_ms[s];
    const double gf = gflops(st.op->macs(), ms);
    fmt::print("{:<34} {:<26} {:<16} {:>9.3f} {:>15} {:>9.1f} {:>6.1f}%\n", st.name,
               describe_op(*st.op), dims_to_string(p.value(st.output).dims), ms,
               with_commas(st.op->macs()), gf, peak > 0 ? 100 * gf / peak : 0.0);
  }
  fmt::print("\nlatency       median {:.3f} ms  min {:.3f}  max {:.3f}  ({} runs after {} warm-up)\n",
             med, *mn, *mx, o.repeats, o.warmup);
  fmt::print("throughput    {:.1f} images/s\n", med > 0 ? double(o.batch) * 1e3 / med : 0.0);
  fmt::print("compute       {} MACs, {:.1f} GFLOP/s = {:.1f}% of the measured FMA peak "
             "({:.1f} GFLOP/s on {} thread(s))\n",
             with_commas(macs), gflops(macs, med), peak > 0 ? 100 * gflops(macs, med) / peak : 0.0,
             peak, threads);
  fmt::print("memory        {} bytes planned for activations, {} bytes of kernel scratch, "
             "{} bytes of weights\n",
             with_commas(ex.planned_bytes()), with_commas(ex.scratch_bytes()),
             with_commas(ex.weight_bytes()));
  if (vs_f32)
    fmt::print("vs f32        max|a-b|/max|b| {:.3g}, mean ||a-b||/||b|| {:.3g}, same top-1 on "
               "{:.0f}% of the batch{}\n",
               vs_f32->max_rel, vs_f32->mean_rel_l2, 100 * vs_f32->top1_agreement,
               !int8 && ex.precision() == Precision::f32 ? bf16_fallback_reason() : "");
}

void run_peak(bool json) {
  const int threads = num_threads();
  const double one = measure_fma_peak_gflops(1);
  const double all = threads > 1 ? measure_fma_peak_gflops(threads) : one;
  const double bf16 = measure_bf16_dot_peak_gflops(1);  // 0 without AVX512_BF16
  if (json) {
    nlohmann::json j;
    j["isa"] = isa_name(max_isa());
    j["threads"] = threads;
    j["peak_gflops_1_thread"] = one;
    j["peak_gflops"] = all;
    j["bf16_dot_peak_gflops_1_thread"] = bf16;
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("float32 FMA peak ({}): {:.1f} GFLOP/s on 1 thread, {:.1f} GFLOP/s on {}\n",
             isa_name(max_isa()), one, all, threads);
  if (bf16 > 0)
    fmt::print("bf16 dot-product peak (avx512_bf16): {:.1f} GFLOP/s on 1 thread, {:.2f}x f32; "
               "--precision bf16 runs bf16 when >= 1.5x\n",
               bf16, bf16 / one);
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench", "inference latency (or with --train a training step) of a model, per layer, vs. peak");
  cmd->add_option("model", o->model, "zoo model (see `xcept models`), checkpoint or .onnx file")
      ->required();
  cmd->add_option("--batch", o->batch, "images per run")->capture_default_str();
  add_zoo_options(*cmd, o->zoo);
  cmd->add_option("--input-dims", o->input_dims,
                  "ONNX files: NxCxHxW of each input (default: as declared); N becomes --batch")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--precision", o->precision,
                  "f32|bf16|int8 (int8: a checkpoint's `xcept quantize` ranges, else min-max "
                  "ranges of the random benchmark input)")
      ->capture_default_str();
  cmd->add_flag("--bf16-even-if-slower", o->bf16_even_if_slower,
                "with --precision bf16: run bf16 even where this CPU does it no faster than f32");
  cmd->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "timed runs")->capture_default_str();
  cmd->add_flag("--no-fuse", o->no_fuse, "skip optimize() (no batch-norm folding or fusion)");
  cmd->add_flag("--no-dw-pw-fusion", o->no_dw_pw_fusion,
                "optimize() without the depthwise-pointwise fusion (DwPwConv2d)");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->add_flag("--train", o->train,
                "time a training step (forward, loss, backward, update), per layer");
  cmd->add_option("--optimizer", o->optimizer, "with --train: sgd|rmsprop|adam|adamw")
      ->capture_default_str();
  cmd->add_option("--momentum", o->optimizer_options.momentum, "with --train: sgd/rmsprop momentum")
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "with --train: learning rate")->capture_default_str();
  cmd->callback([o] {
    if (o->train) run_bench_train(*o);
    else run_bench(*o);
  });

  auto json = std::make_shared<bool>(false);
  auto* peak = app.add_subcommand("peak", "measured float32 FMA peak of this machine");
  peak->add_flag("--json", *json, "print JSON");
  peak->callback([json] { run_peak(*json); });
}

}  // namespace xcept::cli

// Forward convolution with weights prepared once (Conv2dPrepacked), as inference runs it:
// f32 (Winograd on the 3x3 stride-1 layers, with weights transformed once; GEMM panels
// packed once elsewhere) and bf16 (vdpbf16ps GEMMs) on the groups-1 layers of
// bench/layer_shapes.h; bias + addend + relu6 fused ("_fused") against a separate pass ("_separate").
// GFLOP/s counts the direct convolution's 2 FLOP per MAC, so rows compare by time.
// Run: build/xcept_bench --benchmark_filter=conv2d_prepacked
#include <benchmark/benchmark.h>

#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "analysis/conv_cost.h"
#include "core/threadpool.h"
#include "kernels/conv2d_prepacked.h"
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/kernels.h"
#include "layer_shapes.h"

namespace xcept::bench {
namespace {

void set_rate(benchmark::State& st, const ConvShape& s) {
  double flop = 2.0 * double(conv_cost(s, false).macs);
  st.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// mode 0: bias only; 1: bias + addend + relu6 fused; 2: the same as a separate pass
// after the convolution (what the runtime did before the epilogue existed).
void run_prepacked(benchmark::State& st, const ConvShape& s, Precision p, int mode) {
  const bool fused = mode == 1;
  std::vector<float> x(size_t(s.input_numel()), 0.5f), w(size_t(s.weight_numel()), 0.01f);
  std::vector<float> b(size_t(s.m), 0.1f), add(size_t(s.output_numel()), 0.2f);
  std::vector<float> y(size_t(s.output_numel()));
  const Conv2dPrepacked pp(s, w.data(), p);
  const ConvEpilogue ep = fused ? ConvEpilogue(b.data(), add.data(), ActKind::clip, 0.f, 6.f)
                                : ConvEpilogue(b.data());
  const int64_t n = s.output_numel();
  constexpr int64_t kChunk = 16384;
  for (auto _ : st) {
    pp.run(x.data(), ep, y.data());
    if (mode != 2) continue;
    parallel_for((n + kChunk - 1) / kChunk, 4, [&](int64_t c0, int64_t c1) {
      for (int64_t i = c0 * kChunk; i < std::min(n, c1 * kChunk); ++i) {
        const float v = y[size_t(i)] + add[size_t(i)];
        y[size_t(i)] = v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
      }
    });
  }
  st.SetLabel(pp.kernel_name());
  set_rate(st, s);
}

const bool registered = [] {
  for (const NamedConv& layer : model_conv_layers()) {
    const ConvShape& s = layer.shape;
    if (s.groups != 1) continue;  // depthwise: no prepared form
    const bool wino = winograd_f4x4_applies(s);
    if (wino) {  // Winograd forced, whatever Conv2dPrepacked would pick: for the threshold
      std::string name = std::string("conv2d_prepacked/winograd_forced/") + layer.name;
      benchmark::RegisterBenchmark(name.c_str(), [s](benchmark::State& st) {
        std::vector<float> x(size_t(s.input_numel()), 0.5f), w(size_t(s.weight_numel()), 0.01f);
        std::vector<float> y(size_t(s.output_numel()));
        const int64_t n = winograd_f4x4_packed_weight_floats(s);
        float* u = static_cast<float*>(::operator new[](size_t(n) * sizeof(float), std::align_val_t(64)));
        winograd_f4x4_pack_weights(s, w.data(), u);
        for (auto _ : st) conv2d_fwd_winograd_f4x4_packed(s, x.data(), u, ConvEpilogue(), y.data());
        ::operator delete[](u, std::align_val_t(64));
        set_rate(st, s);
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    for (Precision p : {Precision::f32, Precision::bf16}) {
      if (p == Precision::bf16 && !bf16_gemm_available()) continue;
      for (int mode : {0, 1, 2}) {
        const char* suffix[] = {"", "_fused", "_separate"};
        std::string name = std::string("conv2d_prepacked/") +
                           (p == Precision::f32 ? "f32" : "bf16") + suffix[mode] + "/" +
                           layer.name;
        benchmark::RegisterBenchmark(name.c_str(), [s, p, mode](benchmark::State& st) {
          run_prepacked(st, s, p, mode);
        })->Unit(benchmark::kMicrosecond)->UseRealTime();
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

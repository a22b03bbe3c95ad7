// Every convolution row of the kernel table (forward, backward data, backward filter)
// on the Xception and MobileNet layers it accepts (GFLOP/s counts 2 FLOP per MAC), and
// the pooling rows on Xception's maxpools.
// Run: build/xcept_bench --benchmark_filter=conv2d_fwd
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "analysis/conv_cost.h"
#include "core/cpu_features.h"
#include "kernels/kernels.h"
#include "layer_shapes.h"

namespace xcept::bench {
namespace {

std::vector<float> filled(int64_t n, float v) { return std::vector<float>(size_t(n), v); }

void set_rate(benchmark::State& st, const ConvShape& s) {
  double flop = 2.0 * double(conv_cost(s, false).macs);
  st.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <typename Row, typename Body>
void register_rows(const char* op, std::span<const Row> rows, Body body) {
  for (const Row& row : rows) {
    if (row.is_reference() || !isa_available(row.isa)) continue;  // _ref is too slow to time
    for (const NamedConv& layer : model_conv_layers()) {
      if (!row.supports(layer.shape)) continue;
      std::string name = std::string(op) + "/" + row.name + "/" + layer.name;
      benchmark::RegisterBenchmark(name.c_str(), [&row, s = layer.shape, body](benchmark::State& st) {
        body(st, row, s);
        set_rate(st, s);
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  }
}

const bool registered = [] {
  register_rows("conv2d_fwd", conv2d_fwd_kernels(), [](benchmark::State& st, const Conv2dFwdKernel& r, const ConvShape& s) {
    auto x = filled(s.input_numel(), 0.5f), w = filled(s.weight_numel(), 0.01f), y = filled(s.output_numel(), 0);
    for (auto _ : st) r.fn(s, x.data(), w.data(), nullptr, y.data());
  });
  register_rows("conv2d_bwd_data", conv2d_bwd_data_kernels(), [](benchmark::State& st, const Conv2dBwdDataKernel& r, const ConvShape& s) {
    auto dy = filled(s.output_numel(), 0.5f), w = filled(s.weight_numel(), 0.01f), dx = filled(s.input_numel(), 0);
    for (auto _ : st) r.fn(s, dy.data(), w.data(), dx.data());
  });
  register_rows("conv2d_bwd_filter", conv2d_bwd_filter_kernels(), [](benchmark::State& st, const Conv2dBwdFilterKernel& r, const ConvShape& s) {
    auto x = filled(s.input_numel(), 0.5f), dy = filled(s.output_numel(), 0.01f);
    auto dw = filled(s.weight_numel(), 0), db = filled(s.m, 0);
    for (auto _ : st) r.fn(s, x.data(), dy.data(), dw.data(), db.data(), false);
  });
  register_rows("conv2d_bwd", conv2d_bwd_kernels(), [](benchmark::State& st, const Conv2dBwdKernel& r, const ConvShape& s) {
    auto x = filled(s.input_numel(), 0.5f), dy = filled(s.output_numel(), 0.01f);
    auto w = filled(s.weight_numel(), 0.01f), dx = filled(s.input_numel(), 0);
    auto dw = filled(s.weight_numel(), 0), db = filled(s.m, 0);
    for (auto _ : st) r.fn(s, x.data(), dy.data(), w.data(), dx.data(), dw.data(), db.data(), false);
  });
  // Pooling rows on Xception's 3x3 stride-2 maxpools (entry and exit flow).
  for (const Pool2dFwdKernel& row : pool2d_fwd_kernels()) {
    if (row.is_reference() || !isa_available(row.isa)) continue;
    for (auto [hw, c] : {std::pair<int64_t, int64_t>{147, 128}, {74, 256}, {37, 728}, {19, 1024}}) {
      const ConvShape s =
          make_conv_shape("maxpool", 1, hw, hw, c, conv_params(c, 3, 2, Padding::same(), c));
      const std::string name = "pool2d_fwd/" + std::string(row.name) + "/" + s.to_string();
      benchmark::RegisterBenchmark(name.c_str(), [&row, s](benchmark::State& st) {
        auto x = filled(s.input_numel(), 0.5f), y = filled(s.output_numel(), 0);
        for (auto _ : st) row.fn(s, PoolMode::max, x.data(), y.data());
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

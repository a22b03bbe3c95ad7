// Depthwise convolution rows of the kernel table (every dwconv2d_* row this CPU runs) on
// the depthwise layers of Xception and MobileNet v1, batch 1, at 1 and 2 threads
// (backward rows too: the same counters, bytes of dy + dx + w or x + dy + dw).
// Depthwise layers do 9 MACs per output, so they are bound by memory, not arithmetic:
// GB/s (input + output + weights, bytes moved once per call) is the figure to read;
// GFLOP/s counts 2 FLOP per MAC.
// Run: build/xcept_bench --benchmark_filter='dwconv2d_fwd.*nthreads:1'
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

namespace xcept::bench {
namespace {

struct DwLayer {
  const char* name;
  int64_t hw, c, stride;
};

// Input size, channels and stride of each depthwise 3x3 'same' layer.
const DwLayer kDwLayers[] = {
    {"xception/147x147x128_s1", 147, 128, 1},  // entry block 2
    {"xception/74x74x256_s1", 74, 256, 1},     // entry block 3
    {"xception/37x37x728_s1", 37, 728, 1},     // entry block 4
    {"xception/19x19x728_s1", 19, 728, 1},     // middle flow
    {"xception/19x19x1024_s1", 19, 1024, 1},   // exit flow
    {"mobilenet/112x112x32_s1", 112, 32, 1},
    {"mobilenet/112x112x64_s2", 112, 64, 2},
    {"mobilenet/56x56x128_s1", 56, 128, 1},
    {"mobilenet/56x56x128_s2", 56, 128, 2},
    {"mobilenet/28x28x256_s1", 28, 256, 1},
    {"mobilenet/28x28x256_s2", 28, 256, 2},
    {"mobilenet/14x14x512_s1", 14, 512, 1},
    {"mobilenet/7x7x1024_s1", 7, 1024, 1},
};

ConvShape dw_shape(const DwLayer& l) {
  return make_conv_shape("bench", 1, l.hw, l.hw, l.c,
                         conv_params(l.c, 3, l.stride, Padding::same(), l.c));
}

std::vector<float> filled(int64_t n, float v) { return std::vector<float>(size_t(n), v); }

void set_counters(benchmark::State& st, const ConvShape& s) {
  const double macs = double(s.output_numel()) * double(s.kh * s.kw);
  const double bytes = 4.0 * double(s.input_numel() + s.output_numel() + s.weight_numel());
  using C = benchmark::Counter;
  st.counters["GFLOP/s"] = C(2 * macs * 1e-9, C::kIsIterationInvariantRate);
  st.counters["GB/s"] = C(bytes * 1e-9, C::kIsIterationInvariantRate);
}

bool is_dw_row(const char* name) { return std::strncmp(name, "dwconv2d_", 9) == 0; }

template <typename Row, typename Body>
void register_rows(std::span<const Row> rows, Body body) {
  for (const Row& row : rows) {
    if (!is_dw_row(row.name) || !isa_available(row.isa)) continue;
    for (const DwLayer& layer : kDwLayers) {
      const ConvShape s = dw_shape(layer);
      if (!row.supports(s)) continue;
      for (int threads : {1, 2}) {
        const std::string name = std::string(row.name) + "/" + layer.name +
                                 "/nthreads:" + std::to_string(threads);
        auto run = [&row, s, threads, body](benchmark::State& st) {
          const int saved = num_threads();
          set_num_threads(threads);
          body(st, row, s);
          set_num_threads(saved);
          set_counters(st, s);
        };
        benchmark::RegisterBenchmark(name.c_str(), run)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
  }
}

void run_fwd(benchmark::State& st, const Conv2dFwdKernel& r, const ConvShape& s) {
  auto x = filled(s.input_numel(), 0.5f), w = filled(s.weight_numel(), 0.01f);
  auto y = filled(s.output_numel(), 0);
  for (auto _ : st) r.fn(s, x.data(), w.data(), nullptr, y.data());
}

void run_bwd_data(benchmark::State& st, const Conv2dBwdDataKernel& r, const ConvShape& s) {
  auto dy = filled(s.output_numel(), 0.5f), w = filled(s.weight_numel(), 0.01f);
  auto dx = filled(s.input_numel(), 0);
  for (auto _ : st) r.fn(s, dy.data(), w.data(), dx.data());
}

void run_bwd_filter(benchmark::State& st, const Conv2dBwdFilterKernel& r, const ConvShape& s) {
  auto x = filled(s.input_numel(), 0.5f), dy = filled(s.output_numel(), 0.01f);
  auto dw = filled(s.weight_numel(), 0), db = filled(s.m, 0);
  for (auto _ : st) r.fn(s, x.data(), dy.data(), dw.data(), db.data(), false);
}

const bool registered = [] {
  register_rows(conv2d_fwd_kernels(), run_fwd);
  register_rows(conv2d_bwd_data_kernels(), run_bwd_data);
  register_rows(conv2d_bwd_filter_kernels(), run_bwd_filter);
  return true;
}();

}  // namespace
}  // namespace xcept::bench

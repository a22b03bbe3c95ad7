// Layer-level timings: activation kernels (memory bound: read GB/s) and SeparableConv2d
// forward / forward+backward on Xception's middle-flow shape 19x19x728 -> 728, in both
// orders, so the layer overhead (input cache copy, gradient accumulation, mid
// activation) can be read against the kernel benchmarks.
// Wall-clock time: the thread pool works off the main thread.
// Run: build/xcept_bench --benchmark_filter='activation|separable'
#include <benchmark/benchmark.h>

#include <random>

#include "kernels/activation_f32.h"
#include "layers/separable_conv2d.h"

namespace xcept::bench {
namespace {

Tensor random_tensor(Dims dims, uint32_t seed) {
  Tensor t(std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

// 8 images of the middle flow: 2.1M floats, larger than L2.
constexpr int64_t kActNumel = 8 * 19 * 19 * 728;

void BM_activation_fwd(benchmark::State& state, Act a) {
  Tensor x = random_tensor({kActNumel}, 1), y({kActNumel});
  for (auto _ : state) {
    activation_fwd_f32(a, x.data(), y.data(), kActNumel);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * kActNumel * 8);  // read x, write y
}

void BM_activation_bwd(benchmark::State& state, Act a) {
  Tensor x = random_tensor({kActNumel}, 1), y({kActNumel}), dy = random_tensor({kActNumel}, 2),
         dx({kActNumel});
  activation_fwd_f32(a, x.data(), y.data(), kActNumel);
  for (auto _ : state) {
    activation_bwd_f32(a, y.data(), dy.data(), dx.data(), kActNumel);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * kActNumel * 12);  // read y, dy, write dx
}

BENCHMARK_CAPTURE(BM_activation_fwd, relu, Act::relu())->UseRealTime();
BENCHMARK_CAPTURE(BM_activation_fwd, relu6, Act::relu6())->UseRealTime();
BENCHMARK_CAPTURE(BM_activation_fwd, elu, Act::elu())->UseRealTime();
BENCHMARK_CAPTURE(BM_activation_bwd, relu, Act::relu())->UseRealTime();
BENCHMARK_CAPTURE(BM_activation_bwd, relu6, Act::relu6())->UseRealTime();
BENCHMARK_CAPTURE(BM_activation_bwd, elu, Act::elu())->UseRealTime();

SeparableConv2d middle_flow(SeparableOrder order, Act mid) {
  SeparableConv2dOptions o;
  o.out_channels = 728;
  o.window = ConvWindow::square(3, 1, Padding::same());
  o.order = order;
  o.mid_activation = mid;
  o.has_bias = false;
  return SeparableConv2d("block5_sepconv1", 728, o, 1);
}

// MACs per image: 19*19*728*(9 + 728).
constexpr double kMiddleFlowMacs = 19.0 * 19 * 728 * (9 + 728);

void BM_separable_fwd(benchmark::State& state, SeparableOrder order, Act mid) {
  SeparableConv2d l = middle_flow(order, mid);
  Tensor x = random_tensor({1, 19, 19, 728}, 3);
  for (auto _ : state) benchmark::DoNotOptimize(l.forward(x).data());
  state.counters["GFLOP/s"] = benchmark::Counter(2 * kMiddleFlowMacs * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}

void BM_separable_fwd_bwd(benchmark::State& state, SeparableOrder order, Act mid) {
  SeparableConv2d l = middle_flow(order, mid);
  Tensor x = random_tensor({1, 19, 19, 728}, 3), dy = random_tensor({1, 19, 19, 728}, 4);
  for (auto _ : state) {
    l.forward(x);
    benchmark::DoNotOptimize(l.backward(dy).data());
  }
  // Backward is two convolutions' worth (data and filter) on top of the forward.
  state.counters["GFLOP/s"] = benchmark::Counter(6 * kMiddleFlowMacs * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_separable_fwd, dw_pw_none, SeparableOrder::depthwise_pointwise,
                  Act::none())->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_separable_fwd, pw_dw_relu, SeparableOrder::pointwise_depthwise,
                  Act::relu())->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_separable_fwd_bwd, dw_pw_none, SeparableOrder::depthwise_pointwise,
                  Act::none())->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_separable_fwd_bwd, pw_dw_relu, SeparableOrder::pointwise_depthwise,
                  Act::relu())->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace xcept::bench

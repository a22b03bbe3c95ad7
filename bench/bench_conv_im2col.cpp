// The im2col convolution on the network stems and on conv-mobilenet's full 3x3 layers,
// at 1 and 2 threads, next to one plain gemm() of the same [P x K] * [K x M] product on
// a ready-made patch matrix: the gap is what im2col and tiling cost. GFLOP/s counts 2
// FLOP per MAC, padding taps included (im2col multiplies them too).
// Run: build/xcept_bench --benchmark_filter=conv_im2col
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/threadpool.h"
#include "kernels/kernels.h"

namespace xcept::bench {
namespace {

struct StemConv {
  const char* name;
  int64_t h, c, m, stride;
  Padding pad;
};

const StemConv kStems[] = {
    {"xception_299x299x3_32_k3s2_valid", 299, 3, 32, 2, Padding::valid()},
    {"xception_149x149x32_64_k3_valid", 149, 32, 64, 1, Padding::valid()},
    {"conv_mobilenet_112x112x32_64_k3_same", 112, 32, 64, 1, Padding::same()},
    // Deeper full convolutions of conv-mobilenet: weights outgrow the patch tiles.
    {"conv_mobilenet_56x56x128_128_k3_same", 56, 128, 128, 1, Padding::same()},
    {"conv_mobilenet_14x14x512_512_k3_same", 14, 512, 512, 1, Padding::same()},
    {"conv_mobilenet_7x7x1024_1024_k3_same", 7, 1024, 1024, 1, Padding::same()},
};

ConvShape stem_shape(const StemConv& sc) {
  return make_conv_shape("bench", 1, sc.h, sc.h, sc.c, conv_params(sc.m, 3, sc.stride, sc.pad));
}

double flop(const ConvShape& s) {
  return 2.0 * double(s.output_numel()) * double(s.kh * s.kw * s.cg());
}

void set_rate(benchmark::State& st, double f) {
  st.counters["GFLOP/s"] = benchmark::Counter(f * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const StemConv& sc : kStems) {
    for (int threads : {1, 2}) {
      std::string base = std::string("conv_im2col/") + sc.name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark((base + "/conv2d_fwd_im2col").c_str(), [sc, threads](benchmark::State& st) {
        const ConvShape s = stem_shape(sc);
        std::vector<float> x(size_t(s.input_numel()), 0.5f), w(size_t(s.weight_numel()), 0.01f);
        std::vector<float> b(size_t(s.m), 0.1f), y(size_t(s.output_numel()));
        const int saved = num_threads();
        set_num_threads(threads);
        for (auto _ : st) conv2d_fwd_im2col_nhwc_f32(s, x.data(), w.data(), b.data(), y.data());
        set_num_threads(saved);
        set_rate(st, flop(s));
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
      benchmark::RegisterBenchmark((base + "/gemm_bound").c_str(), [sc, threads](benchmark::State& st) {
        const ConvShape s = stem_shape(sc);
        GemmShape g;
        g.m = s.n * s.ho * s.wo, g.n = s.m, g.k = s.kh * s.kw * s.c;
        g.lda = g.k, g.ldb = g.n, g.ldc = g.n;
        std::vector<float> a(size_t(g.m * g.k), 0.5f), w(size_t(g.k * g.n), 0.01f), c(size_t(g.m * g.n));
        const int saved = num_threads();
        set_num_threads(threads);
        for (auto _ : st) gemm(g, a.data(), w.data(), c.data());
        set_num_threads(saved);
        set_rate(st, flop(s));
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

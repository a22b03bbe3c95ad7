// Every gemm row of the kernel table whose ISA this CPU runs, on the pointwise (1x1)
// convolutions of Xception and MobileNet seen as GEMMs (m = pixels, n = out channels,
// k = in channels), at 1 and 2 threads, with B packed once ("gemm_prepacked_b/"), and the
// gemm_bf16 rows on the inference shapes ("gemm_bf16/").
// GFLOP/s counts 2*m*n*k per call.
// Run: build/xcept_bench --benchmark_filter=gemm/
#include <benchmark/benchmark.h>

#include <new>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/tensor.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

namespace xcept::bench {
namespace {

struct NamedGemm {
  const char* name;
  int64_t m, n, k;
  bool trans_a = false, trans_b = false;
};

GemmShape gemm_shape(const NamedGemm& g) {
  GemmShape s;
  s.m = g.m, s.n = g.n, s.k = g.k;
  s.trans_a = g.trans_a, s.trans_b = g.trans_b;
  s.lda = g.trans_a ? g.m : g.k;
  s.ldb = g.trans_b ? g.k : g.n;
  s.ldc = g.n;
  return s;
}

const NamedGemm kShapes[] = {
    {"xception_middle_19x19x728_728", 19 * 19, 728, 728},
    {"xception_exit_10x10x1536_2048", 10 * 10, 2048, 1536},
    {"mobilenet_112x112x32_64", 112 * 112, 64, 32},
    {"mobilenet_56x56x128_128", 56 * 56, 128, 128},
    {"mobilenet_14x14x512_512", 14 * 14, 512, 512},
    {"mobilenet_7x7x1024_1024", 7 * 7, 1024, 1024},
    // The backward passes of the 728-channel layer: dx = dy * W^T, dW = x^T * dy.
    {"xception_middle_bwd_data", 19 * 19, 728, 728, false, true},
    {"xception_middle_bwd_filter", 728, 728, 19 * 19, true, false},
    // Training: mini-xception's block2_sepconv2 pointwise at batch 128 (28x28x128 -> 128)
    // in its three passes, and a 7x7x256 -> 256 layer of its middle flow.
    {"train_b128_28x28x128_128", 128 * 28 * 28, 128, 128},
    {"train_b128_28x28x128_128_bwd_data", 128 * 28 * 28, 128, 128, false, true},
    {"train_b128_28x28x128_128_bwd_filter", 128, 128, 128 * 28 * 28, true, false},
    {"train_b128_7x7x256_256", 128 * 7 * 7, 256, 256},
    {"train_b128_7x7x256_256_bwd_filter", 256, 256, 128 * 7 * 7, true, false},
};

void run_gemm(benchmark::State& st, const GemmKernel& row, const GemmShape& s, int threads) {
  const int saved = num_threads();
  set_num_threads(threads);
  // Tensors, as the layers pass them (large ones on huge pages, core/aligned_alloc.h).
  Tensor a({s.m, s.k}), b({s.k, s.n}), c({s.m, s.n});
  a.fill(0.5f), b.fill(0.01f);
  for (auto _ : st) {
    row.fn(s, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_num_threads(saved);
  st.counters["GFLOP/s"] = benchmark::Counter(2e-9 * double(s.m) * double(s.n) * double(s.k),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// The same products with B packed once (inference weights: GemmShape::b_prepacked).
void run_gemm_prepacked(benchmark::State& st, GemmShape s, int threads) {
  const int saved = num_threads();
  set_num_threads(threads);
  // Tensors, as the layers pass them (large ones on huge pages, core/aligned_alloc.h).
  Tensor a({s.m, s.k}), b({s.k, s.n}), c({s.m, s.n});
  a.fill(0.5f), b.fill(0.01f);
  const int64_t n = gemm_packed_b_floats(s);
  float* packed = static_cast<float*>(::operator new[](size_t(n) * sizeof(float), std::align_val_t(64)));
  gemm_pack_b(s, b.data(), packed);
  s.b_prepacked = true;
  for (auto _ : st) {
    gemm(s, a.data(), packed, c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  ::operator delete[](packed, std::align_val_t(64));
  set_num_threads(saved);
  st.counters["GFLOP/s"] = benchmark::Counter(2e-9 * double(s.m) * double(s.n) * double(s.k),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered_prepacked = [] {
  for (const NamedGemm& g : kShapes) {
    if (g.trans_a) continue;  // weights are B; backward filter has no constant operand
    for (int threads : {1, 2}) {
      std::string name = std::string("gemm_prepacked_b/") + g.name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), [s = gemm_shape(g), threads](benchmark::State& st) {
        run_gemm_prepacked(st, s, threads);
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  }
  return true;
}();

// A gemm_bf16 row: B rounded and packed once, A rounded per call (as inference runs it).
void run_gemm_bf16(benchmark::State& st, const Bf16GemmKernel& row, const GemmShape& s,
                   int threads) {
  const int saved = num_threads();
  set_num_threads(threads);
  Tensor a({s.m, s.k}), b({s.k, s.n}), c({s.m, s.n});
  a.fill(0.5f), b.fill(0.01f);
  const PackedBf16Matrix packed = pack_bf16_b(s.k, s.n, b.data(), s.n);
  const Bf16GemmShape shape{s.m, s.k, s.n};
  for (auto _ : st) {
    row.fn(shape, a.data(), s.k, packed, c.data(), s.n, nullptr);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_num_threads(saved);
  st.counters["GFLOP/s"] = benchmark::Counter(2e-9 * double(s.m) * double(s.n) * double(s.k),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered_bf16 = [] {
  for (const Bf16GemmKernel& row : gemm_bf16_kernels()) {
    if (row.is_reference() || !isa_available(row.isa)) continue;
    for (const NamedGemm& g : kShapes) {
      if (g.trans_a || g.trans_b) continue;  // inference: weights are a plain B
      const GemmShape s = gemm_shape(g);
      if (!row.supports({s.m, s.k, s.n})) continue;
      for (int threads : {1, 2}) {
        std::string name = std::string("gemm_bf16/") + row.name + "/" + g.name + "/threads:" +
                           std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), [&row, s, threads](benchmark::State& st) {
          run_gemm_bf16(st, row, s, threads);
        })->Unit(benchmark::kMicrosecond)->UseRealTime();
      }
    }
  }
  return true;
}();

const bool registered = [] {
  for (const GemmKernel& row : gemm_kernels()) {
    if (row.is_reference() || !isa_available(row.isa)) continue;  // _ref is too slow to time
    for (const NamedGemm& g : kShapes)
      for (int threads : {1, 2}) {
        if (!row.supports(gemm_shape(g))) continue;
        std::string name = std::string("gemm/") + row.name + "/" + g.name + "/threads:" +
                           std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), [&row, s = gemm_shape(g), threads](benchmark::State& st) {
          run_gemm(st, row, s, threads);
        })->Unit(benchmark::kMicrosecond)->UseRealTime();
      }
  }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

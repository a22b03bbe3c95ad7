// The peak probe's driver and its portable loop (the AVX files hold the others).
#include "kernels/fma_peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/threadpool.h"

namespace xcept {

// Eight independent chains; without -mfma the compiler emits separate multiplies and
// adds, which is what portable code gets.
int64_t fma_loop_f32_generic(int64_t iterations, float* sink) {
  constexpr int kChains = 8;
  float acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = 1.0f + 0.125f * float(j);
  const float a = 0.9999f, b = 1e-4f;  // converges to 1: no overflow, no denormals
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kChains; ++j) acc[j] = acc[j] * a + b;
  float s = 0;
  for (int j = 0; j < kChains; ++j) s += acc[j];
  *sink = s;
  return iterations * kChains * 2;
}

double measure_fma_peak_gflops(int threads) { return measure_fma_peak_gflops(threads, max_isa()); }

namespace {

// GFLOP/s of `loop` run by `threads` threads at once.
double measure_loop_gflops(int64_t (*loop)(int64_t, float*), int threads) {
  threads = std::clamp(threads, 1, num_threads());
  // Calibrate on one thread to ~20 ms, then time all threads together, best of five.
  float sink = 0;
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(iterations, &sink);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.02 || iterations > (int64_t{1} << 34)) break;
    iterations *= s < 0.002 ? 8 : 2;
  }
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::atomic<int64_t> flops{0};
    const auto t0 = std::chrono::steady_clock::now();
    // One loop per thread, all at once: parallel_for's chunks could let one thread run two.
    parallel_run_each(threads, [&](int) {
      float local = 0;
      flops += loop(iterations, &local);
      if (local == 12345.0f) flops += 1;  // keeps `local` alive
    });
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(flops.load()) / s * 1e-9);
  }
  return best;
}

}  // namespace

double measure_fma_peak_gflops(int threads, Isa isa) {
  int64_t (*loop)(int64_t, float*) = fma_loop_f32_generic;
  if (isa >= Isa::avx512 && isa_available(Isa::avx512))
    loop = fma_loop_f32_avx512;
  else if (isa >= Isa::avx2 && isa_available(Isa::avx2))
    loop = fma_loop_f32_avx2;
  return measure_loop_gflops(loop, threads);
}

double measure_bf16_dot_peak_gflops(int threads) {
  if (!isa_available(Isa::avx512) || !cpu_has_avx512_bf16()) return 0;
  return measure_loop_gflops(bf16_dot_loop_avx512bf16, threads);
}

}  // namespace xcept

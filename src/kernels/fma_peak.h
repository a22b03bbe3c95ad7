// How fast this machine can multiply-add, measured: an FMA loop with enough independent
// accumulators to fill every pipe, run on the thread pool. Benchmarks report layers as a
// percentage of it, so "% of peak" is against what the cores really sustain (clocks,
// turbo, a shared host) rather than a spec sheet.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace xcept {

// Runs `iterations` rounds of the ISA's FMA loop on one thread; returns the floating-point
// operations done (2 per lane per FMA). The result of the arithmetic goes to *sink so the
// compiler cannot drop the loop.
int64_t fma_loop_f32_generic(int64_t iterations, float* sink);
int64_t fma_loop_f32_avx2(int64_t iterations, float* sink);
int64_t fma_loop_f32_avx512(int64_t iterations, float* sink);

// GFLOP/s of float32 FMAs with `threads` threads of the pool (capped at its size), on the
// best ISA max_isa() allows (or `isa` when given). Best of five short runs (~0.1 s).
double measure_fma_peak_gflops(int threads);
double measure_fma_peak_gflops(int threads, Isa isa);

// The same for AVX512_BF16's dot product (4 FLOP per lane per vdpbf16ps); 0 where the CPU
// lacks it. Its ratio to the f32 peak is what bf16 can gain on this CPU.
int64_t bf16_dot_loop_avx512bf16(int64_t iterations, float* sink);
double measure_bf16_dot_peak_gflops(int threads);

}  // namespace xcept

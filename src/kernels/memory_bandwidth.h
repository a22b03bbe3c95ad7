// How fast this machine moves memory, measured: the other half of a roofline (FMA peak,
// kernels/fma_peak.h, is the first). A layer's reading divides the FLOPs it does by the
// bytes it must move at least; below peak / bandwidth FLOP per byte it is memory-bound.
#pragma once

#include <cstdint>

namespace xcept {

// GB/s (1e9 bytes) of copying a buffer far larger than the caches with `threads`
// threads of the pool, each a slice: bytes read plus bytes written, as STREAM's copy
// counts. Best of three passes over `bytes` (default 64 MiB per side); ~0.1 s.
double measure_memory_bandwidth_gbs(int threads, int64_t bytes = int64_t{64} << 20);

}  // namespace xcept

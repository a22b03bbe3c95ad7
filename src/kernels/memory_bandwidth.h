// How fast this machine moves data, measured at each level a layer's working set may
// live in: the memory half of a roofline (the FMA peak, kernels/fma_peak.h, is the
// other). A layer doing fewer FLOPs per byte than peak / bandwidth of the level holding
// its data is memory-bound.
#pragma once

#include <cstdint>

namespace xcept {

// Bytes of the caches as the OS reports them (sysconf); 0 when it does not say.
struct CacheSizes {
  int64_t l2 = 0;   // per core
  int64_t llc = 0;  // last level (L3, shared), or L2 when there is no L3
};
CacheSizes cache_sizes();

// GB/s (1e9 bytes) of copying with `threads` threads of the pool, each its own slice of
// a working set of `working_set` bytes (source and destination together), counting bytes
// read plus bytes written as STREAM's copy does. Passes repeat until ~256 MiB have
// moved; best of three. A working set inside a cache measures that cache.
double measure_copy_bandwidth_gbs(int threads, int64_t working_set);

}  // namespace xcept

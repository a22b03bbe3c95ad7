// What layers really cost on this machine, beside what the formulas say: median time per
// layer, the GFLOP/s it reached, the bytes it must move at least, and a roofline reading
// against the level of the memory hierarchy its working set fits in (a hierarchical
// roofline: at batch 1 most layers of a small network live in the caches).
// Latency does not follow MACs: a depthwise layer does few FLOPs per byte it moves, so
// memory holds it back long before the FMA units do; a pointwise layer is a GEMM that can
// approach the FMA peak. The roofline says which bound applies and how close a layer gets.
//
// Benchmarks, not tests: timings vary with the machine and its load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/summary.h"
#include "xcept/types.h"

namespace xcept {

// One level data may live in, with the copy bandwidth measured there.
struct MemoryLevel {
  std::string name;            // "L2", "L3", "DRAM"
  int64_t capacity_bytes = 0;  // working sets up to this size are served here (0: any size)
  double bandwidth_gbs = 0;
};

// The machine's roofs, measured: the FMA peak, and the bandwidth of each level of the
// memory hierarchy (a copy within the caches' sizes, and one far larger), on `threads`
// threads (0: num_threads()). Under a second.
struct Roofline {
  double peak_gflops = 0;
  std::vector<MemoryLevel> memory;  // nearest first; the last holds any size
  int threads = 0;

  // The nearest level holding a working set of `bytes`.
  const MemoryLevel& level_for(int64_t bytes) const {
    for (const MemoryLevel& l : memory)
      if (l.capacity_bytes == 0 || bytes <= l.capacity_bytes) return l;
    return memory.back();
  }
  // FLOP per byte above which work on data at `level` is compute-bound.
  double ridge(const MemoryLevel& level) const {
    return level.bandwidth_gbs > 0 ? peak_gflops / level.bandwidth_gbs : 0;
  }
};
XCEPT_API Roofline measure_roofline(int threads = 0);

struct MeasureOptions {
  int64_t batch = 1;
  int warmup = 2;
  int repeats = 10;
};

// One timed thing: a program step (a layer, or layers fused into one) or a convolution
// type (its steps together).
struct MeasuredCost {
  std::string name;
  std::string op;      // what ran, e.g. "Conv2d dw3x3/2 +relu6"
  Dims output;         // whole batch, in the model's layout
  int64_t macs = 0;    // whole batch
  double ms = 0;       // median
  double gflops = 0;   // 2 * macs per second
  int64_t bytes = 0;   // the least it must move: inputs, parameters and output once each
  double flops_per_byte = 0;
  std::string memory_level;       // where `bytes` fit (Roofline::level_for)
  bool memory_bound = false;      // flops_per_byte below that level's ridge
  double fraction_of_bound = 0;   // gflops / min(peak, flops_per_byte * level bandwidth)
};

// Every step of a model as it runs (optimized: batch norm folded, activations fused).
// name_or_path as for summarize.
XCEPT_API std::vector<MeasuredCost> measure_model(const std::string& name_or_path,
                                                  const MeasureOptions& options,
                                                  const Roofline& roofline,
                                                  const ZooOptions& zoo = {},
                                                  const std::vector<Dims>& onnx_input_dims = {});

// Each member of the convolution family at one layer shape, in conv_family_costs' order.
XCEPT_API std::vector<MeasuredCost> measure_conv_family(const ConvQuery& query,
                                                        const MeasureOptions& options,
                                                        const Roofline& roofline);

}  // namespace xcept

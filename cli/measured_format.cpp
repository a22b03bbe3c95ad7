#include "cli/measured_format.h"

#include <fmt/format.h>

#include "cli/format.h"

namespace xcept::cli {

std::string roofline_line(const Roofline& r, const MeasureOptions& o) {
  std::string levels;
  for (const MemoryLevel& l : r.memory)
    levels += fmt::format("{}{} {:.1f} GB/s{}", levels.empty() ? "" : ", ", l.name, l.bandwidth_gbs,
                          l.capacity_bytes ? fmt::format(" (up to {} MiB)", l.capacity_bytes >> 20) : "");
  return fmt::format(
      "measured on {} thread(s), batch {}, median of {} runs\n"
      "roofline: FMA peak {:.1f} GFLOP/s; copy bandwidth {}\n"
      "a step is read against the nearest level its bytes fit in; below peak / bandwidth "
      "FLOP per byte it is memory-bound there\n",
      r.threads, o.batch, o.repeats, r.peak_gflops, levels);
}

std::string measured_header() {
  return fmt::format("{:>9} {:>8} {:>13} {:>7} {:>12} {:>8}", "ms", "GFLOP/s", "bytes", "FLOP/B",
                     "bound", "% bound");
}

std::string measured_cells(const MeasuredCost& c) {
  return fmt::format("{:>9.3f} {:>8.1f} {:>13} {:>7.2f} {:>12} {:>7.1f}%", c.ms, c.gflops,
                     with_commas(c.bytes), c.flops_per_byte,
                     c.memory_bound ? "memory " + c.memory_level : std::string("compute"),
                     100 * c.fraction_of_bound);
}

}  // namespace xcept::cli

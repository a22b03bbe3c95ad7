// `xcept bench-allreduce`: the time of one all-reduce (sum of floats, in place, the way
// data-parallel training reduces a gradient bucket) per bucket size, run under mpirun:
//   mpirun -np 2 build/xcept bench-allreduce
// Each size is timed `--repeats` times after a warm-up, every repeat starting together
// (a one-double all-reduce lines the ranks up); the median over repeats is averaged over
// the ranks. Bus bandwidth is ring all-reduce's 2(N-1)/N * bytes / time: the bytes each
// rank's link carries (docs/distributed.md).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.h"
#include "train/mpi_comm.h"

namespace xcept::cli {

namespace {

struct AllreduceOptions {
  std::vector<int64_t> sizes_kb = {4, 16, 64, 256, 1024, 4096, 16384, 65536};
  int repeats = 20;
  bool json = false;
};

double time_one(MpiComm& comm, std::vector<float>& buf) {
  double sync = 0;
  comm.allreduce_sum(&sync, 1, "the bench's start line");
  const auto t0 = std::chrono::steady_clock::now();
  comm.start_allreduce_sum(buf.data(), int64_t(buf.size()), "the bench's all-reduce");
  comm.wait_all();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void run_bench_allreduce(const AllreduceOptions& o) {
  MpiComm comm(120);
  const int n = comm.size();
  nlohmann::json rows = nlohmann::json::array();
  if (comm.rank() == 0 && !o.json)
    fmt::print("all-reduce (float sum, in place) on {} ranks, median of {} repeats\n"
               "{:>10} {:>10} {:>12}\n", n, o.repeats, "bucket", "ms", "bus GB/s");
  for (int64_t kb : o.sizes_kb) {
    std::vector<float> buf(size_t(kb * 1024 / 4), 1.f);
    time_one(comm, buf);  // warm-up: connections, buffers
    std::vector<double> ms;
    for (int r = 0; r < o.repeats; ++r) ms.push_back(time_one(comm, buf));
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    double median = ms[ms.size() / 2];
    comm.allreduce_sum(&median, 1, "the bench's result");
    median /= n;
    const double bytes = double(kb) * 1024;
    const double bus_gbs = n > 1 ? 2.0 * (n - 1) / n * bytes / (median * 1e-3) / 1e9 : 0;
    rows.push_back({{"bytes", int64_t(bytes)}, {"ms", median}, {"bus_gb_per_s", bus_gbs}});
    if (comm.rank() == 0 && !o.json)
      fmt::print("{:>8} KB {:>10.4f} {:>12.2f}\n", kb, median, bus_gbs);
  }
  if (comm.rank() == 0 && o.json)
    fmt::print("{}\n", nlohmann::json{{"ranks", n}, {"sizes", rows}}.dump());
  comm.finish();
}

}  // namespace

void add_bench_allreduce_command(CLI::App& app) {
  auto o = std::make_shared<AllreduceOptions>();
  auto* b = app.add_subcommand(
      "bench-allreduce", "time one gradient-bucket all-reduce per size (run under mpirun)");
  b->add_option("--sizes-kb", o->sizes_kb, "bucket sizes in KB")->capture_default_str();
  b->add_option("--repeats", o->repeats, "timed repeats per size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  b->add_flag("--json", o->json, "one JSON object: {ranks, sizes: [{bytes, ms, bus_gb_per_s}]}");
  b->callback([o] { run_bench_allreduce(*o); });
}

}  // namespace xcept::cli

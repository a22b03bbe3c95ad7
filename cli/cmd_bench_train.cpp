// `xcept bench MODEL --train`: one full training step (forward, loss, backward, optimizer
// update, as train_step runs it in the trainer) on random data, timed over warm-up and
// repeats, with a per-layer table of forward, backward-data and backward-weights time.
//
// Counting: a convolution or dense layer of M multiply-adds per image does M*batch in
// each of its three passes; the step is credited 3 x the forward MACs, the convention
// of the papers' cost tables and of PyTorch comparisons. Utilisation is the process's CPU
// time over wall time times threads during the timed steps.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "api/model_source.h"
#include "cli/bench_options.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "core/clock.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threadpool.h"
#include "kernels/fma_peak.h"
#include "train/train_step.h"

namespace xcept::cli {

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return int64_t(u.ru_maxrss) * 1024;  // Linux reports KiB
}

struct LayerTimes {
  std::vector<double> fwd, bwd_data, bwd_weights;
};

}  // namespace

void run_bench_train(const BenchOptions& o) {
  if (o.batch <= 0) fail("--batch must be positive, got {}", o.batch);
  if (o.repeats <= 0) fail("--repeats must be positive, got {}", o.repeats);
  if (o.precision != "f32") fail("--train runs in f32; --precision {} is for inference", o.precision);
  const int threads = num_threads();
  ModelSource source = load_model_source(o.model, o.zoo);
  if (!source.graph) fail("{}: --train needs a zoo model or a checkpoint, not an ONNX file", o.model);
  Graph& g = *source.graph;
  std::unique_ptr<Optimizer> opt = make_optimizer(o.optimizer, o.optimizer_options);

  Dims in_dims{o.batch};
  for (int64_t d : g.node_dims(0)) in_dims.push_back(d);
  const int64_t classes = g.node_dims(g.output()).back();
  Tensor x(in_dims);
  std::vector<int32_t> labels(size_t(o.batch));
  SplitMix64 rng(uint64_t(o.zoo.seed));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(rng.uniform01());
  for (auto& l : labels) l = int32_t(rng.below(uint64_t(classes)));

  Tensor dlogits;
  for (int i = 0; i < o.warmup; ++i) train_step(g, *opt, x, labels, o.lr, 0.f, dlogits);

  // Whole steps unprofiled first (the clock reads of profiling are not free), then the
  // per-layer split in separate profiled steps.
  std::vector<double> total;
  const double cpu0 = cpu_seconds();
  const auto wall0 = Clock::now();
  for (int r = 0; r < o.repeats; ++r) {
    const auto t0 = Clock::now();
    train_step(g, *opt, x, labels, o.lr, 0.f, dlogits);
    total.push_back(ms_since(t0));
  }
  const double wall = ms_since(wall0) * 1e-3;
  const double utilisation = wall > 0 ? (cpu_seconds() - cpu0) / (wall * threads) : 0;

  g.set_profiling(true);
  std::vector<LayerTimes> per(size_t(g.num_nodes()));
  for (int r = 0; r < o.repeats; ++r) {
    train_step(g, *opt, x, labels, o.lr, 0.f, dlogits);
    for (NodeId n = 0; n < g.num_nodes(); ++n) {
      const Layer* l = g.layer(n);
      if (!l) continue;
      const double w = l->last_backward_weights_ms();
      per[n].fwd.push_back(g.node_forward_ms(n));
      per[n].bwd_data.push_back(g.node_backward_ms(n) - w);
      per[n].bwd_weights.push_back(w);
    }
  }
  g.set_profiling(false);

  const double peak = measure_fma_peak_gflops(threads);
  const double med = median(total);
  const auto [mn, mx] = std::minmax_element(total.begin(), total.end());
  int64_t macs = 0;
  for (NodeId n = 0; n < g.num_nodes(); ++n)
    if (g.layer(n)) macs += g.layer(n)->macs();
  const int64_t step_macs = 3 * macs * o.batch;
  auto gflops = [](int64_t m, double ms) { return ms > 0 ? 2.0 * double(m) / ms * 1e-6 : 0.0; };
  auto pct = [&](double gf) { return peak > 0 ? 100 * gf / peak : 0.0; };
  const double images_per_s = med > 0 ? double(o.batch) * 1e3 / med : 0.0;
  struct LayerRow {
    NodeId node;
    const Layer* layer;
    int64_t macs;       // for the whole batch, forward and backward-weights
    int64_t data_macs;  // backward-data: none for a layer reading the network input
    double fwd, bwd_data, bwd_weights;  // median ms
  };
  std::vector<LayerRow> rows;
  for (NodeId n = 0; n < g.num_nodes(); ++n)
    if (const Layer* l = g.layer(n)) {
      const auto& in = g.node_inputs(n);
      const bool reads_input = std::find(in.begin(), in.end(), NodeId(0)) != in.end();
      rows.push_back({n, l, l->macs() * o.batch, reads_input ? 0 : l->macs() * o.batch,
                      median(per[n].fwd), median(per[n].bwd_data), median(per[n].bwd_weights)});
    }

  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["mode"] = "train";
    j["input"] = in_dims;
    j["batch"] = o.batch;
    j["threads"] = threads;
    j["optimizer"] = o.optimizer;
    j["isa"] = isa_name(max_isa());
    j["cpu"] = cpu_model_name();
    j["repeats"] = o.repeats;
    j["median_ms"] = med;
    j["min_ms"] = *mn;
    j["max_ms"] = *mx;
    j["images_per_s"] = images_per_s;
    j["forward_macs_per_image"] = macs;
    j["gflops"] = gflops(step_macs, med);
    j["peak_gflops"] = peak;
    j["percent_of_peak"] = pct(gflops(step_macs, med));
    j["cpu_utilisation"] = utilisation;
    j["peak_rss_bytes"] = peak_rss_bytes();
    j["layers"] = nlohmann::json::array();
    for (const LayerRow& r : rows)
      j["layers"].push_back({{"name", g.node_name(r.node)},
                             {"type", r.layer->type()},
                             {"macs", r.macs},
                             {"forward_ms", r.fwd},
                             {"backward_data_ms", r.bwd_data},
                             {"backward_weights_ms", r.bwd_weights},
                             {"forward_gflops", gflops(r.macs, r.fwd)},
                             {"backward_data_gflops", gflops(r.data_macs, r.bwd_data)},
                             {"backward_weights_gflops", gflops(r.macs, r.bwd_weights)}});
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("{} training step on {}, {} thread(s), {}, {} kernels, {}\n\n", o.model,
             dims_to_string(in_dims), threads, o.optimizer, isa_name(max_isa()),
             cpu_model_name());
  fmt::print("{:<30} {:<16} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}\n", "layer", "type", "fwd ms",
             "bwd-d ms", "bwd-w ms", "fwd %pk", "bwd-d %", "bwd-w %");
  double sum_f = 0, sum_d = 0, sum_w = 0;
  for (const LayerRow& r : rows) {
    sum_f += r.fwd, sum_d += r.bwd_data, sum_w += r.bwd_weights;
    auto cell = [&](int64_t macs, double ms) {
      return macs > 0 && ms > 0 ? fmt::format("{:>6.1f}%", pct(gflops(macs, ms)))
                                : std::string(7, ' ');
    };
    fmt::print("{:<30} {:<16} {:>8.3f} {:>8.3f} {:>8.3f} {} {} {}\n", g.node_name(r.node),
               r.layer->type(), r.fwd, r.bwd_data, r.bwd_weights, cell(r.macs, r.fwd),
               cell(r.data_macs, r.bwd_data), cell(r.macs, r.bwd_weights));
  }
  fmt::print("{:<30} {:<16} {:>8.3f} {:>8.3f} {:>8.3f}\n", "sum of layers", "", sum_f, sum_d,
             sum_w);
  fmt::print("(per-layer times run the backward passes apart to split them; the steps below "
             "run a pointwise layer's two in one sweep)\n");
  fmt::print("\nstep          median {:.2f} ms  min {:.2f}  max {:.2f}  ({} steps after {} warm-up)\n",
             med, *mn, *mx, o.repeats, o.warmup);
  fmt::print("throughput    {:.1f} images/s\n", images_per_s);
  fmt::print("compute       3 x {} MACs per image, {:.1f} GFLOP/s = {:.1f}% of the measured FMA "
             "peak ({:.1f} GFLOP/s on {} thread(s))\n",
             with_commas(macs), gflops(step_macs, med), pct(gflops(step_macs, med)), peak, threads);
  fmt::print("threads       {:.0f}% utilisation (CPU time / wall time / threads)\n",
             100 * utilisation);
  fmt::print("memory        {} bytes peak resident\n", with_commas(peak_rss_bytes()));
}

}  // namespace xcept::cli

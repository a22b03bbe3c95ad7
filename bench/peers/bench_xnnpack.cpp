// Times an ONNX model in XNNPACK (Debian's libxnnpack-dev, subgraph API) on a fixed input.
//
//   bench_xnnpack MODEL.onnx [--batch 1] [--threads 1] [--input-size 224] [--channels 3]
//                 [--warmup 3] [--repeats 20] [--dump OUT.npy] [--dump-input IN.npy]
//
// A peer of bench_ort.js for bench/compare_peers.sh, and like it outside the xcept library:
// it links XNNPACK, pthreadpool and ONNX's protobuf classes, never libxcept. The ONNX graph
// becomes one NHWC subgraph (onnx_to_xnnpack.cpp, which lists the supported nodes); a node
// it cannot translate is an error naming the node, and the program exits with 1.
//
// The input is bench_ort.js's (the same LCG, the same float values, NCHW), converted to
// NHWC outside the timed region. Prints one JSON line: median/min/max/mean milliseconds of
// xnn_invoke_runtime over the repeats, after the warm-up runs. --dump writes the output (in
// ONNX's layout) and --dump-input the NCHW input as .npy, for a check against ONNX Runtime
// (bench/peers/check_xnnpack.sh). --threads 1 runs without a thread pool, as TFLite does.
#include <pthreadpool.h>
#include <sys/resource.h>
#include <xnnpack.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "onnx_to_xnnpack.h"

#ifndef BENCH_XNNPACK_VERSION
#define BENCH_XNNPACK_VERSION "unknown"
#endif

namespace {

// bench_ort.js's input: the same LCG in doubles (as JavaScript computes it), NCHW order.
std::vector<float> lcg_input(size_t n) {
  std::vector<float> data(n);
  double s = 12345;
  for (size_t i = 0; i < n; ++i) {
    s = std::fmod(s * 1103515245.0 + 12345.0, 4294967296.0);  // (s * a + c) >>> 0
    data[i] = float(double(uint32_t(s) >> 8) / double(1 << 24) * 2.0 - 1.0);
  }
  return data;
}

// [N, C, H, W] -> [N, H, W, C] when to_nhwc, else back.
std::vector<float> transpose(const std::vector<float>& x, size_t n, size_t c, size_t hw,
                             bool to_nhwc) {
  std::vector<float> y(x.size());
  for (size_t b = 0; b < n; ++b)
    for (size_t ch = 0; ch < c; ++ch)
      for (size_t p = 0; p < hw; ++p) {
        const size_t nchw = (b * c + ch) * hw + p, nhwc = (b * hw + p) * c + ch;
        if (to_nhwc)
          y[nhwc] = x[nchw];
        else
          y[nchw] = x[nhwc];
      }
  return y;
}

// A float32 .npy file, written to a temporary name and renamed.
void write_npy(const std::string& path, const Dims& dims, const float* data) {
  std::string shape;
  for (size_t d : dims) shape += std::to_string(d) + ", ";
  if (dims.size() > 1) shape.resize(shape.size() - 2);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    const uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.write(reinterpret_cast<const char*>(&len), 2);
    f << header;
    f.write(reinterpret_cast<const char*>(data), std::streamsize(count(dims) * sizeof(float)));
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

struct Options {
  std::string model, dump, dump_input;
  size_t batch = 1, threads = 1, input_size = 224, channels = 3, warmup = 3, repeats = 20;
};

int run(const Options& o) {
  onnx::ModelProto model;
  {
    std::ifstream in(o.model, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open");
    if (!model.ParseFromIstream(&in))
      throw std::runtime_error("not an ONNX model (protobuf parse failed)");
  }
  if (xnn_initialize(nullptr) != xnn_status_success)
    throw std::runtime_error("xnn_initialize failed");
  const XnnpackModel graph = onnx_to_xnnpack(model, o.batch, o.channels, o.input_size);

  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(
      o.threads > 1 ? pthreadpool_create(o.threads) : nullptr, &pthreadpool_destroy);
  if (o.threads > 1 && !pool) throw std::runtime_error("pthreadpool_create failed");
  xnn_runtime_t runtime_raw = nullptr;
  if (xnn_create_runtime_v2(graph.subgraph.get(), pool.get(), 0, &runtime_raw) !=
      xnn_status_success)
    throw std::runtime_error("xnn_create_runtime_v2 failed");
  std::unique_ptr<xnn_runtime, decltype(&xnn_delete_runtime)> runtime(runtime_raw,
                                                                      &xnn_delete_runtime);

  const Dims& in = graph.input_dims;
  const size_t hw = in[1] * in[2];
  const std::vector<float> nchw = lcg_input(count(in));
  std::vector<float> input = transpose(nchw, in[0], in[3], hw, true);
  input.resize(input.size() + XNN_EXTRA_BYTES / sizeof(float));  // XNNPACK may read past the end
  std::vector<float> output(count(graph.output_dims) + XNN_EXTRA_BYTES / sizeof(float));
  const xnn_external_value external[2] = {{XnnpackModel::kInputId, input.data()},
                                          {XnnpackModel::kOutputId, output.data()}};
  if (xnn_setup_runtime(runtime.get(), 2, external) != xnn_status_success)
    throw std::runtime_error("xnn_setup_runtime failed");

  auto invoke = [&] {
    if (xnn_invoke_runtime(runtime.get()) != xnn_status_success)
      throw std::runtime_error("xnn_invoke_runtime failed");
  };
  for (size_t i = 0; i < o.warmup; ++i) invoke();
  std::vector<double> ms;
  for (size_t i = 0; i < o.repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    invoke();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }

  if (!o.dump_input.empty()) write_npy(o.dump_input, {in[0], in[3], in[1], in[2]}, nchw.data());
  if (!o.dump.empty()) {
    const Dims& d = graph.output_dims;
    output.resize(count(d));
    if (d.size() == 4)
      write_npy(o.dump, {d[0], d[3], d[1], d[2]},
                transpose(output, d[0], d[3], d[1] * d[2], false).data());
    else
      write_npy(o.dump, d, output.data());
  }

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t r = sorted.size();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const nlohmann::json j = {
      {"runtime", "xnnpack"},
      {"version", BENCH_XNNPACK_VERSION},
      {"model", o.model},
      {"batch", o.batch},
      {"threads", o.threads},
      {"input", {in[0], in[3], in[1], in[2]}},
      {"warmup", o.warmup},
      {"repeats", o.repeats},
      {"xnn_nodes", graph.nodes},
      {"median_ms", r % 2 ? sorted[r / 2] : (sorted[r / 2 - 1] + sorted[r / 2]) / 2},
      {"min_ms", sorted.front()},
      {"max_ms", sorted.back()},
      {"mean_ms", std::accumulate(ms.begin(), ms.end(), 0.0) / double(r)},
      {"peak_rss_mb", double(usage.ru_maxrss) / 1024.0}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Times an ONNX model in XNNPACK (subgraph API, NHWC) on a fixed pseudo-random input"};
  app.add_option("model", o.model, "ONNX model (as exported by xcept)")->required();
  app.add_option("--batch", o.batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "threads (pthreadpool)")->check(CLI::Range(1, 256));
  app.add_option("--input-size", o.input_size, "input height and width")
      ->check(CLI::Range(1, 8192));
  app.add_option("--channels", o.channels, "input channels")->check(CLI::Range(1, 65536));
  app.add_option("--warmup", o.warmup, "untimed runs first")->check(CLI::Range(0, 100000));
  app.add_option("--repeats", o.repeats, "timed runs")->check(CLI::Range(1, 100000));
  app.add_option("--dump", o.dump, "write the output of the last run here (.npy, ONNX layout)");
  app.add_option("--dump-input", o.dump_input, "write the NCHW input here (.npy)");
  CLI11_PARSE(app, argc, argv);
  if (o.batch > 65536) {
    std::fprintf(stderr, "bench_xnnpack: --batch %zu is too large\n", o.batch);
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_xnnpack: %s: %s\n", o.model.c_str(), e.what());
    return 1;
  }
}
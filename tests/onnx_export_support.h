// Helpers for the ONNX export tests: a graph with every exportable layer type, parameter
// randomization (so biases and batch-norm statistics matter), layout conversion, and
// running a model in ONNX Runtime through bench/peers/ort_run.js when node and the
// onnxruntime-node package are installed.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "autograd/graph.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"

namespace xcept::test {

// Odd sizes, so 'same' padding is asymmetric and average pooling's edge windows are
// partial. Output: 7 logits.
inline Graph every_layer_graph(uint64_t seed = 7) {
  Graph g("every_layer", seed);
  NodeId x = g.input({9, 11, 4});
  NodeId c1 = g.add<Conv2dLayer>({x}, "conv1", ConvParams{8, 3, 3, 2, 2, 1, 1, Padding::same(), 1},
                                 true);  // {5,6,8}
  NodeId bn = g.add<BatchNorm>({c1}, "conv1_bn");
  NodeId r = g.add<ActivationLayer>({bn}, "conv1_relu", Act::relu());
  NodeId gc = g.add<Conv2dLayer>({r}, "grouped",
                                 ConvParams{8, 3, 3, 1, 1, 2, 2, Padding::same(), 2}, false);
  NodeId dw = g.add<Conv2dLayer>(
      {gc}, "dw_mult2", ConvParams{16, 3, 3, 1, 1, 1, 1, Padding::explicit_(1, 0, 2, 1), 8},
      true);  // {6,5,16}
  NodeId r6 = g.add<ActivationLayer>({dw}, "relu6", Act::relu6());
  NodeId pw = g.add<Conv2dLayer>({r6}, "pw", ConvParams{8, 1, 1, 1, 1, 1, 1, Padding::valid(), 1},
                                 true);
  NodeId sh = g.add<ChannelShuffle>({pw}, "shuffle", 4);
  NodeId el = g.add<ActivationLayer>({sh}, "elu", Act::elu(0.5f));
  SeparableConv2dOptions s1;
  s1.out_channels = 12;
  s1.window = ConvWindow::square(3, 2, Padding::same());
  s1.mid_activation = Act::relu();
  s1.depth_multiplier = 2;
  NodeId sep1 = g.add<SeparableConv2dLayer>({el}, "sep_dw_pw", s1);  // {3,3,12}
  SeparableConv2dOptions s2 = s1;
  s2.order = SeparableOrder::pointwise_depthwise;
  s2.mid_activation = Act::elu();
  s2.depth_multiplier = 1;
  NodeId sep2 = g.add<SeparableConv2dLayer>({el}, "sep_pw_dw", s2);
  NodeId mp = g.add<MaxPool2D>({el}, "maxpool", PoolWindow::square(3, 2, PadMode::same));
  NodeId pw3 = g.add<Conv2dLayer>({mp}, "pw3", ConvParams{12, 1, 1, 1, 1, 1, 1, Padding::valid(), 1},
                                  false);
  NodeId add = g.add<Add>({sep1, sep2, pw3}, "add3");
  NodeId ap = g.add<AvgPool2D>({add}, "avgpool", PoolWindow::square(3, 1, PadMode::same));
  NodeId cat = g.add<Concat>({ap, add}, "concat_maps");  // {3,3,24}
  NodeId gap = g.add<GlobalAvgPool2D>({cat}, "gap");
  NodeId fl = g.add<Flatten>({cat}, "flatten");  // NHWC order matters here
  // ShuffleNet v2's channel split and PyTorch's pooling rules: ceil_mode (6 rows -> 3,
  // the last window reaching past the end) and symmetric padding.
  NodeId split_a = g.add<ChannelSlice>({el}, "split_a", 0, 3);  // {6,5,3}
  NodeId split_b = g.add<ChannelSlice>({el}, "split_b", 3, 3);  // {6,5,3}; 6, 7 unread
  NodeId mp_ceil = g.add<MaxPool2D>({split_b}, "maxpool_ceil", PoolWindow::torch(3, 2, 0, true));
  NodeId ap_pad = g.add<AvgPool2D>({split_a}, "avgpool_pad1", PoolWindow::torch(3, 2, 1));
  NodeId gap_b = g.add<GlobalAvgPool2D>({mp_ceil}, "gap_b");
  NodeId gap_a = g.add<GlobalAvgPool2D>({ap_pad}, "gap_a");
  NodeId vec = g.add<Concat>({gap, fl, gap_b, gap_a}, "concat_vectors");
  NodeId bnv = g.add<BatchNorm>({vec}, "vector_bn");
  NodeId shv = g.add<ChannelShuffle>({bnv}, "vector_shuffle", 3);
  NodeId dr = g.add<Dropout>({shv}, "dropout", 0.5f, 1);
  NodeId fc = g.add<Dense>({dr}, "fc", 7);
  g.set_output(fc);
  return g;
}

// Biases, batch-norm scales, shifts and statistics get random values (the initial zeros
// and ones would hide mistakes in how they are exported); weights keep their init.
inline void randomize_state(Graph& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> sym(-0.5f, 0.5f), pos(0.5f, 1.5f);
  for (ParamRef& p : g.params()) {
    const std::string& n = p.name;
    auto ends = [&](const char* s) {
      std::string t(s);
      return n.size() >= t.size() && n.compare(n.size() - t.size(), t.size(), t) == 0;
    };
    if (ends(".gamma") || ends(".moving_variance"))
      for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] = pos(rng);
    else if (ends(".beta") || ends(".moving_mean") || ends(".bias"))
      for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] = sym(rng);
  }
}

inline Tensor random_tensor(Dims dims, uint32_t seed) {
  Tensor t(std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = d(rng);
  return t;
}

inline Tensor nhwc_to_nchw(const Tensor& x) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  Tensor y({n, c, h, w});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        for (int64_t k = 0; k < c; ++k) y[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return y;
}

// bench/peers, next to this file's tests/ folder (or $XCEPT_PEERS_DIR).
inline std::filesystem::path peers_dir() {
  if (const char* d = std::getenv("XCEPT_PEERS_DIR")) return d;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "bench" / "peers";
}

// Empty when ONNX Runtime can run; otherwise why not (for GTEST_SKIP).
inline std::string ort_unavailable_reason() {
  if (std::system("node --version > /dev/null 2>&1") != 0)
    return "node is not installed (ONNX Runtime comparisons need node and onnxruntime-node)";
  if (!std::filesystem::exists(peers_dir() / "node_modules" / "onnxruntime-node"))
    return "onnxruntime-node is not installed: run `npm ci` in " + peers_dir().string();
  return {};
}

// Skips the calling test when ONNX Runtime cannot run, or fails it when the environment
// says it must (scripts/test.sh sets XCEPT_REQUIRE_ORT=1 after installing it): in CI a
// referee that silently went missing would turn its tests into tests that cannot fail.
#define XCEPT_NEED_ORT()                                                                  \
  do {                                                                                    \
    if (std::string why_ = ::xcept::test::ort_unavailable_reason(); !why_.empty()) {      \
      if (const char* req_ = std::getenv("XCEPT_REQUIRE_ORT"); req_ && std::string(req_) == "1") \
        FAIL() << why_ << " (XCEPT_REQUIRE_ORT=1: this run requires ONNX Runtime)";       \
      GTEST_SKIP() << why_;                                                               \
    }                                                                                     \
  } while (0)

inline void write_raw(const std::string& path, const Tensor& t) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(t.data()), std::streamsize(t.numel() * 4));
}

// Runs `model` on `nchw` in ONNX Runtime; the output has `out_dims`. Fails the test
// (and returns an empty tensor) when node reports an error.
inline Tensor ort_run(const std::string& model, const Tensor& nchw, const Dims& out_dims,
                      const std::string& scratch_dir) {
  const std::string in = scratch_dir + "/ort_in.f32", out = scratch_dir + "/ort_out.f32";
  write_raw(in, nchw);
  std::string shape;
  for (int64_t d : nchw.dims()) {
    if (!shape.empty()) shape += ',';  // (not "," + s: GCC 12 warns falsely on that)
    shape += std::to_string(d);
  }
  const std::string cmd = "node " + (peers_dir() / "ort_run.js").string() + " " + model + " " +
                          in + " " + out + " --shape " + shape + " > " + scratch_dir +
                          "/ort_log.txt 2>&1";
  int st = std::system(cmd.c_str());
  if (st != 0) {
    std::ifstream log(scratch_dir + "/ort_log.txt");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << cmd << " failed:\n" << text;
    return {};
  }
  Tensor y(out_dims);
  std::ifstream f(out, std::ios::binary | std::ios::ate);
  EXPECT_EQ(int64_t(f.tellg()), y.numel() * 4) << "ONNX Runtime output size";
  f.seekg(0);
  f.read(reinterpret_cast<char*>(y.data()), std::streamsize(y.numel() * 4));
  return y;
}

}  // namespace xcept::test

// Translates an ONNX model (as `xcept export` writes it, NCHW) into one XNNPACK subgraph
// (Debian's libxnnpack-dev, 2022, subgraph API) in NHWC, for bench_xnnpack.cpp.
//
// Supported: Conv (dense, grouped, depthwise; a BatchNormalization that alone reads it is
// folded into its weights), Relu, Clip, Add, MaxPool, GlobalAveragePool, ReduceMean over H
// and W, Flatten/Reshape of a 1x1 map, Gemm, MatMul, Softmax over the last axis, constant
// Pad. Anything else is an error naming the node and why, and so are the things XNNPACK of
// 2022 cannot express: ceil_mode pooling, and reshapes of an HxW map (in NHWC they would
// need a transpose, which it lacks). Clamps are separate nodes: XNNPACK fuses them itself.
#pragma once

#include <xnnpack.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

using Dims = std::vector<size_t>;

inline size_t count(const Dims& d) {
  return std::accumulate(d.begin(), d.end(), size_t{1}, std::multiplies<>());
}

// The subgraph and what its runtime needs: external value 0 is the input, 1 the output.
struct XnnpackModel {
  static constexpr uint32_t kInputId = 0, kOutputId = 1;
  std::unique_ptr<xnn_subgraph, decltype(&xnn_delete_subgraph)> subgraph{nullptr,
                                                                         &xnn_delete_subgraph};
  Dims input_dims;   // NHWC
  Dims output_dims;  // XNNPACK's layout: NHWC when 4-D, as in ONNX otherwise
  size_t nodes = 0;  // ONNX nodes translated (folded BatchNormalizations not counted)
  std::deque<std::vector<float>> static_data;  // weights the subgraph points into
};

// The input is [batch, channels, size, size] in ONNX's NCHW. Throws std::runtime_error.
// xnn_initialize must have been called.
XnnpackModel onnx_to_xnnpack(const onnx::ModelProto& model, size_t batch, size_t channels,
                             size_t size);

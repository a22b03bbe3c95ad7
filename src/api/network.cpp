// Network: the public graph builder over autograd::Graph and src/layers.
#include "api/network_impl.h"
#include "api/zoo.h"
#include "core/error.h"
#include "io/onnx/onnx_export.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "models/models.h"
#include "onnx/onnx_pb.h"

namespace xcept {

namespace {

Padding parse_padding(const std::string& p) {
  if (p == "same") return Padding::same();
  if (p == "valid") return Padding::valid();
  fail("padding must be 'same' or 'valid', got '{}'", p);
}

ConvWindow window_of(int64_t kernel, int64_t stride, const ConvOptions& o) {
  return ConvWindow::square(kernel, stride, parse_padding(o.padding), o.dilation);
}

}  // namespace

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Network::Network(std::string name, const Dims& input_hwc, uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  if (input_hwc.size() != 3)
    fail("{}: the input must be {{height, width, channels}}, got {}", name,
         dims_to_string(input_hwc));
  impl_->graph = std::make_shared<Graph>(name, seed);
  impl_->seed = int64_t(seed);
  impl_->graph->input(input_hwc);
}

Network Network::zoo(const std::string& name, const ZooOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->graph = std::make_shared<Graph>(models::build_model(name, to_model_options(options)));
  impl->seed = int64_t(options.seed);
  impl->count = impl->graph->num_nodes();
  return Network(std::move(impl));
}

Network::~Network() = default;
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

const std::string& Network::name() const { return impl_->graph->name(); }
Network::Node Network::input() const { return 0; }

Dims Network::dims(Node node) const {
  if (node < 0 || node >= impl_->graph->num_nodes())
    fail("{}: no node {} (the network has {})", name(), node, impl_->graph->num_nodes());
  return impl_->graph->node_dims(node);
}

// A node name: the caller's, or "<kind>_<n>" numbered in order of addition.
static std::string node_name(Network::Impl& n, const std::string& given, const char* kind) {
  ++n.count;
  return given.empty() ? std::string(kind) + "_" + std::to_string(n.count) : given;
}

Network::Node Network::conv2d(Node x, int64_t filters, int64_t kernel, int64_t stride,
                              const ConvOptions& o) {
  return impl_->graph->add<Conv2dLayer>({x}, node_name(*impl_, o.name, "conv2d"),
                                        window_of(kernel, stride, o).with(filters, o.groups),
                                        o.bias);
}

Network::Node Network::depthwise_conv2d(Node x, int64_t kernel, int64_t stride,
                                        int64_t multiplier, const ConvOptions& o) {
  const int64_t c = dims(x).back();
  return impl_->graph->add<Conv2dLayer>({x}, node_name(*impl_, o.name, "depthwise_conv2d"),
                                        window_of(kernel, stride, o).with(c * multiplier, c),
                                        o.bias);
}

Network::Node Network::pointwise_conv2d(Node x, int64_t filters, const ConvOptions& o) {
  return impl_->graph->add<Conv2dLayer>({x}, node_name(*impl_, o.name, "pointwise_conv2d"),
                                        window_of(1, 1, o).with(filters, o.groups), o.bias);
}

Network::Node Network::separable_conv2d(Node x, int64_t filters, int64_t kernel, int64_t stride,
                                        const std::string& order,
                                        const std::string& mid_activation, const ConvOptions& o) {
  ZooOptions parsed;  // one parser for the order and activation names
  parsed.order = order;
  parsed.mid_activation = mid_activation;
  const models::ModelOptions mo = to_model_options(parsed);
  SeparableConv2dOptions so;
  so.out_channels = filters;
  so.window = window_of(kernel, stride, o);
  so.order = mo.order;
  so.mid_activation = mo.mid_activation;
  so.has_bias = o.bias;
  return impl_->graph->add<SeparableConv2dLayer>({x}, node_name(*impl_, o.name, "separable_conv2d"),
                                                 so);
}

Network::Node Network::batch_norm(Node x, const std::string& name) {
  return impl_->graph->add<BatchNorm>({x}, node_name(*impl_, name, "batch_norm"));
}

Network::Node Network::activation(Node x, const std::string& kind, const std::string& name) {
  return impl_->graph->add<ActivationLayer>({x}, node_name(*impl_, name, kind.c_str()),
                                            parse_act(kind));
}

Network::Node Network::max_pool(Node x, int64_t window, int64_t stride, const std::string& padding) {
  return impl_->graph->add<MaxPool2D>(
      {x}, node_name(*impl_, "", "max_pool"),
      PoolWindow::square(window, stride > 0 ? stride : window, parse_padding(padding).mode));
}

Network::Node Network::avg_pool(Node x, int64_t window, int64_t stride, const std::string& padding) {
  return impl_->graph->add<AvgPool2D>(
      {x}, node_name(*impl_, "", "avg_pool"),
      PoolWindow::square(window, stride > 0 ? stride : window, parse_padding(padding).mode));
}

Network::Node Network::global_avg_pool(Node x) {
  return impl_->graph->add<GlobalAvgPool2D>({x}, node_name(*impl_, "", "global_avg_pool"));
}

Network::Node Network::add(const std::vector<Node>& inputs) {
  return impl_->graph->add<Add>(inputs, node_name(*impl_, "", "add"));
}

Network::Node Network::concat(const std::vector<Node>& inputs) {
  return impl_->graph->add<Concat>(inputs, node_name(*impl_, "", "concat"));
}

Network::Node Network::flatten(Node x) {
  return impl_->graph->add<Flatten>({x}, node_name(*impl_, "", "flatten"));
}

Network::Node Network::dropout(Node x, float rate) {
  return impl_->graph->add<Dropout>({x}, node_name(*impl_, "", "dropout"), rate,
                                    uint64_t(impl_->seed) + uint64_t(impl_->count));
}

Network::Node Network::dense(Node x, int64_t units, bool bias) {
  return impl_->graph->add<Dense>({x}, node_name(*impl_, "", "dense"), units, bias);
}

void Network::set_output(Node node) {
  dims(node);  // checks it exists
  impl_->graph->set_output(node);
}

void Network::save_onnx(const std::string& path) {
  OnnxExportOptions o;
  o.metadata.emplace_back("xcept.model", name());
  xcept::save_onnx(export_onnx(*impl_->graph, o), path);
}

}  // namespace xcept

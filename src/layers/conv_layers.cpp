#include "layers/conv_layers.h"

#include "core/error.h"
#include "layers/layer_checks.h"

namespace xcept {

static int64_t conv_macs(const ConvShape& s) { return s.ho * s.wo * s.kh * s.kw * s.cg() * s.m; }

static ConvShape image_shape(const std::string& layer, const Dims& in, const ConvParams& p) {
  return make_conv_shape(layer, 1, in[0], in[1], in[2], p);
}

static uint32_t draw_seed(Rng& rng) { return static_cast<uint32_t>(rng() >> 32); }

// The output statistics a training forward owes the batch norm that gave its sink, or
// null (inference, or no sink).
static OutputStats* stats_for(StatsSink* sink, bool training, int64_t channels,
                              OutputStats& storage) {
  if (!sink || !training) return nullptr;
  sink->mean.resize(size_t(channels));
  sink->var.resize(size_t(channels));
  sink->fresh = true;  // filled by the forward this is handed to
  storage = {sink->mean.data(), sink->var.data()};
  return &storage;
}

Conv2dLayer::Conv2dLayer(std::string name, const ConvParams& config, bool has_bias)
    : Layer(std::move(name)), config_(config), has_bias_(has_bias) {}

Dims Conv2dLayer::build(const std::vector<Dims>& inputs, Rng& rng) {
  expect_inputs(*this, inputs, 1);
  expect_feature_map(*this, inputs[0]);
  ConvShape s = image_shape(name(), inputs[0], config_);
  conv_ = Conv2d(name(), s.c, config_, has_bias_, draw_seed(rng));
  if (s.is_depthwise() && s.c > 1) type_ = "DepthwiseConv2D";
  else if (s.groups > 1) type_ = "GroupedConv2D";
  else if (s.kh == 1 && s.kw == 1) type_ = "PointwiseConv2D";
  macs_ = conv_macs(s);
  return {s.ho, s.wo, s.m};
}

void Conv2dLayer::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  OutputStats os;
  conv_.forward(*in[0], out, stats_for(sink_, training, conv_.config.out_channels, os));
}

void Conv2dLayer::backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                           const std::vector<Tensor*>& din) {
  BackwardSplit split;
  conv_.backward(*in[0], dout, din[0], profiling_ ? &split : nullptr);
  backward_weights_ms_ = split.weights_ms;
}

SeparableConv2dLayer::SeparableConv2dLayer(std::string name, const SeparableConv2dOptions& options)
    : Layer(std::move(name)), options_(options) {}

Dims SeparableConv2dLayer::build(const std::vector<Dims>& inputs, Rng& rng) {
  expect_inputs(*this, inputs, 1);
  expect_feature_map(*this, inputs[0]);
  const Dims& in = inputs[0];
  sep_ = SeparableConv2d(name(), in[2], options_, draw_seed(rng));
  ConvShape first = image_shape(name(), in, sep_.first_step().config);
  ConvShape second =
      image_shape(name(), {first.ho, first.wo, first.m}, sep_.second_step().config);
  macs_ = conv_macs(first) + conv_macs(second);
  return {second.ho, second.wo, second.m};
}

void SeparableConv2dLayer::forward(const std::vector<const Tensor*>& in, Tensor& out,
                                   bool training) {
  OutputStats os;
  sep_.forward(*in[0], out, stats_for(sink_, training, options_.out_channels, os));
}

void SeparableConv2dLayer::backward(const std::vector<const Tensor*>& in, const Tensor&,
                                    const Tensor& dout, const std::vector<Tensor*>& din) {
  BackwardSplit split;
  sep_.backward(*in[0], dout, din[0], profiling_ ? &split : nullptr);
  backward_weights_ms_ = split.weights_ms;
}

}  // namespace xcept

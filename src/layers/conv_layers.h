// Convolutions as graph nodes. Conv2d and SeparableConv2d are usable on their own and
// need their input channels up front; these Layers learn them when the graph builds
// them, draw their seeds from the graph's generator, and hand compute to the wrapped
// layer.
#pragma once

#include "layers/conv2d.h"
#include "layers/layer.h"
#include "layers/separable_conv2d.h"

namespace xcept {

class Conv2dLayer : public Layer {
 public:
  Conv2dLayer(std::string name, const ConvParams& config, bool has_bias);
  // "Conv2D", "GroupedConv2D", "DepthwiseConv2D" or "PointwiseConv2D", by shape.
  const char* type() const override { return type_; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  ParamList params() override { return conv_.params(); }
  int64_t macs() const override { return macs_; }
  bool set_stats_sink(StatsSink* sink) override {
    sink_ = sink;
    return true;
  }
  Conv2d& conv() { return conv_; }

 private:
  StatsSink* sink_ = nullptr;
  ConvParams config_;
  bool has_bias_;
  const char* type_ = "Conv2D";
  Conv2d conv_;
  int64_t macs_ = 0;
};

class SeparableConv2dLayer : public Layer {
 public:
  SeparableConv2dLayer(std::string name, const SeparableConv2dOptions& options);
  const char* type() const override { return "SeparableConv2D"; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  ParamList params() override { return sep_.params(); }
  int64_t macs() const override { return macs_; }
  bool set_stats_sink(StatsSink* sink) override {
    sink_ = sink;
    return true;
  }
  SeparableConv2d& separable() { return sep_; }

 private:
  StatsSink* sink_ = nullptr;
  SeparableConv2dOptions options_;
  SeparableConv2d sep_;
  int64_t macs_ = 0;
};

}  // namespace xcept

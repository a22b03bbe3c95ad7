// Layers that only move values: Flatten ({H,W,C} or any shape -> {H*W*C}, NHWC order, as
// Keras's channels_last Flatten), ChannelShuffle (ShuffleNet: the C channels viewed as
// [groups][C/groups] and transposed to [C/groups][groups], so that output channel
// j*groups + g is input channel g*(C/groups) + j and the next grouped convolution's
// groups each see every previous group) and ChannelSlice (channels [begin, begin+count)
// of the last axis: ShuffleNet v2's channel split is two of them, as PyTorch's
// x.chunk(2, dim=1)).
#pragma once

#include "layers/layer.h"

namespace xcept {

class Flatten : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Flatten"; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
};

class ChannelShuffle : public Layer {
 public:
  ChannelShuffle(std::string name, int64_t groups);
  const char* type() const override { return "ChannelShuffle"; }
  int64_t groups() const { return groups_; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;  // groups must divide C
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;

 private:
  int64_t groups_;
  int64_t channels_ = 0;
};

class ChannelSlice : public Layer {
 public:
  ChannelSlice(std::string name, int64_t begin, int64_t count);
  const char* type() const override { return "ChannelSlice"; }
  int64_t begin() const { return begin_; }
  int64_t count() const { return count_; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;  // must fit in C
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  // The input's other channels get a zero gradient.
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;

 private:
  int64_t begin_, count_;
  int64_t channels_ = 0;
};

}  // namespace xcept

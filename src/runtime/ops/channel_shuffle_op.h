// ShuffleNet's channel shuffle on NHWC rows: the last axis viewed as [groups][c/groups]
// and transposed, so output channel j*groups + g is input channel g*(c/groups) + j.
#pragma once

#include "runtime/op.h"

namespace xcept {

class ChannelShuffleOp final : public Op {
 public:
  explicit ChannelShuffleOp(int64_t groups) : groups_(groups) {}
  const char* type() const override { return "ChannelShuffle"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;

 private:
  int64_t groups_;
};

}  // namespace xcept

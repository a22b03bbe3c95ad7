// Conv2dOp: the kernel table's convolution with bias, addend and activation fused into
// the kernel's epilogue (kernels/epilogue.h), so the output is written once.
#include <algorithm>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

Conv2dOp::Conv2dOp(const ConvShape& shape, Tensor weight_hwio, Tensor bias, Act act,
                   bool with_addend)
    : shape_(shape),
      weight_(std::move(weight_hwio)),
      bias_(std::move(bias)),
      act_(act),
      with_addend_(with_addend) {
  if (weight_.numel() != shape_.weight_numel())
    fail("Conv2d: weight {} has {} values, the shape {} needs {}", dims_to_string(weight_.dims()),
         weight_.numel(), shape_.to_string(), shape_.weight_numel());
  if (!bias_.empty() && bias_.numel() != shape_.m)
    fail("Conv2d: bias {} does not match {} output channels", dims_to_string(bias_.dims()),
         shape_.m);
}

Dims Conv2dOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  const Dims x{shape_.n, shape_.h, shape_.w, shape_.c};
  const Dims y{shape_.n, shape_.ho, shape_.wo, shape_.m};
  const size_t want = with_addend_ ? 2 : 1;
  if (in.size() != want)
    fail("{}: Conv2d takes {} input(s), got {}", step, want, in.size());
  if (in[0] != x)
    fail("{}: Conv2d input is {}, the convolution was built for {}", step,
         dims_to_string(in[0]), dims_to_string(x));
  if (with_addend_ && in[1] != y)
    fail("{}: Conv2d addend is {}, the output is {}", step, dims_to_string(in[1]),
         dims_to_string(y));
  return y;
}

void Conv2dOp::prepare(Precision precision) {
  prepacked_ = std::make_unique<const Conv2dPrepacked>(shape_, weight_.data(), precision);
}

void Conv2dOp::run(std::span<const ConstView> in, const MutView& out) const {
  // Bias, addend and activation ride on the kernel (kernels/epilogue.h), applied to each
  // output tile while it is still in cache.
  const ConvEpilogue ep(bias_.empty() ? nullptr : bias_.data(),
                        with_addend_ ? in[1].data : nullptr, act_.kind, act_.a, act_.b);
  if (prepacked_) prepacked_->run(in[0].data, ep, out.data);
  else conv2d_fwd(shape_, in[0].data, weight_.data(), ep, out.data);
}

int64_t Conv2dOp::macs() const {
  return shape_.n * shape_.ho * shape_.wo * shape_.m * shape_.kh * shape_.kw * shape_.cg();
}

}  // namespace xcept

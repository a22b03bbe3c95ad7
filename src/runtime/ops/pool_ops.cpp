// Pool2dOp (the kernel table's pooling rows) and GlobalAvgPoolOp on NHWC maps.
#include "core/error.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

Pool2dOp::Pool2dOp(PoolMode mode, const ConvShape& window) : mode_(mode), window_(window) {
  if (window_.m != window_.c)
    fail("{}: pooling window {} must keep the channels", type(), window_.to_string());
}

Dims Pool2dOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  const Dims x{window_.n, window_.h, window_.w, window_.c};
  if (in.size() != 1) fail("{}: {} takes 1 input, got {}", step, type(), in.size());
  if (in[0] != x)
    fail("{}: {} input is {}, the window was built for {}", step, type(), dims_to_string(in[0]),
         dims_to_string(x));
  return {window_.n, window_.ho, window_.wo, window_.c};
}

void Pool2dOp::run(std::span<const ConstView> in, const MutView& out) const {
  // The kernel table's pooling rows (kernels/pool2d_nhwc_f32_impl.h), threaded by rows.
  pool2d_fwd(window_, mode_, in[0].data, out.data);
}

Dims GlobalAvgPoolOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 1) fail("{}: GlobalAvgPool takes 1 input, got {}", step, in.size());
  if (in[0].size() != 4)
    fail("{}: GlobalAvgPool expects a 4-D NHWC input, got {}", step, dims_to_string(in[0]));
  if (keep_dims_) return {in[0][0], 1, 1, in[0][3]};
  return {in[0][0], in[0][3]};
}

void GlobalAvgPoolOp::run(std::span<const ConstView> in, const MutView& out) const {
  // Pooling over the whole map: the kernel table's rows, as the training layer runs them.
  const Dims& d = *in[0].dims;
  pool2d_fwd(global_pool_window(d[0], d[1], d[2], d[3]), PoolMode::avg_exclude_pad, in[0].data,
             out.data);
}

}  // namespace xcept

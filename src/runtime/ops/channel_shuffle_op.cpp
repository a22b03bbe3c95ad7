#include "runtime/ops/channel_shuffle_op.h"

#include <algorithm>

#include "core/error.h"
#include "core/threadpool.h"

namespace xcept {

Dims ChannelShuffleOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 1) fail("{}: ChannelShuffle takes 1 input, got {}", step, in.size());
  if (in[0].empty() || groups_ <= 0 || in[0].back() % groups_ != 0)
    fail("{}: ChannelShuffle of {} channels ({}) into {} groups", step,
         in[0].empty() ? 0 : in[0].back(), dims_to_string(in[0]), groups_);
  return in[0];
}

void ChannelShuffleOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& d = *in[0].dims;
  const int64_t c = d.back(), g = groups_, cpg = c / g;
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < d.size(); ++i) rows *= d[i];
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(c, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const float* x = in[0].data + r * c;
                   float* y = out.data + r * c;
                   for (int64_t j = 0; j < cpg; ++j)
                     for (int64_t i = 0; i < g; ++i) y[j * g + i] = x[i * cpg + j];
                 }
               });
}

}  // namespace xcept

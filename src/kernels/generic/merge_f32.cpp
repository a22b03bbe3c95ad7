// The merges of branches: elementwise add, and concatenation along the last axis (with
// its backward, the split). Memory-bound copies and adds that the compiler vectorizes;
// the training layers (layers/merge.cpp) and the runtime's BinaryOp and ConcatOp both
// call them, so the two paths produce the same bits.
#include <algorithm>
#include <cstring>

#include "core/threadpool.h"
#include "kernels/kernels.h"

namespace xcept {

namespace {

// Below 16K values a loop is not worth waking the pool for.
constexpr int64_t kGrain = 16384;

int64_t row_length(const ConcatShape& s) {
  int64_t len = 0;
  for (int64_t l : s.lens) len += l;
  return len;
}

}  // namespace

void add_fwd_f32(const ElementwiseShape& s, const float* a, const float* b, float* y) {
  parallel_for(s.n, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = a[i] + b[i];
  });
}

void concat_fwd_rows_f32(const ConcatShape& s, const float* const* x, float* y) {
  const int64_t out_row = row_length(s);
  parallel_for(s.rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(out_row, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   float* dst = y + r * out_row;
                   for (size_t k = 0; k < s.lens.size(); ++k) {
                     const int64_t len = s.lens[k];
                     if (len) std::memcpy(dst, x[k] + r * len, size_t(len) * sizeof(float));
                     dst += len;
                   }
                 }
               });
}

void concat_bwd_rows_f32(const ConcatShape& s, const float* dy, float* const* dx) {
  const int64_t out_row = row_length(s);
  parallel_for(s.rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(out_row, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const float* src = dy + r * out_row;
                   for (size_t k = 0; k < s.lens.size(); ++k) {
                     const int64_t len = s.lens[k];
                     if (dx[k] && len)
                       std::memcpy(dx[k] + r * len, src, size_t(len) * sizeof(float));
                     src += len;
                   }
                 }
               });
}

}  // namespace xcept

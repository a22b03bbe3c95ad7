// Grow-only, aligned (core/aligned_alloc.h), uninitialized scratch for kernels, kept across calls.
//
// A kernel's working buffers (im2col columns, packed panels, partial sums) are megabytes.
// Allocated per call, each costs a page fault and a zero-fill per 4 KiB on every call:
// in training, where every layer runs forward and backward at every step, that was a
// fifth of the run's time. A thread_local ScratchBuffer keeps the largest size asked of
// it on its thread; the contents are garbage between calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_alloc.h"

namespace xcept {

template <typename T>
class ScratchArray {
 public:
  ScratchArray() = default;
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  ~ScratchArray() { free_aligned(data_); }

  // At least `count` elements, valid until the next get() on this buffer.
  T* get(int64_t count) {
    const size_t want = count > 0 ? static_cast<size_t>(count) : 1;
    if (want > capacity_) {
      free_aligned(data_);
      data_ = nullptr, capacity_ = 0;  // stays consistent if the allocation throws
      data_ = static_cast<T*>(alloc_aligned(want * sizeof(T)));
      capacity_ = want;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

using ScratchBuffer = ScratchArray<float>;

}  // namespace xcept

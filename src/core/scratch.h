// Grow-only, aligned (core/aligned_alloc.h), uninitialized scratch for kernels, kept across calls.
//
// A kernel's working buffers (im2col columns, packed panels, partial sums) are megabytes.
// Allocated per call, each costs a page fault and a zero-fill per 4 KiB on every call:
// in training, where every layer runs forward and backward at every step, that was a
// fifth of the run's time. A thread_local ScratchBuffer keeps the largest size asked of
// it on its thread; the contents are garbage between calls.
//
// Every ScratchArray counts what it holds in one process-wide total, so the memory kernels
// keep beside the activations is visible (runtime/executor.h reports it) and bounded: a
// growth that would take the total past the limit throws xcept::Error naming the sizes,
// rather than asking the system for more than it can back (a small model file can
// describe a convolution whose im2col columns need terabytes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_alloc.h"

namespace xcept {

// Bytes all ScratchArrays of all threads hold now.
int64_t scratch_bytes_held();
// The most they may hold together (default: the machine's physical memory).
int64_t scratch_limit_bytes();
// Sets the limit; 0 restores the default. Returns the previous setting (0: the default).
int64_t set_scratch_limit_bytes(int64_t bytes);

namespace detail {
// Adds `bytes` to the total, or throws (total unchanged) when that would pass the limit.
void scratch_reserve(size_t bytes);
void scratch_release(size_t bytes);
}  // namespace detail

template <typename T>
class ScratchArray {
 public:
  ScratchArray() = default;
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  ~ScratchArray() { release(); }

  // At least `count` elements, valid until the next get() on this buffer.
  T* get(int64_t count) {
    const size_t want = count > 0 ? static_cast<size_t>(count) : 1;
    if (want > capacity_) {
      release();  // stays consistent if what follows throws
      detail::scratch_reserve(want * sizeof(T));
      try {
        data_ = static_cast<T*>(alloc_aligned(want * sizeof(T)));
      } catch (...) {
        detail::scratch_release(want * sizeof(T));
        throw;
      }
      capacity_ = want;
    }
    return data_;
  }

 private:
  void release() {
    free_aligned(data_);
    detail::scratch_release(capacity_ * sizeof(T));
    data_ = nullptr, capacity_ = 0;
  }
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

using ScratchBuffer = ScratchArray<float>;

}  // namespace xcept

// Grow-only, 64-byte aligned, uninitialized scratch for kernels, kept across calls.
//
// A kernel's working buffers (im2col columns, packed panels, partial sums) are megabytes.
// Allocated per call, each costs a page fault and a zero-fill per 4 KiB on every call:
// in training, where every layer runs forward and backward at every step, that was a
// fifth of the run's time. A thread_local ScratchBuffer keeps the largest size asked of
// it on its thread; the contents are garbage between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace xcept {

template <typename T>
class ScratchArray {
 public:
  ScratchArray() = default;
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  ~ScratchArray() { ::operator delete[](data_, std::align_val_t(64)); }

  // At least `count` elements, valid until the next get() on this buffer.
  T* get(int64_t count) {
    const size_t want = count > 0 ? static_cast<size_t>(count) : 1;
    if (want > capacity_) {
      ::operator delete[](data_, std::align_val_t(64));
      data_ = nullptr, capacity_ = 0;  // stays consistent if the allocation throws
      data_ = static_cast<T*>(::operator new[](want * sizeof(T), std::align_val_t(64)));
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

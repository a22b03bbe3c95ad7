// A dense float32 tensor: dims plus one 64-byte aligned, contiguous buffer.
//
// Activations are 4-D and laid out NHWC (batch, height, width, channels; channels
// fastest). Convolution weights are HWIO: [KH][KW][C/groups][M]. See
// docs/design/core.md for why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xcept/types.h"  // Dims

namespace xcept {

std::string dims_to_string(const Dims& dims);  // "1x19x19x728"

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Dims dims);  // zero-filled; throws xcept::Error on bad or huge dims
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  // A moved-from tensor is empty (no dims, no buffer).
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;

  const Dims& dims() const { return dims_; }
  int64_t dim(size_t i) const { return dims_.at(i); }
  size_t rank() const { return dims_.size(); }
  int64_t numel() const { return numel_; }
  int64_t capacity() const { return capacity_; }  // floats the buffer holds
  bool empty() const { return numel_ == 0; }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float& operator[](int64_t i) { return data_.get()[i]; }
  float operator[](int64_t i) const { return data_.get()[i]; }

  void fill(float v);

  // Makes this a tensor of `dims` with unspecified contents, keeping the buffer when it
  // holds enough floats (a scratch tensor shared by layers of different sizes), else
  // allocating one (zero-filled).
  void resize_uninitialized(const Dims& dims);

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  Dims dims_;
  int64_t numel_ = 0, capacity_ = 0;  // floats in use, floats allocated
  std::unique_ptr<float, AlignedFree> data_;
};

// Makes t a tensor of `dims`, reallocating (zero-filled) only when its dims differ: the
// way layers and the graph reuse their buffers step after step.
inline void ensure_dims(Tensor& t, const Dims& dims) {
  if (t.dims() != dims) t = Tensor(dims);
}

}  // namespace xcept

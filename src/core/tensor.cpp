#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/aligned_alloc.h"
#include "core/checked_math.h"

namespace xcept {

std::string dims_to_string(const Dims& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s.empty() ? "scalar" : s;
}

void Tensor::AlignedFree::operator()(float* p) const { free_aligned(p); }

static float* alloc_floats(int64_t n) {
  if (n == 0) return nullptr;
  return static_cast<float*>(alloc_aligned(static_cast<size_t>(n) * sizeof(float)));
}

static int64_t checked_numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("tensor dims {}: negative size", dims_to_string(dims));
    n = checked_mul(n, d, "tensor " + dims_to_string(dims));
  }
  return n;
}

Tensor::Tensor(Dims dims) : dims_(std::move(dims)) {
  numel_ = capacity_ = checked_numel(dims_);
  data_.reset(alloc_floats(numel_));
  fill(0.f);
}

Tensor::Tensor(const Tensor& other)
    : dims_(other.dims_), numel_(other.numel_), capacity_(other.numel_) {
  data_.reset(alloc_floats(numel_));
  if (numel_) std::memcpy(data_.get(), other.data_.get(), numel_ * sizeof(float));
}

Tensor::Tensor(Tensor&& other) noexcept
    : dims_(std::move(other.dims_)),
      numel_(other.numel_),
      capacity_(other.capacity_),
      data_(std::move(other.data_)) {
  other.dims_.clear();
  other.numel_ = other.capacity_ = 0;
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this != &other) {
    dims_ = std::move(other.dims_);
    numel_ = other.numel_;
    capacity_ = other.capacity_;
    data_ = std::move(other.data_);
    other.dims_.clear();
    other.numel_ = other.capacity_ = 0;
  }
  return *this;
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

void Tensor::fill(float v) { std::fill_n(data_.get(), numel_, v); }

void Tensor::resize_uninitialized(const Dims& dims) {
  const int64_t n = checked_numel(dims);
  if (n > capacity_) {
    *this = Tensor(dims);
    return;
  }
  dims_ = dims;
  numel_ = n;
}

}  // namespace xcept

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

Tensor::Tensor(Dims dims) : dims_(std::move(dims)) {
  numel_ = 1;
  for (int64_t d : dims_) {
    if (d < 0) fail("tensor dims {}: negative size", dims_to_string(dims_));
    numel_ = checked_mul(numel_, d, "tensor " + dims_to_string(dims_));
  }
  data_.reset(alloc_floats(numel_));
  fill(0.f);
}

Tensor::Tensor(const Tensor& other) : dims_(other.dims_), numel_(other.numel_) {
  data_.reset(alloc_floats(numel_));
  if (numel_) std::memcpy(data_.get(), other.data_.get(), numel_ * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

void Tensor::fill(float v) { std::fill_n(data_.get(), numel_, v); }

}  // namespace xcept

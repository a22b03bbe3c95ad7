// Plain types the public API shares: shapes, layouts, precisions, input normalization.
#pragma once

#include <cstdint>
#include <vector>

namespace xcept {

// Sizes of a tensor's axes, outermost first: {batch, height, width, channels} for NHWC.
using Dims = std::vector<int64_t>;

// Memory order of an image batch. xcept's networks run NHWC (channels fastest); ONNX
// models take NCHW, the order PyTorch and NumPy users usually hold.
enum class Layout { nchw, nhwc };

// Arithmetic of inference: f32, or bf16 multiplies with f32 accumulation where the CPU
// has AVX512_BF16 and it is faster there (otherwise f32 runs; Model::precision says).
enum class Precision { f32, bf16 };

// Per-channel input normalization, x' = (x - mean[c]) / std[c], applied to images with
// pixel values in [0, 1]. Empty: none. Training computes it from the training set and
// keeps it in the checkpoint.
struct Normalization {
  std::vector<float> mean, std;
  bool empty() const { return mean.empty(); }
};

}  // namespace xcept

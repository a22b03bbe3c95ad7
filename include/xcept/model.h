// A model ready to run: loaded from an ONNX file, a training checkpoint or a Network,
// compiled for its input shapes (batch included), optimized (batch norm folded,
// activations and residual additions fused) and planned once. run() then reads the
// caller's input buffer and writes the caller's output buffer.
//
//   xcept::Model m = xcept::Model::from_checkpoint("runs/fmnist/best.ckpt");
//   std::vector<float> logits(m.output_numel());
//   m.run(image, logits);                     // image: 28x28x1 floats in [0, 1], NHWC
//
// A checkpoint's model applies the input normalization its training used, so run()
// takes pixels in [0, 1]; so does an ONNX file written by `xcept export` (its metadata
// says how). Other ONNX files take what their exporter fed them (LoadOptions can add
// a normalization). A Model is not safe to run from two threads at once: give each
// thread its own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/types.h"

namespace xcept {

class Network;

struct LoadOptions {
  Precision precision = Precision::f32;
  // Apply the model's own input normalization (checkpoints; ONNX files from `xcept
  // export`) inside run(). Off: run() takes inputs already normalized.
  bool normalize = true;
  // A normalization to apply instead of the model's own (e.g. ImageNet's mean and std
  // for an ONNX classifier exported elsewhere). Empty: the model's own, if any.
  Normalization normalization;
  // Batch-norm folding and fusion (off only to study what they gain).
  bool optimize = true;
  // The batch to compile for first (0: 1); for ONNX files without input_dims, the value
  // of a symbolic batch dimension. run() recompiles for other batches as they come.
  int64_t batch = 0;
};

class XCEPT_API Model {
 public:
  // An ONNX file. input_dims: one per graph input (non-initializer), NCHW as ONNX
  // declares them, batch included; empty takes the dims the file declares, with a
  // symbolic batch dimension set to options.batch (or 1). Throws xcept::Error naming the
  // node for an operator the importer does not support.
  static Model from_onnx(const std::string& path, const std::vector<Dims>& input_dims = {},
                         const LoadOptions& options = {});
  // A training checkpoint: the network its record describes with its weights, the input
  // normalization of its training and the class names of its dataset; batch 1 (run()
  // recompiles for another batch).
  static Model from_checkpoint(const std::string& path, const LoadOptions& options = {});
  // A network built in code or taken from the zoo, with its current weights (copied:
  // training the network later does not change the model).
  static Model from_network(Network& network, const LoadOptions& options = {});

  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const std::string& name() const;  // the file, or the network's name
  // The layout of image inputs: NCHW for ONNX files, NHWC for xcept's own networks.
  Layout layout() const;
  size_t num_inputs() const;
  size_t num_outputs() const;
  const std::string& input_name(size_t i = 0) const;
  const std::string& output_name(size_t i = 0) const;
  // Dims in the model's layout, with the batch it is compiled for.
  const Dims& input_dims(size_t i = 0) const;
  const Dims& output_dims(size_t i = 0) const;
  int64_t batch() const;
  // Per image: the floats one image of input i takes, one image of output i gives.
  int64_t input_numel(size_t i = 0) const;
  int64_t output_numel(size_t i = 0) const;
  // The normalization run() applies (empty: none), and the dataset's class names
  // (empty: unknown, e.g. ONNX files from elsewhere or checkpoints older than issue 17).
  const Normalization& normalization() const;
  const std::vector<std::string>& class_names() const;
  // What the steps run in: as asked, or f32 where bf16 is unavailable or slower.
  Precision precision() const;
  int64_t macs() const;  // multiply-accumulates of one run, whole batch

  // One input, one output. `input` holds a whole number of images in `layout` (input
  // dims with any batch); `output` receives as many images of output. A batch other
  // than the compiled one recompiles the model for it (kept for later runs); an ONNX file
  // that fixes its batch runs a multiple of it chunk by chunk. When
  // `layout` is the model's, the input is read in place and the output written in
  // place; otherwise the input is transposed into a buffer first.
  void run(std::span<const float> input, std::span<float> output, Layout layout);
  void run(std::span<const float> input, std::span<float> output);  // the model's layout
  // Every input and output, each exactly its compiled dims, in the model's layout.
  void run(const std::vector<std::span<const float>>& inputs,
           const std::vector<std::span<float>>& outputs);
  // Recompiles for `batch` images per run (changes dims 0 of every input).
  void set_batch(int64_t batch);

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Index of the largest value of each row of `scores` ([rows][cols]) and softmax
// probabilities: what predict prints. Returns the top k (class index, probability)
// pairs of one row, best first; rows that already sum to 1 over [0, 1] are taken as
// probabilities, others as logits.
struct ClassScore {
  int64_t index = 0;
  float probability = 0;
};
XCEPT_API std::vector<ClassScore> top_k(std::span<const float> row, int64_t k);

}  // namespace xcept

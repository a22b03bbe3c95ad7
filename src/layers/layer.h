// A layer of a network: forward and backward of one operation, side by side, plus what
// it owns (parameters) and what it costs. Layers are the nodes of autograd::Graph.
//
// Shapes given to `build` are per image (no batch): {H, W, C} for feature maps, {N} for
// vectors. Tensors given to forward/backward carry the batch first: NHWC or [batch][N].
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/activation_f32.h"
#include "layers/param.h"

namespace xcept {

class CrossReplicaSum;  // layers/cross_replica.h
using Rng = std::mt19937_64;

// The batch statistics a training batch norm takes from the layer that produces its
// input (see Layer::set_stats_sink): per-channel mean and biased variance, and whether
// the last training forward filled them.
struct StatsSink {
  std::vector<float> mean, var;
  bool fresh = false;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  virtual const char* type() const = 0;  // "Conv2D", "BatchNorm", "Add", ...

  // Checks the input shapes (throws xcept::Error naming this layer and the shapes),
  // creates and initializes parameters from `rng`, and returns the output shape.
  // Called once, when the layer joins a graph.
  virtual Dims build(const std::vector<Dims>& inputs, Rng& rng) = 0;

  // out is already sized (batch + output shape). `training` selects batch statistics,
  // dropout masks and the like. A layer may keep what its backward needs.
  virtual void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) = 0;

  // Given dL/dout, overwrites din[i] (sized like in[i]; null when that input needs no
  // gradient) and ADDS parameter gradients into their grad buffers. din[0] may be &dout
  // itself when backward_in_place() says so.
  virtual void backward(const std::vector<const Tensor*>& in, const Tensor& out,
                        const Tensor& dout, const std::vector<Tensor*>& din) = 0;

  // A layer whose backward may write din[0] into the very buffer of dout returns true:
  // each element of din[0] comes from the same element of dout (after any reduction
  // over dout is done), and din[0] has dout's shape. The graph then hands dout's buffer
  // on to the input instead of a fresh one: no allocation, and no write-allocate read
  // of a buffer that would only be overwritten (autograd/graph.h).
  virtual bool backward_in_place() const { return false; }

  // Full names, "<layer name>.<param>" (see layers/param.h).
  virtual ParamList params() { return {}; }

  // Layers that draw random numbers in forward (dropout) restart their generator from
  // `seed`; the trainer reseeds every epoch so a resumed run repeats the same masks.
  virtual void reseed(uint64_t /*seed*/) {}

  // Layers that count their training forwards (batch norm's moving averages) restart the
  // count at `steps`; a resumed run passes the steps its checkpoint has done.
  virtual void restore_step(int64_t /*steps*/) {}

  // Layers that normalize with batch statistics (batch norm) take them over the global
  // batch of data-parallel training through `sum` (null: this process's batch alone).
  virtual void sync_batch_statistics(CrossReplicaSum* /*sum*/) {}

  // Fusion (autograd/graph.h). A layer that is an elementwise activation says which one;
  // a layer that can apply an activation to its own output (forward) and differentiate
  // through it from that output (backward) takes it in fuse_activation and returns true.
  // fuse_activation(Act::none()) undoes a fusion.
  virtual bool is_activation(Act* /*act*/) const { return false; }
  virtual bool fuse_activation(Act /*act*/) { return false; }

  // Statistics fusion (autograd/graph.h): a batch norm offers a sink for its input's
  // statistics (input_stats_sink); a layer whose training forward can compute the
  // per-channel mean and variance of its output while it is in cache takes the sink
  // (set_stats_sink returns true) and fills it on every training forward, sparing the
  // batch norm a pass over memory. set_stats_sink(nullptr) undoes it.
  virtual StatsSink* input_stats_sink() { return nullptr; }
  virtual bool set_stats_sink(StatsSink* /*sink*/) { return false; }

  // Multiply-accumulates per image, after build (0 for layers the papers do not count).
  virtual int64_t macs() const { return 0; }

  // With profiling on, a layer whose backward computes weight gradients times that part
  // (`xcept bench --train` splits backward into data and weights with it).
  void set_profiling(bool on) { profiling_ = on; }
  // Milliseconds of the last backward spent on parameter gradients.
  double last_backward_weights_ms() const { return backward_weights_ms_; }

 protected:
  bool profiling_ = false;
  double backward_weights_ms_ = 0;

 private:
  std::string name_;
};

}  // namespace xcept

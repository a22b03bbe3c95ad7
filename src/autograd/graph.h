// A network as a graph of layers, with reverse-mode differentiation over it.
//
// Nodes are added in topological order (a node's inputs exist before it), so the order
// of addition is an execution order: forward walks it front to back, backward back to
// front. Branches (Inception), residual additions (Xception) and concatenations are
// nodes with several inputs; a node read by several others gets the sum of their
// gradients. The graph owns every node's output and gradient buffer and keeps them
// across steps (layers may keep buffers of their own, such as a separable convolution's
// intermediate), so a step with the same batch size allocates nothing. Outputs live for
// the whole step (backward reads them); gradient buffers pass from node to node as
// backward goes, only as many alive as the graph needs at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace xcept {

using NodeId = int;

class Graph {
 public:
  explicit Graph(std::string name, uint64_t seed = 0);
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  const std::string& name() const { return name_; }

  // The network input, per image (e.g. {299, 299, 3}).
  NodeId input(Dims per_image, std::string name = "input");
  // Adds a layer reading `inputs`; builds it (shape checks, parameter init) at once.
  NodeId add(std::unique_ptr<Layer> layer, std::vector<NodeId> inputs);
  template <typename L, typename... Args>
  NodeId add(std::vector<NodeId> inputs, Args&&... args) {
    return add(std::make_unique<L>(std::forward<Args>(args)...), std::move(inputs));
  }
  void set_output(NodeId node);
  NodeId output() const { return output_; }

  // Runs every node on a batch (input dims: batch + the input's per-image dims).
  // Returns the output node's activation, owned by the graph until the next forward.
  const Tensor& forward(const Tensor& input, bool training);
  // Given dL/d(output), accumulates dL/d(parameter) into every trainable grad buffer.
  void backward(const Tensor& d_output);
  void zero_grad();
  // Called with every node id as backward passes it, from the last to the first (after
  // its backward, or at once when it needs none): from then on that node's parameter
  // gradients are final. Data-parallel training starts reducing them there. Empty: none.
  void set_backward_hook(std::function<void(NodeId)> hook) { backward_hook_ = std::move(hook); }
  // Reseeds every layer that draws random numbers, each from (seed, node index).
  void reseed(uint64_t seed);
  // Layer::restore_step on every layer (resume: the steps already done).
  void restore_step(int64_t steps);

  // With profiling on, forward and backward time every node (wall time, milliseconds,
  // of the last call) and every layer splits its backward (Layer::set_profiling).
  void set_profiling(bool on);
  double node_forward_ms(NodeId node) const;
  double node_backward_ms(NodeId node) const;

  // Fusion (on by default): at the first forward after the graph changed, a relu or
  // relu6 whose input is a batch norm read by nothing else is folded into that batch
  // norm (Layer::fuse_activation). The activation node stays in the graph, for
  // summaries, lowering and export; its value and gradient are then the batch norm's,
  // and activation(batch norm) returns the activation's output. Likewise a batch norm
  // whose input only it reads takes its training statistics from the producing layer
  // (Layer::set_stats_sink: convolutions compute them as they write). Off: every node
  // runs on its own.
  void set_fusion(bool on);

  // Every layer's parameters, in node order, with full names
  // ("block4_sepconv2.pointwise.weight").
  ParamList params();

  // Read access for summaries and tests.
  int num_nodes() const;
  const Layer* layer(NodeId node) const;  // null for the input node
  Layer* layer(NodeId node);
  const std::string& node_name(NodeId node) const;
  const Dims& node_dims(NodeId node) const;  // per image
  const std::vector<NodeId>& node_inputs(NodeId node) const;
  const Tensor& activation(NodeId node) const;  // after forward (see set_fusion)

 private:
  struct Node;
  std::string name_;
  Rng rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  NodeId input_ = -1, output_ = -1;
  bool profiling_ = false;
  bool fusion_ = true, fusion_planned_ = false;
  std::function<void(NodeId)> backward_hook_;

  Node& resolved(NodeId id);  // the node holding id's value (itself, or its alias)
  const Node& resolved(NodeId id) const;
  void plan_fusion();
  void unfuse();
  Tensor take_grad_buffer(const Dims& dims);
  std::vector<Tensor> grad_pool_;  // gradient buffers between uses (see backward)
};

}  // namespace xcept

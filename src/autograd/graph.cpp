#include "autograd/graph.h"

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "core/error.h"
#include "core/threadpool.h"

namespace xcept {


struct Graph::Node {
  std::string name;
  std::unique_ptr<Layer> layer;  // null for the input
  std::vector<NodeId> inputs;
  Dims dims;        // per image
  Tensor value;     // batch + dims, after forward
  Tensor grad;      // dL/dvalue, during backward
  bool has_grad = false;
  double forward_ms = 0, backward_ms = 0;  // with profiling on
  // A fused activation node: its layer is skipped and its value and gradient are those
  // of node `alias` (the batch norm that applies the activation itself).
  NodeId alias = -1;
};

Graph::Graph(std::string name, uint64_t seed) : name_(std::move(name)), rng_(seed) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

NodeId Graph::input(Dims per_image, std::string name) {
  if (input_ >= 0) fail("graph {}: only one input is supported", name_);
  for (int64_t d : per_image)
    if (d <= 0) fail("graph {}: input size {} must be positive", name_, dims_to_string(per_image));
  auto node = std::make_unique<Node>();
  node->name = std::move(name);
  node->dims = std::move(per_image);
  nodes_.push_back(std::move(node));
  input_ = output_ = NodeId(nodes_.size() - 1);
  return input_;
}

NodeId Graph::add(std::unique_ptr<Layer> layer, std::vector<NodeId> inputs) {
  for (const auto& n : nodes_)
    if (n->name == layer->name()) fail("graph {}: two layers are named '{}'", name_, layer->name());
  std::vector<Dims> in_dims;
  for (NodeId i : inputs) {
    if (i < 0 || i >= NodeId(nodes_.size()))
      fail("graph {}: layer '{}' reads node {}, which does not exist", name_, layer->name(), i);
    in_dims.push_back(nodes_[i]->dims);
  }
  auto node = std::make_unique<Node>();
  node->dims = layer->build(in_dims, rng_);
  node->name = layer->name();
  node->layer = std::move(layer);
  node->inputs = std::move(inputs);
  nodes_.push_back(std::move(node));
  output_ = NodeId(nodes_.size() - 1);
  unfuse();  // a new reader may break a fusion: plan again at the next forward
  return output_;
}

Graph::Node& Graph::resolved(NodeId id) {
  Node* n = nodes_[size_t(id)].get();
  return n->alias >= 0 ? *nodes_[size_t(n->alias)] : *n;
}
const Graph::Node& Graph::resolved(NodeId id) const {
  const Node* n = nodes_[size_t(id)].get();
  return n->alias >= 0 ? *nodes_[size_t(n->alias)] : *n;
}

void Graph::unfuse() {
  for (auto& n : nodes_) {
    if (n->alias >= 0) nodes_[size_t(n->alias)]->layer->fuse_activation(Act::none());
    n->alias = -1;
    if (n->layer) n->layer->set_stats_sink(nullptr);
  }
  fusion_planned_ = false;
}

// An activation node whose only input is a layer that nothing else reads (and that is
// not the output) becomes an alias of that layer when the layer takes the activation
// (Layer::fuse_activation: batch norm takes relu and relu6). Saves a pass over memory
// each way and the intermediate's buffer.
void Graph::plan_fusion() {
  fusion_planned_ = true;
  if (!fusion_) return;
  std::vector<int> readers(nodes_.size(), 0);
  for (const auto& n : nodes_)
    for (NodeId i : n->inputs) ++readers[size_t(i)];
  for (auto& n : nodes_) {
    Act act;
    if (!n->layer || n->inputs.size() != 1 || !n->layer->is_activation(&act)) continue;
    if (act == Act::none()) continue;
    const NodeId src = n->inputs[0];
    Node& s = *nodes_[size_t(src)];
    if (!s.layer || readers[size_t(src)] != 1 || src == output_ || s.alias >= 0) continue;
    if (s.layer->fuse_activation(act)) n->alias = src;
  }
  // A batch norm whose input only it reads takes its training statistics from the layer
  // producing that input, if the layer can compute them (Layer::set_stats_sink).
  for (auto& n : nodes_) {
    if (!n->layer || n->inputs.size() != 1) continue;
    StatsSink* sink = n->layer->input_stats_sink();
    if (!sink) continue;
    const NodeId src = n->inputs[0];
    Node& s = *nodes_[size_t(src)];
    if (!s.layer || readers[size_t(src)] != 1 || src == output_) continue;
    s.layer->set_stats_sink(sink);
  }
}

void Graph::set_fusion(bool on) {
  unfuse();
  fusion_ = on;
}

void Graph::set_output(NodeId node) {
  if (node < 0 || node >= NodeId(nodes_.size())) fail("graph {}: no node {}", name_, node);
  output_ = node;
}

static Dims with_batch(int64_t batch, const Dims& dims) {
  Dims d{batch};
  d.insert(d.end(), dims.begin(), dims.end());
  return d;
}


const Tensor& Graph::forward(const Tensor& input, bool training) {
  if (input_ < 0) fail("graph {}: no input", name_);
  Node& in = *nodes_[input_];
  if (input.rank() != in.dims.size() + 1 ||
      !std::equal(in.dims.begin(), in.dims.end(), input.dims().begin() + 1))
    fail("graph {}: input is {}, expected batch x {}", name_, dims_to_string(input.dims()),
         dims_to_string(in.dims));
  const int64_t batch = input.dim(0);
  ensure_dims(in.value, input.dims());  // a copy into the buffer of the last batch
  if (input.numel() > 0)
    std::copy(input.data(), input.data() + input.numel(), in.value.data());
  if (!fusion_planned_) plan_fusion();
  std::vector<const Tensor*> ins;
  for (auto& node : nodes_) {
    if (!node->layer || node->alias >= 0) continue;
    ins.clear();
    for (NodeId i : node->inputs) ins.push_back(&resolved(i).value);
    const auto t0 = profiling_ ? Clock::now() : Clock::time_point{};
    ensure_dims(node->value, with_batch(batch, node->dims));
    node->layer->forward(ins, node->value, training);
    if (profiling_) node->forward_ms = ms_since(t0);
  }
  return resolved(output_).value;
}

void Graph::backward(const Tensor& d_output) {
  Node& out = resolved(output_);
  if (d_output.dims() != out.value.dims())
    fail("graph {}: output gradient is {}, output is {}", name_, dims_to_string(d_output.dims()),
         dims_to_string(out.value.dims()));
  for (auto& node : nodes_) node->has_grad = false;
  out.grad = take_grad_buffer(d_output.dims());
  std::copy(d_output.data(), d_output.data() + d_output.numel(), out.grad.data());
  out.has_grad = true;

  // Nodes are visited by id; a fused activation (an alias) has no backward of its own:
  // its readers wrote into the batch norm's gradient, which differentiates through it.
  auto id_of = [&](NodeId i) { return nodes_[size_t(i)]->alias >= 0 ? nodes_[size_t(i)]->alias : i; };
  std::vector<const Tensor*> ins;
  std::vector<Tensor*> dins;
  for (NodeId id = NodeId(nodes_.size()) - 1; id >= 0; --id) {
    Node& node = *nodes_[size_t(id)];
    if (!node.layer || node.alias >= 0 || !node.has_grad) {
      if (backward_hook_) backward_hook_(id);
      continue;
    }
    const auto t0 = profiling_ ? Clock::now() : Clock::time_point{};
    ins.clear();
    dins.clear();
    std::set<NodeId> first_writers;  // inputs this node writes directly
    // Contributions to inputs whose grad already holds one, summed into it right after;
    // their buffers come from and go back to the pool (reserved: dins points into it).
    std::vector<Tensor> extras;
    extras.reserve(node.inputs.size());
    bool in_place = false;  // din[0] is node.grad itself (Layer::backward_in_place)
    for (NodeId raw : node.inputs) {
      const NodeId i = id_of(raw);
      Node& src = *nodes_[size_t(i)];
      ins.push_back(&src.value);
      if (!src.layer) {  // the network input needs no gradient
        dins.push_back(nullptr);
      } else if (!src.has_grad && !first_writers.count(i)) {
        if (dins.empty() && node.layer->backward_in_place() &&
            src.value.dims() == node.grad.dims()) {
          in_place = true;
          dins.push_back(&node.grad);
        } else {
          src.grad = take_grad_buffer(src.value.dims());
          dins.push_back(&src.grad);
        }
        first_writers.insert(i);
      } else {  // already holds a contribution: write beside it, add below
        extras.push_back(take_grad_buffer(src.value.dims()));
        dins.push_back(&extras.back());
      }
    }
    node.layer->backward(ins, node.value, node.grad, dins);
    if (in_place) {  // this node's gradient buffer now holds its first input's
      nodes_[size_t(id_of(node.inputs[0]))]->grad = std::move(node.grad);
      dins[0] = &nodes_[size_t(id_of(node.inputs[0]))]->grad;
    }
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      Node& src = *nodes_[size_t(id_of(node.inputs[k]))];
      if (!src.layer) continue;
      if (dins[k] == &src.grad) {
        src.has_grad = true;
      } else {
        float* g = src.grad.data();
        const float* part = dins[k]->data();
        parallel_for(src.grad.numel(), int64_t{1} << 15, [&](int64_t b, int64_t e) {
          for (int64_t j = b; j < e; ++j) g[j] += part[j];
        });
      }
    }
    for (Tensor& t : extras) grad_pool_.push_back(std::move(t));
    // This node's gradient has been passed on: its buffer serves an earlier node's.
    if (!in_place) grad_pool_.push_back(std::move(node.grad));
    node.grad = Tensor();
    if (profiling_) node.backward_ms = ms_since(t0);
    if (backward_hook_) backward_hook_(id);
  }
}

// Gradient buffers live only from a node's first reader's backward to its own, so they
// circulate through a pool: the peak is the most gradients alive at once, not one per
// node, and a step with the same batch allocates nothing once the pool holds them. Any
// pooled buffer large enough serves, the smallest such first: matching exact shapes
// kept one buffer per distinct shape (Xception b8: 567 MB of pool). The buffer's
// contents are garbage: its first writer overwrites it.
Tensor Graph::take_grad_buffer(const Dims& dims) {
  int64_t want = 1;
  for (int64_t d : dims) want *= d;
  size_t best = grad_pool_.size();
  for (size_t k = 0; k < grad_pool_.size(); ++k) {
    const int64_t cap = grad_pool_[k].capacity();
    if (cap >= want && (best == grad_pool_.size() || cap < grad_pool_[best].capacity()))
      best = k;
  }
  if (best == grad_pool_.size()) return Tensor(dims);
  Tensor t = std::move(grad_pool_[best]);
  grad_pool_.erase(grad_pool_.begin() + std::ptrdiff_t(best));
  t.resize_uninitialized(dims);
  return t;
}

void Graph::set_profiling(bool on) {
  profiling_ = on;
  for (NodeId i = 0; i < NodeId(nodes_.size()); ++i)
    if (nodes_[i]->layer) nodes_[i]->layer->set_profiling(on);
}
double Graph::node_forward_ms(NodeId node) const { return nodes_.at(node)->forward_ms; }
double Graph::node_backward_ms(NodeId node) const { return nodes_.at(node)->backward_ms; }

void Graph::zero_grad() {
  for (auto& p : params())
    if (p.grad) p.grad->fill(0.f);
}

void Graph::reseed(uint64_t seed) {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i]->layer) {
      // splitmix64 of (seed, node): neighbouring nodes get unrelated streams.
      uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      nodes_[i]->layer->reseed(z ^ (z >> 31));
    }
}

void Graph::restore_step(int64_t steps) {
  for (auto& node : nodes_)
    if (node->layer) node->layer->restore_step(steps);
}

ParamList Graph::params() {
  ParamList all;
  for (auto& node : nodes_) {
    if (!node->layer) continue;
    for (ParamRef& p : node->layer->params()) all.push_back(std::move(p));
  }
  return all;
}

int Graph::num_nodes() const { return int(nodes_.size()); }
const Layer* Graph::layer(NodeId node) const { return nodes_.at(node)->layer.get(); }
Layer* Graph::layer(NodeId node) { return nodes_.at(node)->layer.get(); }
const std::string& Graph::node_name(NodeId node) const { return nodes_.at(node)->name; }
const Dims& Graph::node_dims(NodeId node) const { return nodes_.at(node)->dims; }
const std::vector<NodeId>& Graph::node_inputs(NodeId node) const { return nodes_.at(node)->inputs; }
const Tensor& Graph::activation(NodeId node) const {
  (void)nodes_.at(node);  // range check
  return resolved(node).value;
}

}  // namespace xcept

#include "train/data_parallel.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace xcept {

// The batch norms' sums go over the same communicator as everything else: every rank
// reaches them at the same point of the same step, between the same buckets.
class DataParallel::BatchNormSum : public CrossReplicaSum {
 public:
  explicit BatchNormSum(MpiComm& comm) : comm_(comm) {}
  void sum(double* data, int64_t n) override { comm_.allreduce_sum(data, n, "a sync-bn sum"); }

 private:
  MpiComm& comm_;
};

DataParallel::DataParallel(MpiComm& comm, Graph& graph, int64_t bucket_bytes, bool sync_bn)
    : comm_(comm), graph_(graph) {
  if (bucket_bytes <= 0)
    fail("the gradient bucket size must be positive, got {} bytes", bucket_bytes);
  // Buckets in the order backward finishes parameters: from the last node to the first.
  Bucket current;
  int64_t bytes = 0;
  for (NodeId id = graph.num_nodes() - 1; id >= 0; --id) {
    Layer* layer = graph.layer(id);
    if (!layer) continue;
    for (ParamRef& p : layer->params()) {
      if (!p.trainable()) continue;
      current.params.push_back(p);
      current.last_node = id;
      bytes += p.grad->numel() * int64_t(sizeof(float));
    }
    if (bytes >= bucket_bytes) {
      buckets_.push_back(std::move(current));
      current = Bucket{};
      bytes = 0;
    }
  }
  if (!current.params.empty()) buckets_.push_back(std::move(current));
  for (Bucket& b : buckets_) {
    int64_t n = 0;
    for (const ParamRef& p : b.params) n += p.grad->numel();
    b.flat.resize(size_t(n));
  }
  graph_.set_backward_hook([this](NodeId id) { node_done(id); });
  if (sync_bn) {
    bn_sum_ = std::make_unique<BatchNormSum>(comm_);
    for (NodeId id = 0; id < graph.num_nodes(); ++id)
      if (Layer* l = graph.layer(id)) l->sync_batch_statistics(bn_sum_.get());
  }
}

DataParallel::~DataParallel() {
  graph_.set_backward_hook({});
  for (NodeId id = 0; id < graph_.num_nodes(); ++id)
    if (Layer* l = graph_.layer(id)) l->sync_batch_statistics(nullptr);
}

void DataParallel::begin_backward() { launched_ = 0; }

void DataParallel::launch() {
  Bucket& b = buckets_[launched_++];
  float* dst = b.flat.data();
  for (const ParamRef& p : b.params) {
    std::memcpy(dst, p.grad->data(), size_t(p.grad->numel()) * sizeof(float));
    dst += p.grad->numel();
  }
  comm_.start_allreduce_sum(b.flat.data(), int64_t(b.flat.size()),
                            fmt::format("gradient bucket {} of {}", launched_, buckets_.size()));
}

void DataParallel::node_done(NodeId id) {
  // Buckets start in one fixed order on every rank (MPI needs collectives in the same
  // order everywhere): the next one as soon as backward has passed its lowest node.
  while (launched_ < buckets_.size() && buckets_[launched_].last_node >= id)
    launch();
  comm_.progress();
}

void DataParallel::finish_backward() {
  while (launched_ < buckets_.size()) launch();
  comm_.wait_all();
  for (Bucket& b : buckets_) {
    const float* src = b.flat.data();
    for (const ParamRef& p : b.params) {
      std::memcpy(p.grad->data(), src, size_t(p.grad->numel()) * sizeof(float));
      src += p.grad->numel();
    }
  }
}

void DataParallel::broadcast_params() {
  for (const ParamRef& p : graph_.params())
    comm_.broadcast(p.value->data(), p.value->numel() * int64_t(sizeof(float)), 0,
                    "the broadcast of " + p.name);
}

std::string broadcast_string(MpiComm& comm, std::string s, const std::string& what) {
  int64_t n = int64_t(s.size());
  comm.broadcast(&n, sizeof n, 0, what);
  s.resize(size_t(n));
  comm.broadcast(s.data(), n, 0, what);
  return s;
}

void DataParallel::broadcast_optimizer(Optimizer& optimizer) {
  // Names and dims as JSON, then every tensor's floats.
  NamedTensors state;
  nlohmann::json header = nlohmann::json::array();
  if (comm_.rank() == 0) {
    state = optimizer.export_state();
    for (const NamedTensor& t : state) header.push_back({t.name, t.tensor.dims()});
  }
  header = nlohmann::json::parse(
      broadcast_string(comm_, header.dump(), "the optimizer state's names"));
  if (comm_.rank() != 0)
    for (const auto& h : header)
      state.push_back({h.at(0).get<std::string>(), Tensor(h.at(1).get<Dims>())});
  for (NamedTensor& t : state)
    comm_.broadcast(t.tensor.data(), t.tensor.numel() * int64_t(sizeof(float)), 0,
                    "the broadcast of optimizer state " + t.name);
  if (comm_.rank() != 0) optimizer.import_state(state, graph_.params());
}

}  // namespace xcept

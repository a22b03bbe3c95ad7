// Data-parallel training over the processes of an MPI job: every rank holds the whole
// model, trains on its shard of each global batch (train/batcher: BatchLoaderOptions::
// shard), and the ranks sum their gradients so every rank takes the same optimizer step.
//
// Gradients. Each rank scales dL/dlogits by its share of the global batch (local images /
// global images), so the SUM of the ranks' gradients is the gradient of the global
// batch's mean loss: the step a single process would take on the whole batch. The sums
// run in buckets of about `bucket_bytes`, made from the parameters in the order backward
// finishes them (last layer first). The graph's backward hook reports each node as it is
// done; a bucket whose parameters are all final is copied into one flat buffer and its
// MPI_Iallreduce started there and then, so the reduction of the late layers overlaps
// the backward of the early ones. finish_backward() waits for the rest and copies the
// sums back.
//
// Batch norm. Without sync_bn each rank normalizes with its own shard's statistics (and
// keeps its own moving averages; rank 0's are the ones saved). With sync_bn every batch
// norm takes mean and variance over the global batch (layers/cross_replica.h), which
// with the loss scaling above makes N ranks compute what one process computes on the
// global batch, up to the order of floating-point sums.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "core/named_tensor.h"
#include "layers/cross_replica.h"
#include "train/mpi_comm.h"
#include "train/optimizer.h"

namespace xcept {

class DataParallel {
 public:
  // Installs the graph's backward hook and, with sync_bn, the batch norms' cross-replica
  // sum; both are removed by the destructor. The graph must outlive this object.
  DataParallel(MpiComm& comm, Graph& graph, int64_t bucket_bytes, bool sync_bn);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  MpiComm& comm() { return comm_; }
  int64_t buckets() const { return int64_t(buckets_.size()); }

  // Around Graph::backward (train_step calls them).
  void begin_backward();
  void finish_backward();

  // Rank 0's parameter values (all of them, batch-norm statistics too) to every rank.
  void broadcast_params();
  // Rank 0's optimizer state to every rank (for a resumed run).
  void broadcast_optimizer(Optimizer& optimizer);

 private:
  struct Bucket {
    std::vector<ParamRef> params;
    NodeId last_node = 0;  // the lowest node id among them: final once backward passed it
    std::vector<float> flat;
  };
  void node_done(NodeId id);
  void launch();  // the next bucket

  class BatchNormSum;
  MpiComm& comm_;
  Graph& graph_;
  std::vector<Bucket> buckets_;  // in launch order
  size_t launched_ = 0;
  std::unique_ptr<BatchNormSum> bn_sum_;
};

// Rank 0's `s` to every rank (the others' `s` is ignored).
std::string broadcast_string(MpiComm& comm, std::string s, const std::string& what);

}  // namespace xcept

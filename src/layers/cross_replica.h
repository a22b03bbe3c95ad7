// Sums across the replicas of data-parallel training (one process per replica, each with
// its share of the global batch). Layers that normalize with batch statistics use it to
// take them over the global batch (synchronized batch norm); train/data_parallel
// implements it over MPI. Layers know no transport.
#pragma once

#include <cstdint>

namespace xcept {

class CrossReplicaSum {
 public:
  virtual ~CrossReplicaSum() = default;
  // Replaces data[0..n) by its sum over every replica. Every replica calls it at the same
  // point of the same step, with the same n (a collective).
  virtual void sum(double* data, int64_t n) = 0;
};

}  // namespace xcept

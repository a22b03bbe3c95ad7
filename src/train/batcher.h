// Mini-batches over an in-memory Dataset: seeded per-epoch shuffling, optional
// augmentation, and a background thread that prepares the next batches while the model
// trains.
//
// Everything random is a function of (seed, epoch, batch index) alone: epoch e's order
// comes from (seed, e), batch b's augmentation from (seed, e, b). A run killed during epoch
// e and resumed with start_epoch(e, b) sees exactly the batches it would have seen, and
// prefetching (any depth) yields the same batches as building them synchronously.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "io/dataset.h"
#include "train/augment.h"

namespace xcept {

struct Batch {
  Tensor images;                 // B x H x W x C
  std::vector<int32_t> labels;   // B
  std::vector<int64_t> indices;  // B positions in the dataset
  int64_t epoch = 0;
  int64_t index = 0;  // batch number within the epoch
  int64_t global_size = 0;  // images in the whole batch, all shards (== labels.size() alone)
};

struct BatchLoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;     // false: dataset order every epoch
  bool drop_last = false;  // drop the final batch when it would be short
  uint64_t seed = 0;
  // Data-parallel training: batch b of the epoch's order is cut into `shards` near-equal
  // contiguous slices and this loader yields slice `shard`, so the shards of a step
  // together are exactly the batch one process would train on. A final batch with
  // fewer images than shards is dropped (at most shards - 1 images of an epoch).
  // Augmentation is keyed by (seed, epoch, batch, shard) when shards > 1.
  int shard = 0, shards = 1;
  std::optional<AugmentConfig> augment;
  // Batches prepared ahead on a background thread (queue depth); 0 builds each batch
  // synchronously inside next().
  int prefetch = 2;
  // Runs on each finished batch (on the background thread when prefetching); anything it
  // throws reaches the caller of next().
  std::function<void(Batch&)> transform;
};

class BatchLoader {
 public:
  // `data` is not copied: it must outlive the loader and stay unchanged while it runs.
  BatchLoader(const Dataset& data, BatchLoaderOptions options);
  ~BatchLoader();  // stops and joins the background thread
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t batches_per_epoch() const;
  const BatchLoaderOptions& options() const { return opt_; }

  // Begins epoch `epoch` at batch `first_batch` (to resume mid-epoch); abandons whatever
  // epoch was running.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);

  // The next batch of the current epoch, or nullopt once it is over. Rethrows an error
  // raised while preparing a batch (after the batches before it), ending the epoch.
  std::optional<Batch> next();

  // Dataset indices in the order epoch `epoch` visits them.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  Batch build_batch(int64_t batch_index) const;
  void worker_main(int64_t first_batch);
  void stop_worker();

  const Dataset& data_;
  BatchLoaderOptions opt_;

  // Current epoch; written only by start_epoch while no worker runs.
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t next_batch_ = 0;  // synchronous mode only

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable space_cv_;  // worker waits for room in the queue
  std::condition_variable ready_cv_;  // consumer waits for a batch or the end
  std::deque<Batch> queue_;
  bool cancel_ = false;
  bool worker_done_ = false;
  std::exception_ptr error_;
};

}  // namespace xcept

#include "train/batcher.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "train/data_rng.h"

namespace xcept {
namespace {

// Stream names for derive_seed: shuffling and augmentation never share numbers.
constexpr uint64_t kShuffleStream = 1;
constexpr uint64_t kAugmentStream = 2;
constexpr int kMaxPrefetch = 16;

}  // namespace

BatchLoader::BatchLoader(const Dataset& data, BatchLoaderOptions options)
    : data_(data), opt_(std::move(options)) {
  validate_dataset(data_, "BatchLoader dataset");
  const int64_t n = data_.size();
  if (n == 0) fail("BatchLoader: the dataset is empty");
  if (opt_.batch_size <= 0) fail("BatchLoader: batch size {} must be positive", opt_.batch_size);
  if (opt_.drop_last && opt_.batch_size > n)
    fail("BatchLoader: batch size {} with drop_last leaves no batch of the {} samples",
         opt_.batch_size, n);
  if (opt_.prefetch < 0 || opt_.prefetch > kMaxPrefetch)
    fail("BatchLoader: prefetch {} must be in [0, {}]", opt_.prefetch, kMaxPrefetch);
  if (opt_.augment) validate_augment(*opt_.augment, data_.images.dim(3));
  if (opt_.shards < 1 || opt_.shard < 0 || opt_.shard >= opt_.shards)
    fail("BatchLoader: shard {} of {} does not exist", opt_.shard, opt_.shards);
  if (opt_.batch_size < opt_.shards)
    fail("BatchLoader: batch size {} is smaller than the {} shards (processes): each needs an "
         "image of every batch", opt_.batch_size, opt_.shards);
  if (n < opt_.shards)
    fail("BatchLoader: {} samples cannot feed {} shards", n, opt_.shards);
}

BatchLoader::~BatchLoader() { stop_worker(); }

int64_t BatchLoader::batches_per_epoch() const {
  const int64_t n = data_.size(), b = opt_.batch_size;
  return n / b + (!opt_.drop_last && n % b >= opt_.shards ? 1 : 0);
}

std::vector<int64_t> BatchLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(data_.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!opt_.shuffle) return order;
  DataRng rng(derive_seed(opt_.seed, {kShuffleStream, static_cast<uint64_t>(epoch)}));
  for (size_t i = order.size(); i > 1; --i)  // Fisher-Yates
    std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  if (epoch < 0) fail("BatchLoader: epoch {} is negative", epoch);
  if (first_batch < 0 || first_batch > batches_per_epoch())
    fail("BatchLoader: first batch {} outside [0, {}]", first_batch, batches_per_epoch());
  stop_worker();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  next_batch_ = first_batch;
  if (opt_.prefetch == 0) return;
  queue_.clear();
  cancel_ = false;
  worker_done_ = false;
  error_ = nullptr;
  worker_ = std::thread(&BatchLoader::worker_main, this, first_batch);
}

Batch BatchLoader::build_batch(int64_t batch_index) const {
  const Tensor& images = data_.images;
  const int64_t n = data_.size(), first = batch_index * opt_.batch_size;
  const int64_t global = std::min(opt_.batch_size, n - first);
  const int64_t start = first + global * opt_.shard / opt_.shards;
  const int64_t count = first + global * (opt_.shard + 1) / opt_.shards - start;
  const int64_t h = images.dim(1), w = images.dim(2), c = images.dim(3);
  const int64_t image_floats = h * w * c;

  Batch batch;
  batch.epoch = epoch_;
  batch.index = batch_index;
  batch.global_size = global;
  batch.images = Tensor({count, h, w, c});
  batch.labels.resize(static_cast<size_t>(count));
  batch.indices.assign(order_.begin() + start, order_.begin() + start + count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t src = batch.indices[i];
    std::memcpy(batch.images.data() + i * image_floats, images.data() + src * image_floats,
                static_cast<size_t>(image_floats) * sizeof(float));
    batch.labels[i] = data_.labels[src];
  }
  if (opt_.augment) {
    const uint64_t e = static_cast<uint64_t>(epoch_), b = static_cast<uint64_t>(batch_index);
    augment_batch(batch.images, *opt_.augment,
                  opt_.shards == 1
                      ? derive_seed(opt_.seed, {kAugmentStream, e, b})
                      : derive_seed(opt_.seed, {kAugmentStream, e, b, uint64_t(opt_.shard)}));
  }
  if (opt_.transform) opt_.transform(batch);
  return batch;
}

void BatchLoader::worker_main(int64_t first_batch) {
  const int64_t end = batches_per_epoch();
  try {
    for (int64_t b = first_batch; b < end; ++b) {
      {
        std::unique_lock lock(mutex_);
        space_cv_.wait(lock, [&] { return cancel_ || std::ssize(queue_) < opt_.prefetch; });
        if (cancel_) break;
      }
      Batch batch = build_batch(b);
      {
        std::lock_guard lock(mutex_);
        if (cancel_) break;
        queue_.push_back(std::move(batch));
      }
      ready_cv_.notify_one();
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    worker_done_ = true;
  }
  ready_cv_.notify_all();
}

std::optional<Batch> BatchLoader::next() {
  if (epoch_ < 0) fail("BatchLoader::next: call start_epoch first");
  if (opt_.prefetch == 0) {
    if (next_batch_ >= batches_per_epoch()) return std::nullopt;
    const int64_t b = next_batch_++;
    try {
      return build_batch(b);
    } catch (...) {
      next_batch_ = batches_per_epoch();  // as with prefetching: an error ends the epoch
      throw;
    }
  }
  std::unique_lock lock(mutex_);
  ready_cv_.wait(lock, [&] { return !queue_.empty() || worker_done_; });
  if (!queue_.empty()) {
    Batch batch = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    space_cv_.notify_one();
    return batch;
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return std::nullopt;
}

void BatchLoader::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    cancel_ = true;
  }
  space_cv_.notify_all();
  worker_.join();
  queue_.clear();
}

}  // namespace xcept

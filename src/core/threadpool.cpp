#include "core/threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XCEPT_CPU_RELAX() _mm_pause()
#else
#define XCEPT_CPU_RELAX() std::this_thread::yield()
#endif

namespace xcept {
namespace {

thread_local bool t_inside_pool = false;

// How long a thread waits on a flag before it sleeps in the kernel. The gaps between the
// parallel regions of a training step or an inference run are microseconds to a
// fraction of a millisecond; sleeping there cost a futex round trip per region (29 s of
// system time in a 105 s mini-xception epoch). So a waiter first spins (kSpin), then
// yields its core between checks (to kYield: on a loaded machine the thread it waits for
// may be queued behind it on the same core), then sleeps. A fifth of a millisecond of
// waiting after the last region of a run is all an idle process pays.
constexpr std::chrono::microseconds kSpin{20}, kYield{200};

// A region is cut into about this many chunks per thread, so a late thread takes fewer.
constexpr int64_t kChunksPerThread = 4;

// Waits until pred() holds or kYield has passed; returns pred().
template <typename Pred>
bool spin_until(Pred pred) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      XCEPT_CPU_RELAX();
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= kYield) return pred();
    if (waited >= kSpin) std::this_thread::yield();
  }
}

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { start(threads); }
  ~ThreadPool() { stop(); }

  int size() const { return size_.load(std::memory_order_relaxed); }

  void resize(int threads) {
    std::lock_guard<std::mutex> lock(run_mutex_);  // never under a running region
    stop();
    start(threads);
  }

  // Runs the chunks of [0, n) on all threads. Returns false, having run nothing, when
  // another thread's region holds the pool.
  bool run_range(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    range_fn_ = &fn;
    each_fn_ = nullptr;
    n_ = n, chunk_ = chunk;
    next_.store(0, std::memory_order_relaxed);
    run_region([this] { take_chunks(); });
    return true;
  }

  // Runs fn(t) for t in [0, threads) on threads 0..threads-1 (threads <= size()).
  bool run_each(int threads, const std::function<void(int)>& fn) {
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    range_fn_ = nullptr;
    each_fn_ = &fn;
    each_threads_ = threads;
    run_region([&] { fn(0); });
    return true;
  }

 private:
  template <typename CallerPart>
  void run_region(CallerPart caller_part) {
    error_ = nullptr;
    active_.store(int(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes the fields above
    if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
    t_inside_pool = true;
    try {
      caller_part();
    } catch (...) {
      record(std::current_exception());
    }
    t_inside_pool = false;
    // Wait for the workers: spin first, then sleep until the last one wakes us.
    if (!spin_until([&] { return active_.load(std::memory_order_acquire) == 0; })) {
      caller_waiting_.store(true, std::memory_order_seq_cst);
      for (int v; (v = active_.load(std::memory_order_seq_cst)) != 0;) active_.wait(v);
      caller_waiting_.store(false, std::memory_order_relaxed);
    }
    range_fn_ = nullptr;
    each_fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  void take_chunks() {
    for (;;) {
      const int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      const int64_t begin = c * chunk_;
      if (begin >= n_) return;
      try {
        (*range_fn_)(begin, std::min(n_, begin + chunk_));
      } catch (...) {
        record(std::current_exception());
        next_.store(n_, std::memory_order_relaxed);  // the others stop at their next chunk
        return;
      }
    }
  }

  void record(std::exception_ptr e) {
    std::lock_guard<std::mutex> g(error_mutex_);
    if (!error_) error_ = e;
  }

  void worker_loop(int index, uint32_t seen) {
    t_inside_pool = true;
    for (;;) {
      auto changed = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(changed)) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (!changed()) generation_.wait(seen, std::memory_order_acquire);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stopping_.load(std::memory_order_acquire)) return;
      if (range_fn_) {
        take_chunks();
      } else if (each_fn_ && index < each_threads_) {
        try {
          (*each_fn_)(index);
        } catch (...) {
          record(std::current_exception());
        }
      }
      if (active_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
          caller_waiting_.load(std::memory_order_seq_cst))
        active_.notify_one();
    }
  }

  void start(int threads) {
    threads = std::max(threads, 1);
    stopping_.store(false);
    // A new worker must not mistake the last finished region for a new one.
    const uint32_t seen = generation_.load();
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this, i, seen] { worker_loop(i, seen); });
    size_.store(threads, std::memory_order_relaxed);
  }

  void stop() {
    stopping_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    size_.store(1, std::memory_order_relaxed);
  }

  std::vector<std::thread> workers_;
  std::atomic<int> size_{1};
  std::mutex run_mutex_, error_mutex_;
  // The region: written by the caller before generation_ is bumped, read by workers after.
  const std::function<void(int64_t, int64_t)>* range_fn_ = nullptr;
  const std::function<void(int)>* each_fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  int each_threads_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> active_{0}, sleepers_{0};
  std::atomic<bool> caller_waiting_{false}, stopping_{false};
  std::exception_ptr error_;
};

int default_threads() { return int(std::max(1u, std::thread::hardware_concurrency())); }

ThreadPool& pool() {
  static ThreadPool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int threads) {
  if (threads <= 0) threads = default_threads();
  if (threads != pool().size()) pool().resize(threads);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t threads = num_threads();
  const int64_t parts = std::min<int64_t>(threads, (n + grain - 1) / grain);
  if (parts <= 1 || t_inside_pool) {
    fn(0, n);
    return;
  }
  const int64_t target = parts * kChunksPerThread;
  const int64_t chunk = std::max(grain, (n + target - 1) / target);
  if (!pool().run_range(n, chunk, fn)) fn(0, n);
}

void parallel_run_each(int threads, const std::function<void(int)>& fn) {
  threads = std::max(threads, 1);
  if (threads == 1 || t_inside_pool || threads > num_threads() || !pool().run_each(threads, fn))
    for (int t = 0; t < threads; ++t) fn(t);
}

}  // namespace xcept

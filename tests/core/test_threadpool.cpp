// The thread pool on its own: coverage of every index, chunk sizes, nesting, errors,
// resizing under load, concurrent callers, and one call per thread for parallel_run_each.
// Each test that could hang runs under a watchdog, so a deadlock fails instead of
// stalling the suite.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <algorithm>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/threadpool.h"

namespace xcept {
namespace {

// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

template <typename Fn>
void within_seconds(int seconds, Fn fn) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    // The future's destructor would wait for the hung work: end the process instead.
    std::fprintf(stderr, "FAILED: %s did not finish in %d s (deadlock?)\n",
                 ::testing::UnitTest::GetInstance()->current_test_info()->name(), seconds);
    std::fflush(stderr);
    std::_Exit(1);
  }
  done.get();
}

TEST(ThreadPool, CoversEveryIndexOnceWithRangesOfAtLeastGrain) {
  ThreadsGuard guard;
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 4097})
      for (int64_t grain : {1, 3, 16, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::mutex m;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        parallel_for(n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
          std::lock_guard<std::mutex> g(m);
          ranges.emplace_back(b, e);
        });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[size_t(i)].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
        for (auto [b, e] : ranges) {
          if (e != n) {
            EXPECT_GE(e - b, grain) << "n=" << n << " range " << b << ".." << e;
          }
        }
      }
  }
}

TEST(ThreadPool, ChunksDependOnlyOnTheShapeAndThreadCount) {
  ThreadsGuard guard;
  set_num_threads(2);
  auto cuts = [] {
    std::mutex m;
    std::set<std::pair<int64_t, int64_t>> r;
    parallel_for(1000, 10, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> g(m);
      r.emplace(b, e);
    });
    return r;
  };
  const auto first = cuts();
  EXPECT_GT(first.size(), 2u) << "a region should be cut into several chunks";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cuts(), first);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadsGuard guard;
  set_num_threads(2);
  within_seconds(30, [] {
    std::atomic<int64_t> sum{0};
    parallel_for(8, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        parallel_for(100, 1, [&](int64_t b2, int64_t e2) {
          for (int64_t j = b2; j < e2; ++j) sum += j;
        });
    });
    EXPECT_EQ(sum.load(), 8 * 4950);
  });
}

TEST(ThreadPool, ErrorsPropagateAndThePoolStaysUsable) {
  ThreadsGuard guard;
  set_num_threads(2);
  within_seconds(30, [] {
    for (int64_t bad : {0, 999}) {  // one chunk the caller takes, one likely a worker's
      EXPECT_THROW(parallel_for(1000, 1,
                                [&](int64_t b, int64_t e) {
                                  if (b <= bad && bad < e) throw std::runtime_error("boom");
                                }),
                   std::runtime_error);
    }
    std::atomic<int64_t> n{0};
    parallel_for(1000, 1, [&](int64_t b, int64_t e) { n += e - b; });
    EXPECT_EQ(n.load(), 1000);
  });
}

TEST(ThreadPool, ResizeDuringParallelWorkNeverHangs) {
  ThreadsGuard guard;
  within_seconds(60, [] {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> regions{0}, lost{0};
    std::thread worker([&] {
      while (!stop) {
        std::atomic<int64_t> n{0};
        parallel_for(4096, 16, [&](int64_t b, int64_t e) { n += e - b; });
        if (n.load() != 4096) ++lost;
        ++regions;
      }
    });
    // At least 200 resizes, and until regions ran between them: on a loaded machine the
    // resizes alone can finish before the worker is ever scheduled.
    for (int i = 0; i < 200 || regions.load() < 20; ++i) set_num_threads(1 + i % 3);
    stop = true;
    worker.join();
    EXPECT_GT(regions.load(), 0);
    EXPECT_EQ(lost.load(), 0) << "a region lost indices";
  });
}

TEST(ThreadPool, TwoCallersRunAtOnce) {
  ThreadsGuard guard;
  set_num_threads(2);
  within_seconds(60, [] {
    // Each caller's region waits until the other caller is inside its own region: with
    // one mutex serializing regions this never finishes.
    std::atomic<int> inside{0};
    auto caller = [&] {
      parallel_for(2, 1, [&](int64_t b, int64_t) {
        if (b != 0) return;
        ++inside;
        while (inside.load() < 2) std::this_thread::yield();
      });
    };
    std::thread a(caller), b(caller);
    a.join();
    b.join();
    EXPECT_EQ(inside.load(), 2);
  });
}

TEST(ThreadPool, RunEachGivesEveryThreadOneCall) {
  ThreadsGuard guard;
  set_num_threads(2);
  within_seconds(30, [] {
    for (int rep = 0; rep < 50; ++rep) {
      std::mutex m;
      std::vector<int> seen;
      std::set<std::thread::id> ids;
      parallel_run_each(2, [&](int t) {
        std::lock_guard<std::mutex> g(m);
        seen.push_back(t);
        ids.insert(std::this_thread::get_id());
      });
      std::sort(seen.begin(), seen.end());
      ASSERT_EQ(seen, (std::vector<int>{0, 1}));
      ASSERT_EQ(ids.size(), 2u) << "parallel_run_each ran two calls on one thread";
    }
  });
}

TEST(ThreadPool, ManyShortRegionsStayCorrect) {
  ThreadsGuard guard;
  set_num_threads(2);
  within_seconds(60, [] {
    int64_t total = 0;
    for (int rep = 0; rep < 20000; ++rep) {
      std::atomic<int64_t> s{0};
      parallel_for(4, 1, [&](int64_t b, int64_t e) { s += e - b; });
      total += s.load();
    }
    EXPECT_EQ(total, 4 * 20000);
  });
}

}  // namespace
}  // namespace xcept

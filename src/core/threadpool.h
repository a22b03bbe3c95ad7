// One process-wide pool of worker threads. Kernels split work with parallel_for; the
// calling thread takes a share, so `threads` counts the caller. A parallel_for issued
// from inside a worker runs inline: nesting never oversubscribes the cores.
//
// Work is handed out in chunks from a shared counter, so a thread that starts late (a
// vCPU descheduled by the host, a worker still waking up) takes fewer chunks instead of
// holding the whole region back. Chunk boundaries depend only on n, grain and the
// thread count, never on timing: kernels that reduce per chunk stay deterministic.
// Workers spin briefly on the next region before they sleep, so the back-to-back
// regions of a training step or an inference run cost no system call.
//
// One region runs at a time. A parallel_for issued while another thread's region runs
// (two Executors on two threads) does not wait for it: it runs inline on its caller.
#pragma once

#include <cstdint>
#include <functional>

#include "xcept/settings.h"  // num_threads, set_num_threads (default: hardware concurrency)

namespace xcept {

// Calls fn(begin, end) on disjoint ranges covering [0, n). Ranges are at least `grain`
// long (except the last), so tiny loops stay on one thread.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Calls fn(t) once for every t in [0, threads), each on its own thread (t = 0 on the
// caller), or all inline when the pool is busy or nested. For measurements that need
// every core at once (the FMA peak probe); kernels use parallel_for.
void parallel_run_each(int threads, const std::function<void(int)>& fn);

}  // namespace xcept

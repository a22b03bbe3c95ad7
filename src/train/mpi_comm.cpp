#include "train/mpi_comm.h"

#include "core/error.h"

#if XCEPT_HAVE_MPI

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <deque>
#include <thread>
#include <vector>

namespace xcept {

namespace {

using Clock = std::chrono::steady_clock;

// Point-to-point tags of the watchdog's messages (on a communicator of their own).
constexpr int kTagWaiting = 1;    // rank r -> 0: int64 number of the collective r waits at
constexpr int kTagKeepalive = 2;  // rank 0 -> r: rank 0 is busy, keep waiting
constexpr auto kReportAfter = std::chrono::seconds(1);
constexpr auto kKeepaliveEvery = std::chrono::seconds(1);
// MPI counts are ints: longer transfers go in pieces of this many elements.
constexpr int64_t kMaxCount = int64_t{1} << 30;

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("{} failed: {}", call, std::string(text, size_t(len)));
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Drops the entries at the front of `q` whose `request` has completed.
template <typename Queue>
void pop_completed(Queue& q) {
  while (!q.empty()) {
    int done = 0;
    check(MPI_Test(&q.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (!done) break;
    q.pop_front();
  }
}

// Calls start(offset, count) for pieces of n elements that an int count can hold.
template <typename Start>
void in_pieces(int64_t n, Start start) {
  for (int64_t at = 0; at < n; at += kMaxCount) start(at, int(std::min(kMaxCount, n - at)));
}

}  // namespace

struct MpiComm::Impl {
  MPI_Comm comm = MPI_COMM_NULL;  // collectives
  MPI_Comm ctrl = MPI_COMM_NULL;  // the watchdog's point-to-point messages
  int rank = 0, size = 1;
  double timeout_s = 30;
  bool finished = false;

  struct Pending {
    MPI_Request request;
    int64_t number;  // the collective's number, the same on every rank
    std::string what;
  };
  std::deque<Pending> pending;  // started and not known to be complete, in start order
  int64_t started = 0;          // collectives started so far
  struct Send {
    int64_t payload;
    MPI_Request request;
  };
  std::deque<Send> sends;  // watchdog messages in flight (their buffers live here)
  std::vector<int64_t> waiting_at;  // rank 0: the collective each rank last said it waits at
  Clock::time_point last_keepalive{};

  void send(int to, int tag, int64_t payload) {
    sends.push_back({payload, MPI_REQUEST_NULL});
    Send& s = sends.back();
    check(MPI_Isend(&s.payload, 1, MPI_INT64_T, to, tag, ctrl, &s.request), "MPI_Isend");
  }
  void retire_sends() { pop_completed(sends); }
  // Reads every watchdog message that has arrived; true if a keepalive was among them.
  bool drain() {
    bool keepalive = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, ctrl, &flag, &st), "MPI_Iprobe");
      if (!flag) break;
      int64_t v = 0;
      check(MPI_Recv(&v, 1, MPI_INT64_T, st.MPI_SOURCE, st.MPI_TAG, ctrl, MPI_STATUS_IGNORE),
            "MPI_Recv");
      if (st.MPI_TAG == kTagKeepalive) keepalive = true;
      else if (st.MPI_TAG == kTagWaiting && rank == 0)
        waiting_at[size_t(st.MPI_SOURCE)] = std::max(waiting_at[size_t(st.MPI_SOURCE)], v);
    }
    retire_sends();
    return keepalive;
  }

  void start(MPI_Request r, const std::string& what) {
    pending.push_back({r, ++started, what});
  }
  void test_front() { pop_completed(pending); }

  // Polls until every started collective is complete, under the watchdog.
  void wait_all() {
    auto begin = Clock::now();
    const double limit = rank == 0 ? timeout_s : 1.5 * timeout_s;
    int64_t reported = -1;
    int polls = 0;
    for (;;) {
      test_front();
      if (pending.empty()) return;
      const Pending& p = pending.front();
      if (drain()) begin = Clock::now();  // rank 0 is busy and alive: the wait restarts
      const auto now = Clock::now();
      if (rank != 0 && reported != p.number && now - begin > kReportAfter) {
        send(0, kTagWaiting, p.number);
        reported = p.number;
      }
      if (seconds_between(begin, now) > limit) timed_out(p, seconds_between(begin, now));
      // Open MPI moves a transfer along only inside MPI calls, so long pauses between
      // tests throttle it (500 us naps held loopback TCP to 0.2 GB/s on 4 MB buckets),
      // while flat-out polling or yielding starves the peer rank when cores are shared
      // (4 KB took 17-38 ms with both on a loaded 2-core host). So: 200 quick tests,
      // then 20 us naps, and once a peer is a second late, 1 ms naps.
      const auto waited = now - begin;
      if (waited > std::chrono::seconds(1))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      else if (++polls > 200) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  [[noreturn]] void timed_out(const Pending& p, double waited) {
    if (rank != 0)
      fail("rank {}: {} (collective #{}) has waited {:.0f} s, and rank 0, which names the "
           "ranks that stop, did not end the job: rank 0 is dead or hung",
           rank, p.what, p.number, waited);
    std::string missing;
    for (int r = 1; r < size; ++r)
      if (waiting_at[size_t(r)] < p.number)
        missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    if (missing.empty())
      fail("rank 0: {} (collective #{}) has waited {:.0f} s although every rank reached it: "
           "the network between the ranks failed", p.what, p.number, waited);
    fail("rank 0: {} (collective #{}) has waited {:.0f} s for rank(s) {}, which did not reach "
         "it: dead, hung, or slower than the {:.0f} s watchdog (--collective-timeout)",
         p.what, p.number, waited, missing, timeout_s);
  }
};

bool MpiComm::built() { return true; }

MpiComm::MpiComm(double timeout_s) : impl_(std::make_unique<Impl>()) {
  if (!(timeout_s > 0)) fail("collective timeout must be > 0 seconds, got {}", timeout_s);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized || finalized) fail("MPI was initialized before: one MpiComm per process");
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED)
    fail("this MPI library gives thread level {}, below MPI_THREAD_FUNNELED", provided);
  Impl& m = *impl_;
  m.timeout_s = timeout_s;
  // Errors come back as codes (check() turns them into xcept::Error) instead of aborting
  // in the library, so the message can say where.
  check(MPI_Comm_dup(MPI_COMM_WORLD, &m.comm), "MPI_Comm_dup");
  check(MPI_Comm_dup(MPI_COMM_WORLD, &m.ctrl), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(m.comm, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(m.ctrl, MPI_ERRORS_RETURN);
  MPI_Comm_rank(m.comm, &m.rank);
  MPI_Comm_size(m.comm, &m.size);
  m.waiting_at.assign(size_t(m.size), 0);
}

MpiComm::~MpiComm() {
  if (!impl_->finished) MPI_Abort(MPI_COMM_WORLD, 1);
}

int MpiComm::rank() const { return impl_->rank; }
int MpiComm::size() const { return impl_->size; }
double MpiComm::timeout_s() const { return impl_->timeout_s; }

void MpiComm::allreduce_sum(double* data, int64_t n, const std::string& what) {
  in_pieces(n, [&](int64_t at, int count) {
    MPI_Request r;
    check(MPI_Iallreduce(MPI_IN_PLACE, data + at, count, MPI_DOUBLE, MPI_SUM, impl_->comm, &r),
          "MPI_Iallreduce");
    impl_->start(r, what);
  });
  impl_->wait_all();
}

void MpiComm::broadcast(void* data, int64_t bytes, int root, const std::string& what) {
  auto* p = static_cast<char*>(data);
  in_pieces(bytes, [&](int64_t at, int count) {
    MPI_Request r;
    check(MPI_Ibcast(p + at, count, MPI_BYTE, root, impl_->comm, &r), "MPI_Ibcast");
    impl_->start(r, what);
  });
  impl_->wait_all();
}

void MpiComm::start_allreduce_sum(float* data, int64_t n, const std::string& what) {
  in_pieces(n, [&](int64_t at, int count) {
    MPI_Request r;
    check(MPI_Iallreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, impl_->comm, &r),
          "MPI_Iallreduce");
    impl_->start(r, what);
  });
}

void MpiComm::progress() { impl_->test_front(); }

void MpiComm::wait_all() { impl_->wait_all(); }

void MpiComm::keepalive() {
  Impl& m = *impl_;
  if (m.rank != 0 || m.size == 1) return;
  const auto now = Clock::now();
  if (now - m.last_keepalive < kKeepaliveEvery) return;
  m.last_keepalive = now;
  m.retire_sends();
  for (int r = 1; r < m.size; ++r) m.send(r, kTagKeepalive, 0);
}

void MpiComm::finish() {
  Impl& m = *impl_;
  MPI_Request r;
  check(MPI_Ibarrier(m.comm, &r), "MPI_Ibarrier");
  m.start(r, "the end-of-run barrier");
  m.wait_all();
  // Past the barrier no rank sends any more: collect what is in flight, then leave.
  while (!m.sends.empty()) {
    check(MPI_Wait(&m.sends.front().request, MPI_STATUS_IGNORE), "MPI_Wait");
    m.sends.pop_front();
  }
  m.drain();
  MPI_Comm_free(&m.ctrl);
  MPI_Comm_free(&m.comm);
  MPI_Finalize();
  m.finished = true;
}

void MpiComm::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace xcept

#else  // no MPI in this build

#include <cstdlib>

namespace xcept {

struct MpiComm::Impl {};

bool MpiComm::built() { return false; }
MpiComm::MpiComm(double) {
  fail("distributed training: this build has no MPI (install libopenmpi-dev and openmpi-bin, e.g. "
       "with scripts/setup.sh, and build again)");
}
MpiComm::~MpiComm() = default;
int MpiComm::rank() const { return 0; }
int MpiComm::size() const { return 1; }
double MpiComm::timeout_s() const { return 0; }
void MpiComm::allreduce_sum(double*, int64_t, const std::string&) {}
void MpiComm::broadcast(void*, int64_t, int, const std::string&) {}
void MpiComm::start_allreduce_sum(float*, int64_t, const std::string&) {}
void MpiComm::progress() {}
void MpiComm::wait_all() {}
void MpiComm::keepalive() {}
void MpiComm::finish() {}
void MpiComm::abort(int code) { std::exit(code); }

}  // namespace xcept

#endif

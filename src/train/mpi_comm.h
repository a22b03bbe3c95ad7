// The processes of an MPI job (`mpirun -np N xcept train --distributed ...`) and the few
// collectives data-parallel training needs, each guarded by a watchdog. The only file
// that includes <mpi.h> is mpi_comm.cpp; a build without MPI compiles the same class, whose
// constructor throws "this build has no MPI".
//
// Failure. A rank that dies is Open MPI's to report: mpirun sees the process end and
// kills the job, naming the rank ("mpirun noticed that process rank 1 ... exited on
// signal 9"). A rank that hangs (stopped, deadlocked, swapping) would leave the others
// blocked in the next collective for ever, so no collective blocks inside MPI: each is
// started non-blocking and polled, and while polling
//   - a rank other than 0 that has waited over a second tells rank 0 "I am waiting at
//     collective #k" (collectives are numbered in the order every rank starts them);
//   - rank 0, after `timeout_s` without completion, names the ranks that never said they
//     were waiting at #k: those are the dead or hung ones. The error propagates to the
//     caller (the CLI prints it and calls abort(), which ends every process);
//   - the other ranks give rank 0 half as long again, then name rank 0 itself.
// Rank 0 alone does work outside the collectives (evaluation, checkpoint writes); it
// calls keepalive() meanwhile, which tells the others (at most once a second) to keep
// waiting.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace xcept {

class MpiComm {
 public:
  // True when this build has MPI (found by CMake's FindMPI).
  static bool built();

  // Initializes MPI (MPI_THREAD_FUNNELED: only this thread calls MPI). At most one
  // MpiComm per process, ever (MPI cannot be initialized twice). Throws xcept::Error when
  // the build has no MPI.
  explicit MpiComm(double timeout_s = 30);
  // Without finish(): MPI_Abort (a path the CLI does not take; it never hangs).
  ~MpiComm();
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  int rank() const;
  int size() const;
  double timeout_s() const;

  // Every rank calls these in the same order (collectives). `what` names the collective
  // in the watchdog's message ("gradient bucket 3 of 7").
  void allreduce_sum(double* data, int64_t n, const std::string& what);
  // Copies `bytes` bytes at `data` from rank `root` to every rank.
  void broadcast(void* data, int64_t bytes, int root, const std::string& what);

  // Non-blocking in-place sum of floats over every rank; `data` must stay valid until
  // wait_all() returns. progress() lets MPI move started reductions along (Open MPI
  // advances non-blocking collectives only inside MPI calls).
  void start_allreduce_sum(float* data, int64_t n, const std::string& what);
  void progress();
  void wait_all();

  // Rank 0, busy outside collectives: tells the others to keep waiting. Cheap to call
  // often; does nothing on other ranks.
  void keepalive();

  // Waits for every rank (watchdog'd, rank 0 sending keepalives meanwhile), then
  // finalizes MPI. Call once, at the end of a run.
  void finish();
  // Ends every process of the job with `code` (MPI_Abort). Never returns.
  [[noreturn]] void abort(int code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xcept

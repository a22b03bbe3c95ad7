// Child processes for the tests that kill runs (kill -9 and resume, a dead or hung MPI
// rank): start a program without a shell, signal it, wait for it with a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace xcept::test {

// Starts argv[0] with `args`; stdout and stderr go to `log` (truncated), /dev/null when
// empty. Returns the child's pid, or -1.
inline pid_t spawn_process(std::vector<std::string> args, const std::string& log = "") {
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string out = log.empty() ? "/dev/null" : log;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// The wait status of `pid` (waitpid's), blocking.
inline int wait_process(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// The wait status of `pid` if it ends within `limit`; otherwise kills it (SIGKILL), reaps
// it and returns -1.
inline int wait_process_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Polls `ready` every 2 ms until it is true or `limit` passes; returns its last value.
template <typename Pred>
bool poll_until(Pred ready, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace xcept::test
